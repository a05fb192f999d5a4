"""Read models: progress of an order, a workshop's queue. Every date in them is the stored plan
(`storage.planner`), so a reply, the board, the API and the jobs say the same thing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Handoff, Order, Step

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


def workshop_queue(session: Session, workshop_id: int, now: datetime, limit: int = 30,
                   include_waiting: bool = False) -> list[QueueItem]:
    """Open steps of a workshop, most urgent first: priority, then due date, then number.
    Steps still waiting for upstream work appear only with `include_waiting` (the plan view)."""
    rows = session.scalars(
        select(Step).join(Order).where(Step.workshop_id == workshop_id, Step.status.in_(OPEN_STEP),
                                       Order.hold.is_(None))
        .order_by(Order.priority, Order.due_date, Order.order_no).limit(limit * 3)).all()
    pending = pending_handoffs_into(session, [s.id for s in rows])
    items = []
    for step in rows:
        waiting_qty = pending.get(step.id, 0)
        if step.status == "waiting" and not waiting_qty and not include_waiting:
            continue  # nothing has arrived or is on its way yet
        items.append(QueueItem(order_no=step.order.order_no, product=step.order.product,
                               priority=step.order.priority, due_date=step.order.due_date.isoformat(),
                               step=step_view(step, now), pending_handoff_qty=waiting_qty))
    return items[:limit]


def pending_handoffs_into(session: Session, step_ids: list[int]) -> dict[int, int]:
    if not step_ids:
        return {}
    result: dict[int, int] = {}
    for handoff in session.scalars(select(Handoff).where(Handoff.to_step_id.in_(step_ids),
                                                         Handoff.status == "pending")):
        result[handoff.to_step_id] = result.get(handoff.to_step_id, 0) + handoff.quantity
    return result


def active_steps(session: Session, workshop_id: int, now: datetime, limit: int = 20) -> list[QueueItem]:
    """The workshop's steps that are under way (ready, running or blocked)."""
    return [item for item in workshop_queue(session, workshop_id, now, limit * 2)
            if item.step.status in ("ready", "running", "blocked")][:limit]
