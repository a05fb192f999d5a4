"""Exceptions on the line (异常): a breakdown blocks its step until 恢复; a quantity dispute at a
handoff is recorded for both workshops, blocks nothing, and stays open until it is settled (了结)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import NoOpenIncident, NothingToSettle, NotAllowed, QuantityOutOfRange
from storage.events import record_event
from storage.lifecycle import lock_handoffs, move, require
from storage.planner import calendar
from storage.models import Handoff, Incident, Order, Person, Step
from storage.orders import refresh_status
from storage.production import complete_if_done, confirm_handoffs, lock_pending_handoffs, lock_step, take_in

CATEGORIES = ("设备", "物料", "质量", "人员", "其他")


def open_incident(session: Session, now: datetime, *, step_id: int, person: Person, category: str,
                  description: str, expected_recovery: datetime | None, source: str) -> Incident:
    """Block the step with an open exception (a lead or the head of its workshop, an order under way)."""
    step = lock_step(session, step_id)
    if not (person.leads(step.workshop_id) or person.heads(step.workshop_id)):
        raise NotAllowed(action="incident", workshop=step.workshop.name)
    require("incident", step.order, step)
    incident = Incident(step_id=step.id, category=category, description=description,
                        expected_recovery=expected_recovery, opened_by=person.id, opened_at=now,
                        blocking=True, prior_status=step.status)
    session.add(incident)
    move("step", step, "blocked")
    session.flush()
    record_event(session, now, "incident_opened", order_id=step.order_id, actor=person, source=source,
                 incident_id=incident.id, step=step.workshop.name, category=category, description=description,
                 expected_recovery=expected_recovery.isoformat() if expected_recovery else None)
    refresh_status(session, now, step.order, actor=person, source=source)
    return incident


def close_incident(session: Session, now: datetime, *, step_id: int, person: Person,
                   source: str) -> tuple[Incident, int]:
    """Close the step's open blocking exception (恢复) and let the step run again; the incident and
    how long it stopped the step, in the workshop's working minutes. A quantity dispute is not
    closed here: the reply points to 了结."""
    step = lock_step(session, step_id)
    if not (person.leads(step.workshop_id) or person.heads(step.workshop_id)):
        raise NotAllowed(action="resume", workshop=step.workshop.name)
    require("resume", step.order)
    incident = session.scalars(select(Incident).where(Incident.step_id == step.id, Incident.closed_at.is_(None),
                                                      Incident.blocking.is_(True))).first()
    if incident is None:
        disputed = session.scalar(select(Incident.id).where(Incident.step_id == step.id, Incident.closed_at.is_(None)))
        raise NoOpenIncident(order_no=step.order.order_no, workshop=step.workshop.name, dispute=disputed is not None)
    incident.closed_at, incident.closed_by = now, person.id
    move("step", step, _resume_status(step, incident.prior_status))
    minutes = calendar(session).working_minutes(step.workshop_id, incident.opened_at, now)
    record_event(session, now, "incident_closed", order_id=step.order_id, actor=person, source=source,
                 incident_id=incident.id, step=step.workshop.name, downtime_minutes=minutes)
    complete_if_done(session, now, step, person=person, source=source)
    refresh_status(session, now, step.order, actor=person, source=source)
    return incident, minutes


def _resume_status(step: Step, prior: str | None) -> str:
    """Where a step goes when its exception closes: where it was, unless parts arrived or
    output was reported meanwhile."""
    if step.good_qty + step.scrap_qty:
        return "running"
    if prior == "waiting" and step.received_qty == 0 and step.seq > 1:
        return "waiting"
    return "ready"


def dispute_handoff(session: Session, now: datetime, *, order: Order, workshop_id: int, person: Person,
                    received: int, source: str, handoff_id: int | None = None,
                    reason: str = "") -> tuple[Handoff, Incident]:
    """The downstream lead received a different quantity: record it, take in what really came,
    and open a (non-blocking) exception that both workshops and the managers see until it is
    settled (了结)."""
    step, pending = lock_pending_handoffs(session, order=order, workshop_id=workshop_id, person=person,
                                          action="dispute", handoff_id=handoff_id)
    handoff = pending[0]
    if received < 0 or received > handoff.quantity * 2:
        raise QuantityOutOfRange(quantity=received, limit=handoff.quantity * 2, remaining=None, step=None)
    move("handoff", handoff, "disputed")
    handoff.received_qty = received
    handoff.decided_by, handoff.decided_at = person.id, now
    step.received_qty += received
    take_in(step)
    incident = Incident(step_id=handoff.from_step_id, category="物料", blocking=False, opened_by=person.id,
                        opened_at=now, handoff_id=handoff.id,
                        description=f"交接数量不符：{handoff.from_step.workshop.name}交 {handoff.quantity}，"
                                    f"{step.workshop.name}收 {received}" + (f"（{reason}）" if reason else ""))
    session.add(incident)
    session.flush()
    record_event(session, now, "handoff_disputed", order_id=order.id, actor=person, source=source,
                 handoff_id=handoff.id, sent=handoff.quantity, received=received, incident_id=incident.id)
    complete_if_done(session, now, step, person=person, source=source)
    refresh_status(session, now, step.order, actor=person, source=source)
    return handoff, incident


def receive(session: Session, now: datetime, *, order: Order, workshop_id: int, person: Person,
            received: int | None, source: str, handoff_id: int | None = None,
            reason: str = "") -> tuple[list[Handoff], Incident | None]:
    """接收: confirm the pending handoffs into the workshop's step, or, with a number other than
    the oldest pending handoff's quantity, dispute that one; `handoff_id`: only that batch (the
    one a card asked about). Decided under the locks."""
    _, pending = lock_pending_handoffs(session, order=order, workshop_id=workshop_id, person=person,
                                       handoff_id=handoff_id)
    if received is None or received == pending[0].quantity:
        return confirm_handoffs(session, now, order=order, workshop_id=workshop_id, person=person,
                                source=source, handoff_id=handoff_id), None
    handoff, incident = dispute_handoff(session, now, order=order, workshop_id=workshop_id, person=person,
                                        received=received, source=source, handoff_id=handoff_id, reason=reason)
    return [handoff], incident


def may_settle(person: Person, workshop_id: int) -> bool:
    """The upstream workshop's lead (or head), or a manager."""
    return person.leads(workshop_id) or person.heads(workshop_id) or person.has_role("manager")


