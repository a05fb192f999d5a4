"""Rush orders (插单) and changes (变更): filed with their computed impact, decided by the
approvers (the first valid decision wins), applied to the plan in the deciding transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.errors import (DueDatePassed, DuplicateRequest, NotAllowed, OrderExists, OrderNotActive,
                            QuantityBelowProduced, RequestDecided, SelfApproval, UnknownRequest)
from storage.events import record_event
from storage.lifecycle import lock_order_tree, move, require, set_hold
from storage.impact import RUSH_PRIORITY, request_impact
from storage.models import ChangeRequest, Handoff, Order, Person
from storage.orders import OrderData, refresh_status, upsert_order
from storage.planner import calendar, config_of

KINDS = ("rush", "quantity", "due_date", "pause", "resume", "cancel")
# The lifecycle action each kind of change is (storage.lifecycle.ALLOWED says from which states).
ACTIONS = {"quantity": "quantity", "due_date": "due_date", "pause": "pause", "resume": "resume_order",
           "cancel": "cancel"}
HOLDS = {"pause": "paused", "resume": None, "cancel": "cancelled"}


@dataclass(frozen=True)
class Policy:
    mode: str                      # "any": one approver decides; "all": every approver must agree
    approver_ids: tuple[int, ...]  # empty: everyone with the manager role
    allow_self: bool = False       # may a requester decide their own request? ([approvals] allow_self)


def may_file(person: Person) -> bool:
    return person.has_role("planner") or person.has_role("lead") or person.has_role("manager")


def file_request(session: Session, now: datetime, *, kind: str, order: Order | None, payload: dict,
                 reason: str, person: Person, source: str) -> ChangeRequest:
    """Store a pending request with its impact on the plan (planners, leads and managers).

    A change must make sense for the order as it stands (its state, and a quantity no lower
    than what was already produced); one rush order per number may be pending at a time.
    """
    if not may_file(person):
        raise NotAllowed(action="request", workshop="")
    pending_key = None
    if order is not None:
        order = lock_order_tree(session, order.id)
        require(ACTIONS[kind], order)
        if kind == "quantity":
            check_quantity(order, payload["quantity"], request_id=None)
    else:
        pending_key = f"rush:{payload['order_no']}"
        _refuse_duplicate(session, pending_key, payload["order_no"])
    impact = request_impact(session, now, kind, order, payload)
    request = ChangeRequest(kind=kind, order_id=order.id if order else None, payload={**payload, "votes": {}},
                            impact=impact, reason=reason, requester_id=person.id, status="pending", created_at=now,
                            pending_key=pending_key)
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:  # the same rush number filed at this very moment by someone else
        _refuse_duplicate(session, pending_key, payload["order_no"])
        raise
    record_event(session, now, "request_filed", order_id=request.order_id, actor=person, source=source,
                 request_id=request.id, request_kind=kind, payload=payload, reason=reason)
    return request


def _refuse_duplicate(session: Session, pending_key: str | None, order_no: str) -> None:
    existing = session.scalar(select(ChangeRequest.id).where(ChangeRequest.pending_key == pending_key))
    if existing is not None:
        raise DuplicateRequest(request_id=existing, order_no=order_no, kind="rush")


def produced(order: Order) -> int:
    """What the order's first step has already made (good and scrap): the material is cut."""
    first = order.steps[0]
    return first.good_qty + first.scrap_qty


def check_quantity(order: Order, quantity: int, *, request_id: int | None) -> None:
    """A quantity change below what was produced is refused (the decision in the README): the
    step could never complete."""
    if quantity < produced(order):
        raise QuantityBelowProduced(order_no=order.order_no, quantity=quantity, produced=produced(order),
                                    workshop=order.steps[0].workshop.name, request_id=request_id)


def lock_request(session: Session, request_id: int) -> ChangeRequest:
    request = session.scalars(select(ChangeRequest).where(ChangeRequest.id == request_id)
                              .with_for_update(of=ChangeRequest).execution_options(populate_existing=True)).first()
    if request is None:
        raise UnknownRequest(request_id=request_id)
    return request


