"""Read models: progress of an order, a workshop's queue, and what the daily digest and the
reminders read. Every date in them is the stored plan (`storage.planner`), so a reply, the
board, the API and the jobs say the same thing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from storage.models import (ChangeRequest, Handoff, Incident, Order, Report, SentDigest, SentReminder, Step,
                            Workshop)

OPEN_STEP = ("waiting", "ready", "running", "blocked")


@dataclass(frozen=True)
class StepView:
    workshop: str
    status: str
    good: int
    scrap: int
    planned: int
    received: int
    percent: int
    planned_start: datetime
    planned_end: datetime
    forecast_start: datetime | None
    projected_end: datetime | None     # the forecast end (None: not scheduled, e.g. on hold)
    late: bool                         # forecast past the planned end
    late_minutes: int                  # by how much, in working minutes
    provisional: bool                  # a date in a year whose public holidays are unconfirmed


@dataclass(frozen=True)
class OrderView:
    order_no: str
    product: str
    quantity: int
    customer: str
    due_date: str
    priority: int
    status: str
    steps: list[StepView]
    due_at: datetime | None = None             # the end of the due date's working time
    forecast_end: datetime | None = None       # when the whole order will be done
    late_minutes: int = 0                      # past due, working minutes

    @property
    def provisional(self) -> bool:
        """The order's forecast reaches into a year whose public holidays are unconfirmed."""
        return any(s.provisional for s in self.steps if s.status != "done")


