"""Reminders: handoffs unconfirmed and approvals pending beyond their limits, once each."""
from __future__ import annotations

from datetime import timedelta

from bot.jobs import quiet_hours
from bot.neutral import Notice
from storage import planner
from storage.models import SentReminder
from storage.views import handoffs_waiting_since, reminded, requests_waiting_since


def run(relay) -> dict:
    """A reminder is due once its limit of working time has passed (the receiving workshop's, the
    plant's for approvals): a batch handed over at Friday 17:00 is reminded on Monday morning,
    not at 19:00 to a plant gone home."""
    now, sched = relay.clock.now(), relay.settings.schedule
    held_until = quiet_hours(relay).quiet_until(now)
    counts = {"handoffs": 0, "approvals": 0}
    with relay.Session.begin() as session:
        done = reminded(session)
        cal = planner.calendar(session)
        handoffs = handoffs_waiting_since(session, now - timedelta(minutes=sched.handoff_reminder_minutes))
        for handoff in handoffs:
            if ("handoff", handoff.id) in done or \
                    cal.working_minutes(handoff.to_step.workshop_id, handoff.created_at, now) < sched.handoff_reminder_minutes:
                continue
            session.add(SentReminder(kind="handoff", subject_id=handoff.id, created_at=now))
            relay.enqueue_notice(session, Notice(
                workshop_id=handoff.to_step.workshop_id, template="notices/reminder_handoff",
                key=f"reminder:handoff:{handoff.id}",
                context={"order_no": handoff.to_step.order.order_no, "quantity": handoff.quantity,
                         "from_workshop": handoff.from_step.workshop.name, "since": handoff.created_at},
                not_before=held_until))
            counts["handoffs"] += 1
        requests = requests_waiting_since(session, now - timedelta(minutes=sched.approval_reminder_minutes))
        for request in requests:
            if ("request", request.id) in done or \
                    cal.working_minutes(None, request.created_at, now) < sched.approval_reminder_minutes:
                continue
            session.add(SentReminder(kind="request", subject_id=request.id, created_at=now))
            relay.enqueue_notice(session, Notice(
                workshop_id=None, role="managers", template="notices/reminder_request", key=f"reminder:request:{request.id}",
                context={"request_id": request.id, "order_no": request.payload.get("order_no"), "since": request.created_at},
                not_before=held_until))
            counts["approvals"] += 1
    return counts
