"""The REST API: `Authorization: Bearer <key>` from `[api] keys`, JSON in and out, JSON errors."""
from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from bot.urls import install_converters
from storage.errors import UnknownOrder
from storage.models import Event
from storage.orders import find_order
from storage.views import order_view

bp = Blueprint("api", __name__, url_prefix="/api")
bp.record_once(install_converters)  # before the routes that use <order_no:…>


def _relay():
    return current_app.extensions["linerelay"]


@bp.before_request
def _authorize():
    if request.path == "/api/openapi.json":
        return None  # the description of the API is public; its data is not
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    keys = _relay().settings.api.keys
    if not token or not any(hmac.compare_digest(token.encode(), k.encode()) for k in keys):
        return jsonify(error="unauthorized", message="missing or wrong API key"), 401
    return None


@bp.errorhandler(UnknownOrder)
def _unknown_order(exc: UnknownOrder):
    return jsonify(error="unknown_order", order_no=exc.data["order_no"],
                   suggestions=exc.data["suggestions"]), 404


def _iso(relay, value):
    return relay.clock.local(value).isoformat() if value is not None else None


@bp.get("/orders/<order_no:order_no>")
def get_order(order_no: str):
    return jsonify(order_json(_relay(), order_no))


@bp.get("/orders/<order_no:order_no>/events")
def get_events(order_no: str):
    """The order's timeline, oldest first: what happened, who did it, from which message or click."""
    relay = _relay()
    with relay.ReadSession() as session:
        order = find_order(session, order_no)
        events = session.scalars(select(Event).where(Event.order_id == order.id).order_by(Event.id)).all()
        return jsonify(order_no=order.order_no, events=[
            {"id": e.id, "at": _iso(relay, e.created_at), "kind": e.kind, "actor": e.actor,
             "source": e.source, "data": e.data} for e in events])


@bp.post("/orders")
def post_order():
    """Create an order (201) or update an existing one (200), as an import row would."""
    from bot.importer import BadRow, max_order_quantity, parse_row
    from storage.orders import OrderConflict, upsert_order
    relay = _relay()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="bad_request", message="the body must be a JSON object"), 400
    problem = _schema_problem(relay, body)
    if problem:
        return jsonify(error="invalid", message=problem), 422
    try:
        data = parse_row(body, max_order_quantity(relay.settings))
        with relay.Session.begin() as session:
            now = relay.clock.now()
            order, created = upsert_order(session, now, data, actor=None, source="api")
            order_no = order.order_no
    except OrderConflict as exc:
        return jsonify(error="conflict", message=str(exc)), 409
    except (BadRow, ValueError) as exc:
        return jsonify(error="invalid", message=str(exc)), 422
    return jsonify(order_json(relay, order_no)), 201 if created else 200


def _schema_problem(relay, body: dict) -> str | None:
    """The body checked against the very schema /api/openapi.json publishes: the first problem."""
    products = route_products(relay)   # imported routes count as soon as they are in
    validators = current_app.extensions.setdefault("api.new_order_validators", {})
    validator = validators.get(products)
    if validator is None:
        from jsonschema import Draft202012Validator
        from bot.openapi import new_order
        validators.clear()
        validator = validators[products] = Draft202012Validator(
            new_order(relay.settings, products), format_checker=Draft202012Validator.FORMAT_CHECKER)
    error = next(iter(sorted(validator.iter_errors(body), key=lambda e: list(e.path))), None)
    if error is None:
        return None
    where = ".".join(str(p) for p in error.path)
    return f"{where}: {error.message}" if where else error.message


def route_products(relay) -> tuple[str, ...]:
    """The products that have a route in the database (configured or imported)."""
    from storage.models import Route
    with relay.ReadSession() as session:
        return tuple(session.scalars(select(Route.product).order_by(Route.product)))


def order_json(relay, order_no: str) -> dict:
    with relay.ReadSession() as session:
        view = order_view(find_order(session, order_no), relay.clock.now())
    return {
        "order_no": view.order_no, "product": view.product, "quantity": view.quantity, "customer": view.customer,
        "due_date": view.due_date, "priority": view.priority, "status": view.status,
        "due_at": _iso(relay, view.due_at), "projected_end": _iso(relay, view.forecast_end),
        "late_minutes": view.late_minutes, "provisional": view.provisional,
        "steps": [{"workshop": s.workshop, "status": s.status, "good": s.good, "scrap": s.scrap,
                   "planned": s.planned, "received": s.received, "planned_start": _iso(relay, s.planned_start),
                   "planned_end": _iso(relay, s.planned_end), "projected_start": _iso(relay, s.forecast_start),
                   "projected_end": _iso(relay, s.projected_end), "late": s.late, "late_minutes": s.late_minutes,
                   "provisional": s.provisional} for s in view.steps],
    }


@bp.get("/workshops/<code>/queue")
def get_queue(code: str):
    from storage.errors import UnknownWorkshop
    from storage.directory import workshop_by_name
    from storage.views import workshop_queue
    relay = _relay()
    with relay.ReadSession() as session:
        try:
            workshop = workshop_by_name(session, code)
        except UnknownWorkshop:
            return jsonify(error="unknown_workshop", workshop=code), 404
        items = workshop_queue(session, workshop.id, relay.clock.now())
        return jsonify(workshop=workshop.code, name=workshop.name, queue=[
            {"order_no": i.order_no, "product": i.product, "priority": i.priority, "due_date": i.due_date,
             "status": i.step.status, "good": i.step.good, "planned": i.step.planned,
             "handoff_waiting": i.pending_handoff_qty, "projected_start": _iso(relay, i.step.forecast_start),
             "projected_end": _iso(relay, i.step.projected_end)} for i in items])


@bp.get("/openapi.json")
def openapi():
    from bot.openapi import document
    relay = _relay()
    return jsonify(document(relay.settings, route_products(relay)))
