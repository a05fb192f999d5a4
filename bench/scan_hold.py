"""How long the delay scan holds the writers' queue: the scan's time and its writer transactions'.

    .venv/bin/python bench/scan_hold.py [--orders 10000] [--scans 3]

Seeds bench/jobs_scale.py's plant in a SQLite file, makes the whole plan as the jobs process
does, then runs the delay scan `--scans` times (the first finds every delay, the others nothing
new: what the scan costs every few minutes) and prints, per scan, its time and how long each of its
writer transactions was open (a 报工 waits for those, not for the scan's reads). Run it in two
trees to compare (`cd other-tree && python bench/scan_hold.py`).
"""
from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session as OrmSession  # noqa: E402

from bench.jobs_scale import seed, settings_for  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--scans", type=int, default=3)
    args = parser.parse_args()
    from bot.app import build_relay
    from bot.jobs import run_job
    from storage.db import READ_ONLY
    tmp = Path(tempfile.mkdtemp(prefix="linerelay-scan-"))
    try:
        url = f"sqlite:///{tmp / 'jobs.db'}"
        seed(url, args.orders, 50)
        relay = build_relay(settings_for(url))
        morning = datetime.combine(relay.clock.today(), datetime.min.time())
        relay.clock.set_local(morning + timedelta(hours=9))
        gc.collect()
        gc.freeze()
        run_job(relay, "db-stats")
        run_job(relay, "replan")
        held: list[float] = []
        began: dict[int, float] = {}

        @event.listens_for(OrmSession, "after_begin")
        def writer_began(session, transaction, connection):
            if transaction.parent is None and not connection.get_execution_options().get(READ_ONLY):
                began[id(session)] = time.perf_counter()

        @event.listens_for(OrmSession, "after_transaction_end")
        def writer_ended(session, transaction):
            if transaction.parent is None and id(session) in began:
                held.append(time.perf_counter() - began.pop(id(session)))

        for number in range(1, args.scans + 1):
            held.clear()
            start = time.perf_counter()
            result = run_job(relay, "delay-scan")
            took = time.perf_counter() - start
            print(f"scan {number}: {took:.3f} s, {result['warnings']} new warnings; writer transactions open "
                  f"{', '.join(f'{h * 1000:.0f}' for h in held)} ms")
        relay.dispatcher.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
