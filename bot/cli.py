"""The `linerelay` command."""
from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from bot.config import ConfigError, load_settings
from bot.jobs import JOB_NAMES


def settings_of(args):
    """The configuration the command was given (or the default file); exits with the error."""
    try:
        return load_settings(args.config)
    except ConfigError as exc:
        sys.exit(f"configuration error: {exc}")


def cmd_init_db(args) -> None:
    from storage.migrate import init_db
    settings = settings_of(args)
    init_db(settings.app.database_url, settings)
    print(f"database ready: {settings.app.database_url}")


def cmd_serve(args) -> None:
    """Development server; production runs gunicorn (see the README)."""
    from bot.app import create_app
    app = create_app(settings_of(args))
    app.run(host=args.host, port=args.port, threaded=True)


def cmd_import(args) -> None:
    """Orders, routes or people: as `--kind` says, else as the file's header shows."""
    from pathlib import Path
    from bot.importer import BadFile, run_import
    from bot.master_cli import detect_kind, run_master_import
    settings = settings_of(args)
    try:
        kind = args.kind or detect_kind(Path(args.file))
    except (BadFile, OSError) as exc:
        sys.exit(f"{Path(args.file).name}: {exc}")
    sys.exit(run_import(settings, args.file) if kind == "orders" else run_master_import(settings, args.file, kind))


def cmd_run_job(args) -> None:
    from bot.app import build_relay
    from bot.jobs import run_job
    relay = build_relay(settings_of(args))
    result = run_job(relay, args.name)
    if args.name != "outbox":
        result["sent"] = relay.dispatcher.run_once(limit=args.limit)
    print(f"{args.name}: " + ", ".join(f"{k} {v}" for k, v in result.items()))


def cmd_jobs(args) -> None:
    """The scheduler process; run one or two (the second stands by)."""
    import gc
    import signal
    from bot.app import build_relay
    from bot.jobs.runner import JobsProcess
    relay = build_relay(settings_of(args))
    relay.messages.warm()   # the notices' templates compiled before the first run, not in it
    gc.collect()
    gc.freeze()   # what start-up made lives as long as the process: out of the collector's way (as wsgi.py)
    process = JobsProcess(relay).start()
    signal.signal(signal.SIGTERM, lambda *_: process.stop())
    try:
        process.stopped.wait()
    except KeyboardInterrupt:
        process.stop()


def cmd_outbox(args) -> None:
    from bot.app import build_relay
    from storage import outbox as store
    relay = build_relay(settings_of(args))
    with relay.Session.begin() as session:
        if args.retry:
            ids = [int(i) for i in args.retry.split(",")] if args.retry != "all" else None
            count = store.retry_dead(session, relay.clock.now(), ids)
            print(f"{count} message(s) queued again")
            return
        for row in store.failed(session):
            print(f"{row.id}\t{row.platform}/{row.channel}\t{row.target}\t{row.attempts} tries\t{row.last_error}")


def cmd_replan(args) -> None:
    """The whole plan now (the jobs process does this by itself)."""
    from bot.app import build_relay
    from bot.jobs import replan
    result = replan.run(build_relay(settings_of(args)))
    print(f"planned {result['orders']} open orders in {result['plan_ms']} ms "
          f"({result['total_ms']} ms in all); {result['steps_written']} steps changed")


def cmd_calendar(args) -> None:
    """The plant's calendar: import days from a file, confirm a year's holidays, or show it."""
    from bot.app import build_relay
    from storage import planner
    from storage.calendar import confirm_year, entries, unknown_years
    relay = build_relay(settings_of(args))
    if args.action == "import":
        from bot.calendar_import import run_calendar_import
        code = run_calendar_import(relay, args.value)
        relay.dispatcher.run_once(limit=500)
        sys.exit(code)
    today = relay.clock.today()
    with relay.Session.begin() as session:
        if args.action == "confirm":
            if not (args.value or "").isdigit():
                sys.exit("linerelay calendar confirm YEAR, e.g. 2027")
            new = confirm_year(session, relay.clock.now(), int(args.value), person=None, note="", source="cli")
            print(f"{args.value}: {'confirmed' if new else 'was confirmed already'}")
            return
        for day in entries(session, today, today + timedelta(days=60)):
            where = day.workshop.name if day.workshop else "plant"
            print(f"{day.day}\t{where}\t{day.kind}\t{day.spans}\t{day.note}")
        for year in unknown_years(planner.calendar(session, relay.plan), today):
            print(f"{year}: no public-holiday data; plans in {year} are provisional until it is confirmed")


