"""Orders: lookup, creation from a route, planning, and derived status."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import rules
from storage.errors import UnknownOrder
from storage.events import record_event
from storage.models import Order, Person, Route, Step

ACTIVE_HOLDS = {"paused", "cancelled"}


class OrderConflict(ValueError):
    """The data contradicts the order as it stands (another product under the same number)."""


def normalize_order_no(text: str) -> str:
    """Fold width and case, drop invisible characters: `ｓｏ－１００１` → `SO-1001` (storage.rules)."""
    return rules.normalize_order_no(text)


def find_order(session: Session, text: str, *, lock: bool = False) -> Order:
    """The order with this number, or `UnknownOrder` carrying the closest numbers. `lock`: the
    order and its steps locked (for a command that is about to change it)."""
    order_no = normalize_order_no(text)
    if len(order_no) > rules.ORDER_NO_MAX:  # no order can have it: no query, and a short echo
        raise UnknownOrder(order_no=order_no[:40] + "…", suggestions=[])
    if lock:   # the order and its steps locked in one statement (storage.lifecycle's lock order)
        from storage.lifecycle import lock_order_tree_by_number
        order = lock_order_tree_by_number(session, order_no)
    else:
        order = session.scalars(select(Order).where(Order.order_no == order_no)).first()
    if order is None:
        raise UnknownOrder(order_no=order_no, suggestions=closest_order_numbers(session, order_no))
    return order


def closest_order_numbers(session: Session, order_no: str, limit: int = 3) -> list[str]:
    """Up to `limit` existing order numbers that look like `order_no`."""
    candidates = session.scalars(select(Order.order_no).where(Order.hold.is_(None)
                                                              | (Order.hold != "cancelled"))).all()
    found = difflib.get_close_matches(order_no, candidates, n=limit, cutoff=0.6)
    if not found:
        digits = "".join(c for c in order_no if c.isdigit())
        if len(digits) >= 3:
            found = [c for c in candidates if c.endswith(digits)][:limit]
    return found


@dataclass(frozen=True)
class OrderData:
    order_no: str
    product: str
    quantity: int
    due_date: date
    customer: str = ""
    priority: int = 3


def upsert_order(session: Session, now: datetime, data: OrderData, *, actor: Person | None,
                 source: str) -> tuple[Order, bool]:
    """Create the order with its route copied into steps, or update an existing one.

    An update changes quantity, due date, customer and priority; steps keep their reported
    output. The plan (planned and forecast dates) is made before the transaction commits, by
    `storage.planner`. Returns (order, created).
    """
    order_no = normalize_order_no(data.order_no)
    order = session.scalars(select(Order).where(Order.order_no == order_no).with_for_update(of=Order)).first()
    if order is None:
        route = session.scalars(select(Route).where(Route.product == data.product)).first()
        if route is None:
            raise ValueError(f"no route for product {data.product!r}")
        order = Order(order_no=order_no, product=data.product, quantity=data.quantity,
                      customer=data.customer, due_date=data.due_date, priority=data.priority,
                      status="planned", created_at=now, updated_at=now)
        for rs in route.steps:
            order.steps.append(Step(seq=rs.seq, workshop_id=rs.workshop_id, planned_qty=data.quantity,
                                    units_per_hour=rs.units_per_hour, status="ready" if rs.seq == 1 else "waiting",
                                    good_qty=0, scrap_qty=0, received_qty=0, handed_qty=0,
                                    planned_start=now, planned_end=now))  # the planner sets them
        session.add(order)
        session.flush()
        record_event(session, now, "order_created", order_id=order.id, actor=actor, source=source,
                     product=order.product, quantity=order.quantity, due_date=order.due_date.isoformat(),
                     priority=order.priority, customer=order.customer)
        return order, True
    if data.product != order.product:
        raise OrderConflict(f"order {order_no} is for product {order.product!r}, not {data.product!r}")
    changes = {}
    for name in ("quantity", "due_date", "customer", "priority"):
        old, new = getattr(order, name), getattr(data, name)
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
            setattr(order, name, new)
    if changes:
        for step in order.steps:
            step.planned_qty = order.quantity
        order.updated_at = now
        record_event(session, now, "order_updated", order_id=order.id, actor=actor, source=source,
                     changes=changes)
    return order, False


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


def derive_status(order: Order) -> str:
    """The order's status from its steps, unless it is paused or cancelled."""
    if order.hold in ACTIVE_HOLDS:
        return order.hold
    statuses = [s.status for s in order.steps]
    if statuses and all(s == "done" for s in statuses):
        return "done"
    if "blocked" in statuses:
        return "blocked"
    if any(s in ("running", "done") for s in statuses) or any(s.good_qty or s.scrap_qty for s in order.steps):
        return "in_progress"
    return "planned"


def refresh_status(session: Session, now: datetime, order: Order, *, actor: Person | None, source: str) -> None:
    """Store the derived status, writing an event when it changes."""
    new = derive_status(order)
    if new != order.status:
        record_event(session, now, "order_status", order_id=order.id, actor=actor, source=source,
                     old=order.status, new=new)
        order.status = new
        if new == "done":   # what was asked of it can no longer be done
            from storage.requests import withdraw_for_done
            withdraw_for_done(session, now, order.id, actor=actor, source=source)
    order.updated_at = now
