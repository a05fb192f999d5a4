"""WeCom callbacks: `/wecom/aibot` (AI bot, JSON) and `/wecom/callback` (self-built app, XML).

Each request is size-capped (Flask's MAX_CONTENT_LENGTH), signature-checked, time-checked,
decrypted, deduplicated by the core, and turned into one neutral `ChatMessage`.
"""
from __future__ import annotations

import json
import logging
import secrets

import xmltodict
from typing import NoReturn
from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request

from bot.neutral import CardClick, ChatMessage, Photo
from bot.wecom import media
from bot.platforms.contract import ClickResult
from bot.platforms.fallbacks import plain_text
from bot.wecom.crypto import CryptoError, WeComCrypto
from bot.wecom.platform import WeComPlatform, aibot_reply

log = logging.getLogger(__name__)
bp = Blueprint("wecom", __name__)


def _relay():
    return current_app.extensions["linerelay"]


def mount(app: Flask, platform: WeComPlatform) -> None:
    """The WeCom callbacks on `app`, with the crypto of the AI bot and of the self-built app."""
    w = platform.settings
    app.extensions["linerelay.wecom"] = platform
    crypto = {"app": WeComCrypto(w.token, w.encoding_aes_key, w.corp_id)}
    if not w.aibot.long_connection:   # a bot is in one mode: on the long connection nothing posts here
        crypto["aibot"] = WeComCrypto(w.aibot.token, w.aibot.encoding_aes_key, "")
    app.extensions["linerelay.wecom_crypto"] = crypto
    app.register_blueprint(bp)


def _fail(status: int, reason: str) -> NoReturn:
    log.warning("wecom %s refused (%s): %s", request.path, status, reason)
    abort(Response(json.dumps({"error": reason}), status=status, mimetype="application/json"))


def _checked_params() -> tuple[str, str, str]:
    args = request.args
    signature, timestamp, nonce = args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")
    if not (signature and timestamp and nonce):
        _fail(400, "missing msg_signature, timestamp or nonce")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        _fail(400, "bad timestamp")
    relay = _relay()
    now = relay.clock.epoch()
    if abs(now - int(timestamp)) > relay.settings.app.timestamp_window_seconds:
        _fail(403, "stale timestamp")
    return signature, timestamp, nonce


def _crypto(kind: str) -> WeComCrypto:
    crypto = current_app.extensions["linerelay.wecom_crypto"].get(kind)
    if crypto is None:
        _fail(404, "the AI bot runs on the long connection (wecom.aibot.mode), not on callbacks")
    return crypto


def _decrypt(kind: str, encrypt: str) -> str:
    signature, timestamp, nonce = _checked_params()
    try:
        return _crypto(kind).decrypt(signature, timestamp, nonce, encrypt)
    except CryptoError as exc:
        _fail(403, f"not from WeCom: {exc}")


def _verify_url(kind: str):
    echostr = request.args.get("echostr", "")
    if not echostr:
        _fail(400, "missing echostr")
    return Response(_decrypt(kind, echostr), mimetype="text/plain")


def _parse_xml(body: bytes | str) -> dict:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise ValueError("DTDs are not accepted")
    data = xmltodict.parse(text, disable_entities=True)
    if not isinstance(data, dict) or not isinstance(data.get("xml"), dict):
        raise ValueError("no <xml> root")
    return data["xml"]


@bp.get("/wecom/aibot")
def aibot_verify():
    return _verify_url("aibot")