def cmd_export(args) -> None:
    """The month's piece-rate export (计件) as an Excel file."""
    from pathlib import Path
    from bot.app import build_relay
    from bot.exports import build_workbook
    from storage.exports import month_bounds
    try:
        month_bounds(args.month)
    except ValueError:
        sys.exit(f"--month must look like 2026-11, got {args.month!r}")
    out = Path(args.out or f"reports-{args.month}.xlsx")
    out.write_bytes(build_workbook(build_relay(settings_of(args)), args.month))
    print(f"{out}: {args.what} of {args.month}")


def cmd_sync_directory(args) -> None:
    """People from the WeCom and DingTalk directories (the jobs process also does it daily)."""
    from bot.app import build_relay
    from bot.directory.sync import run_sync
    changes = run_sync(build_relay(settings_of(args)), dry_run=args.dry_run)
    for kind, names in (("joined", changes.joined), ("changed", changes.changed), ("left", changes.left)):
        for name in names:
            print(f"{kind}\t{name}")
    for line in changes.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(("would have: " if args.dry_run else "") + changes.summary())
    sys.exit(1 if changes.warnings else 0)


def cmd_sandbox(args) -> None:
    from bot.sandbox import run_sandbox
    run_sandbox(host=args.host, port=args.port, database=args.database, interactive=not args.no_prompt,
                wecom_mode=args.wecom_mode)


def main(argv: list[str] | None = None) -> None:
    from bot.observability import configure_logging
    configure_logging("text")
    parser = argparse.ArgumentParser(prog="linerelay", description="LineRelay (产线接力)")
    parser.add_argument("--config", help="configuration file (default: $LINERELAY_CONFIG or ./config.toml)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create or upgrade the schema, load the configured plant").set_defaults(fn=cmd_init_db)
    p = sub.add_parser("serve", help="development server (use gunicorn in production)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(fn=cmd_serve)
    p = sub.add_parser("import", help="import orders, routes or people from CSV (UTF-8 or GBK) or Excel")
    p.add_argument("file")
    p.add_argument("--kind", choices=("orders", "routes", "people"), help="default: from the file's header")
    p.set_defaults(fn=cmd_import)
    sub.add_parser("jobs", help="the scheduler process (delay scan, digests, reminders, outbox)").set_defaults(fn=cmd_jobs)
    p = sub.add_parser("run-job", help="run one job now")
    p.add_argument("name", choices=JOB_NAMES)
    p.add_argument("--limit", type=int, default=500)
    p.set_defaults(fn=cmd_run_job)
    p = sub.add_parser("outbox", help="show dead letters (--failed) or queue them again (--retry)")
    p.add_argument("--failed", action="store_true", help="list messages that gave up (default)")
    p.add_argument("--retry", metavar="IDS|all", help="queue dead messages again")
    p.set_defaults(fn=cmd_outbox)
    from bot.platforms import registry
    for spec in registry.specs():   # each platform's own commands (dingtalk-register, stream …)
        if spec.add_commands is not None:
            spec.add_commands(sub)
    sub.add_parser("replan", help="make the whole plan again now").set_defaults(fn=cmd_replan)
    p = sub.add_parser("calendar", help="the plant's calendar: import FILE, confirm YEAR, or show")
    p.add_argument("action", choices=("import", "confirm", "show"))
    p.add_argument("value", nargs="?", help="the .xlsx/.csv file (import) or the year (confirm)")
    p.set_defaults(fn=cmd_calendar)
    p = sub.add_parser("export", help="the month's piece-rate export (per worker per day, per workshop) as .xlsx")
    p.add_argument("what", choices=("reports",))
    p.add_argument("--month", required=True, help="e.g. 2026-11")
    p.add_argument("--out", help="the file to write (default: reports-MONTH.xlsx)")
    p.set_defaults(fn=cmd_export)


    p = sub.add_parser("sync-directory", help="people from the WeCom/DingTalk directories: joins, moves, roles, leavers")
    p.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    p.set_defaults(fn=cmd_sync_directory)
    p = sub.add_parser("sandbox", help="the whole product locally: SQLite, demo plant, platform twins")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--database", default="sandbox.db", help="SQLite file (recreated at start)")
    p.add_argument("--no-prompt", action="store_true", help="serve only, no chat prompt on the terminal")
    p.add_argument("--wecom-mode", choices=("callback", "long_connection"), default="callback",
                   help="the WeCom AI bot's mode: long_connection puts cards with buttons into the WeCom groups")
    p.set_defaults(fn=cmd_sandbox)
    args = parser.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
