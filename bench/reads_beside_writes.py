"""报工 callbacks while board screens (or the whole plan) read, in read-only sessions and in writer ones.

    .venv/bin/python bench/reads_beside_writes.py [--orders 3000 --requests 300 --screens 2]

One process, Flask's test client, SQLite (as in the sandbox, whose server runs a thread per
request, or gunicorn with more than one thread): `--screens` threads render a workshop's board
over and over while the main thread sends encrypted 报工 callbacks one after another, timing
each. Three phases on one database: no screens; screens whose pages read in `ReadSession` (a
deferred snapshot, outside the writers' queue); screens whose pages read in a writer session (as
before: `BEGIN IMMEDIATE` and the process's writer lock for the whole page). Prints each phase's
callback p50/p99 and the boards rendered (threads share one interpreter, so the screens cost the
callbacks some time in both; only the waiting for the page's lock differs). Then two phases with
the whole plan made again and again by a jobs process (as `linerelay jobs` does, on the same
file): as it is now (its snapshot read in `ReadSession`, stored 500 orders a transaction) and as
it was (read in a writer session, stored in one transaction).
"""
from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.callback_latency import Callbacks, seeded_offline  # noqa: E402
from bench.servers import pct  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.config import load_settings  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage import planner  # noqa: E402
from storage.orders import OrderData, upsert_order  # noqa: E402


def more_orders(settings, count: int) -> None:
    """Open orders for the board to show (the callbacks report on seed's 200)."""
    from bot.clock import Clock
    engine = make_engine(settings.app.database_url)
    clock = Clock(settings.app.timezone)
    with make_session_factory(engine).begin() as session:
        for i in range(count):
            upsert_order(session, clock.now(), OrderData(f"WALL-{i:05d}", "车门总成", 100,
                                                         clock.today() + timedelta(days=3 + i % 40), "看板", 1 + i % 9),
                         actor=None, source="bench")
    engine.dispose()


def replan_loop(database_url: str, read_only: bool, batch: int, stop, plans) -> None:
    """A jobs process: the whole plan (bot/jobs/replan.py's call), again and again."""
    from bot.app import build_relay
    settings = load_settings(ROOT / "config.example.toml", env={}, overrides={"app.database_url": database_url})
    relay = build_relay(settings)
    while not stop.is_set():
        planner.replan_all(relay.Session, relay.plan, read_factory=relay.ReadSession if read_only else None,
                           orders_per_transaction=batch)
        with plans.get_lock():
            plans.value += 1


def phase(client, callbacks: Callbacks, requests: int, screens: int, board_url: str) -> tuple[list[float], int]:
    stop, rendered = threading.Event(), [0]

    def screen():
        while not stop.is_set():
            assert client.get(board_url).status_code == 200
            rendered[0] += 1

    threads = [threading.Thread(target=screen, daemon=True) for _ in range(screens)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    latencies = []
    for params, body in callbacks.build(requests):
        began = time.perf_counter()
        resp = client.post("/wecom/aibot", query_string=params, data=body, content_type="application/json")
        latencies.append(time.perf_counter() - began)
        assert resp.status_code == 200
        time.sleep(0.005)   # paced a little: a shop floor, not a flood
    stop.set()
    for t in threads:
        t.join()
    return sorted(latencies), rendered[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000, help="open orders besides the 200 reported on")
    parser.add_argument("--requests", type=int, default=300, help="callbacks per phase")
    parser.add_argument("--screens", type=int, default=2)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="linerelay-reads-"))
    try:
        settings = seeded_offline(tmp / "reads.db")
        more_orders(settings, args.orders)
        app = create_app(settings)
        relay = app.extensions["linerelay"]
        relay.dispatcher.stop()
        client = app.test_client()
        callbacks = Callbacks(settings)
        board_url = f"/board?token={settings.api.board_tokens[0]}&workshop=stamping"
        for params, body in callbacks.build(50):   # warm: caches, pools, templates
            client.post("/wecom/aibot", query_string=params, data=body, content_type="application/json")
        client.get(board_url)
        read_sessions = relay.services.ReadSession
        print(f"{args.requests} 报工 callbacks per phase, {args.screens} screens, "
              f"{args.orders + 200} open orders; callback p50 / p99 ms, boards rendered")
        for label, screens, reads in (("no screens", 0, read_sessions),
                                      ("screens, pages in ReadSession", args.screens, read_sessions),
                                      ("screens, pages in a writer session", args.screens, relay.services.Session)):
            relay.services.ReadSession = reads
            latencies, boards = phase(client, callbacks, args.requests, screens, board_url)
            print(f"  {label:36s} {pct(latencies, 50):7.1f} / {pct(latencies, 99):7.1f}   {boards} boards")
        relay.services.ReadSession = read_sessions
        print("the whole plan made again and again by a jobs process alongside; callback p50 / p99 / max ms,"
              " plans made")
        for label, read_only, batch in (("read in ReadSession, 500 orders a tx", True, planner.WRITE_ORDERS),
                                        ("read in a writer session, one tx", False, 10**9)):
            stop, plans = multiprocessing.Event(), multiprocessing.Value("i", 0)
            jobs = multiprocessing.Process(target=replan_loop, args=(settings.app.database_url, read_only, batch,
                                                                     stop, plans))
            jobs.start()
            while plans.value == 0 and jobs.is_alive():   # its first plan written: start timing
                time.sleep(0.05)
            latencies, _ = phase(client, callbacks, args.requests, 0, board_url)
            stop.set()
            jobs.join()
            print(f"  {label:36s} {pct(latencies, 50):7.1f} / {pct(latencies, 99):7.1f} / {pct(latencies, 100):7.1f}"
                  f"   {plans.value} plans")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
