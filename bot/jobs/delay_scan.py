"""The delay scan: late and at-risk steps get one warning per level, with a 已知悉 button; an
unacknowledged warning goes to the managers after the escalation delay; quiet hours hold sends."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cards import Button, Card
from bot.jobs import calendar
from bot.neutral import Notice
from bot.worktime import WorkCalendar
from storage.models import DelayWarning, Order, Step

OPEN = ("waiting", "ready", "running", "blocked")
MIN_RATE_HOURS = 0.5


def projected_finish(step: Step, now: datetime, cal: WorkCalendar) -> datetime:
    """Remaining quantity at the step's actual rate per working hour (standard rate before
    half an hour of reporting), counted in working time."""
    target = step.planned_qty if step.seq == 1 else max(step.received_qty, step.planned_qty)
    processed = step.good_qty + step.scrap_qty
    rate = step.units_per_hour
    if step.first_report_at and processed:
        worked = cal.working_hours_between(step.first_report_at, now)
        if worked >= MIN_RATE_HOURS:
            rate = processed / worked
    start = now if processed else max(now, step.planned_start)
    return cal.add_working_hours(start, max(target - processed, 0) / rate)


def classify(step: Step, now: datetime, cal: WorkCalendar, tolerance: timedelta) -> tuple[str | None, datetime]:
    projected = projected_finish(step, now, cal)
    if now > step.planned_end:
        return "late", projected
    # A step not yet due to start is judged when it is: before that its plan still has slack.
    if now >= step.planned_start and projected > step.planned_end + tolerance:
        return "at_risk", projected
    return None, projected


def run(relay) -> dict:
    now, cal, sched = relay.clock.now(), calendar(relay), relay.settings.schedule
    tolerance = timedelta(minutes=sched.at_risk_tolerance_minutes)
    held_until = cal.quiet_until(now)
    with relay.Session.begin() as session:
        # Only a step that should have started can be late or at risk: the index on planned_start
        # keeps the scan to those, however many orders are planned ahead.
        steps = session.scalars(select(Step).join(Order).where(Step.planned_start <= now, Step.status.in_(OPEN),
                                                               Order.hold.is_(None))).all()
        existing = {(row[0], row[1]) for row in session.execute(select(DelayWarning.step_id, DelayWarning.level))}
        new = []
        for step in steps:
            level, projected = classify(step, now, cal, tolerance)
            if level is None or (step.id, level) in existing or (level == "at_risk" and (step.id, "late") in existing):
                continue
            warning = DelayWarning(step_id=step.id, level=level, projected_end=projected, created_at=now)
            session.add(warning)
            new.append((step, warning))
        session.flush()  # one flush gives every new warning its id
        for step, warning in new:
            relay.enqueue_notice(session, _warning_notice(relay, step, warning, now, held_until))
        warned = len(new)
        escalated = _escalate(relay, session, now, existing, held_until)
    return {"warnings": warned, "escalations": escalated}


def _context(relay, step: Step, warning: DelayWarning, now: datetime) -> dict:
    late_by = (max(warning.projected_end or now, now) - step.planned_end).total_seconds() / 3600
    return {"order_no": step.order.order_no, "product": step.order.product, "workshop": step.workshop.name,
            "level": warning.level, "planned_end": step.planned_end, "projected_end": warning.projected_end,
            "late_hours": round(max(late_by, 0), 1), "good": step.good_qty, "planned": step.planned_qty,
            "downstream": [s.workshop.name for s in step.order.steps if s.seq > step.seq]}


def _warning_notice(relay, step: Step, warning: DelayWarning, now: datetime, held_until) -> Notice:
    context = _context(relay, step, warning, now)
    card = Card(kind="warning", subject_id=warning.id, title="延期预警", context=context,
                buttons=(Button("ack", "已知悉", command=f"知悉 {step.order.order_no} {step.workshop.name}"),),
                actors=f"leads:{step.workshop_id}")
    return Notice(workshop_id=step.workshop_id, template="notices/delay_warning", context=context,
                  key=f"warning:{warning.id}", card=card, not_before=held_until, fresh=True)


def _escalate(relay, session: Session, now: datetime, existing: set, held_until) -> int:
    delay = timedelta(minutes=relay.settings.schedule.escalation_minutes)
    due = session.scalars(select(DelayWarning).where(DelayWarning.level.in_(("late", "at_risk")),
                                                     DelayWarning.acknowledged_at.is_(None),
                                                     DelayWarning.created_at <= now - delay)).all()
    count = 0
    for warning in due:
        if (warning.step_id, "escalated") in existing:
            continue
        step = session.get(Step, warning.step_id)
        if step.status == "done":
            continue
        existing.add((warning.step_id, "escalated"))
        escalation = DelayWarning(step_id=step.id, level="escalated", projected_end=warning.projected_end,
                                  created_at=now)
        session.add(escalation)
        session.flush()
        context = {**_context(relay, step, warning, now), "since": warning.created_at}
        relay.enqueue_notice(session, Notice(workshop_id=None, role="managers", template="notices/delay_escalated",
                                             context=context, key=f"warning:{escalation.id}", not_before=held_until,
                                             fresh=True))
        count += 1
    return count
