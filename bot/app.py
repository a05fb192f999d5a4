"""The Flask app factory: no work at import time; everything hangs off one `Relay`."""
from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import text

from bot.clock import Clock
from bot.config import Settings, load_settings
from bot.handlers import add_handlers
from bot.observability import configure_logging, install_request_ids
from bot.platforms import registry
from bot.relay import Relay
from bot.services import make_services


def build_relay(settings: Settings, clock: Clock | None = None) -> Relay:
    """The application: its services, every configured platform, every command and card action."""
    relay = Relay(make_services(settings, clock))
    for spec in registry.specs():
        if spec.name in settings.platforms and spec.create is not None:
            relay.add_platform(spec.create(settings.platforms[spec.name]))
    add_handlers(relay)
    return relay


def create_app(settings: Settings | None = None, relay: Relay | None = None) -> Flask:
    """Build the WSGI app. Without arguments, reads the configuration file."""
    if relay is None:
        relay = build_relay(settings or load_settings())
    settings = relay.settings
    app = Flask("linerelay")
    app.config["MAX_CONTENT_LENGTH"] = settings.app.max_body_bytes
    app.extensions["linerelay"] = relay
    for spec in registry.specs():
        platform = relay.platforms.get(spec.name)
        if platform is not None and spec.mount is not None:
            spec.mount(app, platform)   # its callback endpoints

    from bot.api import bp as api_bp
    from bot.api_calendar import bp as calendar_bp
    from bot.api_exports import bp as exports_bp
    from bot.api_master import bp as master_bp
    from bot.board import bp as board_bp
    app.register_blueprint(api_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(master_bp)
    app.register_blueprint(board_bp)

    @app.get("/healthz")
    def healthz():
        """Alive: the process answers and reaches its database."""
        with relay.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        """Ready for traffic: the database answers and its schema is at the newest migration."""
        from storage.migrate import schema_is_current
        try:
            current = schema_is_current(relay.engine)
        except Exception as exc:  # a database that does not answer is simply not ready
            return jsonify(status="unavailable", reason=type(exc).__name__), 503
        if not current:
            return jsonify(status="unavailable", reason="schema is not at the newest migration; run linerelay init-db"), 503
        return jsonify(status="ready", calendar=calendar_status(relay))

    @app.errorhandler(413)
    def too_large(_exc):
        return jsonify(error="request body too large"), 413

    @app.errorhandler(404)
    def not_found(_exc):
        return jsonify(error="not found"), 404

    @app.errorhandler(405)
    def not_allowed(exc):
        allow = ", ".join(getattr(exc, "valid_methods", None) or [])   # RFC 9110: a 405 lists what is allowed
        return jsonify(error="method not allowed"), 405, ({"Allow": allow} if allow else {})

    configure_logging(settings.app.log_format)
    install_request_ids(app)
    _warn_unknown_years(relay)
    return app


def calendar_status(relay) -> dict:
    """Years ahead whose public holidays nobody knows: plans in them are provisional."""
    from storage import planner
    from storage.calendar import unknown_years
    with relay.ReadSession() as session:
        years = unknown_years(planner.calendar(session, relay.plan), relay.clock.today())
        session.rollback()
    if not years:
        return {"status": "ok", "unknown_years": []}
    return {"status": "provisional", "unknown_years": years,
            "message": f"no public-holiday data for {', '.join(map(str, years))}: enter the plant's days "
                       "(停产/加班 in chat, linerelay calendar import, or the API) and confirm the year"}


def _warn_unknown_years(relay) -> None:
    """At start-up: a year the holiday data does not cover is said, not silently Monday to Friday."""
    import logging
    from sqlalchemy import inspect
    try:
        if not inspect(relay.engine).has_table("calendar_years"):
            return
        status = calendar_status(relay)
    except Exception:  # the database may not be reachable yet; /readyz says so
        return
    if status["unknown_years"]:
        logging.getLogger("linerelay.calendar").warning(status["message"])