def step_view(step: Step, now: datetime | None = None) -> StepView:
    """One step as people see it: its progress and its plan."""
    percent = min(100, step.good_qty * 100 // step.planned_qty) if step.planned_qty else 0
    late = step.status != "done" and step.late_minutes > 0
    return StepView(workshop=step.workshop.name, status=step.status, good=step.good_qty,
                    scrap=step.scrap_qty, planned=step.planned_qty, received=step.received_qty,
                    percent=percent, planned_start=step.planned_start, planned_end=step.planned_end,
                    forecast_start=step.forecast_start,
                    projected_end=step.forecast_end if step.status != "done" else step.completed_at,
                    late=late, late_minutes=step.late_minutes if step.status != "done" else 0,
                    provisional=step.provisional)


def order_view(order: Order, now: datetime) -> OrderView:
    return OrderView(order_no=order.order_no, product=order.product, quantity=order.quantity,
                     customer=order.customer, due_date=order.due_date.isoformat(),
                     priority=order.priority, status=order.status,
                     steps=[step_view(s, now) for s in order.steps], due_at=order.due_at,
                     forecast_end=order.forecast_end, late_minutes=order.late_minutes)


@dataclass(frozen=True)
class QueueItem:
    order_no: str
    product: str
    priority: int
    due_date: str
    step: StepView
    pending_handoff_qty: int


def in_queue(include_waiting: bool = False):
    """A workshop's queue in SQL: its steps under way (ready, running, blocked) and those still
    waiting that have material handed over to them (`include_waiting`: every open step)."""
    if include_waiting:
        return Step.status.in_(OPEN_STEP)
    # the steps with a batch waiting, read once as a list (by the pending-handoffs index), not a
    # correlated probe per waiting step of the workshop (~4 ms of a workshop's board at 10,000 orders)
    handed = Step.id.in_(select(Handoff.to_step_id).where(Handoff.status == "pending"))
    return or_(Step.status.in_(("ready", "running", "blocked")), and_(Step.status == "waiting", handed))


def workshop_queue(session: Session, workshop_id: int, now: datetime, limit: int = 30,
                   include_waiting: bool = False) -> list[QueueItem]:
    """Open steps of a workshop, most urgent first: priority, then due date, then number.
    Steps still waiting for upstream work appear only with `include_waiting` (the plan view)."""
    rows = session.scalars(
        select(Step).join(Order).where(Step.workshop_id == workshop_id, in_queue(include_waiting),
                                       Order.hold.is_(None))
        .order_by(Order.priority, Order.due_date, Order.order_no).limit(limit)).all()
    pending = pending_handoffs_into(session, [s.id for s in rows])
    return [QueueItem(order_no=step.order.order_no, product=step.order.product, priority=step.order.priority,
                      due_date=step.order.due_date.isoformat(), step=step_view(step, now),
                      pending_handoff_qty=pending.get(step.id, 0)) for step in rows]


def pending_handoffs_into(session: Session, step_ids: list[int]) -> dict[int, int]:
    if not step_ids:
        return {}
    rows = session.execute(select(Handoff.to_step_id, func.sum(Handoff.quantity))
                           .where(Handoff.status == "pending", Handoff.to_step_id.in_(step_ids))
                           .group_by(Handoff.to_step_id))
    return {step_id: int(quantity) for step_id, quantity in rows}


def active_steps(session: Session, workshop_id: int, now: datetime, limit: int = 20) -> list[QueueItem]:
    """The workshop's steps that are under way (ready, running or blocked)."""
    return [item for item in workshop_queue(session, workshop_id, now, limit * 2)
            if item.step.status in ("ready", "running", "blocked")][:limit]


# -- what the jobs read: the daily digest and the reminders ----------------------------------------
@dataclass(frozen=True)
class WorkshopDay:
    """A workshop's day, as its digest tells it."""
    workshop: str
    output: list[Any]       # (order_no, good, scrap) reported in the window, undone reports left out
    completed: list[str]    # order numbers whose step here completed in the window
    waiting: list[Any]      # (order_no, quantity) handed over to it and not yet confirmed
    incidents: list[Any]    # (order_no, category, description) still open: breakdowns and disputes alike


def workshops_worked(session: Session, start: datetime, end: datetime) -> dict[int, WorkshopDay]:
    """What each workshop did between `start` and `end` (naive UTC), and what waits for it now:
    four queries for the plant, each from its selective side (the window's reports and
    completions, the pending handoffs, the open exceptions)."""
    days = {ws_id: WorkshopDay(workshop=name, output=[], completed=[], waiting=[], incidents=[])
            for ws_id, name in session.execute(select(Workshop.id, Workshop.name))}
    output = session.execute(
        select(Step.workshop_id, Order.order_no, func.sum(Report.good), func.sum(Report.scrap)).select_from(Report)
        .join(Step, Report.step_id == Step.id).join(Order, Step.order_id == Order.id)
        .where(Report.created_at >= start, Report.created_at < end, Report.undone_at.is_(None))
        .group_by(Step.workshop_id, Order.order_no).order_by(Step.workshop_id, Order.order_no))
    for ws_id, *row in output:
        days[ws_id].output.append(tuple(row))
    for ws_id, order_no in session.execute(select(Step.workshop_id, Order.order_no).join(Order, Step.order_id == Order.id)
                                           .where(Step.completed_at >= start, Step.completed_at < end)):
        days[ws_id].completed.append(order_no)
    for ws_id, *row in session.execute(select(Step.workshop_id, Order.order_no, Handoff.quantity).select_from(Handoff)
                                       .join(Step, Handoff.to_step_id == Step.id)
                                       .join(Order, Step.order_id == Order.id).where(Handoff.status == "pending")):
        days[ws_id].waiting.append(tuple(row))
    # open = not closed: breakdowns and unsettled quantity disputes alike (as the board and 进度 say)
    for ws_id, *row in session.execute(select(Step.workshop_id, Order.order_no, Incident.category, Incident.description)
                                       .select_from(Incident).join(Step, Incident.step_id == Step.id)
                                       .join(Order, Step.order_id == Order.id).where(Incident.closed_at.is_(None))):
        days[ws_id].incidents.append(tuple(row))
    return days


def orders_done_since(session: Session, since: datetime) -> list[Order]:
    """Orders finished (status done) and last changed at or after `since`."""
    return list(session.scalars(select(Order).where(Order.status == "done", Order.updated_at >= since)))


def open_request_count(session: Session) -> int:
    """Rush orders and changes still waiting for a decision."""
    return session.scalar(select(func.count()).select_from(ChangeRequest).where(ChangeRequest.status == "pending")) or 0


def workshop_names(session: Session) -> dict[int, str]:
    return {row.id: row.name for row in session.execute(select(Workshop.id, Workshop.name))}


def digest_sent(session: Session, group_id: int, day: date) -> bool:
    """Whether a group's digest for `day` exists."""
    return session.scalar(select(SentDigest.id).where(SentDigest.group_id == group_id, SentDigest.day == day)) is not None


def cancelled_orders():
    """The cancelled orders' ids, as a subquery: a short list, read once."""
    return select(Order.id).where(Order.status == "cancelled").scalar_subquery()


def handoffs_waiting_since(session: Session, before: datetime) -> list[Handoff]:
    """Handoffs still unconfirmed that were made at or before `before`; not those of a cancelled
    order, which nobody can receive."""
    return list(session.scalars(select(Handoff).join(Step, Handoff.to_step_id == Step.id).where(
        Handoff.status == "pending", Handoff.created_at <= before, Step.order_id.notin_(cancelled_orders()))))


def requests_waiting_since(session: Session, before: datetime) -> list[ChangeRequest]:
    """Requests still undecided that were filed at or before `before`; not those about a
    cancelled order, which can only be rejected."""
    return list(session.scalars(select(ChangeRequest).where(
        ChangeRequest.status == "pending", ChangeRequest.created_at <= before,
        ChangeRequest.order_id.is_(None) | ChangeRequest.order_id.notin_(cancelled_orders()))))


def reminded(session: Session) -> set[tuple[str, int]]:
    """(kind, subject id) of every reminder already sent."""
    return {(r.kind, r.subject_id) for r in session.scalars(select(SentReminder))}
