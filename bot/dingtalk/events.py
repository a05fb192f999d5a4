"""`POST /dingtalk/events`: DingTalk's encrypted event subscription (HTTP). Contact changes
(people joining, changing, leaving, their roles) are applied to the directory as they come.

The crypto is WeCom's scheme with the app key as receive id (bot/wecom/crypto.py opens
DingTalk's published sample, tests/test_dingtalk.py). Every event, `check_url` first, is
answered with an encrypted "success"; an event we cannot apply now is still acknowledged
(the daily sync repairs what it missed), so DingTalk does not retry it forever.
"""
from __future__ import annotations

import json
import logging
import secrets

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request

from bot.wecom.crypto import CryptoError, WeComCrypto

log = logging.getLogger(__name__)
bp = Blueprint("dingtalk_events", __name__)
CHANGED = {"user_add_org", "user_modify_org", "user_active_org", "label_user_change"}
LEFT = {"user_leave_org"}


def mount(app: Flask, platform) -> None:
    s = platform.settings
    if s.event_token:
        app.extensions["linerelay.dingtalk_events"] = WeComCrypto(s.event_token, s.event_aes_key, s.app_key)
        app.register_blueprint(bp)


def _fail(status: int, reason: str):
    log.warning("dingtalk events refused (%s): %s", status, reason)
    abort(Response(json.dumps({"error": reason}), status=status, mimetype="application/json"))


@bp.post("/dingtalk/events")
def event():
    relay = current_app.extensions["linerelay"]
    crypto: WeComCrypto = current_app.extensions["linerelay.dingtalk_events"]
    args = request.args
    signature = args.get("signature") or args.get("msg_signature", "")
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    if not (signature and timestamp.isascii() and timestamp.isdigit() and nonce) or len(timestamp) > 15:
        _fail(400, "missing signature, timestamp or nonce")
    if abs(relay.clock.epoch() * 1000 - int(timestamp)) > relay.settings.app.timestamp_window_seconds * 1000:
        _fail(403, "stale timestamp")
    try:
        encrypt = json.loads(request.get_data(cache=False))["encrypt"]
        plain = json.loads(crypto.decrypt(signature, timestamp, nonce, str(encrypt)))
        kind = str(plain["EventType"])
    except CryptoError as exc:
        _fail(403, f"not from DingTalk: {exc}")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        _fail(400, "body must be JSON with an 'encrypt' string holding an event")
    if kind in CHANGED | LEFT:
        users = plain.get("UserId") or plain.get("UserIdList") or []
        from bot.directory.sync import apply_event
        apply_event(relay, "dingtalk", changed=[] if kind in LEFT else users, gone=users if kind in LEFT else [])
    return _success(relay, crypto)


def _success(relay, crypto: WeComCrypto):
    timestamp, nonce = str(relay.clock.epoch() * 1000), secrets.token_hex(4)
    encrypt, signature = crypto.encrypt("success", timestamp, nonce)
    return jsonify(msg_signature=signature, timeStamp=timestamp, nonce=nonce, encrypt=encrypt)