@bp.post("/wecom/aibot")
def aibot_message():
    try:
        body = json.loads(request.get_data(cache=False))
        encrypt = body["encrypt"]
        if not isinstance(encrypt, str) or not encrypt:
            raise ValueError("encrypt must be a non-empty string")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        _fail(400, "body must be JSON with an 'encrypt' string")
    plaintext = _decrypt("aibot", encrypt)
    try:
        msg = json.loads(plaintext)
        message = aibot_to_neutral(msg, max_photo_bytes=_relay().settings.app.max_photo_bytes,
                                   file_key=current_app.extensions["linerelay.wecom"].settings.aibot.encoding_aes_key)
    except (ValueError, KeyError, TypeError, AttributeError):
        _fail(400, "decrypted message is not a WeCom AI bot message")
    if message is None:
        return Response("", status=200)  # events we do not act on: acknowledge, say nothing
    reply = _relay().handle_message(message)
    return jsonify(_encrypted_json(aibot_reply(reply.markdown, f"r{message.message_id}"[:64])))


def aibot_to_neutral(msg: dict, platform: str = "wecom", max_photo_bytes: int = 5 * 1024 * 1024,
                     file_key: str | None = None) -> ChatMessage | None:
    """Text, or speech WeCom has already transcribed (`voice.content`, 1:1 chats): the latter is
    marked spoken, so that nothing it says is applied before the person confirms it. The same
    JSON arrives on the HTTP callback and on the long connection (`platform` names the channel).
    A picture's file is encrypted with its own `aeskey` on the long connection; on the HTTP
    callback the image carries only its `url`, encrypted with the callback's EncodingAESKey
    (`file_key`; path/100719)."""
    kind = msg.get("msgtype")
    if kind not in ("text", "voice", "image", "mixed", *UNREAD):
        return None   # events, stream refreshes: nothing a person said
    chat_type = "group" if msg.get("chattype") == "group" else "single"
    text, photos = _content(msg, kind, max_photo_bytes, file_key) if kind not in UNREAD else ("", ())
    return ChatMessage(platform=platform, message_id=str(msg["msgid"]), sender_id=str(msg["from"]["userid"]),
                       chat_type=chat_type, chat_id=str(msg["chatid"]) if chat_type == "group" else None,
                       text=str(text), reply_url=msg.get("response_url"), spoken=kind == "voice", photos=photos,
                       unread=kind if kind in UNREAD else "")


UNREAD = ("file", "video")   # sent to the bot, not read: the sender is told what it reads instead


def _content(msg: dict, kind: str, max_bytes: int, file_key: str | None) -> tuple[str, tuple[Photo, ...]]:
    """The text (typed, or transcribed speech) and the pictures (image; mixed text and images)."""
    if kind in ("text", "voice"):
        return str(msg[kind]["content"]), ()
    items = msg["mixed"]["msg_item"] if kind == "mixed" else [{"msgtype": "image", "image": msg["image"]}]
    text = " ".join(str(i["text"]["content"]) for i in items if i.get("msgtype") == "text")
    photos = tuple(_photo(i["image"], f"{msg['msgid']}:{n}", max_bytes, file_key)
                   for n, i in enumerate(items) if i.get("msgtype") == "image")
    return text, photos


def _photo(image: dict, ref: str, max_bytes: int, file_key: str | None) -> Photo:
    url, aeskey = str(image["url"]), image.get("aeskey") or file_key
    if not isinstance(aeskey, str) or not aeskey:
        raise KeyError("aeskey")   # the long connection gives each file its key; nothing to decrypt with
    return Photo(fetch=lambda: media.download(url, aeskey, max_bytes), ref=ref)


def _encrypted_json(payload: dict) -> dict:
    timestamp, nonce = str(_relay().clock.epoch()), secrets.token_hex(8)
    encrypt, signature = _crypto("aibot").encrypt(json.dumps(payload, ensure_ascii=False), timestamp, nonce)
    return {"encrypt": encrypt, "msgsignature": signature, "timestamp": int(timestamp), "nonce": nonce}


@bp.get("/wecom/callback")
def app_verify():
    return _verify_url("app")


