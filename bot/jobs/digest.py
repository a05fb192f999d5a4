"""The daily digest: at each group's time, once per group and day, yesterday's work and today's
worries; the managers' groups get the plant view."""
from __future__ import annotations

from datetime import datetime, time, timedelta, UTC

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.delays import OrderDelay, current_delays
from storage.models import GroupBinding, SentDigest
from storage.views import (digest_sent, open_request_count, orders_done_since, workshop_day,
                           workshop_names)


def run(relay) -> dict:
    now = relay.clock.now()
    local = relay.clock.local(now)
    default = relay.settings.schedule.digest_time
    sent = 0
    with relay.Session() as session:
        groups = session.scalars(select(GroupBinding).order_by(GroupBinding.id)).all()
        due = [g.id for g in groups if local.time() >= time.fromisoformat(g.digest_time or default)
               and (g.workshop_id or g.role == "managers") and not digest_sent(session, g.id, local.date())]
        # the plan's delays are read once for every group's digest
        delays = current_delays(session, now, relay.settings.schedule.at_risk_tolerance_minutes) if due else []
    for group_id in due:
        sent += _send_one(relay, group_id, local.date(), now, delays)
    return {"digests": sent}


def _send_one(relay, group_id: int, day, now: datetime, delays: list[OrderDelay]) -> int:
    """One group's digest for `day`; 0 if it exists already (the unique row decides)."""
    try:
        with relay.Session.begin() as session:
            if digest_sent(session, group_id, day):
                return 0
            session.add(SentDigest(group_id=group_id, day=day, created_at=now))
            session.flush()
            group = session.get(GroupBinding, group_id)
            window = _yesterday(relay, day)
            if group.workshop_id:
                text = relay.messages.render("notices/digest_workshop",
                                             workshop_digest(session, group.workshop_id, window, delays))
            else:
                text = relay.messages.render("notices/digest_managers", managers_digest(session, window, now, delays))
            relay.enqueue_group_text(session, group, text, key=f"digest:{group_id}:{day.isoformat()}")
            return 1
    except IntegrityError:  # a second jobs run got there first
        return 0


def _yesterday(relay, day) -> tuple[datetime, datetime, object]:
    start_local = datetime.combine(day - timedelta(days=1), time(0), tzinfo=relay.clock.tz)
    to_utc = lambda d: d.astimezone(UTC).replace(tzinfo=None)  # noqa: E731
    return to_utc(start_local), to_utc(start_local + timedelta(days=1)), day - timedelta(days=1)


def workshop_digest(session: Session, workshop_id: int, window, delays: list[OrderDelay]) -> dict:
    start, end, day = window
    at_risk = [(d.order_no, d.level) for d in delays if d.cause_workshop_id == workshop_id]
    return {**vars(workshop_day(session, workshop_id, start, end)), "day": day, "at_risk": at_risk}


def managers_digest(session: Session, window, now: datetime, delays: list[OrderDelay]) -> dict:
    """The plant view: on-time deliveries, late and at-risk orders and the workshop that causes
    the most delays, all from the plan."""
    start, end, day = window
    done = orders_done_since(session, now - timedelta(days=30))
    on_time = [o for o in done if o.steps[-1].completed_at and o.due_at and o.steps[-1].completed_at <= o.due_at]
    late = sorted(d.order_no for d in delays if d.level == "late")
    at_risk = sorted(d.order_no for d in delays if d.level == "at_risk")
    names = workshop_names(session)
    per_workshop: dict[str, int] = {}
    for d in delays:
        name = names.get(d.cause_workshop_id, "")
        per_workshop[name] = per_workshop.get(name, 0) + 1
    bottleneck = max(per_workshop.items(), key=lambda kv: kv[1]) if per_workshop else None
    requests = open_request_count(session)
    return {"day": day, "done": len(done), "on_time": len(on_time),
            "on_time_rate": round(100 * len(on_time) / len(done)) if done else None,
            "late": late, "at_risk": at_risk, "bottleneck": bottleneck, "open_requests": requests}
