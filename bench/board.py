"""Latency of the read side: the board, an order page, the API and the sandbox page's poll.

    .venv/bin/python bench/board.py [--orders 2000 --requests 200]

Starts the sandbox (demo plant, both twins, real HTTP), times each page on the 30-order demo,
then adds `--orders` open orders with reports and handoffs (the board shows the 60 most urgent)
and times them again. One client, sequential requests, werkzeug's threaded server in-process:
the figures are for comparing changes, not for sizing a deployment. The outbox sender stops
after growing the plant (see below). Prints p50/p99/max in ms.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.handlers.base import limits_for  # noqa: E402
from bot.sandbox import start_sandbox  # noqa: E402
from storage.db import refresh_statistics  # noqa: E402
from storage.models import Person  # noqa: E402
from storage.orders import OrderData, upsert_order  # noqa: E402
from storage.production import confirm_handoffs, report_output  # noqa: E402


def timed(url: str, count: int, **kwargs) -> tuple[float, float, float]:
    http = requests.Session()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        resp = http.get(url, timeout=30, **kwargs)
        samples.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1], samples[-1]


def grow(box, orders: int) -> None:
    """Open orders in mixed states, played through the domain functions like the demo."""
    relay, clock = box.relay, box.relay.clock
    limits = limits_for(relay.settings)
    with relay.Session.begin() as session:
        from sqlalchemy import select
        leads = {}
        for person in session.scalars(select(Person).order_by(Person.id)):
            for ws in person.workshops:
                leads.setdefault(ws.code, person)
        for i in range(orders):
            order, _ = upsert_order(session, clock.now(), OrderData(f"BIG-{i:05d}", "车门总成", 100,
                                                                    clock.today() + timedelta(days=3 + i % 20),
                                                                    "压测", 1 + i % 9),
                                    actor=None, source="bench")
            steps = {s.workshop.code: s for s in order.steps}
            if i % 3:
                report_output(session, clock.now(), step_id=steps["stamping"].id, person=leads["stamping"],
                              good=100 if i % 3 == 2 else 40, scrap=0, note="", source="bench", limits=limits)
            if i % 6 == 5:
                confirm_handoffs(session, clock.now(), order=order, workshop_id=steps["welding"].workshop_id,
                                 person=leads["welding"], source="bench")


def run(box, count: int, label: str) -> None:
    token, key = box.relay.settings.api.board_tokens[0], box.relay.settings.api.keys[0]
    pages = [("board (all)", f"/board?token={token}", {}),
             ("board (welding)", f"/board?token={token}&workshop=welding", {}),
             ("order page", f"/board/orders/SO-1024?token={token}", {}),
             ("GET /api/orders/<no>", "/api/orders/SO-1024", {"headers": {"Authorization": f"Bearer {key}"}}),
             ("GET /api/workshops/welding/queue", "/api/workshops/welding/queue",
              {"headers": {"Authorization": f"Bearer {key}"}}),
             ("sandbox poll (changed)", "/sandbox/api/state", {})]
    print(f"\n{label}")
    for name, path, kwargs in pages:
        p50, p99, worst = timed(box.url + path, count, **kwargs)
        print(f"  {name:34s} p50 {p50:6.1f}  p99 {p99:6.1f}  max {worst:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        box = start_sandbox(port=0, database=str(Path(tmp) / "bench.db"))
        try:
            time.sleep(1)  # let the start-up notices go out
            run(box, args.requests, "demo plant (30 orders)")
            start = time.perf_counter()
            grow(box, args.orders)
            print(f"\nadded {args.orders} open orders in {time.perf_counter() - start:.1f} s")
            # growing queued thousands of notices (handoffs, warnings): their sending, within the
            # groups' rate limits, would go on in this process for hours and time itself into the
            # pages; a plant's outbox is not thousands behind, so it stops before the timing
            box.relay.dispatcher.stop()
            refresh_statistics(box.relay.engine)   # as the jobs process does at start and every 6 hours
            gc.collect()
            gc.freeze()   # as wsgi.py does after start-up
            run(box, args.requests, f"demo plant + {args.orders} open orders (the board shows the 60 most urgent)")
        finally:
            box.stop()


if __name__ == "__main__":
    main()
