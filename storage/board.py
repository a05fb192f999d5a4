"""The shop-floor board's data: orders × workshops, each cell a step with what needs attention, a
summary per workshop, and each order's state for the phone list. Every date and lateness is the
stored plan's; output is the reports stamped today."""
from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from planning.calendar import WorkCalendar
from storage.digest import day_window, output_between, planned_between
from storage import snapshots
from storage.models import Incident, Order, Step, Workshop
from storage.planner import calendar, calendar_as_read
from storage.views import OPEN_STEP, in_queue, pending_handoffs_into

# An order's state on the board, worst first (the phone lists them in this order).
ORDER_STATES = ("stopped", "late", "at_risk", "running")


@dataclass(frozen=True)
class Cell:
    status: str
    good: int
    planned: int
    late: bool                  # its planned end has passed and it is not done
    at_risk: bool               # its forecast passes its planned end by more than the tolerance
    incident: bool              # an open exception (a stop or a quantity dispute)
    handoff_waiting: int
    received: int = 0           # what reached it (a later step); shown where it differs from planned
    first: bool = True          # the first step on the route (its input is the plan, not a handoff)
    incident_kind: str = ""     # "stop" or "dispute"
    incident_reason: str = ""
    incident_minutes: int = 0   # how long it has been open (wall clock)
    late_minutes: int = 0       # the plan's lateness of this step

    @property
    def target(self) -> int:
        """What the step is to make: what it received where that differs from the plan."""
        return self.received if not self.first and self.received and self.received != self.planned else self.planned


@dataclass(frozen=True)
class ShopSummary:
    """One workshop today: output against the plan, work in progress, lines stopped, steps late."""
    workshop_id: int
    code: str
    name: str
    good: int
    planned: int
    wip: int
    stopped: int
    late: int
    at_risk: int


@dataclass(frozen=True)
class BoardOrder:
    """What the board shows of an order, and its steps (rows: id, seq, workshop_id, status,
    good_qty, planned_qty, received_qty, planned_end, late_minutes), read as plain rows: a page
    shows 60 orders and ~400 steps, and made into ORM objects they cost a third of it."""
    id: int
    order_no: str
    product: str
    due_date: date
    priority: int
    steps: tuple[Any, ...]


_ORDER_COLUMNS = (Order.id, Order.order_no, Order.product, Order.due_date, Order.priority)
_STEP_COLUMNS = (Step.order_id, Step.id, Step.seq, Step.workshop_id, Step.status, Step.good_qty, Step.planned_qty,
                 Step.received_qty, Step.planned_end, Step.late_minutes)


def board(session: Session, now: datetime, workshop_code: str | None = None, limit: int = 60,
          tolerance_minutes: int = 0, cal: WorkCalendar | None = None) -> dict:
    """Open orders (most urgent first) and, per workshop, the state of their step; with `cal`,
    today's summary per workshop."""
    workshops = list(session.scalars(select(Workshop).order_by(Workshop.id)))
    orders = _urgent_orders(session, workshop_code, limit)
    step_ids = [s.id for o in orders for s in o.steps]
    cal = cal or calendar(session)
    incidents = _open_incidents(session, step_ids)
    waiting = pending_handoffs_into(session, step_ids)
    rows: list[dict[str, Any]] = []
    for order in orders:
        first = order.steps[0].seq if order.steps else None
        cells = {step.workshop_id: _cell(step, now, tolerance_minutes, incidents.get(step.id), waiting.get(step.id, 0),
                                         cal, step.seq == first)
                 for step in order.steps}
        rows.append({"order": order, "cells": cells, "state": _order_state(order, cells)})
    summary = summaries(session, now, workshops, tolerance_minutes, cal) if cal is not None else []
    groups = [(state, [r for r in rows if r["state"][0] == state]) for state in ORDER_STATES]
    return {"workshops": workshops, "rows": rows, "filter": workshop_code, "summary": summary, "groups": groups}


