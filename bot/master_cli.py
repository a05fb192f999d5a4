"""`linerelay import FILE`: which kind of file it is (orders, routes, people), and the routes and
people imports run against the configured database, with orders' output and exit codes."""
from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import inspect

from bot.clock import Clock
from bot.importer import BadFile, read_rows
from bot.master_import import (PEOPLE_ALIASES, PEOPLE_REQUIRED, ROUTE_ALIASES, ROUTE_REQUIRED, import_people,
                               import_routes, person_parser)
from storage.db import make_engine, make_session_factory

KINDS = ("orders", "routes", "people")


def detect_kind(path: Path) -> str:
    """Routes have a step and a rate, people a name and no order number; anything else is orders
    (whose import names the missing columns)."""
    rows = read_rows(path, (), {**ROUTE_ALIASES, **PEOPLE_ALIASES})
    names = set(rows[0][1]) if rows else set()
    if "order_no" in names:
        return "orders"
    if {"step", "units_per_hour"} & names:
        return "routes"
    if "name" in names:
        return "people"
    return "orders"


def run_master_import(settings, path, kind: str, *, out=sys.stdout, err=sys.stderr, clock: Clock | None = None) -> int:
    """0 when every row imported, 1 when some were rejected, 2 when the file could not be read."""
    path = Path(path)
    clock = clock or Clock(settings.app.timezone)
    required, aliases = (ROUTE_REQUIRED, ROUTE_ALIASES) if kind == "routes" else (PEOPLE_REQUIRED, PEOPLE_ALIASES)
    try:
        rows = read_rows(path, required, aliases)
    except (BadFile, OSError) as exc:
        print(f"{path.name}: {exc}", file=err)
        return 2
    engine = make_engine(settings.app.database_url)
    try:
        if not inspect(engine).has_table("people"):
            print("the database has no schema yet: run `linerelay init-db` first", file=err)
            return 2
        with make_session_factory(engine).begin() as session:
            source = f"import:{path.name}"
            tally = (import_routes(session, clock.now(), rows, source) if kind == "routes" else
                     import_people(session, clock.now(), rows, source, person_parser(settings)))
    finally:
        engine.dispose()
    for line, message in tally.errors:
        print(f"line {line}: {message}", file=err)
    print(f"{path.name}: {kind} {tally.line()}", file=out)
    return 1 if tally.rejected else 0
