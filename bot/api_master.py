"""Master data over REST (same API keys): `POST /api/routes`, `GET /api/routes/<product>`,
`POST /api/people`, `GET /api/people`. Bodies are validated against the schemas that
/api/openapi.json publishes, then checked like an import row (bot/master_import.py)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from bot.config import ROLES
from bot.urls import install_converters
from bot.master_import import EMAIL, SPACES, BadRow, import_routes, person_parser
from storage.masterdata import MasterDataConflict, upsert_person
from storage.models import Person, Route

bp = Blueprint("api_master", __name__, url_prefix="/api")
bp.record_once(install_converters)  # before the routes that use <order_no:…>
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"   # no control characters (PostgreSQL refuses NUL in text)
# and not blank: at least one character that is neither a control nor what Python's str.strip()
# removes (master_import.SPACES)
NOT_SPACE = rf"[^{SPACES}]"
WORDY = rf"^[^\x00-\x1f\x7f]*{NOT_SPACE}[^\x00-\x1f\x7f]*$"


def _workshops(settings) -> dict:
    names = sorted({n for w in settings.workshops for n in (w.code, w.name, *w.aliases)}) if settings else []
    return {"type": "string", "enum": names, "description": "a workshop's code, name or alias"} if names else \
        {"type": "string", "minLength": 1, "maxLength": 40, "pattern": WORDY}


def route_schema(settings=None) -> dict:
    """What POST /api/routes accepts (validated against this very schema)."""
    step = {"type": "object", "required": ["workshop", "units_per_hour"], "additionalProperties": False, "properties": {
        "workshop": _workshops(settings),
        "units_per_hour": {"type": "number", "minimum": 0.001, "maximum": 100000, "description": "standard rate"},
        "setup_minutes": {"type": "integer", "minimum": 0, "maximum": 1440, "description": "setup time, default 0"}}}
    return {"type": "object", "required": ["product", "steps"], "additionalProperties": False, "properties": {
        "product": {"type": "string", "minLength": 1, "maxLength": 120, "pattern": WORDY},
        "steps": {"type": "array", "minItems": 1, "maxItems": 99, "items": step, "description": "in route order"}}}


def person_schema(settings=None) -> dict:
    """What POST /api/people accepts (validated against this very schema)."""
    from bot.platforms import registry
    platforms = [s.name for s in registry.specs() if s.user_key and not s.people_of]
    return {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": WORDY},
        "mobile": {"type": "string", "pattern": r"^(\+?86)?1[0-9]{10}$"},
        "email": {"type": "string", "maxLength": 100, "pattern": EMAIL},
        "ids": {"type": "object", "additionalProperties": False, "description": "user id on each platform",
                "properties": {p: {"type": "string", "minLength": 1, "maxLength": 80, "pattern": PRINTABLE}
                               for p in platforms}},
        "roles": {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": sorted(ROLES)}},
        "workshops": {"type": "array", "items": _workshops(settings), "description": "leads and heads need one"},
        "active": {"type": "boolean", "description": "false: left the plant (their history stays)"}},
        "if": {"required": ["roles"], "properties": {"roles": {"contains": {"enum": ["lead", "head"]}}}},
        "then": {"required": ["workshops"], "properties": {"workshops": {"minItems": 1}}}}


@bp.before_request
def _authorize():
    from bot.api import _authorize as check
    return check()


def _relay():
    return current_app.extensions["linerelay"]


def _problem(name: str, schema, body) -> str | None:
    from jsonschema import Draft202012Validator
    validator = current_app.extensions.get(name)
    if validator is None:
        validator = current_app.extensions[name] = Draft202012Validator(schema(_relay().settings))
    error = next(iter(sorted(validator.iter_errors(body), key=lambda e: list(e.path))), None)
    if error is None:
        return None
    where = ".".join(str(p) for p in error.path)
    return f"{where}: {error.message}" if where else error.message


def _body(name: str, schema):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None, (jsonify(error="bad_request", message="the body must be a JSON object"), 400)
    problem = _problem(name, schema, body)
    return body, (jsonify(error="invalid", message=problem), 422) if problem else None


def route_json(route: Route) -> dict:
    return {"product": route.product, "steps": [
        {"seq": s.seq, "workshop": s.workshop.code, "units_per_hour": s.units_per_hour,
         "setup_minutes": s.setup_minutes} for s in route.steps]}


@bp.post("/routes")
def post_route():
    """Create (201) or replace (200) a product's route, as a routings import would."""
    body, refused = _body("api.route_validator", route_schema)
    if refused:
        return refused
    rows = [(i + 1, {"product": body["product"], "step": i + 1, **step}) for i, step in enumerate(body["steps"])]
    relay = _relay()
    with relay.Session.begin() as session:
        tally = import_routes(session, relay.clock.now(), rows, "api")
        if tally.rejected:   # nothing of a rejected route was written
            return jsonify(error="invalid", message="; ".join(f"steps[{ln - 1}]: {m}" for ln, m in tally.errors
                                                              if "not imported" not in m)), 422
        route = session.scalars(select(Route).where(Route.product == body["product"].strip())).one()
        return jsonify(route_json(route)), 201 if tally.created else 200


