"""DingTalk callbacks: `/dingtalk/robot` (robot messages, HTTP mode) and `/dingtalk/card`
(interactive card clicks, HTTP mode)."""
from __future__ import annotations

import functools
import hmac
import json
import logging
from collections.abc import Callable
from typing import NoReturn

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request

from bot.dingtalk.platform import DingTalkPlatform, card_params
from bot.dingtalk.sign import verify_robot_sign
from bot.neutral import CardClick, ChatMessage, Photo
from bot.platforms.contract import ClickResult
from bot.text import normalize

FileFetch = Callable[[str], bytes]   # a download code -> the file's bytes

log = logging.getLogger(__name__)
bp = Blueprint("dingtalk", __name__)
TIMESTAMP_WINDOW_MS = 3600 * 1000   # DingTalk: refuse a timestamp more than an hour from now


def _relay():
    return current_app.extensions["linerelay"]


def _settings():
    return current_app.extensions["linerelay.dingtalk"].settings


def mount(app: Flask, platform: DingTalkPlatform) -> None:
    """The DingTalk robot and card callbacks (HTTP mode) on `app`."""
    app.extensions["linerelay.dingtalk"] = platform
    app.register_blueprint(bp)


def _fail(status: int, reason: str) -> NoReturn:
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
    settings = _settings()
    timestamp, sign = request.headers.get("timestamp", ""), request.headers.get("sign", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 15 or not sign:
        _fail(400, "missing or bad timestamp/sign headers")
    if abs(relay.clock.epoch() * 1000 - int(timestamp)) > TIMESTAMP_WINDOW_MS:
        _fail(403, "stale timestamp")
    if not verify_robot_sign(settings.app_secret, timestamp, sign):
        _fail(403, "bad sign")
    body = _json_body()
    if not for_our_robot(body, settings.robot_code):
        _fail(403, "unknown robotCode")
    try:
        message = to_neutral(body, settings.oapi_base_url, current_app.extensions["linerelay.dingtalk"].message_file)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        _fail(400, f"not a robot message: {exc}")
    if message is None:
        return jsonify({})
    relay.handle_message(message)
    return jsonify({})  # the reply goes through the sessionWebhook, via the outbox


def for_our_robot(body: dict, robot_code: str) -> bool:
    """Whether a message DingTalk vouched for (the app secret's signature, or the stream's own
    connection) is meant for our robot. Current payloads name it (`robotCode`); the HTTP
    receive-message sample DingTalk published leaves it out, and the older outgoing robot says
    "normal": those are ours too. Only a robot named and not ours is refused."""
    code = body.get("robotCode")
    return code in (None, "", "normal") or code == robot_code


def to_neutral(body: dict, oapi_base_url: str, fetch_file: FileFetch) -> ChatMessage | None:
    """A robot message (HTTP or Stream mode) as a neutral message: text; 1:1 voice with DingTalk's
    own transcript (marked spoken: confirmed before it changes anything); a picture, or text with
    pictures (richText), whose download codes `fetch_file` exchanges for the bytes."""
    kind = body.get("msgtype")
    if not isinstance(kind, str):
        raise ValueError("no msgtype")
    if kind not in ("text", "audio", "picture", "richText", *UNREAD):
        return None  # nothing a person said: acknowledged, not acted on
    text, codes = _content(body, kind) if kind not in UNREAD else ("", [])
    webhook = str(body.get("sessionWebhook") or "")
    if webhook and not webhook.startswith(oapi_base_url + "/"):
        raise ValueError("sessionWebhook is not DingTalk's")  # never post replies to a foreign host
    group = str(body.get("conversationType")) == "2"
    msg_id = str(body["msgId"])
    if not msg_id:
        raise ValueError("empty msgId")
    sender = _sender(body)
    photos = tuple(Photo(fetch=functools.partial(fetch_file, code), ref=f"{msg_id}:{n}") for n, code in enumerate(codes))
    return ChatMessage(platform="dingtalk", message_id=msg_id, sender_id=sender,
                       chat_type="group" if group else "single",
                       chat_id=str(body["conversationId"]) if group else None,
                       text=normalize(str(text), leading_mentions=True), chat_name=str(body.get("conversationTitle", "")),
                       reply_url=webhook or None, spoken=kind == "audio", photos=photos,
                       unread=kind if kind in UNREAD else "")


UNREAD = ("file", "video")   # sent to the robot, not read: the sender is told what it reads instead


def _sender(body: dict) -> str:
    """Who wrote: their staff id (工号 userid) in our corp. DingTalk leaves `senderStaffId` out for
    an external member and while the robot is not yet published; a member of another corp
    (`senderCorpId` not the robot's) has a staff id of that corp, which may equal one of ours.
    Either is nobody of ours: `external:` and DingTalk's opaque senderId, which no person has,
    so they are answered as someone not registered and nothing is applied."""
    staff = str(body.get("senderStaffId") or "")
    corp, own = body.get("senderCorpId"), body.get("chatbotCorpId")
    if staff and not (corp and own and corp != own):
        return staff
    return "external:" + str(body.get("senderId") or body["msgId"])[:100]


def _content(body: dict, kind: str) -> tuple[str, list[str]]:
    """The text and the pictures' download codes of a robot message."""
    if kind == "text":
        return str(body["text"]["content"]), []
    content = body["content"]
    if kind == "audio":   # 1:1 voice: DingTalk's own transcript
        return str(content.get("recognition") or ""), []   # nothing recognised: said so in the reply
    if kind == "picture":
        return "", [_code(content)]
    items = content["richText"]
    if not isinstance(items, list):
        raise ValueError("richText is not a list")
    text = " ".join(str(i["text"]) for i in items if isinstance(i, dict) and "text" in i)
    codes = [_code(i) for i in items if isinstance(i, dict) and i.get("type") == "picture"]
    return text, codes


def _code(item: dict) -> str:
    code = item.get("downloadCode") or item.get("pictureDownloadCode")
    if not isinstance(code, str) or not code:
        raise ValueError("a picture without downloadCode")
    return code


@bp.post("/dingtalk/card")
def card_click():
    relay = _relay()
    token = request.args.get("token", "")
    if not hmac.compare_digest(token.encode(), _settings().card_callback_secret.encode()):
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


STATUS = {ClickResult.APPLIED: 200, ClickResult.ASKED: 200, ClickResult.ALREADY_DECIDED: 200,
          ClickResult.REFUSED: 403, ClickResult.UNKNOWN_CARD: 404, ClickResult.UNKNOWN_ACTION: 400}


def apply_click(relay, click: CardClick, dedupe_key: str | None = None) -> tuple[int, dict]:
    """Apply the click; the response body updates the card (DingTalk shows the returned cardData).
    `dedupe_key` is the callback's own id where DingTalk gives one (a Stream frame's messageId);
    an HTTP card callback carries none, and the card's own state decides (a decided card changes
    nothing; a repeated vote is the same vote) — never the user and the second."""
    outcome = relay.handle_click(click, dedupe_key=dedupe_key)
    payload: dict = {"cardData": {"cardParamMap": card_params(outcome.card)}} if outcome.card is not None else {}
    if outcome.message:
        payload["message"] = outcome.message
    return STATUS[outcome.result], payload
