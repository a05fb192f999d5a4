"""The daily digest: at each group's time, once per group and day, yesterday's work and today's
worries; the managers' groups get the plant view."""
from __future__ import annotations

from datetime import datetime, time, timedelta, UTC

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.delays import OrderDelay, current_delays
from storage.models import ChangeRequest, GroupBinding, Handoff, Incident, Order, Report, SentDigest, Step, Workshop


def run(relay) -> dict:
    now = relay.clock.now()
    local = relay.clock.local(now)
    default = relay.settings.schedule.digest_time
    sent = 0
    with relay.Session() as session:
        groups = session.scalars(select(GroupBinding).order_by(GroupBinding.id)).all()
        due = [g.id for g in groups if local.time() >= time.fromisoformat(g.digest_time or default)
               and (g.workshop_id or g.role == "managers")
               and not session.scalar(select(SentDigest.id).where(SentDigest.group_id == g.id,
                                                                  SentDigest.day == local.date()))]
        # the plan's delays are read once for every group's digest
        delays = current_delays(session, now, relay.settings.schedule.at_risk_tolerance_minutes) if due else []
    for group_id in due:
        sent += _send_one(relay, group_id, local.date(), now, delays)
    return {"digests": sent}


def _send_one(relay, group_id: int, day, now: datetime, delays: list[OrderDelay]) -> int:
    """One group's digest for `day`; 0 if it exists already (the unique row decides)."""
    try:
        with relay.Session.begin() as session:
            if session.scalar(select(SentDigest.id).where(SentDigest.group_id == group_id, SentDigest.day == day)):
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
    output = session.execute(
        select(Order.order_no, func.sum(Report.good), func.sum(Report.scrap)).select_from(Report)
        .join(Step, Report.step_id == Step.id).join(Order, Step.order_id == Order.id)
        .where(Step.workshop_id == workshop_id, Report.created_at >= start, Report.created_at < end,
               Report.undone_at.is_(None)).group_by(Order.order_no).order_by(Order.order_no)).all()
    completed = session.scalars(select(Order.order_no).join(Step).where(
        Step.workshop_id == workshop_id, Step.completed_at >= start, Step.completed_at < end)).all()
    waiting = session.execute(select(Order.order_no, Handoff.quantity).select_from(Handoff)
                              .join(Step, Handoff.to_step_id == Step.id).join(Order, Step.order_id == Order.id)
                              .where(Step.workshop_id == workshop_id, Handoff.status == "pending")).all()
    # open = not closed: breakdowns and unsettled quantity disputes alike (as the board and 进度 say)
    incidents = session.execute(select(Order.order_no, Incident.category, Incident.description).select_from(Incident)
                                .join(Step, Incident.step_id == Step.id).join(Order, Step.order_id == Order.id)
                                .where(Step.workshop_id == workshop_id, Incident.closed_at.is_(None))).all()
    at_risk = [(d.order_no, d.level) for d in delays if d.cause_workshop_id == workshop_id]
    return {"workshop": session.get(Workshop, workshop_id).name, "day": day, "output": output,
            "completed": completed, "waiting": waiting, "incidents": incidents, "at_risk": at_risk}


def managers_digest(session: Session, window, now: datetime, delays: list[OrderDelay]) -> dict:
    """The plant view: on-time deliveries, late and at-risk orders and the workshop that causes
    the most delays, all from the plan."""
    start, end, day = window
    month_ago = now - timedelta(days=30)
    done = session.scalars(select(Order).where(Order.status == "done", Order.updated_at >= month_ago)).all()
    on_time = [o for o in done if o.steps[-1].completed_at and o.due_at and o.steps[-1].completed_at <= o.due_at]
    late = sorted(d.order_no for d in delays if d.level == "late")
    at_risk = sorted(d.order_no for d in delays if d.level == "at_risk")
    names = dict(session.execute(select(Workshop.id, Workshop.name)).all())
    per_workshop: dict[str, int] = {}
    for d in delays:
        name = names.get(d.cause_workshop_id, "")
        per_workshop[name] = per_workshop.get(name, 0) + 1
    bottleneck = max(per_workshop.items(), key=lambda kv: kv[1]) if per_workshop else None
    requests = session.scalar(select(func.count()).select_from(ChangeRequest).where(ChangeRequest.status == "pending"))
    return {"day": day, "done": len(done), "on_time": len(on_time),
            "on_time_rate": round(100 * len(on_time) / len(done)) if done else None,
            "late": late, "at_risk": at_risk, "bottleneck": bottleneck, "open_requests": requests}
