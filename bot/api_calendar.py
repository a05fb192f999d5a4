"""The plant's calendar over REST (same API keys): read it, set or clear days, confirm a year.
Every change re-plans and tells the workshops whose forecasts moved, as in chat."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, current_app, jsonify, request

from bot.calendar_import import moved_notices
from planning.calendar import CalendarError, format_spans, parse_spans
from storage import planner
from storage.calendar import clear_days, confirm_year, entries, set_days, unknown_years
from storage.errors import UnknownWorkshop

bp = Blueprint("api_calendar", __name__, url_prefix="/api/calendar")
MAX_DAYS = 400
CHANGE_DAYS = 92
DATE = {"type": "string", "format": "date", "pattern": "^20[0-9]{2}-", "description": "2000-01-01 to 2099-12-31"}
SPAN = r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9]-(?:(?:[01]?[0-9]|2[0-3]):[0-5][0-9]|24:00)"


def change_schema(settings=None) -> dict:
    """What PUT /api/calendar/days accepts (validated against this very schema)."""
    workshop: dict = {"type": ["string", "null"], "description": "a workshop's code; none: the whole plant"}
    if settings is not None:
        workshop["enum"] = [w.code for w in settings.workshops] + [None]
    return {"type": "object", "required": ["from", "kind"], "additionalProperties": False, "properties": {
        "from": DATE, "days": {"type": "integer", "minimum": 1, "maximum": CHANGE_DAYS, "description": "default 1"},
        "workshop": workshop,
        "kind": {"type": "string", "enum": ["closed", "hours", "extra"],
                 "description": "closed: no work; hours: these hours instead; extra: these hours in addition "
                                "(hours or extra without hours: a normal working day)"},
        "hours": {"type": "array", "maxItems": 4, "items": {"type": "string", "pattern": f"^{SPAN}$"},
                  "description": "e.g. [\"08:00-12:00\", \"13:00-17:30\"]"},
        "note": {"type": "string", "maxLength": 100}},
        "if": {"properties": {"kind": {"const": "closed"}}},
        "then": {"properties": {"hours": {"maxItems": 0}}}}


def _relay():
    return current_app.extensions["linerelay"]


@bp.before_request
def _authorize():
    from bot.api import _authorize as check
    return check()


class Invalid(ValueError):
    pass


def _day(text, name: str) -> date:
    try:
        value = date.fromisoformat(str(text))
    except ValueError:
        raise Invalid(f"{name} must be a date like 2027-02-01") from None
    if not date(2000, 1, 1) <= value <= date(2099, 12, 31):
        raise Invalid(f"{name} must lie in 2000-2099")
    return value


def _range(first_text, days_text, limit: int) -> tuple[date, date]:
    first = _day(first_text, "from")
    if isinstance(days_text, float) and days_text.is_integer():   # JSON Schema: 11.0 is an integer
        days_text = int(days_text)
    try:
        days = 1 if days_text is None else int(str(days_text)) if str(days_text).isascii() else int("x")
    except (TypeError, ValueError):
        raise Invalid("days must be a whole number") from None
    if not 1 <= days <= limit:
        raise Invalid(f"days must be 1 to {limit}")
    return first, first + timedelta(days=days - 1)


def _workshop(session, name):
    from storage.directory import workshop_by_name
    if not name:
        return None
    try:
        return workshop_by_name(session, name)
    except UnknownWorkshop:
        raise Invalid(f"unknown workshop {name!r}") from None


def _args(*known: str):
    """The query's parameters; one this operation does not know is refused, not ignored."""
    unknown = sorted(set(request.args) - set(known))
    if unknown:
        raise Invalid(f"unknown parameter {unknown[0]!r}; known: {', '.join(known)}")
    return request.args


@bp.errorhandler(Invalid)
def _invalid(exc: Invalid):
    return jsonify(error="invalid", message=str(exc)), 422


@bp.get("")
def get_calendar():
    relay = _relay()
    today = relay.clock.today()
    args = _args("from", "days")   # given but empty is wrong, not "the default"
    first, last = _range(args["from"] if "from" in args else today.isoformat(),
                         args["days"] if "days" in args else 31, MAX_DAYS)
    with relay.ReadSession() as session:
        cal = planner.calendar(session, relay.plan)
        return jsonify(days=[{"date": d.day.isoformat(), "workshop": d.workshop.code if d.workshop else None,
                              "kind": d.kind, "hours": d.spans, "note": d.note} for d in entries(session, first, last)],
                       unknown_years=unknown_years(cal, today), confirmed_years=sorted(cal.confirmed_years))


@bp.put("/days")
def put_days():
    relay = _relay()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="bad_request", message="the body must be a JSON object"), 400
    problem = _problem(body)
    if problem:
        return jsonify(error="invalid", message=problem), 422
    first, last = _range(body["from"], body.get("days"), CHANGE_DAYS)
    hours = _hours(body.get("hours") or [])
    with relay.Session.begin() as session:
        workshop = _workshop(session, body.get("workshop"))
        return _changed(relay, session, lambda: set_days(
            session, relay.clock.now(), first=first, last=last, workshop=workshop, kind=body["kind"], spans=hours,
            note=body.get("note", ""), person=None, source="api"),
            {"kind": body["kind"], "first": first, "last": last, "workshop": workshop.name if workshop else "",
             "spans": hours, "note": body.get("note", "")})


@bp.delete("/days")
def delete_days():
    relay = _relay()
    args = _args("from", "days", "workshop")
    first, last = _range(args.get("from") or "", args.get("days"), CHANGE_DAYS)
    with relay.Session.begin() as session:
        workshop = _workshop(session, args.get("workshop"))
        return _changed(relay, session, lambda: clear_days(session, relay.clock.now(), first=first, last=last,
                                                           workshop=workshop, person=None, source="api"),
                        {"kind": "cleared", "first": first, "last": last,
                         "workshop": workshop.name if workshop else "", "spans": "", "note": ""})


def _changed(relay, session, change, context: dict):
    before = planner.forecast_ends(session)
    change()
    planner.sync(session)
    moved = planner.moved_since(session, before)
    for notice in moved_notices(moved, context, key=f"calendar:api:{relay.clock.now().isoformat()}"):
        relay.enqueue_notice(session, notice)
    relay.dispatcher.kick()
    return jsonify(moved=sorted(moved.orders()))


@bp.post("/years/<year_text>")
def post_year(year_text: str):
    relay = _relay()
    if not (year_text.isascii() and year_text.isdigit() and 2000 <= int(year_text) <= 2099):
        raise Invalid("year must be a year from 2000 to 2099")
    year = int(year_text)
    with relay.Session.begin() as session:
        new = confirm_year(session, relay.clock.now(), year, person=None, note="", source="api")
    return jsonify(year=year, confirmed=True, new=new)


def _hours(spans: list[str]) -> str:
    """The spans, leaving out any of no length (08:00-08:00 adds nothing to a day)."""
    kept = []
    for text in spans:
        try:
            kept.append(parse_spans([text])[0])
        except CalendarError:
            continue
    return format_spans(sorted(kept))


def _problem(body: dict) -> str | None:
    from jsonschema import Draft202012Validator
    validator = current_app.extensions.get("api.calendar_validator")
    if validator is None:
        validator = current_app.extensions["api.calendar_validator"] = Draft202012Validator(
            change_schema(_relay().settings), format_checker=Draft202012Validator.FORMAT_CHECKER)
    error = next(iter(sorted(validator.iter_errors(body), key=lambda e: list(e.path))), None)
    return None if error is None else error.message
