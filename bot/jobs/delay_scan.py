"""The delay scan: on the stored plan (made again first when commands re-timed orders since the
last whole plan or it is older than `planning.refresh_minutes`), every order late or at risk is
warned once per level, to the workshop that causes the delay (with a 已知悉 button); the
workshops downstream get one line saying when the parts will reach them. A warning nobody
acknowledges goes to the managers after the escalation delay, once per order. Quiet hours hold
the sends."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cards import Button, Card
from bot.jobs import quiet_hours, replan
from bot.neutral import Notice
from storage import planner
from storage.delays import (OrderDelay, Warned, current_delays, due_escalations, record_warnings, still_delayed,
                            warned)
from storage.directory import leads_of, people_with_role
from storage.models import DelayWarning, Order, Person, Step, Workshop


# A workshop's new warnings sent one by one in a scan; the rest go in one notice (a plant's first
# scan, or a bad day, would otherwise put hundreds of cards into each of its groups).
FOLD_AFTER = 20
FOLDED_LINES = 10   # orders listed in a folded notice (the rest counted)


def run(relay) -> dict:
    now, sched = relay.clock.now(), relay.settings.schedule
    planned = replan.run(relay, force=False)
    held_until = quiet_hours(relay).quiet_until(now)
    tolerance = sched.at_risk_tolerance_minutes
    # the whole plant is read outside the writers' queue (at 50,000 orders ~0.6 s a scan, every few
    # minutes, that a 报工 would otherwise wait out); the orders with a new delay are read again
    # under the writer's lock and decided on there (judged again only if their rows changed)
    with relay.ReadSession() as reading:
        seen = _new(current_delays(reading, now, tolerance), warned(reading))
    with relay.Session.begin() as session:
        delayed = still_delayed(session, now, tolerance, seen) if seen else []
        given = warned(session, [found.cause_step_id for found in delayed]) if delayed else set()
        fresh = _new(delayed, given)
        new = list(zip(fresh, record_warnings(session, fresh, now), strict=True))
        managers = people_with_role(session, "manager")
        by_shop: dict[int, list[tuple[OrderDelay, Warned]]] = {}
        for found, warning in new:   # most urgent first, as current_delays has them
            by_shop.setdefault(found.cause_workshop_id, []).append((found, warning))
        # the orders warned one by one as objects, with their steps (two queries), held here (the
        # session keeps only weak references: a collection would free them, and each step would be
        # read again, one by one); every warned order's route from the rows it was decided on (the
        # folded ones and the downstream lines need no more)
        held = session.scalars(select(Order).where(Order.id.in_(
            [f.order_id for items in by_shop.values() for f, _ in items[:FOLD_AFTER]]))).all()
        routes = _routes(session, [f for f, _ in new])
        downstream: dict[int, list[dict]] = {}
        with session.no_autoflush:   # the notices' rows are flushed once, at the commit
            for workshop_id, items in by_shop.items():
                for found, warning in items[:FOLD_AFTER]:
                    _warn(relay, session, found, warning, managers, held_until)
                if items[FOLD_AFTER:]:
                    _fold(relay, session, workshop_id, items[FOLD_AFTER:], routes, managers, held_until, now)
                for found, _ in items:
                    _note_downstream(found, routes, downstream)
            _tell_downstream(relay, session, downstream, now, held_until)
        escalated = _escalate(relay, session, now, held_until, managers)
        del held
    return {"warnings": len(new), "escalations": escalated, "planned_orders": planned["orders"]}  # 0: the stored plan was fresh


def _new(delays: list[OrderDelay], existing: set[tuple[int, str]]) -> list[OrderDelay]:
    """The delays not warned yet at their level (a step warned late is not warned at risk)."""
    return [found for found in delays if (found.cause_step_id, found.level) not in existing
            and not (found.level == "at_risk" and (found.cause_step_id, "late") in existing)]


@dataclass(frozen=True)
class _Route:
    """A warned order's steps as plain rows, and the names the notices print."""
    order_no: str
    product: str
    steps: tuple[Any, ...]   # storage.delays' rows of the order, by seq
    workshops: dict[int, str]   # the plant's workshops by id: their names

    def step(self, step_id: int) -> Any:
        return next(s for s in self.steps if s.step_id == step_id)


