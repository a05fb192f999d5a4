"""Delays in the stored plan: which orders are late or at risk, and which step (which workshop)
causes each; the warnings already given and the escalations due."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter

from sqlalchemy import case, insert, select
from sqlalchemy.orm import Session

from planning.cause import delay_of
from storage.db import chunked
from storage.models import DelayWarning, Order, Step
from storage.views import OPEN_STEP


@dataclass(frozen=True)
class OrderDelay:
    """One order's delay in plain data: its level, the step that causes it, the steps after it."""
    order_id: int
    order_no: str
    level: str                          # late / at_risk
    cause_step_id: int
    cause_workshop_id: int
    downstream_step_ids: tuple[int, ...]
    projected_end: datetime | None = None   # the cause step's forecast end (what a warning records)
    read: int = field(default=0, compare=False)   # the order's rows it was found in (storage.delays._fingerprint)
    # the order's rows (_COLUMNS, by seq) as read under the writer's lock (still_delayed), for what a
    # warning says of its route; empty when found outside it (current_delays)
    rows: tuple = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Warned:
    """A warning just written: what its messages name of it."""
    id: int
    level: str
    created_at: datetime


# What the delay rule (planning.cause.delay_of) reads of each step, named as the rule names them, and
# what a delay records and its warnings say of the order's route; nothing else (an order's rows are
# judged as read, without being made into plan objects first: at 800 delayed orders that took
# longer than the judging).
_COLUMNS = (Step.id.label("step_id"), Step.order_id, Step.workshop_id, Step.status, Step.planned_end.label("pe"),
            case((Step.status.in_(OPEN_STEP), Step.forecast_start)).label("fs"),   # None: not scheduled
            Step.forecast_end, Step.late_minutes, Step.provisional, Order.order_no, Order.product)
_ORDER_ID = itemgetter(1)   # a row's Step.order_id


def current_delays(session: Session, now: datetime, tolerance_minutes: int) -> list[OrderDelay]:
    """Every open order (not on hold) whose plan shows a delay, with its cause, most urgent first.
    Read as plain rows: a plant where everything is late must not load every order as objects."""
    # the steps alone, not joined to their orders (SQLite then reads its covering workshop-queue
    # index instead of every step row by order: at 10,000 orders 14 ms instead of 21)
    candidates = select(Step.order_id).where(Step.status.in_(OPEN_STEP),
                                             (Step.planned_end < now) | (Step.late_minutes > tolerance_minutes))
    rows = session.execute(select(*_COLUMNS).join(Order, Step.order_id == Order.id)
                           .where(Order.hold.is_(None), Order.status != "done", Order.id.in_(candidates))
                           .order_by(Order.priority, Order.due_date, Order.order_no, Step.seq)).all()
    return [d for d in (_judge(order_rows, now, tolerance_minutes) for order_rows in _by_order(rows)) if d is not None]


def still_delayed(session: Session, now: datetime, tolerance_minutes: int, found: list[OrderDelay]) -> list[OrderDelay]:
    """`found` (read earlier, outside the writers' queue) as it stands now, read again (500 orders a
    statement) under the writer's lock: an order whose rows are as they were keeps its delay, one
    that changed is judged again (and left out if it is no longer delayed, done or on hold). In
    `found`'s order, each with its rows as read here (`OrderDelay.rows`). On PostgreSQL the orders
    are locked first, in id order (the lock order every writer of an order follows), so that a 报工
    on one of them waits for the warning or comes before it; SQLite's writers queue anyway."""
    out: list[OrderDelay] = []
    if session.get_bind().dialect.name == "postgresql":
        for ids in chunked(sorted({f.order_id for f in found})):
            session.execute(select(Order.id).where(Order.id.in_(ids)).order_by(Order.id).with_for_update())
    for chunk in chunked(found):
        rows = session.execute(select(*_COLUMNS).join(Order, Step.order_id == Order.id).where(
            Order.id.in_([f.order_id for f in chunk]), Order.hold.is_(None), Order.status != "done")
            .order_by(Order.id, Step.seq)).all()
        now_rows = {order_rows[0].order_id: order_rows for order_rows in _by_order(rows)}
        for before in chunk:
            order_rows = now_rows.get(before.order_id)
            if order_rows is None:
                continue
            if _fingerprint(order_rows) == before.read:
                out.append(replace(before, rows=tuple(order_rows)))
            elif any(_delayed(r, now, tolerance_minutes) for r in order_rows):   # a candidate, as above
                again = _judge(order_rows, now, tolerance_minutes)
                if again is not None:
                    out.append(replace(again, rows=tuple(order_rows)))
    return out