@bp.post("/wecom/callback")
def app_message():
    try:
        outer = _parse_xml(request.get_data(cache=False))
        encrypt = outer["Encrypt"]
        if not isinstance(encrypt, str) or not encrypt:
            raise ValueError("empty Encrypt")
    except Exception:  # xmltodict raises expat, DTD and our own errors alike: all are bad input
        _fail(400, "body must be WeCom XML with <Encrypt>")
    plaintext = _decrypt("app", encrypt)
    try:
        inner = _parse_xml(plaintext)
    except Exception:
        _fail(400, "decrypted message is not XML")
    if inner.get("MsgType") == "event" and inner.get("Event") == "template_card_event":
        return _card_event(inner)
    if inner.get("MsgType") == "event" and inner.get("Event") == "change_contact":
        return _contact_event(inner)
    if inner.get("MsgType") != "text":
        return Response("success", mimetype="text/plain")  # other events: acknowledged, not acted on
    try:
        message = ChatMessage(platform="wecom", message_id=str(inner["MsgId"]), sender_id=str(inner["FromUserName"]),
                              chat_type="single", chat_id=None, text=str(inner.get("Content") or ""))
    except KeyError:
        _fail(400, "text message without MsgId or FromUserName")
    reply = _relay().handle_message(message)
    return Response(_encrypted_xml_text(message.sender_id, plain_text(reply.markdown)), mimetype="application/xml")


def click_identity(inner: dict) -> str:
    """A click event's own identity. WeCom gives each click a single-use ResponseCode, the same
    in its retries; without one, FromUserName + CreateTime (WeCom's advice for events) with the
    card and the button, so two presses by one person within a second are two clicks."""
    code = str(inner.get("ResponseCode") or "")
    if code:
        return f"event:code:{code}"
    return f"event:{inner['FromUserName']}:{int(inner['CreateTime'])}:{inner['TaskId']}:{inner.get('EventKey') or ''}"


def _card_event(inner: dict):
    """A button pressed on a template card: applied once (by the event's own identity and by
    the card's own state); the card update and any explanation go out through the outbox."""
    try:
        click = CardClick(platform="wecom", track_id=str(inner["TaskId"]), user_id=str(inner["FromUserName"]),
                          action=str(inner.get("EventKey") or ""),
                          params={"response_code": str(inner.get("ResponseCode") or "")})
        dedupe = click_identity(inner)
    except (KeyError, ValueError, TypeError):
        _fail(400, "template_card_event without TaskId, FromUserName or CreateTime")
    outcome = _relay().handle_click(click, dedupe_key=dedupe)
    if outcome.result is ClickResult.UNKNOWN_CARD:
        _fail(404, "not a card we sent")
    return Response("success", mimetype="text/plain")


def _contact_event(inner: dict):
    """A directory change (change_contact): the users it names are read again and applied at
    once; department changes wait for the daily sync (workshops are mapped by department id)."""
    from bot.directory.sync import apply_event
    kind, user = str(inner.get("ChangeType") or ""), str(inner.get("UserID") or "")
    new = str(inner.get("NewUserID") or "")
    if kind in ("create_user", "update_user") and user:
        apply_event(_relay(), "wecom", changed=[new or user], renamed={user: new} if new and new != user else None)
    elif kind == "delete_user" and user:
        apply_event(_relay(), "wecom", gone=[user])
    elif kind == "update_tag":
        users = [u for key in ("AddUserItems", "DelUserItems") for u in str(inner.get(key) or "").split(",") if u]
        if users:
            apply_event(_relay(), "wecom", changed=users)
    return Response("success", mimetype="text/plain")


def _encrypted_xml_text(to_user: str, text: str) -> str:
    now = str(_relay().clock.epoch())
    corp_id = current_app.extensions["linerelay.wecom"].settings.corp_id
    plain = xmltodict.unparse({"xml": {"ToUserName": to_user, "FromUserName": corp_id,
                                       "CreateTime": now, "MsgType": "text", "Content": text}}, full_document=False)
    nonce = secrets.token_hex(8)
    encrypt, signature = _crypto("app").encrypt(plain, now, nonce)
    return xmltodict.unparse({"xml": {"Encrypt": encrypt, "MsgSignature": signature, "TimeStamp": now,
                                      "Nonce": nonce}}, full_document=False)