def may_decide(person: Person, policy: Policy) -> bool:
    return person.id in policy.approver_ids if policy.approver_ids else person.has_role("manager")


def decide_request(session: Session, now: datetime, *, request_id: int, person: Person, approve: bool,
                   reason: str, policy: Policy, source: str,
                   handoffs: list[Handoff] | None = None,
                   withdrawn: list[ChangeRequest] | None = None) -> ChangeRequest:
    """Record an approver's decision. A rejection decides at once; an approval decides when the
    policy is met, and then the plan changes in this same transaction (`handoffs` collects the
    handoffs the change created, for the caller to announce; `withdrawn` the order's other
    pending requests an approved cancellation withdrew). A request already decided
    raises `RequestDecided` naming who decided; a requester may not decide their own request
    unless the policy allows it.

    Locks in the lifecycle's order: the request's order and its steps, then the request, whose
    status is read again under its lock."""
    peek = session.get(ChangeRequest, request_id)
    if peek is None:
        raise UnknownRequest(request_id=request_id)
    if peek.order_id is not None:
        lock_order_tree(session, peek.order_id)
    request = lock_request(session, request_id)
    if request.status != "pending":
        decider = session.get(Person, request.decided_by)
        raise RequestDecided(request_id=request.id, status=request.status, decider=decider.name if decider else "")
    if not may_decide(person, policy):
        raise NotAllowed(action="approve", workshop="")
    if person.id == request.requester_id and not policy.allow_self:
        raise SelfApproval(request_id=request.id)
    votes = dict(request.payload.get("votes", {}))
    votes[str(person.id)] = "approve" if approve else "reject"
    request.payload = {**request.payload, "votes": votes}
    record_event(session, now, "request_vote", order_id=request.order_id, actor=person, source=source,
                 request_id=request.id, vote=votes[str(person.id)], reason=reason)
    if approve and not needed(request, policy) <= {k for k, v in votes.items() if v == "approve"}:
        return request  # waiting for the other approvers
    move("request", request, "approved" if approve else "rejected")
    request.decided_by, request.decided_at = person.id, now
    request.pending_key = None
    if not approve:
        request.reason = request.reason + (f"｜驳回：{reason}" if reason else "")
    else:
        apply_request(session, now, request, person=person, source=source,
                      handoffs=handoffs)
        if request.kind == "cancel":
            closed = _withdraw_pending(session, now, request, person=person, source=source)
            if withdrawn is not None:
                withdrawn.extend(closed)
    record_event(session, now, f"request_{request.status}", order_id=request.order_id, actor=person, source=source,
                 request_id=request.id, request_kind=request.kind, reason=reason)
    return request


WITHDRAWN = "requests_withdrawn"   # session.info: ids of the requests a completed order withdrew


def _withdraw_pending(session: Session, now: datetime, cancel: ChangeRequest, *, person: Person,
                      source: str) -> list[ChangeRequest]:
    """A cancelled order's other pending requests can never be approved: they are withdrawn
    with the cancellation (locked after it, in id order: the lock order's requests)."""
    return _withdraw(session, now, cancel.order_id, person, source, ChangeRequest.id != cancel.id,
                     cancelled_by=cancel.id)


def withdraw_for_done(session: Session, now: datetime, order_id: int, *, actor: Person | None,
                      source: str) -> list[ChangeRequest]:
    """A completed order's pending requests can never be approved either (nothing is left to
    change): withdrawn as it completes, under the order's lock (requests come after the order
    and its steps in the lock order). Their ids are left in `session.info[WITHDRAWN]` for the
    caller, whose cards close and whose requesters are told."""
    withdrawn = _withdraw(session, now, order_id, actor, source, completed=True)
    session.info.setdefault(WITHDRAWN, []).extend(r.id for r in withdrawn)
    return withdrawn


def _withdraw(session: Session, now: datetime, order_id: int | None, person: Person | None, source: str,
              *where, **why) -> list[ChangeRequest]:
    others = list(session.scalars(select(ChangeRequest).where(
        ChangeRequest.order_id == order_id, ChangeRequest.status == "pending", *where)
        .order_by(ChangeRequest.id).with_for_update(of=ChangeRequest).execution_options(populate_existing=True)))
    for other in others:
        move("request", other, "withdrawn")
        other.decided_by, other.decided_at, other.pending_key = person.id if person else None, now, None
        record_event(session, now, "request_withdrawn", order_id=other.order_id, actor=person, source=source,
                     request_id=other.id, request_kind=other.kind, **why)
    return others


