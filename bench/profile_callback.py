"""Where a 报工 callback's time goes: cProfile over encrypted callbacks through the WSGI app in-process.

    .venv/bin/python bench/profile_callback.py [--requests 500 --sort cumulative --limit 40 --sql]

The same messages as bench/callback_latency.py (200 orders, the stamping group), sent through
Flask's test client (no HTTP server, no network). Prints the profile, the CPU per callback, and
with --sql the SQL statements and ORM flushes of one callback.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.callback_latency import Callbacks, seeded_offline  # noqa: E402
from bot.app import create_app  # noqa: E402


def statements_of_one(app, client, callbacks: Callbacks) -> list[str]:
    """The SQL one callback sends, and its flushes, in order."""
    relay = app.extensions["linerelay"]
    seen: list[str] = []

    def on_sql(conn, cursor, statement, params, context, executemany):
        seen.append(" ".join(statement.split())[:160])

    def on_flush(session, context, instances):
        seen.append("-- ORM flush")
    event.listen(relay.engine, "before_cursor_execute", on_sql)
    event.listen(relay.Session, "before_flush", on_flush)
    params, body = callbacks.build(1)[0]
    client.post("/wecom/aibot", query_string=params, data=body, content_type="application/json")
    event.remove(relay.engine, "before_cursor_execute", on_sql)
    event.remove(relay.Session, "before_flush", on_flush)
    return seen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--sql", action="store_true")
    parser.add_argument("--no-profile", action="store_true", help="only the CPU per callback, unprofiled")
    parser.add_argument("--filter", default="", help="only functions whose path matches this regex")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="linerelay-profile-"))
    try:
        settings = seeded_offline(tmp / "profile.db")
        app = create_app(settings)
        client = app.test_client()
        callbacks = Callbacks(settings)
        for params, body in callbacks.build(100):   # warm: caches, pools, templates
            client.post("/wecom/aibot", query_string=params, data=body, content_type="application/json")
        if args.sql:
            for line in statements_of_one(app, client, callbacks):
                print(line)
        work = callbacks.build(args.requests)
        profile = cProfile.Profile()
        cpu = time.process_time()
        if not args.no_profile:
            profile.enable()
        for params, body in work:
            client.post("/wecom/aibot", query_string=params, data=body, content_type="application/json")
        profile.disable()
        cpu = time.process_time() - cpu
        if not args.no_profile:
            stats = pstats.Stats(profile).sort_stats(args.sort)
            stats.print_stats(*([args.filter] if args.filter else []), args.limit)
        print(f"{args.requests} callbacks, CPU {cpu / args.requests * 1000:.2f} ms each"
              + ("" if args.no_profile else " (under the profiler)"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
