"""Exceptions on the line (异常): a breakdown blocks its step until 恢复; a quantity dispute at a
handoff is recorded for both workshops and blocks nothing."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import NoOpenIncident, NotAllowed, QuantityOutOfRange, StepNotReady
from storage.events import record_event
from storage.models import Handoff, Incident, Order, Person, Step
from storage.orders import refresh_status
from storage.production import complete_if_done, lock_pending_handoffs, lock_step

CATEGORIES = ("设备", "物料", "质量", "人员", "其他")


def open_incident(session: Session, now: datetime, *, step_id: int, person: Person, category: str,
                  description: str, expected_recovery: datetime | None, source: str) -> Incident:
    """Block the step with an open exception (a lead of its workshop only)."""
    step = lock_step(session, step_id)
    if not person.leads(step.workshop_id):
        raise NotAllowed(action="incident", workshop=step.workshop.name)
    if step.status in ("done", "blocked"):
        raise StepNotReady(order_no=step.order.order_no, workshop=step.workshop.name, status=step.status)
    incident = Incident(step_id=step.id, category=category, description=description,
                        expected_recovery=expected_recovery, opened_by=person.id, opened_at=now,
                        blocking=True, prior_status=step.status)
    session.add(incident)
    step.status = "blocked"
    session.flush()
    record_event(session, now, "incident_opened", order_id=step.order_id, actor=person, source=source,
                 incident_id=incident.id, step=step.workshop.name, category=category, description=description,
                 expected_recovery=expected_recovery.isoformat() if expected_recovery else None)
    refresh_status(session, now, step.order, actor=person, source=source)
    return incident


def close_incident(session: Session, now: datetime, *, step_id: int, person: Person, source: str) -> Incident:
    """Close the step's open blocking exception (恢复) and let the step run again."""
    step = lock_step(session, step_id)
    if not person.leads(step.workshop_id):
        raise NotAllowed(action="resume", workshop=step.workshop.name)
    incident = session.scalars(select(Incident).where(Incident.step_id == step.id, Incident.closed_at.is_(None),
                                                      Incident.blocking.is_(True))).first()
    if incident is None:
        raise NoOpenIncident(order_no=step.order.order_no, workshop=step.workshop.name)
    incident.closed_at, incident.closed_by = now, person.id
    step.status = incident.prior_status or "ready"
    record_event(session, now, "incident_closed", order_id=step.order_id, actor=person, source=source,
                 incident_id=incident.id, step=step.workshop.name,
                 downtime_minutes=int((now - incident.opened_at).total_seconds() // 60))
    refresh_status(session, now, step.order, actor=person, source=source)
    return incident


def dispute_handoff(session: Session, now: datetime, *, order: Order, workshop_id: int, person: Person,
                    received: int, source: str) -> tuple[Handoff, Incident]:
    """The downstream lead received a different quantity: record it, take in what really came,
    and open a (non-blocking) exception that both workshops and the managers see."""
    step, pending = lock_pending_handoffs(session, order=order, workshop_id=workshop_id, person=person)
    handoff = pending[0]
    if received < 0 or received > handoff.quantity * 2:
        raise QuantityOutOfRange(quantity=received, limit=handoff.quantity * 2, remaining=None, step=None)
    handoff.status, handoff.received_qty = "disputed", received
    handoff.decided_by, handoff.decided_at = person.id, now
    step.received_qty += received
    if step.status == "waiting":
        step.status = "ready"
    incident = Incident(step_id=handoff.from_step_id, category="物料", blocking=False, opened_by=person.id,
                        opened_at=now, handoff_id=handoff.id,
                        description=f"交接数量不符：{handoff.from_step.workshop.name}交 {handoff.quantity}，"
                                    f"{step.workshop.name}收 {received}")
    session.add(incident)
    session.flush()
    record_event(session, now, "handoff_disputed", order_id=order.id, actor=person, source=source,
                 handoff_id=handoff.id, sent=handoff.quantity, received=received, incident_id=incident.id)
    complete_if_done(session, now, step, person=person, source=source)
    refresh_status(session, now, order, actor=person, source=source)
    return handoff, incident


def delay_impact(order: Order, step: Step, now: datetime, delay: timedelta, projected_end: datetime,
                 due_end: datetime) -> dict:
    """How an outage of `delay` at `step` moves the order's finish against its due time."""
    new_end = projected_end + delay
    late_hours = (new_end - due_end).total_seconds() / 3600
    return {"order_no": order.order_no, "new_end": new_end, "late": late_hours > 0,
            "late_hours": round(max(late_hours, 0), 1),
            "downstream": [s.workshop.name for s in order.steps if s.seq > step.seq]}