def needed(request: ChangeRequest, policy: Policy) -> set[str]:
    """Whose approval decides: the deciding approver ("any"), or every listed approver but the
    requester when requesters may not decide their own ("all")."""
    if policy.mode != "all" or not policy.approver_ids:
        return set()  # this approval decides
    needed = set(map(str, policy.approver_ids))
    if not policy.allow_self:
        needed.discard(str(request.requester_id))
    return needed


def apply_request(session: Session, now: datetime, request: ChangeRequest, *, person: Person, source: str,
                  handoffs: list[Handoff] | None = None) -> Order:
    """Change the plan as the approved request says, if the order's state still allows it
    (anything else raises, and the whole decision is rolled back: the request stays pending)."""
    p = request.payload
    if request.kind in ("rush", "due_date") and date.fromisoformat(p["due_date"]) < _factory_today(session, now):
        # a card decided days later: the due date it asked for is gone (filed, it was not)
        raise DueDatePassed(request_id=request.id, due_date=p["due_date"][5:], order_no=p.get("order_no", ""))
    if request.kind == "rush":
        return _create_rush_order(session, now, request, person=person, source=source)
    changed = session.get(Order, request.order_id)
    assert changed is not None, "every request but a rush names its order"
    order = changed
    try:
        require(ACTIONS[request.kind], order)
    except OrderNotActive as refused:   # the order moved on since it was filed: the request can only be rejected
        refused.data["request_id"] = request.id
        raise
    if request.kind == "quantity":
        handoff = _change_quantity(session, now, request, order, person=person, source=source)
        if handoff is not None and handoffs is not None:
            handoffs.append(handoff)
    elif request.kind == "due_date":
        order.due_date = date.fromisoformat(p["due_date"])   # the plan follows before the commit
    else:
        set_hold(order, HOLDS[request.kind])
    record_event(session, now, "order_changed", order_id=order.id, actor=person, source=source,
                 request_id=request.id, request_kind=request.kind, payload={k: v for k, v in p.items() if k != "votes"})
    refresh_status(session, now, order, actor=person, source=source)
    return order


def _factory_today(session: Session, now: datetime) -> date:
    config = config_of(session)
    return calendar(session, config).local(now).date() if config is not None else now.date()


def _create_rush_order(session: Session, now: datetime, request: ChangeRequest, *, person: Person, source: str) -> Order:
    p = request.payload
    existing = session.scalars(select(Order).where(Order.order_no == p["order_no"]).with_for_update(of=Order)).first()
    if existing is not None:
        raise OrderExists(order_no=p["order_no"], request_id=request.id, product=existing.product)
    data = OrderData(p["order_no"], p["product"], p["quantity"], date.fromisoformat(p["due_date"]),
                     p.get("customer", ""), RUSH_PRIORITY)
    try:
        with session.begin_nested():
            order, _ = upsert_order(session, now, data, actor=person, source=source)
    except IntegrityError:  # created by an import or the API at this very moment
        raise OrderExists(order_no=p["order_no"], request_id=request.id, product="") from None
    request.order_id = order.id
    return order


def _change_quantity(session: Session, now: datetime, request: ChangeRequest, order: Order, *, person: Person,
                     source: str) -> Handoff | None:
    """The new quantity for every step. The first step completes (and hands over) when it has
    made that much already, and runs again when it finished below the new quantity."""
    from storage.production import complete_if_done
    quantity = request.payload["quantity"]
    check_quantity(order, quantity, request_id=request.id)
    order.quantity = quantity
    for step in order.steps:
        step.planned_qty = quantity
    first = order.steps[0]
    if first.status == "done" and produced(order) < quantity:
        move("step", first, "running" if produced(order) else "ready")
        first.completed_at = None
    return complete_if_done(session, now, first, person=person, source=source)
