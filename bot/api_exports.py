"""Exports over HTTP: `GET /api/exports/reports?month=2026-11` (the API keys) and the signed link
a chat reply carries, `GET /exports/<token>` (valid for a day, nothing else opens with it)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request

from bot.exports import build_workbook, file_name, token_month
from storage.exports import month_bounds

bp = Blueprint("api_exports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _relay():
    return current_app.extensions["linerelay"]


@bp.before_request
def _authorize():
    if request.path.startswith("/api/"):
        from bot.api import _authorize as api_key_check
        return api_key_check()
    return None


def _xlsx(relay, month: str) -> Response:
    data = build_workbook(relay, month)
    name = file_name(month)
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"export-{month}.xlsx\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})


@bp.get("/api/exports/reports")
def export_reports():
    """The month's piece-rate export (`month=2026-11`) as an Excel file."""
    unknown = sorted(set(request.args) - {"month"})
    if unknown:
        return jsonify(error="invalid", message=f"unknown parameter {unknown[0]!r}; known: month"), 422
    month = request.args.get("month", "")
    try:
        month_bounds(month)
    except ValueError:
        return jsonify(error="invalid", message="month must look like 2026-11"), 422
    return _xlsx(_relay(), month)


@bp.get("/exports/<token>")
def export_by_link(token: str):
    """The file a 导出 reply links to, while its link is valid."""
    relay = _relay()
    month = token_month(relay.settings.api.board_tokens, token, relay.clock.now())
    if month is None:
        return Response("链接无效或已过期，请在群里重新发「导出 11月 计件」。", status=404, mimetype="text/plain")
    return _xlsx(relay, month)


def export_paths() -> dict:
    """The export's part of the OpenAPI document."""
    return {"/api/exports/reports": {"get": {
        "summary": "The month's piece-rate export (计件): per worker per day, per workshop against the plan",
        "description": "Sheets 计件明细 (date, worker, order, product, step, good, scrap, piece rate, amount, "
                       "how the share was decided, reports), 工人汇总 (per worker), 车间产出 (per workshop per "
                       "day: good, scrap, plan from the stored plan). Standing reports only; no cell starts "
                       "with = + - @.",
        "parameters": [{"name": "month", "in": "query", "required": True,
                        "schema": {"type": "string", "pattern": "^20[0-9]{2}-(0[1-9]|1[0-2])$"}}],
        "responses": {"200": {"description": "the workbook", "content": {XLSX: {
            "schema": {"type": "string", "format": "binary"}}}},
            "401": {"description": "missing or wrong API key",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "422": {"description": "invalid month",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}}}
