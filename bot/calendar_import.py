"""`linerelay calendar import calendar.xlsx` (or .csv): one row per date — date, workshop (blank:
the whole plant), working hours (`08:00-12:00,13:00-17:30`) or 休 — in one transaction; a bad row
is reported with its line number and changes nothing. The plan is made again and every workshop
whose forecasts moved is told, as after a change in chat."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bot.importer import BadFile, BadRow, read_rows
from bot.neutral import Notice
from planning.calendar import CLOSED, HOURS, CalendarError, format_spans, parse_spans
from storage import planner
from storage.calendar import set_days
from storage.errors import UnknownWorkshop
from storage.models import Workshop

ALIASES = {"日期": "date", "车间": "workshop", "工作时间": "hours", "时间": "hours", "班次": "hours",
           "备注": "note", "说明": "note"}
CLOSED_WORDS = {"休", "休息", "停", "停产", "放假", "off", "closed", "rest"}


@dataclass(frozen=True)
class DayRow:
    day: date
    workshop: Workshop | None
    kind: str
    spans: str
    note: str


def parse_day_row(session, values: dict) -> DayRow:
    """One row, checked: a date in 2000-2099, a known workshop or none, hours or 休."""
    from storage.directory import workshop_by_name
    day = _date(values.get("date"))
    name = str(values.get("workshop") or "").strip()
    try:
        workshop = workshop_by_name(session, name) if name else None
    except UnknownWorkshop:
        raise BadRow(f'workshop "{name}" is unknown') from None
    hours = str(values.get("hours") or "").strip()
    if not hours:
        raise BadRow('hours is empty: write working hours like 08:00-12:00,13:00-17:30, or 休')
    if hours.lower() in CLOSED_WORDS:
        return DayRow(day, workshop, CLOSED, "", str(values.get("note") or "")[:100])
    try:
        spans = format_spans(parse_spans([hours.replace("：", ":")]))
    except CalendarError:
        raise BadRow(f'hours "{hours}" must look like 08:00-12:00,13:00-17:30 or 休') from None
    return DayRow(day, workshop, HOURS, spans, str(values.get("note") or "")[:100])


def _date(value) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        text = str(value or "").strip().replace("/", "-").replace(".", "-")
        try:
            value = date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
        except ValueError:
            raise BadRow(f'date "{text}" is not a date like 2027-02-01') from None
    if not date(2000, 1, 1) <= value <= date(2099, 12, 31):
        raise BadRow(f"date {value} is outside 2000-2099")
    return value


def import_days(relay, session, rows: list[tuple[int, dict]], source: str, err=None) -> tuple[int, int, dict]:
    """Apply the good rows in this session; returns (applied, rejected, what moved by workshop)."""
    err = err or sys.stderr
    before = planner.forecast_ends(session)
    applied = rejected = 0
    for line, values in rows:
        try:
            row = parse_day_row(session, values)
        except BadRow as exc:
            rejected += 1
            print(f"line {line}: {exc}", file=err)
            continue
        set_days(session, relay.clock.now(), first=row.day, last=row.day, workshop=row.workshop, kind=row.kind,
                 spans=row.spans, note=row.note, person=None, source=f"{source}:{line}")
        applied += 1
    planner.sync(session)
    moved = planner.moved_since(session, before)
    for notice in moved_notices(moved, {"kind": "import", "source": source.split(":", 1)[-1]},
                                key=f"calendar:{source}:{relay.clock.now().isoformat()}"):
        relay.enqueue_notice(session, notice)
    return applied, rejected, moved.by_workshop()


def moved_notices(moved, change: dict, key: str) -> list[Notice]:
    """One notice to every workshop whose forecasts moved, and one to the managers."""
    notices = [Notice(workshop_id=workshop_id, template="notices/plan_moved", key=f"{key}:{workshop_id}",
                      context={"change": change, "workshop": items[0].workshop, "items": items[:8],
                               "more": len(items) - 8})
               for workshop_id, items in moved.by_workshop().items()]
    if moved.items:
        notices.append(Notice(workshop_id=None, role="managers", template="notices/plan_moved", key=f"{key}:managers",
                              context={"change": change, "workshop": "", "items": moved.items[:8],
                                       "more": len(moved.items) - 8}))
    return notices


def run_calendar_import(relay, path, *, out=None, err=None) -> int:
    """0: every row applied; 1: some rows rejected; 2: the file could not be read."""
    out, err = out or sys.stdout, err or sys.stderr
    path = Path(path)
    try:
        rows = read_rows(path, required=("date", "hours"), aliases=ALIASES)
    except (BadFile, OSError) as exc:
        print(f"{path.name}: {exc}", file=err)
        return 2
    with relay.Session.begin() as session:
        applied, rejected, moved = import_days(relay, session, rows, f"import:{path.name}", err)
    relay.dispatcher.kick()
    print(f"{path.name}: {applied} day(s) applied, {rejected} rejected; "
          f"forecasts moved in {len(moved)} workshop(s)", file=out)
    return 1 if rejected else 0
