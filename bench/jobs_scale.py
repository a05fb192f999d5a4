"""Scale of the scheduled jobs: 10,000 open orders × 6 steps, 50 groups.

    .venv/bin/python bench/jobs_scale.py [--orders 10000] [--groups 50] [--database-url URL]

Seeds a SQLite file (or the database given) with bulk inserts, then measures, in a fresh
process so that its memory is the jobs' own: the delay scan and all digests (each run twice:
the second run must send nothing), and the peak resident memory. Targets: delay scan < 1 s,
digests for 50 groups < 2 s, < 300 MB.
"""
from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from storage.migrate import init_db  # noqa: E402
from bot.clock import Clock  # noqa: E402
from bot.config import load_settings  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.models import (GroupBinding, Order, Person, Report, PersonIdentity, Route, RouteStep, Step,  # noqa: E402
                            Workshop)

EXTRA = [("inspection", "检验"), ("packing", "包装")]


def settings_for(url: str):
    return load_settings(ROOT / "config.example.toml", env={}, overrides={
        "app.database_url": url, "wecom.api_base_url": "http://127.0.0.1:9",
        "dingtalk.api_base_url": "http://127.0.0.1:9", "dingtalk.oapi_base_url": "http://127.0.0.1:9"})


def seed(url: str, orders: int, groups: int) -> None:
    settings = settings_for(url)
    init_db(settings.app.database_url, settings)
    engine = make_engine(url)
    clock = Clock(settings.app.timezone)
    now = clock.now()
    rnd = random.Random(7)
    with make_session_factory(engine).begin() as s:
        for code, name in EXTRA:
            s.add(Workshop(code=code, name=name, aliases=""))
        s.flush()
        shops = list(s.scalars(select(Workshop).order_by(Workshop.id)))
        route = Route(product="六工序件", steps=[RouteStep(seq=i + 1, workshop_id=w.id, units_per_hour=60.0)
                                               for i, w in enumerate(shops)])
        s.add(route)
        s.query(GroupBinding).delete()
        s.add_all(GroupBinding(platform="wecom", chat_id=f"g{i}", name=f"群{i}", webhook_key=f"k{i}",
                               workshop_id=shops[i % len(shops)].id if i % 10 else None,
                               role="" if i % 10 else "managers", digest_time="", webhook_secret="")
                  for i in range(groups))
        lead = s.scalars(select(Person).join(PersonIdentity).where(PersonIdentity.user_id == "zhangwei")).one()
    with engine.begin() as conn:
        order_rows, step_rows, report_rows = [], [], []
        for i in range(orders):
            due = clock.today() + timedelta(days=rnd.randint(0, 60))
            qty = rnd.randint(50, 600)
            order_rows.append({"id": i + 1, "order_no": f"SO-B{i:05d}", "product": "六工序件", "quantity": qty,
                               "customer": "", "due_date": due, "priority": rnd.randint(1, 5), "status": "in_progress",
                               "hold": None, "created_at": now, "updated_at": now})
            end = datetime.combine(due, datetime.min.time()) + timedelta(hours=10)
            for seq in range(6, 0, -1):
                start = end - timedelta(hours=qty / 60)
                done = seq == 1 and rnd.random() < 0.5
                step_rows.append({"order_id": i + 1, "seq": seq, "workshop_id": shops[seq - 1].id, "planned_qty": qty,
                                  "good_qty": qty if done else (rnd.randint(0, qty // 2) if seq == 1 else 0),
                                  "scrap_qty": 0, "received_qty": 0, "handed_qty": 0, "units_per_hour": 60.0,
                                  "planned_start": start, "planned_end": end,
                                  "first_report_at": now - timedelta(hours=3) if seq == 1 else None,
                                  "last_report_at": None, "completed_at": now - timedelta(hours=20) if done else None,
                                  "status": "done" if done else ("running" if seq == 1 else "waiting")})
                end = start
        conn.execute(insert(Order), order_rows)
        conn.execute(insert(Step), step_rows)
        first_steps = conn.execute(select(Step.id).where(Step.seq == 1)).scalars().all()
        yesterday = now - timedelta(hours=20)
        report_rows = [{"step_id": sid, "person_id": lead.id, "good": 10, "scrap": 0, "note": "", "source": "bench",
                        "created_at": yesterday} for sid in first_steps[: orders // 2]]
        conn.execute(insert(Report), report_rows)
    engine.dispose()


def measure(url: str) -> None:
    from bot.app import build_relay
    from bot.jobs import run_job
    relay = build_relay(settings_for(url))
    relay.clock.set_local(datetime.combine(relay.clock.today(), datetime.min.time()) + timedelta(hours=9))
    for name in ("delay-scan", "daily-digest"):
        for attempt in ("first", "again"):
            began = time.perf_counter()
            result = run_job(relay, name)
            print(f"{name} ({attempt}): {time.perf_counter() - began:.2f} s  {result}")
    relay.dispatcher.stop()
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--database-url")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="linerelay-jobs-"))
    url = args.database_url or f"sqlite:///{tmp / 'jobs.db'}"
    began = time.perf_counter()
    seed(url, args.orders, args.groups)
    print(f"seeded {args.orders} orders × 6 steps, {args.groups} groups in {time.perf_counter() - began:.1f} s")
    result = subprocess.run([sys.executable, __file__, "--measure", url], cwd=ROOT)
    shutil.rmtree(tmp, ignore_errors=True)
    print("targets: delay scan < 1 s, digests for 50 groups < 2 s, < 300 MB")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
