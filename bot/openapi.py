"""The OpenAPI 3.1 description of the REST API, served at /api/openapi.json."""
from __future__ import annotations

from bot.api_calendar import CHANGE_DAYS, DATE, MAX_DAYS, change_schema
from bot.api_exports import export_paths


ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"},
                                                                   "message": {"type": "string"}}}
STEP = {"type": "object", "properties": {
    "workshop": {"type": "string"}, "status": {"type": "string", "enum": ["waiting", "ready", "running", "blocked", "done"]},
    "good": {"type": "integer"}, "scrap": {"type": "integer"}, "planned": {"type": "integer"},
    "received": {"type": "integer"},
    "planned_start": {"type": ["string", "null"], "format": "date-time",
                      "description": "latest start at the standard rate that keeps the due date"},
    "planned_end": {"type": ["string", "null"], "format": "date-time"},
    "projected_start": {"type": ["string", "null"], "format": "date-time",
                        "description": "the plan's forecast: when it starts (started: when it did)"},
    "projected_end": {"type": ["string", "null"], "format": "date-time",
                      "description": "the plan's forecast end, in working time, on the workshop's capacity"},
    "late": {"type": "boolean"},
    "late_minutes": {"type": "integer", "description": "forecast end past planned end, working minutes"},
    "provisional": {"type": "boolean", "description": "a date in a year whose public holidays are not confirmed"}}}
ORDER = {"type": "object", "properties": {
    "order_no": {"type": "string"}, "product": {"type": "string"}, "quantity": {"type": "integer"},
    "customer": {"type": "string"}, "due_date": {"type": "string", "format": "date"}, "priority": {"type": "integer"},
    "status": {"type": "string"},
    "due_at": {"type": ["string", "null"], "format": "date-time", "description": "the end of the due date's working time"},
    "projected_end": {"type": ["string", "null"], "format": "date-time", "description": "when the whole order will be done"},
    "late_minutes": {"type": "integer", "description": "forecast finish past due, working minutes"},
    "provisional": {"type": "boolean",
                    "description": "the forecast reaches into a year whose public holidays are not confirmed"},
    "steps": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}}}}


def new_order(settings=None, products=None) -> dict:
    """What POST /api/orders accepts (the API validates bodies against this very schema). With
    the settings it names the products that have a route (`products`: those in the database,
    imported ones included; else the configured ones) and the quantity limit. Full-width
    characters and lower case in order numbers are folded as the importer does."""
    from bot.importer import DUE_RANGE, ORDER_NO_PATTERN, max_order_quantity
    product = {"type": "string", "minLength": 1, "maxLength": 120}
    quantity = {"type": "integer", "minimum": 1}
    if settings is not None:
        product["enum"] = list(products) if products is not None else [r.product for r in settings.routes]
        quantity["maximum"] = max_order_quantity(settings)
    first, last = DUE_RANGE
    return {"type": "object", "required": ["order_no", "product", "quantity", "due_date"], "properties": {
        "order_no": {"type": "string", "pattern": f"^{ORDER_NO_PATTERN}$",
                     "description": "letters, digits and - _ . / #; stored in upper case"},
        "product": product, "quantity": quantity,
        "due_date": {"type": "string", "format": "date", "pattern": f"^{first.year // 100}[0-9]{{2}}-",
                     "description": f"{first.isoformat()} to {last.isoformat()}"},
        "customer": {"type": "string", "maxLength": 120},
        "priority": {"type": "integer", "minimum": 1, "maximum": 9, "description": "1 is the most urgent"}}}


