"""What the monthly export says (计件): per worker per day, each order and step they worked on,
with good, scrap, the piece rate and the amount; per workshop per day, output against the stored
plan. Everything is read from the standing reports (not undone; corrected where corrected) and
their shares; a report without shares is its reporter's."""
from __future__ import annotations

import calendar as month_days
from dataclasses import dataclass
from datetime import date, datetime, UTC
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import chunked
from storage.digest import day_window, shop_days_of
from storage.models import Order, Person, Report, ReportShare, Step, Workshop
from storage.workers import rate_on, rate_table

CENT = Decimal("0.01")
BASIS = {"named": "报工指定", "team": "班组平分", "reporter": "报工人"}


@dataclass(frozen=True)
class WorkLine:
    """One worker's output on one day at one order's step."""
    day: date
    worker: str
    person_id: int
    order_no: str
    product: str
    step: str
    good: int
    scrap: int
    rate: Decimal | None       # None: no piece rate configured for this product and step
    amount: Decimal
    basis: str                 # how the share was decided (BASIS)
    reports: tuple[int, ...]


@dataclass(frozen=True)
class WorkshopDay:
    day: date
    workshop: str
    good: int
    scrap: int
    planned: int


def month_bounds(month: str) -> tuple[date, date]:
    """`2026-11` → its first day and the first day of the next month; ValueError otherwise."""
    year, _, mon = month.partition("-")
    if not (year.isdigit() and mon.isdigit() and len(year) == 4 and 2000 <= int(year) <= 2099):
        raise ValueError(month)
    first = date(int(year), int(mon), 1)
    last = month_days.monthrange(first.year, first.month)[1]
    return first, date.fromordinal(first.toordinal() + last)


def _local_day(tz: ZoneInfo, at: datetime) -> date:
    return at.replace(tzinfo=UTC).astimezone(tz).date()


def work_lines(session: Session, tz: ZoneInfo, first: date, end: date) -> list[WorkLine]:
    """Per worker per factory day per order step, in [first, end): the standing reports'
    shares, each line's good × the rate of that day (rounded to the fen)."""
    start, _ = day_window(tz, first)
    stop, _ = day_window(tz, end)
    rows = session.execute(select(Report, Step.workshop_id, Workshop.name, Order.order_no, Order.product, Person.name)
                           .join(Step, Report.step_id == Step.id).join(Order, Step.order_id == Order.id)
                           .join(Workshop, Step.workshop_id == Workshop.id).join(Person, Person.id == Report.person_id)
                           .where(Report.created_at >= start, Report.created_at < stop, Report.undone_at.is_(None))
                           .order_by(Report.id)).all()
    shares: dict[int, list[tuple[int, str, int, int, str]]] = {}
    ids = [r.id for r, *_ in rows]
    for chunk in chunked(ids):
        for share, name in session.execute(select(ReportShare, Person.name).join(Person, Person.id == ReportShare.person_id)
                                           .where(ReportShare.report_id.in_(chunk))
                                           .order_by(ReportShare.id)).all():
            shares.setdefault(share.report_id, []).append((share.person_id, name, share.good, share.scrap, share.basis))
    rates = rate_table(session)
    lines: dict[tuple, dict] = {}
    for report, workshop_id, step, order_no, product, reporter in rows:
        day = _local_day(tz, report.created_at)
        whose = shares.get(report.id) or [(report.person_id, reporter, report.good, report.scrap, "reporter")]
        for person_id, name, good, scrap, basis in whose:
            key = (day, person_id, order_no, step, basis)
            line = lines.setdefault(key, {"name": name, "product": product, "workshop_id": workshop_id,
                                          "good": 0, "scrap": 0, "reports": []})
            line["good"] += good
            line["scrap"] += scrap
            line["reports"].append(report.id)
    out = []
    for (day, person_id, order_no, step, basis), v in lines.items():
        rate = rate_on(rates, v["product"], v["workshop_id"], day)
        amount = (Decimal(v["good"]) * rate).quantize(CENT, ROUND_HALF_UP) if rate is not None else Decimal("0.00")
        out.append(WorkLine(day, v["name"], person_id, order_no, v["product"], step, v["good"], v["scrap"], rate,
                            amount, basis, tuple(v["reports"])))
    return sorted(out, key=lambda w: (w.day, w.worker, w.person_id, w.order_no, w.step, w.basis))


@dataclass(frozen=True)
class WorkerMonth:
    worker: str
    person_id: int
    good: int
    scrap: int
    amount: Decimal


def worker_totals(lines: list[WorkLine]) -> list[WorkerMonth]:
    """Each worker's month: good, scrap and amount summed over their lines, by name."""
    totals: dict[int, WorkerMonth] = {}
    for line in lines:
        t = totals.get(line.person_id) or WorkerMonth(line.worker, line.person_id, 0, 0, Decimal("0.00"))
        totals[line.person_id] = WorkerMonth(t.worker, t.person_id, t.good + line.good, t.scrap + line.scrap,
                                             t.amount + line.amount)
    return sorted(totals.values(), key=lambda t: (t.worker, t.person_id))


def workshop_days(session: Session, cal, first: date, end: date) -> list[WorkshopDay]:
    """Each workshop's output against the stored plan on every day of [first, end) (digest.py's
    definitions: standing reports stamped that day; the plan's quantity spread over working time)."""
    days = [date.fromordinal(ordinal) for ordinal in range(first.toordinal(), end.toordinal())]
    return [WorkshopDay(day, shop.name, shop.good, shop.scrap, shop.planned)
            for day, shops in zip(days, shop_days_of(session, cal, days), strict=True) for shop in shops]