def _urgent_orders(session: Session, workshop_code: str | None, limit: int) -> list[BoardOrder]:
    """The `limit` most urgent open orders (of a workshop's work: under way there, or material
    waiting for it), each with its steps in route order."""
    stmt = select(*_ORDER_COLUMNS).where(Order.status.notin_(("done", "cancelled")))
    if workshop_code:
        stmt = stmt.join(Step).join(Workshop).where(Workshop.code == workshop_code, in_queue())
    found: list[tuple[Any, ...]] = list(dict.fromkeys(tuple(row) for row in session.execute(
        stmt.order_by(Order.priority, Order.due_date, Order.order_no).limit(limit))))
    steps: dict[int, list[Any]] = {row[0]: [] for row in found}
    if steps:
        for step in session.execute(select(*_STEP_COLUMNS).where(Step.order_id.in_(list(steps)))
                                    .order_by(Step.order_id, Step.seq)):
            steps[step.order_id].append(step)
    return [BoardOrder(order_id, order_no, product, due, priority, tuple(steps[order_id]))
            for order_id, order_no, product, due, priority in found]


def _open_incidents(session: Session, step_ids: list[int]) -> dict[int, Incident]:
    """Each step's oldest open exception (a stop before a dispute)."""
    if not step_ids:
        return {}
    found: dict[int, Incident] = {}
    for incident in session.scalars(select(Incident).where(Incident.step_id.in_(step_ids), Incident.closed_at.is_(None))
                                    .order_by(Incident.blocking.desc(), Incident.opened_at, Incident.id)):
        found.setdefault(incident.step_id, incident)
    return found


def _cell(step: Any, now: datetime, tolerance: int, incident: Incident | None, waiting: int,
          cal: WorkCalendar, first: bool) -> Cell:
    open_step = step.status in OPEN_STEP
    late = open_step and now > step.planned_end            # the plan: its planned end has passed
    return Cell(status=step.status, good=step.good_qty, planned=step.planned_qty, late=late,
                at_risk=open_step and not late and step.late_minutes > tolerance, incident=incident is not None,
                handoff_waiting=waiting, received=step.received_qty, first=first,
                incident_kind=("stop" if incident.blocking else "dispute") if incident else "",
                incident_reason=_reason(incident) if incident else "",
                incident_minutes=cal.working_minutes(step.workshop_id, incident.opened_at, now) if incident else 0,
                late_minutes=step.late_minutes if open_step else 0)


def _reason(incident: Incident) -> str:
    return f"{incident.category} {incident.description}".strip() if incident.blocking else incident.description


def _order_state(order: BoardOrder, cells: dict[int, Cell]) -> tuple[str, int | None]:
    """The order's worst state and the workshop where it is (for the phone list)."""
    by_step = [(s.workshop_id, cells[s.workshop_id]) for s in order.steps if s.workshop_id in cells]
    for state, test in (("stopped", lambda c: c.incident_kind == "stop"), ("late", lambda c: c.late),
                        ("at_risk", lambda c: c.at_risk)):
        where = next((ws for ws, c in by_step if test(c)), None)
        if where is not None:
            return state, where
    current = next((ws for ws, c in by_step if c.status in ("running", "ready", "blocked")), None)
    if current is None:
        current = next((ws for ws, c in by_step if c.status != "done"), None)
    return "running", current


class _Summaries:
    """The summaries last computed per database, day and tolerance, each with the committed state
    it was read from (`storage.snapshots.token`) and the moments between which it holds: from the
    time it was computed (a clock set back, or a request that read the time earlier, computes it
    again) to the first planned end of an open step at or after it (until then no step turns
    late, and nothing else in it depends on the time of day). A board screen polls every 15 s and
    every screen shows the same summary, which costs more than the rest of the page (it counts
    every open step, sums the day's reports and spreads the day's plan); it is computed again
    only when something was committed or a step's planned end has passed."""
    SIZE = 16

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[Hashable, tuple[Hashable, datetime, datetime, list[ShopSummary]]] = {}

    def get(self, key: Hashable, state: Hashable, now: datetime) -> list[ShopSummary] | None:
        with self.lock:
            found = self.entries.get(key)
        if found is None or found[0] != state or not found[1] <= now <= found[2]:
            return None
        return found[3]

    def put(self, key: Hashable, state: Hashable, at: datetime, until: datetime, value: list[ShopSummary]) -> None:
        with self.lock:
            self.entries.pop(key, None)
            while len(self.entries) >= self.SIZE:
                self.entries.pop(next(iter(self.entries)))
            self.entries[key] = (state, at, until, value)


_summaries = _Summaries()