def _delayed(step, now: datetime, tolerance_minutes: int) -> bool:
    """An open step past its planned end, or forecast past it."""
    return step.status in OPEN_STEP and (step.pe < now or step.late_minutes > tolerance_minutes)


def _judge(order_rows: list, now: datetime, tolerance_minutes: int) -> OrderDelay | None:
    delay = delay_of(order_rows, now, tolerance_minutes)
    if delay is None:
        return None
    cause = delay.cause
    return OrderDelay(cause.order_id, cause.order_no, delay.level, cause.step_id, cause.workshop_id,
                      tuple(s.step_id for s in delay.downstream), cause.forecast_end, _fingerprint(order_rows))


def _fingerprint(order_rows: list) -> int:
    """The order's rows as read, as one number (to tell later whether they changed)."""
    return hash(tuple(tuple(r) for r in order_rows))


def _by_order(rows) -> list[list]:
    return [list(order_rows) for _, order_rows in groupby(rows, key=_ORDER_ID)]


def warned(session: Session, step_ids: Iterable[int] | None = None) -> set[tuple[int, str]]:
    """(step, level) of the warnings given (of these steps' only, read 500 at a time)."""
    query = select(DelayWarning.step_id, DelayWarning.level)
    if step_ids is None:
        return {(row[0], row[1]) for row in session.execute(query)}
    return {(row[0], row[1]) for ids in chunked(sorted(set(step_ids)))
            for row in session.execute(query.where(DelayWarning.step_id.in_(ids)))}


def record_warnings(session: Session, delays: list[OrderDelay], now: datetime) -> list[Warned]:
    """A warning for each of `delays` at its level, written in one statement (through the unit of
    work, one by one, 800 of them cost a first scan more than deciding them); in `delays`' order."""
    if not delays:
        return []
    rows = [{"step_id": d.cause_step_id, "order_id": d.order_id, "level": d.level, "projected_end": d.projected_end,
             "created_at": now} for d in delays]
    # each written row named by its step and level (unique), not by its place: returned in the
    # parameters' order, SQLite's rows would be inserted one statement each
    ids = {(row.step_id, row.level): row.id for row in session.connection().execute(
        insert(DelayWarning).returning(DelayWarning.id, DelayWarning.step_id, DelayWarning.level), rows)}
    return [Warned(ids[d.cause_step_id, d.level], d.level, now) for d in delays]


def escalated_orders(session: Session) -> set[int]:
    return set(session.scalars(select(DelayWarning.order_id).where(DelayWarning.level == "escalated")))


def due_escalations(session: Session, now: datetime, delay: timedelta) -> list[DelayWarning]:
    """Warnings nobody acknowledged within `delay`, on orders not escalated yet (oldest first)."""
    done = escalated_orders(session)
    rows = session.scalars(select(DelayWarning).where(DelayWarning.level.in_(("late", "at_risk")),
                                                      DelayWarning.acknowledged_at.is_(None),
                                                      DelayWarning.created_at <= now - delay)
                           .order_by(DelayWarning.created_at, DelayWarning.id)).all()
    out, seen = [], set()
    for warning in rows:
        order_id = warning.order_id
        if order_id is None:   # a warning from before warnings named their order
            step = session.get(Step, warning.step_id)
            order_id = step.order_id if step is not None else None
        if order_id in done or order_id in seen:
            continue
        seen.add(order_id)
        out.append(warning)
    return out
