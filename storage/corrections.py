"""Correcting a report after its parts moved on (更正): a workshop head or a manager sets the
report's real good and scrap; the difference flows into the handoff that carried the parts and
into what the next step received."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import CannotCorrect, NotAllowed, QuantityOutOfRange
from storage.events import record_event
from storage.lifecycle import lock_handoffs, lock_report, require
from storage.models import Handoff, Person, Report, Step
from storage.orders import refresh_status
from storage.production import (Limits, check_quantities, complete_if_done, is_complete, lock_step,
                                reopen_after_change, step_capacity, take_in)
from storage.workers import reshare


@dataclass
class Correction:
    report: Report
    old_good: int
    old_scrap: int
    step: Step
    handoff: Handoff | None      # the handoff the difference went into
    downstream: Step | None      # the step whose received quantity changed
    workers: list[dict] = field(default_factory=list)   # the report's shares after the correction


def may_correct(person: Person, workshop_id: int) -> bool:
    return person.heads(workshop_id) or person.has_role("manager")


def correct_report(session: Session, now: datetime, *, report_id: int, person: Person, good: int | None,
                   scrap: int | None, source: str, limits: Limits,
                   workers: Sequence[tuple[Person, int | None]] | None = None, reason: str = "") -> Correction:
    """Set a standing report's good (and scrap) quantity, and its workers' shares: `workers`
    named anew, else the shares it had scaled to the new quantities. Refuses anyone but a head
    of its workshop or a manager, an undone report, a total beyond the step's input, and a cut
    below what the next step has already processed (correct that step's report first)."""
    candidate = session.get(Report, report_id)
    if candidate is None:
        raise CannotCorrect(reason="unknown", report_id=report_id)
    step = lock_step(session, candidate.step_id)
    if not may_correct(person, step.workshop_id):
        raise NotAllowed(action="correct", workshop=step.workshop.name)
    require("correct", step.order)
    handoffs = lock_handoffs(session, select(Handoff).where(Handoff.from_step_id == step.id,
                                                            Handoff.status != "withdrawn"))
    report = lock_report(session, report_id)
    if report.undone_at is not None:
        raise CannotCorrect(reason="undone", report_id=report_id)
    scrap = report.scrap if scrap is None else scrap   # a number not given stays as it was, read under the lock
    good = report.good if good is None else good
    check_quantities(good, scrap, limits)
    d_good, d_scrap = good - report.good, scrap - report.scrap
    if not d_good and not d_scrap and workers is None:
        raise CannotCorrect(reason="same", report_id=report_id, good=good, scrap=scrap)
    capacity = step_capacity(step, limits.tolerance_percent)
    if step.good_qty + step.scrap_qty + d_good + d_scrap > capacity:
        raise QuantityOutOfRange(quantity=good + scrap, limit=capacity, step=step.workshop.name,
                                 remaining=max(capacity - step.good_qty - step.scrap_qty + report.good + report.scrap, 0))
    new_total = step.good_qty + d_good
    carrier = _carrier(step, report, handoffs, new_total)
    moved = _moved(step, d_good, new_total) if carrier is not None else 0
    if carrier is not None and carrier.quantity + moved < 0:
        # more than the last batch would have to come back: name the least it may be corrected to
        least = report.good - (step.good_qty - step.handed_qty) - carrier.quantity
        raise CannotCorrect(reason="below_handoff", report_id=report.id, quantity=carrier.quantity,
                            least=max(least, 0))
    downstream = _propagate(carrier, moved, limits) if carrier is not None and moved else None
    old_good, old_scrap = report.good, report.scrap
    report.good, report.scrap = good, scrap
    shares = reshare(session, report, workers)
    step.good_qty += d_good
    step.scrap_qty += d_scrap
    step.handed_qty += moved
    if step.status == "done" and not is_complete(step):
        reopen_after_change(step)
    complete_if_done(session, now, step, person=person, source=source)
    if downstream is not None:
        complete_if_done(session, now, downstream, person=person, source=source)
    record_event(session, now, "report_corrected", order_id=step.order_id, actor=person, source=source,
                 report_id=report.id, step=step.workshop.name, good=[old_good, good], scrap=[old_scrap, scrap],
                 handoff_id=carrier.id if carrier is not None and moved else None,
                 good_total=step.good_qty, scrap_total=step.scrap_qty, **({"workers": shares} if shares else {}),
                 **({"reason": reason} if reason else {}))
    refresh_status(session, now, step.order, actor=person, source=source)
    return Correction(report=report, old_good=old_good, old_scrap=old_scrap, step=step,
                      handoff=carrier if moved else None, downstream=downstream, workers=shares)


def _carrier(step: Step, report: Report, handoffs: list[Handoff], new_good_total: int) -> Handoff | None:
    """The handoff that carried this report's parts: the one it created, else (when all the
    step's output has left, or the new total is below what left) the step's latest."""
    own = next((h for h in handoffs if h.id == report.handoff_id), None)
    if own is not None:
        return own
    if handoffs and (step.status == "done" or new_good_total < step.handed_qty):
        return handoffs[-1]
    return None


def _moved(step: Step, d_good: int, new_total: int) -> int:
    """How much of the difference moves with the carrying handoff: all of an increase; of a cut,
    only what had left beyond the new total (parts still at the step are cut there)."""
    if d_good >= 0:
        return d_good
    return -min(-d_good, max(step.handed_qty - new_total, 0))


def _propagate(handoff: Handoff, d_good: int, limits: Limits) -> Step | None:
    """Move the difference into the handoff and, once received, into the next step's input."""
    if handoff.status in ("confirmed", "settled"):
        downstream = handoff.to_step
        received = downstream.received_qty + d_good
        processed = downstream.good_qty + downstream.scrap_qty
        if processed > received + received * limits.tolerance_percent // 100:
            raise CannotCorrect(reason="downstream_processed", report_id=None, workshop=downstream.workshop.name,
                                processed=processed, received=received)
        handoff.quantity += d_good
        handoff.received_qty = (handoff.received_qty or 0) + d_good
        downstream.received_qty = received
        if d_good > 0:
            take_in(downstream)
        return downstream
    handoff.quantity += d_good  # pending: the next workshop will receive the corrected number;
    return None                 # disputed: what really arrived stays as counted