def summaries(session: Session, now: datetime, workshops: list[Workshop], tolerance: int,
              cal: WorkCalendar) -> list[ShopSummary]:
    """Per workshop: today's reports against today's plan, and its open steps by state; in a
    read-only session served again while nothing changed (`_Summaries`)."""
    seen = snapshots.token(session)
    if seen is None:
        return _summaries_now(session, now, workshops, tolerance, cal)
    where, state = seen
    key = (where, cal.local(now).date(), tolerance, tuple(w.id for w in workshops))
    found = _summaries.get(key, state, now)
    if found is None:
        # what is kept is computed from this snapshot alone: the calendar too (the one given may be
        # a few seconds older than it, and would be kept until the next commit)
        found = _summaries_now(session, now, workshops, tolerance, calendar_as_read(session) or cal)
        until = session.scalar(select(func.min(Step.planned_end)).where(Step.planned_end >= now,
                                                                        Step.status.in_(OPEN_STEP)))
        _summaries.put(key, state, now, until or datetime.max, found)
    return found


def _summaries_now(session: Session, now: datetime, workshops: list[Workshop], tolerance: int,
                   cal: WorkCalendar) -> list[ShopSummary]:
    start, end = day_window(cal.tz, cal.local(now).date())
    done, plan = output_between(session, start, end), planned_between(session, cal, start, end)
    counts: dict[int, list[int]] = {w.id: [0, 0, 0, 0] for w in workshops}   # wip, stopped, late, at risk
    if counts:
        for ws, *row in session.execute(_open_counts(now, tolerance, list(counts))).all():
            if ws in counts:
                counts[ws] = [total + int(n or 0) for total, n in zip(counts[ws], row, strict=True)]
    return [ShopSummary(w.id, w.code, w.name, done.get(w.id, (0, 0))[0], plan.get(w.id, 0), *counts[w.id])
            for w in workshops]


def _open_counts(now: datetime, tolerance: int, shops: list[int]):
    """One statement (one snapshot, also under PostgreSQL's READ COMMITTED) whose rows are
    (workshop, in progress, stopped, late, at risk) to be added up per workshop. Its first three
    parts are ranges of the workshop-queue index (workshop, status, planned end, lateness): the
    steps under way, the late ones, the ones at risk, not every open step through a CASE per row
    (30 ms at 10,000 open orders, ~6 ms so). The last takes away the open steps of orders on hold
    or cancelled, which wait outside the queues; they are read through their orders, row by row."""
    zero = literal(0)
    count = lambda condition: func.sum(case((condition, 1), else_=0))  # noqa: E731
    under_way, late = Step.status.in_(("ready", "running", "blocked")), Step.planned_end < now
    at_risk = and_(Step.planned_end >= now, Step.late_minutes > tolerance)
    mine, open_ = Step.workshop_id.in_(shops), Step.status.in_(OPEN_STEP)
    aside = select(Order.id).where(or_(Order.hold.is_not(None), Order.status == "cancelled"))
    return union_all(
        select(Step.workshop_id, func.count(), count(Step.status == "blocked"), zero, zero)
        .where(mine, under_way).group_by(Step.workshop_id),
        select(Step.workshop_id, zero, zero, func.count(), zero).where(mine, open_, late).group_by(Step.workshop_id),
        select(Step.workshop_id, zero, zero, zero, func.count()).where(mine, open_, at_risk).group_by(Step.workshop_id),
        select(Step.workshop_id, -count(under_way), -count(Step.status == "blocked"), -count(late), -count(at_risk))
        .where(mine, open_, Step.order_id.in_(aside)).group_by(Step.workshop_id))


def open_incidents_of(session: Session, order: Order, now: datetime) -> list[tuple[Incident, str, int]]:
    """The order's open exceptions: each with its step's workshop and how long it has been open
    (working minutes of that workshop), oldest first."""
    steps = {s.id: s for s in order.steps}
    rows = list(session.scalars(select(Incident).where(Incident.step_id.in_(list(steps)), Incident.closed_at.is_(None))
                                .order_by(Incident.opened_at, Incident.id))) if steps else []
    if not rows:
        return []
    cal = calendar(session)
    return [(i, steps[i.step_id].workshop.name, cal.working_minutes(steps[i.step_id].workshop_id, i.opened_at, now))
            for i in rows]
