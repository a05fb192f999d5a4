"""The Flask app factory: no work at import time; everything hangs off one `Relay`."""
from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import text

from bot.config import Settings, load_settings
from bot.core import Relay
from bot.observability import configure_logging, install_request_ids


def build_relay(settings: Settings, clock=None) -> Relay:
    """A relay with every configured platform attached."""
    relay = Relay(settings, clock=clock)
    if settings.wecom is not None:
        from bot.wecom.platform import WeComPlatform
        relay.add_platform("wecom", WeComPlatform(settings.wecom))
    if settings.dingtalk is not None:
        from bot.dingtalk.platform import DingTalkPlatform
        relay.add_platform("dingtalk", DingTalkPlatform(settings.dingtalk))
    return relay


def create_app(settings: Settings | None = None, relay: Relay | None = None) -> Flask:
    """Build the WSGI app. Without arguments, reads the configuration file."""
    if relay is None:
        relay = build_relay(settings or load_settings())
    settings = relay.settings
    app = Flask("linerelay")
    app.config["MAX_CONTENT_LENGTH"] = settings.app.max_body_bytes
    app.extensions["linerelay"] = relay
    if settings.wecom is not None:
        from bot.wecom.adapter import bp as wecom_bp
        from bot.wecom.crypto import WeComCrypto
        w = settings.wecom
        app.extensions["linerelay.wecom_crypto"] = {
            "app": WeComCrypto(w.token, w.encoding_aes_key, w.corp_id),
            "aibot": WeComCrypto(w.aibot.token, w.aibot.encoding_aes_key, ""),
        }
        app.register_blueprint(wecom_bp)

    if settings.dingtalk is not None:
        from bot.dingtalk.adapter import bp as dingtalk_bp
        app.register_blueprint(dingtalk_bp)

    from bot.api import bp as api_bp
    from bot.board import bp as board_bp
    app.register_blueprint(api_bp)
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
        return jsonify(status="ready")

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
    return app
