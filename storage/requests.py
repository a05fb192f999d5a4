"""Rush orders (插单) and changes (变更): filed with their computed impact, decided by the
approvers (the first valid decision wins), applied to the plan in the deciding transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import NotAllowed, RequestDecided, UnknownRequest
from storage.events import record_event
from storage.models import ChangeRequest, Order, Person, Route, Step
from storage.orders import DUE_TIME, OrderData, plan_steps, refresh_status, upsert_order

RUSH_PRIORITY = 1
KINDS = ("rush", "quantity", "due_date", "pause", "resume", "cancel")


@dataclass(frozen=True)
class Policy:
    mode: str                      # "any": one approver decides; "all": every approver must agree
    approver_ids: tuple[int, ...]  # empty: everyone with the manager role


def may_file(person: Person) -> bool:
    return person.has_role("planner") or person.has_role("lead") or person.has_role("manager")


def file_request(session: Session, now: datetime, *, kind: str, order: Order | None, payload: dict,
                 reason: str, person: Person, source: str, utc_offset: timedelta) -> ChangeRequest:
    """Store a pending request with its impact on the plan (planners, leads and managers)."""
    if not may_file(person):
        raise NotAllowed(action="request", workshop="")
    impact = compute_impact(session, now, kind, order, payload, utc_offset)
    request = ChangeRequest(kind=kind, order_id=order.id if order else None, payload={**payload, "votes": {}},
                            impact=impact, reason=reason, requester_id=person.id, status="pending", created_at=now)
    session.add(request)
    session.flush()
    record_event(session, now, "request_filed", order_id=request.order_id, actor=person, source=source,
                 request_id=request.id, request_kind=kind, payload=payload, reason=reason)
    return request


def _hours(qty: int, rate: float) -> float:
    return round(qty / rate, 1)


def compute_impact(session: Session, now: datetime, kind: str, order: Order | None, payload: dict,
                   utc_offset: timedelta) -> dict:
    """Which orders in which workshops move, by how many hours, and whether the due date holds."""
    if kind == "rush":
        route = session.scalars(select(Route).where(Route.product == payload["product"])).one()
        load = {rs.workshop_id: (rs.workshop.name, _hours(payload["quantity"], rs.units_per_hour)) for rs in route.steps}
        finish = now + timedelta(hours=sum(h for _, h in load.values()))
        due = date.fromisoformat(payload["due_date"])
        return {"moves": _moves(session, load, RUSH_PRIORITY, exclude=None),
                "finish": finish.isoformat(), "feasible": finish <= _due_end(due, utc_offset)}
    assert order is not None, "every request but a rush names its order"
    steps = [s for s in order.steps if s.status != "done"]
    if kind == "quantity":
        delta = payload["quantity"] - order.quantity
        load = {s.workshop_id: (s.workshop.name, _hours(delta, s.units_per_hour)) for s in steps}
        finish = _order_finish(order, now) + timedelta(hours=sum(h for _, h in load.values()))
        return {"moves": _moves(session, load, order.priority, exclude=order.id), "finish": finish.isoformat(),
                "feasible": finish <= _due_end(order.due_date, utc_offset)}
    if kind == "due_date":
        finish = _order_finish(order, now)
        due = date.fromisoformat(payload["due_date"])
        return {"moves": [], "finish": finish.isoformat(), "feasible": finish <= _due_end(due, utc_offset)}
    # pause / resume / cancel: this order's open work leaves or re-enters the queues
    sign = 1 if kind == "resume" else -1
    load = {s.workshop_id: (s.workshop.name, sign * _hours(max(s.planned_qty - s.good_qty - s.scrap_qty, 0),
                                                           s.units_per_hour)) for s in steps}
    return {"moves": _moves(session, load, order.priority, exclude=order.id), "finish": None, "feasible": True}


def _due_end(due: date, utc_offset: timedelta) -> datetime:
    return datetime.combine(due, DUE_TIME) - utc_offset


def _order_finish(order: Order, now: datetime) -> datetime:
    from storage.views import projected_finish
    return projected_finish(order.steps[-1], now) or order.steps[-1].planned_end


def _moves(session: Session, load: dict, priority: int, exclude: int | None, limit: int = 8) -> list[dict]:
    """Open steps behind the change in each loaded workshop, and the hours they move by."""
    moves = []
    for workshop_id, (name, hours) in load.items():
        if not hours:
            continue
        steps = session.scalars(select(Step).join(Order).where(
            Step.workshop_id == workshop_id, Step.status.in_(("waiting", "ready", "running", "blocked")),
            Order.hold.is_(None), Order.priority >= priority, Order.id != (exclude or -1))
            .order_by(Order.priority, Order.due_date, Order.order_no).limit(limit)).all()
        moves += [{"workshop": name, "order_no": s.order.order_no, "hours": hours} for s in steps]
    return moves


def lock_request(session: Session, request_id: int) -> ChangeRequest:
    request = session.scalars(select(ChangeRequest).where(ChangeRequest.id == request_id)
                              .with_for_update(of=ChangeRequest).execution_options(populate_existing=True)).first()
    if request is None:
        raise UnknownRequest(request_id=request_id)
    return request


def decide_request(session: Session, now: datetime, *, request_id: int, person: Person, approve: bool,
                   reason: str, policy: Policy, source: str, utc_offset: timedelta) -> ChangeRequest:
    """Record an approver's decision. A rejection decides at once; an approval decides when the
    policy is met, and then the plan changes in this same transaction. A request already decided
    raises `RequestDecided` naming who decided."""
    request = lock_request(session, request_id)
    if request.status != "pending":
        decider = session.get(Person, request.decided_by)
        raise RequestDecided(request_id=request.id, status=request.status, decider=decider.name if decider else "")
    allowed = person.id in policy.approver_ids if policy.approver_ids else person.has_role("manager")
    if not allowed:
        raise NotAllowed(action="approve", workshop="")
    votes = dict(request.payload.get("votes", {}))
    votes[str(person.id)] = "approve" if approve else "reject"
    request.payload = {**request.payload, "votes": votes}
    record_event(session, now, "request_vote", order_id=request.order_id, actor=person, source=source,
                 request_id=request.id, vote=votes[str(person.id)], reason=reason)
    needed = set(map(str, policy.approver_ids)) if policy.mode == "all" and policy.approver_ids else {str(person.id)}
    if approve and not needed <= {k for k, v in votes.items() if v == "approve"}:
        return request  # waiting for the other approvers
    request.status = "approved" if approve else "rejected"
    request.decided_by, request.decided_at = person.id, now
    if not approve:
        request.reason = request.reason + (f"｜驳回：{reason}" if reason else "")
    else:
        apply_request(session, now, request, person=person, source=source, utc_offset=utc_offset)
    record_event(session, now, f"request_{request.status}", order_id=request.order_id, actor=person, source=source,
                 request_id=request.id, request_kind=request.kind, reason=reason)
    return request


def apply_request(session: Session, now: datetime, request: ChangeRequest, *, person: Person, source: str,
                  utc_offset: timedelta) -> Order:
    """Change the plan as the approved request says."""
    p = request.payload
    if request.kind == "rush":
        order, _ = upsert_order(session, now, OrderData(p["order_no"], p["product"], p["quantity"],
                                                        date.fromisoformat(p["due_date"]), p.get("customer", ""),
                                                        RUSH_PRIORITY), actor=person, source=source, utc_offset=utc_offset)
        request.order_id = order.id
        return order
    changed = session.get(Order, request.order_id)
    assert changed is not None, "every request but a rush names its order"
    order = changed
    if request.kind == "quantity":
        order.quantity = p["quantity"]
        for step in order.steps:
            step.planned_qty = p["quantity"]
        plan_steps(order, utc_offset)
    elif request.kind == "due_date":
        order.due_date = date.fromisoformat(p["due_date"])
        plan_steps(order, utc_offset)
    else:
        order.hold = {"pause": "paused", "resume": None, "cancel": "cancelled"}[request.kind]
    record_event(session, now, "order_changed", order_id=order.id, actor=person, source=source,
                 request_id=request.id, request_kind=request.kind, payload={k: v for k, v in p.items() if k != "votes"})
    refresh_status(session, now, order, actor=person, source=source)
    return order