def calendar_paths(settings=None) -> dict:
    """The plant's calendar: read it, set or clear days (the plan is made again), confirm a year."""
    day = {"name": "from", "in": "query", "required": True, "schema": DATE}
    days = {"name": "days", "in": "query", "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": CHANGE_DAYS}}
    code: dict = {"type": "string", "description": "a workshop's code; none or empty: the whole plant"}
    if settings is not None:
        code["enum"] = [w.code for w in settings.workshops] + [""]   # `workshop=` is read as none
    workshop = {"name": "workshop", "in": "query", "required": False, "schema": code}
    moved = {"description": "applied; the orders whose forecasts moved", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"moved": {"type": "array", "items": {"type": "string"}}}}}}}
    return {
        "/api/calendar": {"get": {
            "summary": "The plant's own days and the years whose public holidays are unknown",
            "parameters": [{**day, "required": False},
                           {**days, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS}}],
            "responses": {"200": {"description": "the calendar", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "days": {"type": "array", "items": {"type": "object"}},
                    "unknown_years": {"type": "array", "items": {"type": "integer"}},
                    "confirmed_years": {"type": "array", "items": {"type": "integer"}}}}}}},
                **_errors(401, 422)}}},
        "/api/calendar/days": {
            "put": {"summary": "Close days, set their hours or add overtime (the whole plant or a workshop)",
                    "requestBody": {"required": True, **_json("CalendarChange")},
                    "responses": {"200": moved, **_errors(400, 401, 422)}},
            "delete": {"summary": "Days back to the normal calendar", "parameters": [day, days, workshop],
                       "responses": {"200": moved, **_errors(401, 422)}}},
        "/api/calendar/years/{year}": {"post": {
            "summary": "Confirm that the plant has entered a year's public holidays",
            "parameters": [{"name": "year", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 2000, "maximum": 2099}}],
            "responses": {"200": {"description": "confirmed", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"year": {"type": "integer"}, "confirmed": {"type": "boolean"},
                                                 "new": {"type": "boolean"}}}}}},
                **_errors(401, 404, 422)}}},
    }


def _json(schema_ref: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _errors(*codes: int) -> dict:
    texts = {400: "bad request", 401: "missing or wrong API key", 404: "not found",
             409: "the order exists with another product", 422: "invalid input"}
    return {str(c): {"description": texts[c], **_json("Error")} for c in codes}


def document(settings=None, products=None) -> dict:
    """The document; with the app's settings, it names the products and the quantity limit."""
    from bot.api_master import master_paths, person_schema, route_schema
    order_no = {"name": "order_no", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "LineRelay API", "version": "1", "description": "Orders and their timelines, routes and people."},
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR, "Step": STEP, "Order": ORDER, "NewOrder": new_order(settings, products),
                        "NewRoute": route_schema(settings), "NewPerson": person_schema(settings),
                        "CalendarChange": change_schema(settings), "Event": {
                "type": "object", "properties": {"id": {"type": "integer"}, "at": {"type": "string"},
                                                 "kind": {"type": "string"}, "actor": {"type": "string"},
                                                 "source": {"type": "string"}, "data": {"type": "object"}}}},
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/api/orders": {"post": {
                "summary": "Create or update an order", "requestBody": {"required": True, **_json("NewOrder")},
                "responses": {"201": {"description": "created", **_json("Order")},
                              "200": {"description": "updated", **_json("Order")}, **_errors(400, 401, 409, 422)}}},
            "/api/orders/{order_no}": {"get": {
                "summary": "An order with its steps", "parameters": [order_no],
                "responses": {"200": {"description": "the order", **_json("Order")}, **_errors(401, 404)}}},
            "/api/orders/{order_no}/events": {"get": {
                "summary": "The order's timeline", "parameters": [order_no],
                "responses": {"200": {"description": "events, oldest first", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"order_no": {"type": "string"}, "events": {
                        "type": "array", "items": {"$ref": "#/components/schemas/Event"}}}}}}},
                    **_errors(401, 404)}}},
            **calendar_paths(settings),
            **export_paths(),
            **master_paths(),
            "/api/workshops/{code}/queue": {"get": {
                "summary": "A workshop's queue", "parameters": [
                    {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the queue, most urgent first",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              **_errors(401, 404)}}},
        },
    }
