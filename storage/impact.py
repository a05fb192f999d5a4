"""A request's impact: the plan as if it were approved beside the plan as it is, in words a
manager approves on (who becomes late or later, the request's own finish against its due date)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from planning.impact import NOTICEABLE_MINUTES, pushed_orders
from planning.model import OrderState, Plan, StepState, Workload
from planning.plan import build_plan
from storage import planner
from storage.models import Order, Route, Workshop

RUSH_ORDER_ID = -1          # the order a rush request would create, in the plan as if approved
RUSH_PRIORITY = 1


def request_impact(session: Session, now: datetime, kind: str, order: Order | None, payload: dict) -> dict:
    """Plan the request as if approved beside the current plan; say what changes."""
    config = planner.config_of(session)
    if config is None:
        return {}
    load, _ = planner.load_workload(session)
    cal = planner.calendar(session, config)
    subject = order.id if order is not None else RUSH_ORDER_ID
    before = build_plan(load, cal, now, config.outage_seconds)
    after = build_plan(_as_if(session, load, kind, subject, payload), cal, now, config.outage_seconds)
    names = dict(session.execute(select(Workshop.id, Workshop.name)).all())
    impact = _subject(after, before, subject, kind)
    pushed, total = pushed_orders(before, after, exclude=subject)
    impact["pushed"] = [{"order_no": p.order_no, "workshop": names.get(p.workshop_id, ""),
                         "before_minutes": p.before_minutes, "after_minutes": p.after_minutes,
                         "moved_minutes": p.moved_minutes, "became_late": p.became_late} for p in pushed]
    impact["pushed_total"] = total
    impact["earlier"] = _earlier(before, after, subject)
    impact["changes"] = _changes(order, kind, payload)
    return impact


def _as_if(session: Session, load: Workload, kind: str, subject: int, payload: dict) -> Workload:
    if kind == "rush":
        route = session.scalars(select(Route).where(Route.product == payload["product"])).one()
        qty = payload["quantity"]
        steps = tuple(StepState(id=-1000 - rs.seq, seq=rs.seq, workshop_id=rs.workshop_id,
                                status="ready" if rs.seq == 1 else "waiting", planned_qty=qty,
                                std_rate=rs.units_per_hour) for rs in route.steps)
        rush = OrderState(id=RUSH_ORDER_ID, order_no=payload["order_no"], priority=RUSH_PRIORITY,
                          due_date=date.fromisoformat(payload["due_date"]), steps=steps)
        return Workload((*load.orders, rush), load.capacity)
    orders = []
    for o in load.orders:
        if o.id == subject:
            if kind == "quantity":
                o = o.with_steps(replace(s, planned_qty=payload["quantity"]) for s in o.steps)
            elif kind == "due_date":
                o = replace(o, due_date=date.fromisoformat(payload["due_date"]))
            elif kind in ("pause", "cancel"):
                o = replace(o, on_hold=True)
            elif kind == "resume":
                o = replace(o, on_hold=False)
        orders.append(o)
    return Workload(tuple(orders), load.capacity)


def _subject(after: Plan, before: Plan, subject: int, kind: str) -> dict:
    new = after.orders.get(subject)
    old = before.orders.get(subject)
    if new is None:
        return {"finish": None, "due_at": None, "feasible": True, "late_minutes": 0, "before": None,
                "provisional": False}
    held = kind in ("pause", "cancel")
    return {
        "finish": None if held or new.forecast_end is None else new.forecast_end.isoformat(),
        "due_at": new.due_at.isoformat(),
        "feasible": held or (new.forecast_end is not None and not new.late),
        "late_minutes": 0 if held else new.late_minutes,
        "before": None if old is None or old.forecast_end is None else
        {"finish": old.forecast_end.isoformat(), "late_minutes": old.late_minutes, "due_at": old.due_at.isoformat()},
        "provisional": any(s.provisional for s in new.steps),
    }


def _earlier(before: Plan, after: Plan, subject: int, limit: int = 5) -> list[dict]:
    """Orders that would finish noticeably earlier (a pause or a cancellation frees the lines)."""
    found: list[tuple[int, str, bool]] = []
    for order_id, new in after.orders.items():
        old = before.orders.get(order_id)
        if order_id == subject or old is None or old.fe is None or new.fe is None:
            continue
        gained = old.late_minutes - new.late_minutes
        if gained >= NOTICEABLE_MINUTES:
            found.append((gained, new.order_no, new.late_minutes == 0))
    found.sort(key=lambda e: (-e[0], e[1]))
    return [{"order_no": no, "minutes": gained, "on_time": on_time} for gained, no, on_time in found[:limit]]


def _changes(order: Order | None, kind: str, payload: dict) -> list[dict]:
    if order is None:
        return []
    if kind == "quantity":
        return [{"what": "quantity", "old": str(order.quantity), "new": str(payload["quantity"])}]
    if kind == "due_date":
        return [{"what": "due_date", "old": order.due_date.isoformat(), "new": payload["due_date"]}]
    return []