def _routes(session: Session, delays: list[OrderDelay]) -> dict[int, _Route]:
    """Each order's route from the rows its delay was decided on, under the writer's lock."""
    names = {row.id: row.name for row in session.execute(select(Workshop.id, Workshop.name))}
    return {d.order_id: _Route(d.order_no, d.rows[0].product, d.rows, names) for d in delays}


def _context(relay, session: Session, step: Step, warning: Warned | DelayWarning, managers: list[Person]) -> dict:
    """What a warning and its escalation say: what is late against what, the forecast, who must
    act (`lead_people`, @-mentioned where the platform can), when it escalates and to whom."""
    order = step.order
    leads = _leads(session, step.workshop_id)
    return {"order_no": order.order_no, "product": order.product, "workshop": step.workshop.name,
            "level": warning.level, "planned_end": step.planned_end, "projected_end": step.forecast_end,
            "late_minutes": step.late_minutes, "good": step.good_qty, "planned": step.planned_qty,
            "due_at": order.due_at, "order_end": order.forecast_end, "order_late_minutes": order.late_minutes,
            "provisional": step.provisional,
            "downstream": [s.workshop.name for s in order.steps if s.seq > step.seq and s.status != "done"],
            "leads": [p.name for p in leads], "lead_people": [{"id": p.id, "name": p.name} for p in leads],
            "escalate_at": _escalates_at(relay, session, warning.created_at, step.workshop_id),
            "managers": [p.name for p in managers],
            "manager_people": [{"id": p.id, "name": p.name} for p in managers]}


def _escalates_at(relay, session: Session, warned_at: datetime, workshop_id: int) -> datetime:
    """When a warning made at `warned_at` goes to the managers unless acknowledged: after
    `escalation_minutes` of the workshop's working time (a warning made after hours gives the
    lead that much of the next shift), later if quiet hours hold it."""
    cal = _calendar(session)
    local = cal.add_working(workshop_id, warned_at.replace(tzinfo=UTC).astimezone(cal.tz),
                            relay.settings.schedule.escalation_minutes * 60)
    at = local.astimezone(UTC).replace(tzinfo=None)
    return quiet_hours(relay).quiet_until(at) or at


def _calendar(session: Session):
    """The plant's calendar, read once per scan."""
    if "scan_calendar" not in session.info:
        session.info["scan_calendar"] = planner.calendar(session)
    return session.info["scan_calendar"]


def _leads(session: Session, workshop_id: int) -> list[Person]:
    """A workshop's leads, read once per scan (a scan may warn one workshop about many orders)."""
    known = session.info.setdefault("scan_leads", {})
    if workshop_id not in known:
        known[workshop_id] = leads_of(session, workshop_id)
    return known[workshop_id]


def _warn(relay, session: Session, found: OrderDelay, warning: Warned, managers: list[Person],
          held_until) -> None:
    """The cause's workshop: the warning, to acknowledge."""
    step = session.get(Step, found.cause_step_id)
    assert step is not None, "the plan's delay names a step of this database"
    context = _context(relay, session, step, warning, managers)
    card = Card(kind="warning", subject_id=warning.id, title="延期预警", context=context,
                buttons=(Button("ack", "已知悉", command=f"知悉 {step.order.order_no} {step.workshop.name}"),),
                actors=f"leads:{step.workshop_id}")
    relay.enqueue_notice(session, Notice(workshop_id=step.workshop_id, template="notices/delay_warning",
                                         context=context, key=f"warning:{warning.id}", card=card,
                                         not_before=held_until, fresh=True,
                                         mentions=tuple(p["id"] for p in context["lead_people"])))


def _note_downstream(found: OrderDelay, routes: dict[int, _Route], downstream: dict[int, list[dict]]) -> None:
    """Each workshop after the late one: a line in this scan's one notice to it (`downstream`)."""
    route = routes[found.order_id]
    cause = route.step(found.cause_step_id)
    told = {cause.workshop_id}
    previous = cause
    for later in (s for s in route.steps if s.step_id in found.downstream_step_ids):
        if later.workshop_id not in told:
            told.add(later.workshop_id)
            downstream.setdefault(later.workshop_id, []).append(
                {"order_no": route.order_no, "product": route.product, "workshop": route.workshops[cause.workshop_id],
                 "to_workshop": route.workshops[later.workshop_id], "arrives": previous.forecast_end,
                 "provisional": cause.provisional})
        previous = later


