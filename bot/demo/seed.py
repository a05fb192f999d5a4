"""Demo data for the sandbox: an auto-parts plant with about thirty orders in every state.

Orders are created and their history is played through the same domain functions the commands
use (reports, handoffs, receipts, disputes, exceptions), so the demo is consistent by
construction. Requests waiting for approval are filed later, through the twins, by
`bot.sandbox` (they need their approval cards delivered).
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from storage.incidents import dispute_handoff, open_incident
from storage.models import Person
from storage.orders import OrderData, upsert_order
from storage.production import Limits, confirm_handoffs, hand_over, report_output

DEMO_CONFIG = Path(__file__).with_name("config.toml")

DOOR = ("stamping", "welding", "painting", "assembly")   # 车门总成
SEAT = ("stamping", "welding", "painting")               # 座椅骨架


def through(route: tuple[str, ...], upto: str, quantity: int, last: int | None = None, scrap: int = 0) -> list:
    """Steps before `upto` finished (handed over and received), then `last` good at `upto`
    (None: its material has arrived but nothing is reported yet)."""
    items: list = []
    for code in route[:route.index(upto)]:
        items += [(code, quantity, 0), f"recv:{route[route.index(code) + 1]}"]
    if last:
        items.append((upto, last, scrap))
    return items


def finished(route: tuple[str, ...], quantity: int) -> list:
    return through(route, route[-1], quantity, quantity)


# (order_no, product, quantity, days until due, customer, priority, history)
# history items: (workshop, good, scrap) a report · "recv:<ws>" receive what was handed over ·
# "hand:<ws>:<qty>" a partial handoff from <ws> · "dispute:<ws>:<qty>" a receipt with a different
# quantity · "incident:<ws>:<category>:<text>" an open exception blocking that step
ORDERS = [
    # not started: material for stamping is there, nothing reported yet
    ("SO-1001", "车门总成", 200, 5, "一汽", 2, []),
    ("SO-1008", "车门总成", 500, 9, "吉利", 4, []),
    ("SO-1010", "座椅骨架", 90, 8, "广汽", 5, []),
    ("SO-1011", "座椅骨架", 240, 12, "长城", 4, []),
    ("SO-1012", "车门总成", 160, 10, "奇瑞", 3, []),
    # stamping under way
    ("SO-1002", "车门总成", 300, 3, "上汽", 1, [("stamping", 150, 2)]),
    ("SO-1009", "车门总成", 150, 7, "长安", 3, [("stamping", 30, 1)]),
    ("SO-1013", "座椅骨架", 400, 6, "比亚迪", 2, [("stamping", 260, 4)]),
    # a partial batch handed over early, the rest still being stamped
    ("SO-1014", "车门总成", 240, 6, "一汽", 2, [("stamping", 120, 0), "hand:stamping:120", "recv:welding",
                                             ("welding", 40, 0)]),
    # stamping done, the handoff waits for welding to confirm
    ("SO-1003", "座椅骨架", 120, 4, "广汽", 3, [("stamping", 120, 0)]),
    ("SO-1015", "车门总成", 100, 5, "吉利", 3, [("stamping", 100, 0)]),
    # welding under way
    ("SO-1004", "车门总成", 80, 2, "一汽", 1, through(DOOR, "welding", 80, 40, 1)),
    ("SO-1016", "车门总成", 180, 4, "上汽", 2, through(DOOR, "welding", 180, 90)),
    ("SO-1017", "座椅骨架", 150, 5, "长安", 3, through(SEAT, "welding", 150, 20)),
    # welding finished, waiting for painting
    ("SO-1005", "座椅骨架", 60, 6, "长城", 3, through(SEAT, "welding", 60, 60)),
    # painting under way / waiting for assembly / assembly under way
    ("SO-1018", "车门总成", 120, 3, "奇瑞", 2, through(DOOR, "painting", 120, 70)),
    ("SO-1019", "座椅骨架", 200, 4, "广汽", 3, through(SEAT, "painting", 200, 150, 3)),
    ("SO-1007", "座椅骨架", 40, 0, "上汽", 1, through(SEAT, "painting", 40, 30)),
    ("SO-1020", "车门总成", 90, 2, "比亚迪", 2, through(DOOR, "painting", 90, 90)),
    ("SO-1006", "车门总成", 50, 1, "比亚迪", 2, through(DOOR, "assembly", 50, 20)),
    ("SO-1021", "车门总成", 60, 3, "吉利", 3, through(DOOR, "assembly", 60, 45)),
    # late (due yesterday) and at risk (due today, welding far behind): the delay scan warns
    ("SO-1022", "车门总成", 400, -1, "长城", 1, [("stamping", 200, 6)]),
    ("SO-1023", "座椅骨架", 500, 0, "一汽", 1, through(SEAT, "welding", 500, 60)),
    # blocked by an open exception
    ("SO-1024", "车门总成", 220, 4, "上汽", 2, through(DOOR, "welding", 220, 100)
     + ["incident:welding:设备:焊机送丝故障，等待维修"]),
    ("SO-1025", "座椅骨架", 140, 5, "长安", 3, through(SEAT, "painting", 140, 40)
     + ["incident:painting:物料:面漆批次未到"]),
    # a disputed handoff: welding counted fewer than stamping handed over
    ("SO-1026", "车门总成", 100, 6, "奇瑞", 3, [("stamping", 100, 0), "dispute:welding:96", ("welding", 30, 0)]),
    # finished orders (off the board, still in the API and the order pages)
    ("SO-0991", "车门总成", 120, -1, "一汽", 3, finished(DOOR, 120)),
    ("SO-0992", "座椅骨架", 80, 0, "广汽", 3, finished(SEAT, 80)),
    ("SO-0993", "座椅骨架", 150, 2, "吉利", 4, finished(SEAT, 150)),
    ("SO-0994", "车门总成", 60, 1, "长城", 2, finished(DOOR, 60)),
]


def seed_demo(session, clock, limits: Limits) -> None:
    """Create the demo orders and play their history through the domain functions."""
    now = clock.now()
    leads = {}
    for person in session.scalars(select(Person).order_by(Person.id)):
        for ws in person.workshops:
            leads.setdefault(ws.code, person)
    for order_no, product, qty, days, customer, priority, history in ORDERS:
        order, _ = upsert_order(session, now, OrderData(order_no, product, qty, clock.today() + timedelta(days=days),
                                                        customer, priority),
                                actor=None, source="demo")
        steps = {s.workshop.code: s for s in order.steps}
        for item in history:
            if isinstance(item, tuple):
                code, good, scrap = item
                report_output(session, now, step_id=steps[code].id, person=leads[code], good=good, scrap=scrap,
                              note="", source="demo", limits=limits)
                continue
            kind, code, *rest = item.split(":")
            step, lead = steps[code], leads[code]
            if kind == "recv":
                confirm_handoffs(session, now, order=order, workshop_id=step.workshop_id, person=lead, source="demo")
            elif kind == "hand":
                hand_over(session, now, step_id=step.id, person=lead, quantity=int(rest[0]), source="demo")
            elif kind == "dispute":
                dispute_handoff(session, now, order=order, workshop_id=step.workshop_id, person=lead,
                                received=int(rest[0]), source="demo")
            elif kind == "incident":
                open_incident(session, now, step_id=step.id, person=lead, category=rest[0], description=rest[1],
                              expected_recovery=now + timedelta(hours=4), source="demo")
            else:
                raise ValueError(f"unknown demo history item {item!r}")
