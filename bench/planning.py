"""The one plan at scale: 10,000 open orders × 6 steps over 6 workshops with 2-3 lines each.

    .venv/bin/python bench/planning.py [--orders 10000] [--database-url URL ...]

Seeds each database (a SQLite file by default; add PostgreSQL with --database-url) with bulk
inserts, then, in a fresh process per database, measures:
- the whole plan in memory (the planner alone, best of three) and its peak memory;
- the jobs process's full re-plan (read, plan, store): the first one stores every step, a second
  one ten minutes later only what moved;
- the re-time inside a callback: a report on a running step, then `planner.sync` (the orders it
  touched re-timed and stored), 50 times: p50 and p99 of the sync, and of the whole transaction.
Targets: whole plan < 1 s, re-time inside a callback < 20 ms.
"""
from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bot.clock import Clock  # noqa: E402
from storage.calendar import CalendarConfig  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.models import LeadAssignment, Order, Person, Step, Workshop  # noqa: E402
from storage.planner import PlanConfig  # noqa: E402

SHOPS = [("stamping", "冲压", 2, 1000.0), ("welding", "焊接", 3, 800.0), ("painting", "涂装", 2, 1100.0),
         ("assembly", "总装", 2, 900.0), ("inspection", "检验", 3, 1500.0), ("packing", "包装", 2, 1200.0)]
WORKING_HOURS = ("08:00-12:00", "13:00-17:30")


def seed(url: str, orders: int) -> None:
    upgrade_to_head(url)
    engine = make_engine(url)
    clock = Clock("Asia/Shanghai")
    now = clock.now()
    rnd = random.Random(11)
    with make_session_factory(engine).begin() as s:
        shops = [Workshop(code=c, name=n, aliases="", capacity=cap, working_hours="") for c, n, cap, _ in SHOPS]
        s.add_all(shops)
        s.flush()
        lead = Person(name="基准", roles="lead")
        s.add(lead)
        s.flush()
        s.add_all(LeadAssignment(person_id=lead.id, workshop_id=w.id) for w in shops)
        ids = [w.id for w in shops]
    order_rows, step_rows = plant_rows(orders, ids, now, clock.today(), rnd)
    with engine.begin() as conn:
        conn.execute(insert(Order), order_rows)
        conn.execute(insert(Step), step_rows)
    engine.dispose()


def plant_rows(orders: int, ids: list[int], now: datetime, today, rnd: random.Random) -> tuple[list, list]:
    """A plausible plant's open orders (due in 5-120 days, 0-3 of 6 steps done, 40 % of the
    current steps running) as rows for bulk inserts: orders numbered SO-P00000 on, ids from 1."""
    order_rows, step_rows = [], []
    for i in range(orders):
        qty = rnd.randint(20, 200)
        progress = rnd.choice([0, 0, 1, 1, 2, 3])          # how many steps are done
        order_rows.append({"id": i + 1, "order_no": f"SO-P{i:05d}", "product": "六工序件", "quantity": qty, "customer": "",
                           "due_date": today + timedelta(days=rnd.randint(5, 120)), "priority": rnd.randint(1, 5),
                           "status": "in_progress", "hold": None, "created_at": now, "updated_at": now})
        for seq in range(1, 7):
            done, current = seq <= progress, seq == progress + 1
            running = current and rnd.random() < 0.4
            step_rows.append({
                "order_id": i + 1, "seq": seq, "workshop_id": ids[seq - 1], "planned_qty": qty,
                "good_qty": qty if done else (qty // 3 if running else 0), "scrap_qty": 0,
                "received_qty": qty if (done or current) and seq > 1 else 0, "handed_qty": qty if done else 0,
                "units_per_hour": SHOPS[seq - 1][3], "planned_start": now, "planned_end": now,
                "first_report_at": now - timedelta(hours=2) if (done or running) else None, "last_report_at": None,
                "completed_at": now - timedelta(hours=1) if done else None,
                "status": "done" if done else ("running" if running else ("ready" if current else "waiting"))})
    return order_rows, step_rows


def measure(url: str) -> None:
    from planning.plan import build_plan
    from storage import planner
    from storage.production import Limits, report_output
    clock = Clock("Asia/Shanghai")
    clock.set_local(datetime.combine(clock.today(), datetime.min.time()) + timedelta(hours=9, minutes=30))
    config = PlanConfig(CalendarConfig("Asia/Shanghai", WORKING_HOURS, True), 120, clock.now)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    planner.install(factory, config)
    name = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    with factory() as s:
        load, _ = planner.load_workload(s)
        cal = planner.calendar(s, config)
        s.rollback()
    steps = sum(len(o.steps) for o in load.orders)
    times = []
    for _ in range(3):
        began = time.perf_counter()
        plan = build_plan(load, cal, clock.now(), config.outage_seconds)
        times.append(time.perf_counter() - began)
    horizon = max(o.fe for o in plan.orders.values() if o.fe) - time.time()
    tracemalloc.start()
    build_plan(load, cal, clock.now(), config.outage_seconds)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"[{name}] {len(load.orders)} open orders, {steps} steps; forecast reaches {horizon / 86400:.0f} days ahead")
    print(f"[{name}] whole plan in memory: best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms;"
          f" peak {peak:.0f} MB (traced)")
    for label in ("first (stores every step)", "ten minutes later"):
        result = planner.replan_all(factory, config)
        print(f"[{name}] jobs re-plan, {label}: plan {result['plan_ms']} ms, total {result['total_ms']} ms,"
              f" {result['steps_written']} steps written")
        clock.advance(timedelta(minutes=10))
    limits = Limits(tolerance_percent=5, max_quantity=100_000, undo_window=timedelta(minutes=30))
    with factory() as s:
        lead_id = s.scalars(select(Person.id)).first()
        candidates = list(s.scalars(select(Step.id).where(Step.status == "running").limit(50)))
        s.rollback()
    syncs, totals = [], []
    for step_id in candidates:
        began = time.perf_counter()
        with factory.begin() as s:
            person = s.get(Person, lead_id)
            report_output(s, clock.now(), step_id=step_id, person=person, good=1, scrap=0, note="", source="bench",
                          limits=limits)
            synced = time.perf_counter()
            planner.sync(s)
            syncs.append(time.perf_counter() - synced)
        totals.append(time.perf_counter() - began)
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000  # noqa: E731
    print(f"[{name}] re-time in a callback ({len(syncs)} reports): sync p50 {q(syncs, .5):.1f} ms, p99 {q(syncs, .99):.1f} ms;"
          f" whole transaction p50 {q(totals, .5):.1f} ms, p99 {q(totals, .99):.1f} ms")
    print(f"[{name}] peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--database-url", action="append", default=[],
                        help="a PostgreSQL database to use as well (it must be empty)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="linerelay-plan-"))
    code = 0
    for url in [f"sqlite:///{tmp / 'plan.db'}", *args.database_url]:
        began = time.perf_counter()
        seed(url, args.orders)
        print(f"seeded {args.orders} orders × 6 steps in {time.perf_counter() - began:.1f} s")
        code |= subprocess.run([sys.executable, __file__, "--measure", url], cwd=ROOT).returncode
    shutil.rmtree(tmp, ignore_errors=True)
    print("targets: whole plan < 1 s; re-time inside a callback < 20 ms")
    return code


if __name__ == "__main__":
    sys.exit(main())
