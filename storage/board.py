"""The shop-floor board's data: orders × workshops, each cell a step, with what needs attention."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Handoff, Incident, Order, Step, Workshop
from storage.views import step_view


@dataclass(frozen=True)
class Cell:
    status: str
    good: int
    planned: int
    late: bool
    at_risk: bool
    incident: bool
    handoff_waiting: int


def board(session: Session, now: datetime, workshop_code: str | None = None, limit: int = 60) -> dict:
    """Open orders (most urgent first) and, per workshop, the state of their step."""
    workshops = list(session.scalars(select(Workshop).order_by(Workshop.id)))
    stmt = select(Order).where(Order.status.notin_(("done", "cancelled"))).order_by(Order.priority, Order.due_date,
                                                                                     Order.order_no)
    if workshop_code:
        stmt = stmt.join(Step).join(Workshop).where(Workshop.code == workshop_code, Step.status != "done")
    orders = list(session.scalars(stmt.limit(limit * 3 if workshop_code else limit)).unique())
    step_ids = [s.id for o in orders for s in o.steps]
    incidents = set(session.scalars(select(Incident.step_id).where(Incident.step_id.in_(step_ids),
                                                                   Incident.closed_at.is_(None)))) if step_ids else set()
    waiting: dict[int, int] = {}
    for h in session.scalars(select(Handoff).where(Handoff.to_step_id.in_(step_ids), Handoff.status == "pending")) \
            if step_ids else []:
        waiting[h.to_step_id] = waiting.get(h.to_step_id, 0) + h.quantity
    rows: list[dict[str, Any]] = []
    for order in orders:
        cells = {}
        for step in order.steps:
            view = step_view(step, now)
            late = step.status != "done" and now > step.planned_end   # the plan: late, or forecast to be
            cells[step.workshop_id] = Cell(
                status=step.status, good=step.good_qty, planned=step.planned_qty, late=late,
                at_risk=view.late and not late, incident=step.id in incidents,
                handoff_waiting=waiting.get(step.id, 0))
        rows.append({"order": order, "cells": cells})
    if workshop_code:  # that workshop's work: under way there, or material waiting for it
        shop = next((w for w in workshops if w.code == workshop_code), None)
        rows = [r for r in rows if shop and (c := r["cells"].get(shop.id)) and
                (c.status in ("ready", "running", "blocked") or c.handoff_waiting)][:limit]
    return {"workshops": workshops, "rows": rows, "filter": workshop_code}