@bp.get("/routes/<order_no:product>")   # any text reaches the view (a newline too): 401 before 404
def get_route(product: str):
    if any(ord(c) < 32 or ord(c) == 127 for c in product):
        return jsonify(error="unknown_product", product=product), 404
    with _relay().Session() as session:
        route = session.scalars(select(Route).where(Route.product == product)).first()
        if route is None:
            return jsonify(error="unknown_product", product=product), 404
        return jsonify(route_json(route))


def person_json(person: Person) -> dict:
    return {"id": person.id, "name": person.name, "roles": person.roles.split(), "active": person.active,
            "workshops": [w.code for w in person.workshops], "ids": {i.platform: i.user_id for i in person.identities}}


@bp.post("/people")
def post_person():
    """Create (201) or update (200) a person, found by a platform id, the mobile, or the name."""
    from bot.platforms import registry
    body, refused = _body("api.person_validator", person_schema)
    if refused:
        return refused
    keys = {s.name: s.user_key for s in registry.specs() if s.user_key and not s.people_of}
    row = {"name": body["name"], "mobile": body.get("mobile", ""), "email": body.get("email", ""),
           "roles": " ".join(body.get("roles", [])), "workshops": " ".join(body.get("workshops", [])),
           "active": "1" if body.get("active", True) else "0",
           **{keys[p]: uid for p, uid in body.get("ids", {}).items()}}
    relay = _relay()
    parse = person_parser(relay.settings)
    with relay.Session.begin() as session:
        try:
            person, outcome = upsert_person(session, relay.clock.now(), parse(session, row), source="api")
        except BadRow as exc:
            return jsonify(error="invalid", message=str(exc)), 422
        except MasterDataConflict as exc:   # found before anything was changed
            return jsonify(error="conflict", message=str(exc)), 409
        return jsonify(person_json(person)), 201 if outcome == "created" else 200


@bp.get("/people")
def get_people():
    with _relay().Session() as session:
        return jsonify(people=[person_json(p) for p in session.scalars(select(Person).order_by(Person.id))])


def master_paths() -> dict:
    """The master-data paths of /api/openapi.json."""
    from bot.openapi import _errors as errors, _json as ref
    route = {"description": "the route", "content": {"application/json": {"schema": {"type": "object"}}}}
    person = {"description": "the person", "content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "/api/routes": {"post": {"summary": "Create or replace a product's route (orders made keep theirs)",
                                 "requestBody": {"required": True, **ref("NewRoute")},
                                 "responses": {"201": route, "200": route, **errors(400, 401, 422)}}},
        "/api/routes/{product}": {"get": {"summary": "A product's route", "parameters": [
            {"name": "product", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": route, **errors(401, 404)}}},
        "/api/people": {
            "post": {"summary": "Create or update a person (found by a platform id, the mobile, or the name)",
                     "requestBody": {"required": True, **ref("NewPerson")},
                     "responses": {"201": person, "200": person, **errors(400, 401, 422),
                                   "409": {"description": "its ids are different people's", **ref("Error")}}},
            "get": {"summary": "Everyone, those who left too (active false)",
                    "responses": {"200": {"description": "the people", "content": {"application/json": {
                        "schema": {"type": "object"}}}}, **errors(401)}}},
    }
