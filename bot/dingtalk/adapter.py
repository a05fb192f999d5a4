"""DingTalk callbacks: `/dingtalk/robot` (robot messages, HTTP mode) and `/dingtalk/card`
(interactive card clicks, HTTP mode)."""
from __future__ import annotations

import hmac
import json
import logging

from flask import Blueprint, Response, abort, current_app, jsonify, request

from bot import cardflow
from bot.cards import CardClick
from bot.dingtalk.platform import card_params
from bot.dingtalk.sign import verify_robot_sign
from bot.neutral import ChatMessage
from bot.text import normalize

log = logging.getLogger(__name__)
bp = Blueprint("dingtalk", __name__)
TIMESTAMP_WINDOW_MS = 3600 * 1000   # DingTalk: refuse a timestamp more than an hour from now


def _relay():
    return current_app.extensions["linerelay"]


def _fail(status: int, reason: str):
    log.warning("dingtalk %s refused (%s): %s", request.path, status, reason)
    abort(Response(json.dumps({"error": reason}, ensure_ascii=False), status=status, mimetype="application/json"))


def _json_body() -> dict:
    try:
        body = json.loads(request.get_data(cache=False))
    except (ValueError, UnicodeDecodeError, RecursionError):
        _fail(400, "body must be JSON")
    if not isinstance(body, dict):
        _fail(400, "body must be a JSON object")
    return body


@bp.post("/dingtalk/robot")
def robot_message():
    relay = _relay()
    settings = relay.settings.dingtalk
    timestamp, sign = request.headers.get("timestamp", ""), request.headers.get("sign", "")
    if not timestamp.isdigit() or len(timestamp) > 15 or not sign:
        _fail(400, "missing or bad timestamp/sign headers")
    if abs(relay.clock.epoch() * 1000 - int(timestamp)) > TIMESTAMP_WINDOW_MS:
        _fail(403, "stale timestamp")
    if not verify_robot_sign(settings.app_secret, timestamp, sign):
        _fail(403, "bad sign")
    body = _json_body()
    if body.get("robotCode") != settings.robot_code:
        _fail(403, "unknown robotCode")
    try:
        message = to_neutral(body, settings.oapi_base_url)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        _fail(400, f"not a robot message: {exc}")
    if message is None:
        return jsonify({})
    relay.handle_message(message)
    return jsonify({})  # the reply goes through the sessionWebhook, via the outbox


def to_neutral(body: dict, oapi_base_url: str) -> ChatMessage | None:
    if not isinstance(body.get("msgtype"), str):
        raise ValueError("no msgtype")
    if body["msgtype"] != "text":
        return None  # pictures, files, audio: acknowledged, not acted on
    webhook = str(body.get("sessionWebhook") or "")
    if webhook and not webhook.startswith(oapi_base_url + "/"):
        raise ValueError("sessionWebhook is not DingTalk's")  # never post replies to a foreign host
    group = str(body.get("conversationType")) == "2"
    msg_id, sender = str(body["msgId"]), str(body["senderStaffId"])
    if not msg_id or not sender:
        raise ValueError("empty msgId or senderStaffId")
    return ChatMessage(platform="dingtalk", message_id=msg_id, sender_id=sender,
                       chat_type="group" if group else "single",
                       chat_id=str(body["conversationId"]) if group else None,
                       text=normalize(str(body["text"]["content"])), chat_name=str(body.get("conversationTitle", "")),
                       reply_url=webhook or None)


@bp.post("/dingtalk/card")
def card_click():
    relay = _relay()
    token = request.args.get("token", "")
    if not hmac.compare_digest(token.encode(), relay.settings.dingtalk.card_callback_secret.encode()):
        _fail(403, "bad card callback token")
    body = _json_body()
    try:
        click = to_click(body)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError):
        _fail(400, "not a card callback")
    status, payload = apply_click(relay, click)
    if status == 404:
        _fail(status, payload["message"])
    return jsonify(payload), status


def to_click(body: dict) -> CardClick:
    """A DingTalk card callback (HTTP or Stream) as a neutral click."""
    content = body.get("content") or "{}"
    content = json.loads(content) if isinstance(content, str) else content
    private = content.get("cardPrivateData") or {}
    params = private.get("params") or {}
    action = str(params.get("action") or (private.get("actionIds") or [""])[0])
    return CardClick(platform="dingtalk", track_id=str(body["outTrackId"]), user_id=str(body["userId"]),
                     action=action, params=params)


def apply_click(relay, click: CardClick) -> tuple[int, dict]:
    """Apply the click; the response body updates the card (DingTalk shows the returned cardData)."""
    status, view, message = cardflow.handle_click(relay, click)
    payload = {"cardData": {"cardParamMap": card_params(view)}} if view is not None else {}
    if message:
        payload["message"] = message
    return status, payload
