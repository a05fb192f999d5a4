"""Demo data for the sandbox: an auto-parts plant with orders in every state."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from storage.models import Person
from storage.orders import OrderData, upsert_order
from storage.production import Limits, confirm_handoffs, report_output

DEMO_CONFIG = Path(__file__).with_name("config.toml")

# (order_no, product, quantity, days until due, customer, priority, progress)
# progress: list of (workshop code, good, scrap) reports applied in order; "recv:<code>" confirms handoffs.
ORDERS = [
    ("SO-1001", "车门总成", 200, 5, "一汽", 2, []),
    ("SO-1002", "车门总成", 300, 3, "上汽", 1, [("stamping", 150, 2)]),
    ("SO-1003", "座椅骨架", 120, 4, "广汽", 3, [("stamping", 120, 0)]),
    ("SO-1004", "车门总成", 80, 2, "一汽", 1, [("stamping", 80, 0), "recv:welding", ("welding", 40, 1)]),
    ("SO-1005", "座椅骨架", 60, 6, "长城", 3, [("stamping", 60, 0), "recv:welding", ("welding", 60, 0)]),
    ("SO-1006", "车门总成", 50, 1, "比亚迪", 2, [("stamping", 50, 0), "recv:welding", ("welding", 50, 0),
                                              "recv:painting", ("painting", 50, 0), "recv:assembly", ("assembly", 20, 0)]),
    ("SO-1007", "座椅骨架", 40, 0, "上汽", 1, [("stamping", 40, 0), "recv:welding", ("welding", 40, 0),
                                             "recv:painting", ("painting", 40, 0)]),
    ("SO-1008", "车门总成", 500, 9, "吉利", 4, []),
    ("SO-1009", "车门总成", 150, 7, "长安", 3, [("stamping", 30, 1)]),
    ("SO-1010", "座椅骨架", 90, 8, "广汽", 5, []),
]


def seed_demo(session, clock, limits: Limits) -> None:
    """Create the demo orders and play their reports through the domain functions."""
    now = clock.now()
    leads = {}
    for person in session.scalars(select(Person)):
        for ws in person.workshops:
            leads.setdefault(ws.code, person)
    for order_no, product, qty, days, customer, priority, progress in ORDERS:
        order, _ = upsert_order(session, now, OrderData(order_no, product, qty, clock.today() + timedelta(days=days),
                                                        customer, priority),
                                actor=None, source="demo", utc_offset=clock.utc_offset())
        for item in progress:
            if isinstance(item, str):
                code = item.split(":", 1)[1]
                ws = next(s.workshop for s in order.steps if s.workshop.code == code)
                confirm_handoffs(session, now, order=order, workshop_id=ws.id, person=leads[code], source="demo")
                continue
            code, good, scrap = item
            step = next(s for s in order.steps if s.workshop.code == code)
            report_output(session, now, step_id=step.id, person=leads[code], good=good, scrap=scrap, note="",
                          source="demo", limits=limits)
