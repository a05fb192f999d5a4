"""The read-only shop-floor board (`/board`) and order pages, behind per-screen tokens."""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request
from markupsafe import escape
from sqlalchemy import select

from bot import links
from bot.platforms import registry
from bot.urls import install_converters
from storage.board import board as board_data
from storage.board import open_incidents_of
from storage.errors import UnknownOrder
from storage.models import Event, IncidentPhoto
from storage.photos import file_path, photos_of
from storage.orders import find_order
from storage.views import order_view

bp = Blueprint("board", __name__)
bp.record_once(install_converters)  # before the routes that use <order_no:…>


def _relay():
    return current_app.extensions["linerelay"]


def _authorized() -> str | None:
    """The screen's board token, or a digest's signed read-only link that has not expired."""
    token = request.args.get("token", "")
    relay = _relay()
    tokens = relay.settings.api.board_tokens
    if token and any(hmac.compare_digest(token.encode(), t.encode()) for t in tokens):
        return token
    return token if token and links.link_valid(tokens, token, relay.clock.now()) else None


def render_page(name: str, **context) -> Response:
    """An HTML page from `templates/web/`, everything escaped, never cached, scripts inline only."""
    relay = _relay()
    html = relay.messages.html.get_template(f"web/{name}.html.j2").render(**context)
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store",
                                                         "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                                         "style-src 'unsafe-inline'; script-src 'unsafe-inline'"})


def _forbidden() -> Response:
    return Response("需要看板链接（含 token）。", status=403, mimetype="text/plain")


@bp.get("/board")
def board():
    token = _authorized()
    if token is None:
        return _forbidden()
    relay = _relay()
    workshop = request.args.get("workshop") or None
    from storage import planner
    with relay.ReadSession() as session:
        cal = planner.calendar(session, relay.plan)
        data = board_data(session, relay.clock.now(), workshop,
                          tolerance_minutes=relay.settings.schedule.at_risk_tolerance_minutes, cal=cal)
        updated = relay.clock.local(relay.clock.now()).strftime("%m-%d %H:%M:%S")
        return render_page("board", token=token, updated=updated, refresh=_refresh_seconds(),
                           closed=closed_today(relay, session, data["workshops"]),
                           names={w.id: w.name for w in data["workshops"]}, **data)


def closed_today(relay, session, workshops) -> list[str]:
    """The workshops that do not work today (a closure, a holiday): the header says so."""
    from storage import planner
    cal = planner.calendar(session, relay.plan)
    today = relay.clock.today()
    return [w.name for w in workshops if not cal.is_workday(today, w.id)]


def _refresh_seconds() -> int:
    """How often the screen refreshes itself: `?refresh=N` seconds, 2–300, 15 by default."""
    try:
        return min(300, max(2, int(request.args.get("refresh", "15"))))
    except ValueError:
        return 15


@bp.get("/board/orders/<order_no:order_no>")
def order_page(order_no: str):
    token = _authorized()
    if token is None:
        return _forbidden()
    relay = _relay()
    with relay.ReadSession() as session:
        try:
            order = find_order(session, order_no)
        except UnknownOrder:
            return Response(f"找不到订单 {escape(order_no)}", status=404, mimetype="text/html")
        events = session.scalars(select(Event).where(Event.order_id == order.id).order_by(Event.id)).all()
        now = relay.clock.now()
        incidents = open_incidents_of(session, order, now)
        return render_page("order", token=token, order=order_view(order, now), events=events,
                           incidents=incidents, photos=photos_of(session, [i.id for i, _, _ in incidents]), now=now,
                           platforms={spec.name: spec.title for spec in registry.specs()})


@bp.get("/board/photos/<int:photo_id>")
def photo(photo_id: int):
    """A photo of an exception, behind the same tokens as the order page."""
    if _authorized() is None:
        return _forbidden()
    relay = _relay()
    with relay.ReadSession() as session:
        row = session.get(IncidentPhoto, photo_id)
    path = file_path(relay.settings.app.photo_dir, row.sha256, row.content_type) if row is not None else None
    if row is None or path is None or not path.is_file():
        return Response("not found", status=404, mimetype="text/plain")
    return Response(path.read_bytes(), mimetype=row.content_type,
                    headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"})


@bp.get("/charts/<name>.png")
def chart(name: str):
    """The managers' chart of a digest day, at the unguessable address the digest gave DingTalk."""
    relay = _relay()
    day = links.chart_day(relay.settings.api.board_tokens, name)
    if day is None:
        return Response("not found", status=404, mimetype="text/plain")
    from bot.jobs.digest import chart_png
    with relay.ReadSession() as session:
        png = chart_png(relay, session, day)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=86400"})
