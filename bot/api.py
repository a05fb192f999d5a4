"""The REST API: `Authorization: Bearer <key>` from `[api] keys`, JSON in and out, JSON errors."""
from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from storage.errors import UnknownOrder
from storage.models import Event
from storage.orders import find_order
from storage.views import order_view

bp = Blueprint("api", __name__, url_prefix="/api")


def _relay():
    return current_app.extensions["linerelay"]


@bp.before_request
def _authorize():
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    keys = _relay().settings.api.keys
    if not token or not any(hmac.compare_digest(token.encode(), k.encode()) for k in keys):
        return jsonify(error="unauthorized", message="missing or wrong API key"), 401
    return None


@bp.errorhandler(UnknownOrder)
def _unknown_order(exc: UnknownOrder):
    return jsonify(error="unknown_order", order_no=exc.context["order_no"],
                   suggestions=exc.context["suggestions"]), 404


def _iso(relay, value):
    return relay.clock.local(value).isoformat() if value is not None else None


@bp.get("/orders/<order_no>")
def get_order(order_no: str):
    relay = _relay()
    with relay.Session() as session:
        view = order_view(find_order(session, order_no), relay.clock.now())
    return jsonify({
        "order_no": view.order_no, "product": view.product, "quantity": view.quantity, "customer": view.customer,
        "due_date": view.due_date, "priority": view.priority, "status": view.status,
        "steps": [{"workshop": s.workshop, "status": s.status, "good": s.good, "scrap": s.scrap,
                   "planned": s.planned, "received": s.received, "planned_end": _iso(relay, s.planned_end),
                   "projected_end": _iso(relay, s.projected_end), "late": s.late} for s in view.steps],
    })


@bp.get("/orders/<order_no>/events")
def get_events(order_no: str):
    """The order's timeline, oldest first: what happened, who did it, from which message or click."""
    relay = _relay()
    with relay.Session() as session:
        order = find_order(session, order_no)
        events = session.scalars(select(Event).where(Event.order_id == order.id).order_by(Event.id)).all()
        return jsonify(order_no=order.order_no, events=[
            {"id": e.id, "at": _iso(relay, e.created_at), "kind": e.kind, "actor": e.actor,
             "source": e.source, "data": e.data} for e in events])
