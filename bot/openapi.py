"""The OpenAPI 3.1 description of the REST API, served at /api/openapi.json."""
from __future__ import annotations


ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"},
                                                                   "message": {"type": "string"}}}
STEP = {"type": "object", "properties": {
    "workshop": {"type": "string"}, "status": {"type": "string", "enum": ["waiting", "ready", "running", "blocked", "done"]},
    "good": {"type": "integer"}, "scrap": {"type": "integer"}, "planned": {"type": "integer"},
    "received": {"type": "integer"}, "planned_end": {"type": ["string", "null"], "format": "date-time"},
    "projected_end": {"type": ["string", "null"], "format": "date-time"}, "late": {"type": "boolean"}}}
ORDER = {"type": "object", "properties": {
    "order_no": {"type": "string"}, "product": {"type": "string"}, "quantity": {"type": "integer"},
    "customer": {"type": "string"}, "due_date": {"type": "string", "format": "date"}, "priority": {"type": "integer"},
    "status": {"type": "string"}, "steps": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}}}}


def new_order(settings=None) -> dict:
    """What POST /api/orders accepts (the API validates bodies against this very schema). With
    the settings it names the products that have a route and the quantity limit. Full-width
    characters and lower case in order numbers are folded as the importer does."""
    from bot.importer import DUE_RANGE, ORDER_NO_PATTERN, max_order_quantity
    product = {"type": "string", "minLength": 1, "maxLength": 120}
    quantity = {"type": "integer", "minimum": 1}
    if settings is not None:
        product["enum"] = [r.product for r in settings.routes]
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


def _json(schema_ref: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _errors(*codes: int) -> dict:
    texts = {400: "bad request", 401: "missing or wrong API key", 404: "not found",
             409: "the order exists with another product", 422: "invalid order"}
    return {str(c): {"description": texts[c], **_json("Error")} for c in codes}


def document(settings=None) -> dict:
    """The document; with the app's settings, it names the products and the quantity limit."""
    order_no = {"name": "order_no", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "LineRelay API", "version": "1", "description": "Orders and their timelines."},
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR, "Step": STEP, "Order": ORDER, "NewOrder": new_order(settings), "Event": {
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
            "/api/workshops/{code}/queue": {"get": {
                "summary": "A workshop's queue", "parameters": [
                    {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the queue, most urgent first",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              **_errors(401, 404)}}},
        },
    }
