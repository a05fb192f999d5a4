"""Reporting output, undoing a report, and the handoffs that completed steps create."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import insert_now
from storage.errors import NoPendingHandoff, NothingToHandOver, NothingToUndo, NotAllowed, QuantityOutOfRange
from storage.events import record_event
from storage.lifecycle import lock_handoffs, lock_report, lock_step_tree, move, require
from storage.models import Handoff, Order, Person, Report, Step
from storage.orders import refresh_status
from storage.workers import Share, share_data, store_shares


@dataclass(frozen=True)
class Limits:
    tolerance_percent: int
    max_quantity: int
    undo_window: timedelta


@dataclass
class ReportOutcome:
    report: Report
    step: Step
    handoff: Handoff | None


def lock_step(session: Session, step_id: int) -> Step:
    """The step locked for a change, its order and the order's steps locked first (the lock
    order of `storage.lifecycle`)."""
    return lock_step_tree(session, step_id)


def step_capacity(step: Step, tolerance_percent: int) -> int:
    """How much good + scrap the step may report in total: its input plus the tolerance."""
    base = step.planned_qty if step.seq == 1 else step.received_qty
    return base + base * tolerance_percent // 100


def _previous(step: Step) -> Step | None:
    return next((s for s in step.order.steps if s.seq == step.seq - 1), None)


def _next(step: Step) -> Step | None:
    return next((s for s in step.order.steps if s.seq == step.seq + 1), None)


def check_quantities(good: int, scrap: int, limits: Limits) -> None:
    for qty in (good, scrap):
        if qty < 0 or qty > limits.max_quantity:
            raise QuantityOutOfRange(quantity=qty, limit=limits.max_quantity, remaining=None, step=None)
    if good + scrap == 0:
        raise QuantityOutOfRange(quantity=0, limit=limits.max_quantity, remaining=None, step=None)


def report_output(session: Session, now: datetime, *, step_id: int, person: Person, good: int,
                  scrap: int, note: str, source: str, limits: Limits,
                  shares: Sequence[Share] = ()) -> ReportOutcome:
    """Add good and scrap output to a step; complete it and hand over when it is done. The
    workers' `shares` (storage.workers.split) are stored with the report.

    Refuses a person who does not lead the step's workshop, a step that is not ready, and
    a total beyond the step's input plus the tolerance, and an order that is paused, cancelled
    or done. The order and its steps are locked, so two leads reporting at once both count.
    """
    check_quantities(good, scrap, limits)
    step = lock_step(session, step_id)
    if not person.leads(step.workshop_id):
        raise NotAllowed(action="report", workshop=step.workshop.name)
    require("report", step.order, step)
    capacity = step_capacity(step, limits.tolerance_percent)
    done_so_far = step.good_qty + step.scrap_qty
    if done_so_far + good + scrap > capacity:
        raise QuantityOutOfRange(quantity=good + scrap, limit=capacity,
                                 remaining=max(capacity - done_so_far, 0), step=step.workshop.name)
    step.good_qty += good
    step.scrap_qty += scrap
    step.first_report_at = step.first_report_at or now
    step.last_report_at = now
    move("step", step, "running")
    # its id now, for its shares and its event: the step's changes and everything else are
    # written by the commit's one flush
    report = insert_now(session, Report(step_id=step.id, person_id=person.id, good=good, scrap=scrap, note=note,
                                        source=source, created_at=now))
    store_shares(session, report, shares)
    record_event(session, now, "report", order_id=step.order_id, actor=person, source=source,
                 report_id=report.id, step=step.workshop.name, good=good, scrap=scrap, note=note,
                 good_total=step.good_qty, scrap_total=step.scrap_qty,
                 **({"workers": [s.as_data() for s in shares]} if shares else {}))
    handoff = complete_if_done(session, now, step, person=person, source=source)
    if handoff is not None:
        report.handoff_id = handoff.id  # undo withdraws exactly this one
    refresh_status(session, now, step.order, actor=person, source=source)
    return ReportOutcome(report=report, step=step, handoff=handoff)


def is_complete(step: Step) -> bool:
    processed = step.good_qty + step.scrap_qty
    if step.seq == 1:
        return processed >= step.planned_qty
    prev = _previous(step)
    upstream_done = prev is None or prev.status == "done"
    received_all = prev is None or prev.handed_qty <= step.received_qty
    return upstream_done and received_all and processed >= step.received_qty


def complete_if_done(session: Session, now: datetime, step: Step, *, person: Person | None,
                     source: str) -> Handoff | None:
    """Mark a finished step done and create the handoff of its remaining good output. Only a
    step under way completes (a blocked one completes when its exception is closed)."""
    if step.status not in ("ready", "running") or not is_complete(step):
        return None
    move("step", step, "done")
    step.completed_at = now
    record_event(session, now, "step_done", order_id=step.order_id, actor=person, source=source,
                 step=step.workshop.name, good=step.good_qty, scrap=step.scrap_qty)
    return create_handoff(session, now, step, step.good_qty - step.handed_qty, person=person, source=source)


def create_handoff(session: Session, now: datetime, step: Step, quantity: int, *,
                   person: Person | None, source: str, note: str | None = None) -> Handoff | None:
    """Hand `quantity` good parts from `step` to the next step, pending its confirmation."""
    nxt = _next(step)
    if nxt is None or quantity <= 0:
        return None
    step.handed_qty += quantity
    handoff = Handoff(from_step_id=step.id, to_step_id=nxt.id, quantity=quantity, status="pending",
                      note=note or None, created_by=person.id if person else None, created_at=now)
    session.add(handoff)
    session.flush()
    record_event(session, now, "handoff_created", order_id=step.order_id, actor=person, source=source,
                 handoff_id=handoff.id, from_step=step.workshop.name, to_step=nxt.workshop.name,
                 quantity=quantity, **({"note": note} if note else {}))
    return handoff


def hand_over(session: Session, now: datetime, *, step_id: int, person: Person, quantity: int | None,
              source: str, note: str | None = None) -> Handoff:
    """Hand a partial batch of finished good parts to the next step now (交接); `quantity` None:
    all of them not handed over yet, as the locked step counts them."""
    step = lock_step(session, step_id)
    if not person.leads(step.workshop_id):
        raise NotAllowed(action="handoff", workshop=step.workshop.name)
    require("handoff", step.order)
    available = step.good_qty - step.handed_qty
    if quantity is None:
        quantity = available
    if quantity <= 0 or quantity > available or _next(step) is None:
        raise NothingToHandOver(order_no=step.order.order_no, workshop=step.workshop.name,
                                available=max(available, 0) if _next(step) else 0)
    handoff = create_handoff(session, now, step, quantity, person=person, source=source, note=note)
    assert handoff is not None  # a positive quantity and a next step: checked above
    return handoff


def undo_report(session: Session, now: datetime, *, person: Person, report_id: int | None,
                source: str, limits: Limits) -> Report:
    """Undo the person's own report (the last one unless `report_id` is given) within the window.

    The pending handoff this report created (when it completed its step) is withdrawn with it;
    once that handoff was received, or the parts left in a separate 交接 batch, undo is refused
    (a workshop head corrects instead). Locks the order tree, then the handoff, then the report,
    and checks again that nobody undid it meanwhile.
    """
    candidate = _undo_candidate(session, person, report_id)
    step = lock_step(session, candidate.step_id)
    handoffs = lock_handoffs(session, select(Handoff).where(Handoff.from_step_id == step.id))
    if report_id is None:  # "my last report" as it stands now that the step is locked
        candidate = _last_standing(session, person, step.id) or candidate
    report = lock_report(session, candidate.id)
    handoff = next((h for h in handoffs if h.id == report.handoff_id), None)
    if report.undone_at is not None:
        raise NothingToUndo(reason="already", report_id=report.id)
    if now - report.created_at > limits.undo_window:
        raise NothingToUndo(reason="too_late", report_id=report.id,
                            minutes=int(limits.undo_window.total_seconds() // 60))
    require("undo", step.order)
    if handoff is not None and handoff.status != "pending":
        raise NothingToUndo(reason="handed_over", report_id=report.id)
    handed_after = step.handed_qty - (handoff.quantity if handoff is not None else 0)
    if step.good_qty - report.good < handed_after:
        raise NothingToUndo(reason="in_batch", report_id=report.id)
    if handoff is not None:
        _withdraw(session, now, step, handoff, person=person, source=source)
    step.good_qty -= report.good
    step.scrap_qty -= report.scrap
    report.undone_at = now
    reopen_after_change(step)
    workers = share_data(session, report.id)   # undone with the report: shown, no longer counted
    record_event(session, now, "report_undone", order_id=step.order_id, actor=person, source=source,
                 report_id=report.id, step=step.workshop.name, good=report.good, scrap=report.scrap,
                 good_total=step.good_qty, scrap_total=step.scrap_qty, **({"workers": workers} if workers else {}))
    complete_if_done(session, now, step, person=person, source=source)
    refresh_status(session, now, step.order, actor=person, source=source)
    return report


def _undo_candidate(session: Session, person: Person, report_id: int | None) -> Report:
    """The report to undo, read without locks: it only says which order to lock."""
    stmt = select(Report).where(Report.person_id == person.id, Report.undone_at.is_(None))
    if report_id is not None:
        stmt = select(Report).where(Report.person_id == person.id, Report.id == report_id)
    report = session.scalars(stmt.order_by(Report.created_at.desc(), Report.id.desc())).first()
    if report is None:
        raise NothingToUndo(reason="none" if report_id is None else "not_yours", report_id=report_id)
    return report


def _last_standing(session: Session, person: Person, step_id: int) -> Report | None:
    """The person's last report on this step that stands, read again under the step's lock."""
    return session.scalars(select(Report).where(Report.person_id == person.id, Report.step_id == step_id,
                                                Report.undone_at.is_(None)).order_by(Report.id.desc())
                           .execution_options(populate_existing=True)).first()


def reopen_after_change(step: Step) -> None:
    """A step whose output went down (undo, correction) is under way again, or not yet started."""
    if step.status in ("running", "done"):
        move("step", step, "running" if step.good_qty + step.scrap_qty else "ready")
        step.completed_at = None


def take_in(step: Step) -> None:
    """Parts arrived at a step: a waiting step may start; a finished one has more to process."""
    if step.status == "waiting":
        move("step", step, "ready")
    elif step.status == "done":
        move("step", step, "running" if step.good_qty + step.scrap_qty else "ready")
        step.completed_at = None


def _withdraw(session: Session, now: datetime, step: Step, handoff: Handoff, *, person: Person,
              source: str) -> None:
    move("handoff", handoff, "withdrawn")
    handoff.decided_at = now
    handoff.decided_by = person.id
    step.handed_qty -= handoff.quantity
    record_event(session, now, "handoff_withdrawn", order_id=step.order_id, actor=person,
                 source=source, handoff_id=handoff.id, quantity=handoff.quantity)


def lock_pending_handoffs(session: Session, *, order: Order, workshop_id: int, person: Person,
                          handoff_id: int | None = None, action: str = "receive") -> tuple[Step, list[Handoff]]:
    """The order's step at this workshop and its pending incoming handoffs, locked, for a lead
    of the workshop; refuses anyone else, an order that is not under way, and says so when
    nothing is pending."""
    step = next((s for s in order.steps if s.workshop_id == workshop_id), None)
    if step is None:
        raise NoPendingHandoff(order_no=order.order_no, workshop=None)
    if not person.leads(workshop_id):
        raise NotAllowed(action="receive", workshop=step.workshop.name)
    step = lock_step(session, step.id)
    require(action, step.order)
    stmt = select(Handoff).where(Handoff.to_step_id == step.id, Handoff.status == "pending")
    if handoff_id is not None:
        stmt = stmt.where(Handoff.id == handoff_id)
    pending = lock_handoffs(session, stmt)
    if not pending:
        raise NoPendingHandoff(order_no=order.order_no, workshop=step.workshop.name)
    return step, pending


def confirm_handoffs(session: Session, now: datetime, *, order: Order, workshop_id: int,
                     person: Person, source: str, handoff_id: int | None = None) -> list[Handoff]:
    """Confirm the pending handoffs into this order's step at the workshop (接收): all of
    them, or only `handoff_id` (a card's button)."""
    step, pending = lock_pending_handoffs(session, order=order, workshop_id=workshop_id, person=person,
                                          handoff_id=handoff_id)
    for handoff in pending:
        move("handoff", handoff, "confirmed")
        handoff.received_qty = handoff.quantity
        handoff.decided_by = person.id
        handoff.decided_at = now
        step.received_qty += handoff.quantity
        record_event(session, now, "handoff_confirmed", order_id=order.id, actor=person, source=source,
                     handoff_id=handoff.id, step=step.workshop.name, quantity=handoff.quantity)
    take_in(step)
    complete_if_done(session, now, step, person=person, source=source)
    refresh_status(session, now, step.order, actor=person, source=source)
    return pending
