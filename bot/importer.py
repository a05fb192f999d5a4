"""`linerelay import FILE.csv|FILE.xlsx`: orders from a planner's spreadsheet.

CSV in UTF-8 (with or without BOM) or GBK; Excel's first sheet. Each row is checked, then
applied in a savepoint of its own: a bad row is reported with its line number and imports
nothing, the other rows still import. Re-importing an order updates it.
"""
from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from bot.clock import Clock
from bot.plan import plan_config
from storage.db import make_engine, make_session_factory
from storage import planner
from storage.errors import BadOrderNumber
from storage.orders import OrderData, upsert_order
from storage.rules import ORDER_NO_PATTERN, bounded_int, checked_order_no  # noqa: F401 (the API's schema)
DUE_RANGE = (date(2000, 1, 1), date(2099, 12, 31))


def max_order_quantity(settings) -> int:
    """The largest order quantity accepted (a hundred of the largest single report)."""
    return settings.app.max_report_quantity * 100

REQUIRED = ("order_no", "product", "quantity", "due_date")
OPTIONAL = ("customer", "priority")
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


class BadFile(ValueError):
    pass


class BadRow(ValueError):
    pass


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


def read_rows(path: Path, required: tuple[str, ...] = REQUIRED,
              aliases: dict[str, str] | None = None) -> list[tuple[int, dict]]:
    """(line number, row) pairs with trimmed, lower-case column names (`aliases` renames
    columns, e.g. Chinese headers, first)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_rows(path, required, aliases or {})
    return _csv_rows(path.read_bytes(), required, aliases or {})


def _csv_rows(raw: bytes, required: tuple[str, ...], aliases: dict[str, str]) -> list[tuple[int, dict]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BadFile("the file is neither UTF-8 nor GBK text")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    return _with_header(header, ((i, row) for i, row in enumerate(reader, start=2)), required, aliases)


def _xlsx_rows(path: Path, required: tuple[str, ...], aliases: dict[str, str]) -> list[tuple[int, dict]]:
    from openpyxl import load_workbook
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise BadFile(f"cannot read Excel file: {exc}") from exc
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = next(rows, None)
    result = _with_header(header, ((i, row) for i, row in enumerate(rows, start=2)), required, aliases)
    book.close()
    return result


def _with_header(header, rows, required: tuple[str, ...], aliases: dict[str, str]) -> list[tuple[int, dict]]:
    if not header:
        raise BadFile("the file is empty")
    names = [str(h or "").strip().lower() for h in header]
    names = [aliases.get(n, n) for n in names]
    missing = [c for c in required if c not in names]
    if missing:
        raise BadFile(f"missing column(s): {', '.join(missing)} (header is line 1)")
    result = []
    for line, row in rows:
        values = {n: v for n, v in zip(names, row, strict=False) if n}
        if any(v not in (None, "") for v in values.values()):
            result.append((line, values))
    return result


def parse_row(values: dict, max_quantity: int) -> OrderData:
    """Check one row; raise BadRow saying what is wrong with which column."""
    try:  # the same rules as chat and the API (storage.rules)
        order_no = checked_order_no(str(values.get("order_no") or ""))
    except BadOrderNumber as exc:
        if exc.data["problem"] == "empty":
            raise BadRow("order_no is empty") from None
        raise BadRow(f'order_no "{exc.data["order_no"]}" may use letters, digits and - _ . / # '
                     f'(at most 64)') from None
    product = str(values.get("product") or "").strip()
    if not product:
        raise BadRow("product is empty")
    customer = str(values.get("customer") or "").strip()
    if len(product) > 120 or len(customer) > 120:
        raise BadRow("product and customer are at most 120 characters")
    return OrderData(order_no=order_no, product=product, quantity=_quantity(values.get("quantity"), max_quantity),
                     due_date=_due(values.get("due_date")), customer=customer,
                     priority=_priority(values.get("priority")))


def _quantity(value, max_quantity: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value if value is not None else "").strip()
    if not re.fullmatch(r"\d+", text):
        raise BadRow(f'quantity "{text[:20]}" is not a whole number')
    qty = bounded_int(text, max_quantity)
    if not qty:
        raise BadRow(f"quantity {text[:20]}{'…' if len(text) > 20 else ''} is out of range (1..{max_quantity})")
    return qty


def _due(value) -> date:
    if isinstance(value, datetime):
        return _in_range(value.date())
    if isinstance(value, date):
        return _in_range(value)
    text = str(value or "").strip()
    match = _DATE.match(text)
    try:
        due = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except (AttributeError, ValueError):
        raise BadRow(f'due_date "{text}" is not a date like 2026-12-01') from None
    return _in_range(due)


def _in_range(due: date) -> date:
    if not DUE_RANGE[0] <= due <= DUE_RANGE[1]:
        raise BadRow(f"due_date {due.isoformat()} is outside {DUE_RANGE[0].year}–{DUE_RANGE[1].year}")
    return due


def _priority(value) -> int:
    if value in (None, ""):
        return 3
    text = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip()
    if not re.fullmatch(r"[1-9]", text):
        raise BadRow(f'priority "{text}" must be 1 (most urgent) to 9')
    return int(text)


def run_import(settings, path, *, out=sys.stdout, err=sys.stderr, clock: Clock | None = None) -> int:
    """Import the file; 0 when every row imported, 1 when some were rejected, 2 when the file
    could not be read."""
    path = Path(path)
    clock = clock or Clock(settings.app.timezone)
    try:
        rows = read_rows(path)
    except (BadFile, OSError) as exc:
        print(f"{path.name}: {exc}", file=err)
        return 2
    engine = make_engine(settings.app.database_url)
    try:
        if not inspect(engine).has_table("orders"):
            print("the database has no schema yet: run `linerelay init-db` first", file=err)
            return 2
        factory = make_session_factory(engine)
        planner.install(factory, plan_config(settings, clock))   # the imported orders are planned at the commit
        tally = _import_rows(factory, clock, rows, path.name, max_order_quantity(settings), err)
    finally:
        engine.dispose()
    print(f"{path.name}: created {tally.created}, updated {tally.updated}, unchanged {tally.unchanged}, "
          f"rejected {tally.rejected}", file=out)
    return 1 if tally.rejected else 0


def _import_rows(Session, clock: Clock, rows, filename: str, max_quantity: int, err) -> Tally:
    tally = Tally()
    progress = tqdm(rows, desc=f"importing {filename}", unit="row", file=err, disable=not err.isatty())
    with Session.begin() as session:
        for line, values in progress:
            try:
                data = parse_row(values, max_quantity)
                now = clock.now()
                with session.begin_nested():
                    order, created = upsert_order(session, now, data, actor=None,
                                                  source=f"import:{filename}:{line}")
                changed = order.updated_at == now  # upsert_order stamps an order only when it changes
            except (BadRow, ValueError, SQLAlchemyError) as exc:
                tally.rejected += 1
                tqdm.write(f"line {line}: {exc}", file=err)
                continue
            if created:
                tally.created += 1
            elif changed:
                tally.updated += 1
            else:
                tally.unchanged += 1
    return tally