def _fold(relay, session: Session, workshop_id: int, items: list[tuple[OrderDelay, Warned]],
          routes: dict[int, _Route], managers: list[Person], held_until, now: datetime) -> None:
    """A workshop's new warnings beyond the first FOLD_AFTER of a scan, in one notice to it (most
    urgent first). Each is still a warning of its own: acknowledged by 知悉 <order>, escalated if
    nobody does (in the same way: one by one up to FOLD_AFTER, the rest together)."""
    lines = []
    for found, warning in items[:FOLDED_LINES]:
        route = routes[found.order_id]
        cause = route.step(found.cause_step_id)
        lines.append({"order_no": route.order_no, "product": route.product, "level": warning.level,
                      "projected_end": cause.forecast_end, "late_minutes": cause.late_minutes})
    leads = _leads(session, workshop_id)
    context = {"workshop": routes[items[0][0].order_id].workshops[workshop_id],
               "count": len(items), "shown": FOLD_AFTER, "items": lines, "more": len(items) - FOLDED_LINES,
               "lead_people": [{"id": p.id, "name": p.name} for p in leads],
               "escalate_at": _escalates_at(relay, session, now, workshop_id),
               "managers": [p.name for p in managers]}
    relay.enqueue_notice(session, Notice(workshop_id=workshop_id, template="notices/delay_folded", context=context,
                                         key=f"delay-folded:{now.isoformat()}:{workshop_id}", not_before=held_until,
                                         fresh=True, mentions=tuple(p.id for p in leads)))


def _tell_downstream(relay, session: Session, downstream: dict[int, list[dict]], now: datetime, held_until) -> None:
    """One notice per downstream workshop and scan: which orders reach it late, and when."""
    for workshop_id, items in downstream.items():
        items.sort(key=lambda i: (i["arrives"] is None, i["arrives"] or now, i["order_no"]))
        relay.enqueue_notice(session, Notice(
            workshop_id=workshop_id, template="notices/delay_downstream",
            context={"to_workshop": items[0]["to_workshop"], "items": items[:10], "more": len(items) - 10},
            key=f"delay-downstream:{now.isoformat()}:{workshop_id}", not_before=held_until, fresh=True))


def _escalate(relay, session: Session, now: datetime, held_until, managers: list[Person]) -> int:
    """Unacknowledged warnings to the managers, once per order, naming who did not acknowledge:
    one by one up to FOLD_AFTER a scan, the rest in one notice."""
    delay = timedelta(minutes=relay.settings.schedule.escalation_minutes)
    due = []
    cal = _calendar(session)
    for warning in due_escalations(session, now, delay):
        step = session.get(Step, warning.step_id)
        if step is not None and cal.working_minutes(step.workshop_id, warning.created_at, now) < delay.total_seconds() // 60:
            continue   # not yet that much of the workshop's working time since the warning
        order = session.get(Order, step.order_id) if step is not None else None
        if step is None or order is None or step.status == "done" or order.status == "done":
            continue
        escalation = DelayWarning(step_id=step.id, order_id=order.id, level="escalated",
                                  projected_end=step.forecast_end, created_at=now)
        session.add(escalation)
        due.append((warning, step, escalation))
    session.flush()   # the escalations' ids, for their messages' keys
    cal = _calendar(session)
    for warning, step, escalation in due[:FOLD_AFTER]:
        context = {**_context(relay, session, step, warning, managers), "since": warning.created_at,
                   "waited_minutes": cal.working_minutes(step.workshop_id, warning.created_at, now)}
        relay.enqueue_notice(session, Notice(workshop_id=None, role="managers", template="notices/delay_escalated",
                                             context=context, key=f"warning:{escalation.id}", not_before=held_until,
                                             fresh=True, mentions=tuple(p.id for p in managers)))
    rest = due[FOLD_AFTER:]
    if rest:
        lines = [{"order_no": step.order.order_no, "workshop": step.workshop.name, "level": warning.level,
                  "projected_end": step.forecast_end} for warning, step, _ in rest]
        context = {"count": len(rest), "shown": FOLD_AFTER, "since": min(w.created_at for w, _, _ in rest),
                   "items": lines[:FOLDED_LINES], "more": len(lines) - FOLDED_LINES,
                   "manager_people": [{"id": p.id, "name": p.name} for p in managers]}
        relay.enqueue_notice(session, Notice(workshop_id=None, role="managers",
                                             template="notices/delay_escalated_folded", context=context,
                                             key=f"escalated-folded:{now.isoformat()}", not_before=held_until,
                                             fresh=True, mentions=tuple(p.id for p in managers)))
    return len(due)
