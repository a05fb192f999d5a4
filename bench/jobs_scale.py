"""Scale of the scheduled jobs: 10,000 open orders × 6 steps, 50 groups.

    .venv/bin/python bench/jobs_scale.py [--orders 10000] [--groups 50] [--database-url URL]

Seeds a SQLite file (or the database given) with bulk inserts, then measures, in a fresh
process so that its memory is the jobs' own: the whole plan (the jobs process's `replan`, which
it keeps fresh; at 09:00, after the digest job at 07:00 with nothing due drew the managers' chart
ahead), then the delay scan and all digests (each run twice: the second run must send nothing),
and the peak resident memory. Targets (issue 17): at 10,000 orders the first
delay scan and the 50 digests < 0.3 s each, at 50,000 < 1.5 s each; < 200 MB.
"""
from __future__ import annotations

import argparse
import gc
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
from bench.planning import SHOPS, plant_rows  # noqa: E402
from storage.models import GroupBinding, Order, Person, PersonIdentity, Report, Step, Workshop  # noqa: E402

EXTRA = [("inspection", "检验"), ("packing", "包装")]


def settings_for(url: str):
    return load_settings(ROOT / "config.example.toml", env={}, overrides={
        "app.database_url": url, "wecom.api_base_url": "http://127.0.0.1:9",
        "dingtalk.api_base_url": "http://127.0.0.1:9", "dingtalk.oapi_base_url": "http://127.0.0.1:9"})


def seed(url: str, orders: int, groups: int) -> None:
    """The config's plant grown to six workshops with three times bench/planning.py's lines per
    10,000 orders (6-9 at 10,000: about one order in ten is late or at risk, as in a plant that
    keeps up; a plant with more open orders has more lines), `orders`
    open orders on them (bench/planning.py's mix), `groups` workshop groups (every tenth a managers' group), and yesterday's
    reports on the running steps."""
    settings = settings_for(url)
    init_db(settings.app.database_url, settings)
    engine = make_engine(url)
    clock = Clock(settings.app.timezone)
    now = clock.now()
    with make_session_factory(engine).begin() as s:
        for code, name in EXTRA:
            s.add(Workshop(code=code, name=name, aliases=""))
        s.flush()
        shops = list(s.scalars(select(Workshop).order_by(Workshop.id)))
        for shop, (_code, _name, lines, _rate) in zip(shops, SHOPS, strict=True):
            shop.capacity = lines * 3 * max(1, orders // 10_000)   # the plant grows with its orders
        s.query(GroupBinding).delete()
        s.add_all(GroupBinding(platform="wecom", chat_id=f"g{i}", name=f"群{i}", webhook_key=f"k{i}",
                               workshop_id=shops[i % len(shops)].id if i % 10 else None,
                               role="" if i % 10 else "managers", digest_time="", webhook_secret="")
                  for i in range(groups))
        lead = s.scalars(select(Person).join(PersonIdentity).where(PersonIdentity.user_id == "zhangwei")).one()
    order_rows, step_rows = plant_rows(orders, [w.id for w in shops], now, clock.today(), random.Random(7))
    spread = random.Random(8)
    for row in step_rows:   # the done steps finished over the last 60 days, not all an hour ago
        if row["completed_at"] is not None:
            row["completed_at"] = now - timedelta(hours=spread.uniform(1, 24 * 60))
    with engine.begin() as conn:
        conn.execute(insert(Order), order_rows)
        conn.execute(insert(Step), step_rows)
        running = conn.execute(select(Step.id).where(Step.status == "running")).scalars().all()
        yesterday = now - timedelta(hours=20)
        conn.execute(insert(Report), [{"step_id": sid, "person_id": lead.id, "good": 10, "scrap": 0, "note": "",
                                       "source": "bench", "created_at": yesterday} for sid in running])
    engine.dispose()


def measure(url: str) -> None:
    from bot.app import build_relay
    from bot.jobs import run_job
    from bot import charts
    from storage import planner
    drawn: list[float] = []
    draw = charts.render

    def timed_draw(days, words):
        began = time.perf_counter()
        try:
            return draw(days, words)
        finally:
            drawn.append(time.perf_counter() - began)
    charts.render = timed_draw   # the managers' chart: drawn once a day (its first draw imports matplotlib)
    relay = build_relay(settings_for(url))
    with relay.ReadSession() as session:   # a day the plant works: no digest is due on a day off
        cal = planner.calendar(session)
    day = relay.clock.today()
    while not cal.is_workday(day, None):
        day += timedelta(days=1)
    morning = datetime.combine(day, datetime.min.time())
    relay.clock.set_local(morning + timedelta(hours=7))   # before the digests' time (08:00)
    relay.messages.warm()        # as `linerelay jobs` does at its start (bot/cli.py),
    gc.collect()
    gc.freeze()                  # freezing what start-up made,
    run_job(relay, "db-stats")   # then the planner's statistics first
    began = time.perf_counter()
    ahead = run_job(relay, "daily-digest")
    print(f"daily-digest at 07:00, none due (draws the managers' chart ahead): {time.perf_counter() - began:.2f} s"
          f"  {ahead}")
    drawn.clear()
    relay.clock.set_local(morning + timedelta(hours=9))
    began = time.perf_counter()
    planned = run_job(relay, "replan")
    print(f"replan at 09:00 (the jobs process's whole plan, kept fresh): {time.perf_counter() - began:.2f} s  {planned}")
    for name in ("delay-scan", "daily-digest"):
        for attempt in ("first", "again"):
            began = time.perf_counter()
            result = run_job(relay, name)
            print(f"{name} ({attempt}): {time.perf_counter() - began:.2f} s  {result}"
                  + (f"; of which the managers' chart {sum(drawn):.2f} s" if drawn else ""))
            drawn.clear()
    relay.dispatcher.stop()
    print(f"peak memory: {peak_rss_mb():.0f} MB (the jobs' process; the chart's child, gone after it drew, is apart)")


def peak_rss_mb() -> float:
    """This process's own peak resident memory. Linux keeps getrusage's ru_maxrss across fork and
    exec, so a process started by a big one reports the parent's peak (the 50,000-order seeding's
    ~500 MB); the high-water mark of its own memory map does not."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    print("targets: first delay scan and 50 digests < 0.3 s each at 10,000 orders, < 1.5 s at 50,000; < 200 MB")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
