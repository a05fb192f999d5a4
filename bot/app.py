"""The Flask app factory: no work at import time; everything hangs off one `Relay`."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy import text

from bot.config import Settings, load_settings
from bot.core import Relay


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
    app.register_blueprint(api_bp)

    @app.get("/healthz")
    def healthz():
        with relay.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return jsonify(status="ok")

    @app.errorhandler(413)
    def too_large(_exc):
        return jsonify(error="request body too large"), 413

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app