def settle_dispute(session: Session, now: datetime, *, order: Order, person: Person, step_id: int | None,
                   source: str, incident_id: int | None = None) -> tuple[Handoff, Incident]:
    """Settle an open quantity dispute of this order (了结, or 处理 on its card): the handoff is
    settled at what really arrived and its exception closes. `step_id` names the upstream step
    when the order has disputes at several; `incident_id` is a card's own dispute."""
    stmt = select(Incident).join(Step, Incident.step_id == Step.id).where(
        Step.order_id == order.id, Incident.closed_at.is_(None), Incident.handoff_id.is_not(None))
    if step_id is not None:
        stmt = stmt.where(Incident.step_id == step_id)
    if incident_id is not None:
        stmt = stmt.where(Incident.id == incident_id)
    candidates = session.scalars(stmt.order_by(Incident.id)).all()
    if not candidates:
        raise NothingToSettle(order_no=order.order_no)
    step = lock_step(session, candidates[0].step_id)
    if not may_settle(person, step.workshop_id):
        raise NotAllowed(action="settle", workshop=step.workshop.name)
    require("settle", step.order)
    handoff = lock_handoffs(session, select(Handoff).where(Handoff.id == candidates[0].handoff_id))[0]
    incident = session.scalars(select(Incident).where(Incident.id == candidates[0].id).with_for_update(of=Incident)
                               .execution_options(populate_existing=True)).one()
    if incident.closed_at is not None:
        raise NothingToSettle(order_no=order.order_no)
    move("handoff", handoff, "settled")
    incident.closed_at, incident.closed_by = now, person.id
    record_event(session, now, "dispute_settled", order_id=order.id, actor=person, source=source,
                 handoff_id=handoff.id, incident_id=incident.id, sent=handoff.quantity,
                 received=handoff.received_qty, step=step.workshop.name)
    refresh_status(session, now, step.order, actor=person, source=source)
    return handoff, incident


def open_incidents(session: Session, step_ids: list[int]) -> dict[int, list[Incident]]:
    """Every open exception of these steps, breakdowns and disputes alike: what the board, the
    digest and 进度 call open."""
    result: dict[int, list[Incident]] = {}
    if step_ids:
        for incident in session.scalars(select(Incident).where(Incident.step_id.in_(step_ids),
                                                               Incident.closed_at.is_(None)).order_by(Incident.id)):
            result.setdefault(incident.step_id, []).append(incident)
    return result
