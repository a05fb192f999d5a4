"""The sandbox's chat page (`/sandbox`): try LineRelay in a browser, as any person, in any group.

The page never calls a handler. A message typed on it is handed to the platform twin, which
encrypts and signs it exactly as WeCom or DingTalk would and posts it to the app's real callback
endpoint; a button pressed on a card becomes the platform's card callback. What the page shows
is what the twins received from the app over their send APIs (group robot pushes, app messages,
interactive cards, card updates, session replies), so it shows what the platform would show.

Only `linerelay sandbox` mounts this blueprint; a production app has no `/sandbox`.
"""
from __future__ import annotations

import json
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from flask import Blueprint, jsonify, request

from bot.board import render_page

from bot.twins.base import Sent

MAX_TEXT = 500
MAX_ENTRIES = 5000


@dataclass
class Conversation:
    id: str            # "wecom:wr-stamping" (a group) · "wecom:@zhangwei" (a person's chat with the bot)
    platform: str
    kind: str          # "group" | "private"
    name: str
    chat_id: str | None = None
    user_id: str | None = None


@dataclass
class Entry:
    id: int
    conv: str
    who: str           # "me" (typed on the page) | "bot" | "system" (the sandbox explaining itself)
    author: str        # the person's name for "me"; empty for the bot
    at: str
    via: str = ""      # how it reached the chat (aibot_reply, webhook, app_card, card, toast, rejected …);
                       # the page's template names each in Chinese
    markdown: str = ""
    card: dict | None = field(default=None)   # {id, title, body, buttons: [{key, label, style}], outcome}


class SandboxConsole:
    """The chat page's state: conversations, and every message shown in them."""

    def __init__(self, relay, wecom_twin, dingtalk_twin):
        self.relay, self.wecom, self.dingtalk = relay, wecom_twin, dingtalk_twin
        s = relay.settings
        self.people = list(s.people)
        self.conversations: dict[str, Conversation] = {}
        for g in s.groups:
            self._add(Conversation(f"{g.platform}:{g.chat_id}", g.platform, "group", g.name, chat_id=g.chat_id))
        for p in self.people:
            for platform, uid in p.identities:
                self._add(Conversation(f"{platform}:@{uid}", platform, "private", p.name, user_id=uid))
        self._webhook_groups = {(g.platform, g.webhook_key): f"{g.platform}:{g.chat_id}" for g in s.groups
                                if g.webhook_key}
        self._replies: dict[str, str] = {}       # DingTalk session id / WeCom msgid -> conversation
        self.entries: list[Entry] = []
        self.revision = 0
        self._lock = threading.Lock()
        wecom_twin.listeners.append(lambda sent: self._received("wecom", sent))
        dingtalk_twin.listeners.append(lambda sent: self._received("dingtalk", sent))

    def _expect_reply(self, key: str, conv_id: str) -> None:
        with self._lock:
            self._replies[key] = conv_id
            while len(self._replies) > MAX_ENTRIES:   # oldest first (dicts keep insertion order)
                self._replies.pop(next(iter(self._replies)))

    def _add(self, conv: Conversation) -> None:
        self.conversations[conv.id] = conv

    # -- the log -------------------------------------------------------------------------------
    def _now(self) -> str:
        return self.relay.clock.local(self.relay.clock.now()).strftime("%m-%d %H:%M")

    def _append(self, conv: str, who: str, author: str, *, via: str = "", markdown: str = "",
                card: dict | None = None) -> None:
        with self._lock:
            self.revision += 1
            self.entries.append(Entry(self.revision, conv, who, author, self._now(), via, markdown, card))
            del self.entries[:-MAX_ENTRIES]   # a sandbox left running for weeks keeps the newest

    def _update_cards(self, card_id: str, users: list[str] | None, **changes) -> None:
        """A card changed in place (decided): every copy of it, or the copies of `users`."""
        with self._lock:
            for e in self.entries:
                if e.card and e.card["id"] == card_id and (users is None or self.conversations[e.conv].user_id in users):
                    e.card.update(changes)   # in place: a card keeps its spot in the chat
                    self.revision += 1       # pollers see that something changed

    def clock(self) -> dict:
        """The sandbox's time, as the page's header shows it."""
        local = self.relay.clock.local(self.relay.clock.now())
        return {"clock": local.strftime("%Y-%m-%d %H:%M"), "weekday": local.isoweekday()}

    def since(self, revision: int) -> list[Entry]:
        """Messages added after `revision`."""
        with self._lock:
            return [e for e in self.entries if e.id > revision]

    def state(self) -> dict:
        with self._lock:
            entries = [asdict(e) for e in self.entries]   # appended in id order
            revision = self.revision
        return {"revision": revision, **self.clock(), "entries": entries}

    def person_name(self, platform: str, user_id: str) -> str:
        return next((p.name for p in self.people if p.user_id(platform) == user_id), user_id)

    # -- what the platforms received from the app -----------------------------------------------
    def _received(self, platform: str, sent: Sent) -> None:
        handler = getattr(self, f"_{platform}_{sent.api}", None)
        if handler is not None:
            handler(sent)

    def _wecom_webhook(self, sent: Sent) -> None:
        conv = self._webhook_groups.get(("wecom", sent.target))
        if conv:
            self._append(conv, "bot", "", via="webhook", markdown=sent.text)

    def _wecom_message(self, sent: Sent) -> None:
        body = sent.payload
        for user in sent.target.split("|"):
            conv = f"wecom:@{user}"
            if conv not in self.conversations:
                continue
            if body.get("msgtype") == "template_card":
                tc = body["template_card"]
                styles = {1: "primary", 2: "danger"}
                self._append(conv, "bot", "", via="app_card", card={
                    "id": tc["task_id"], "title": tc["main_title"]["title"], "body": tc.get("sub_title_text", ""),
                    "buttons": [{"key": b["key"], "label": b["text"], "style": styles.get(b.get("style"), "normal")}
                                for b in tc.get("button_list", [])], "outcome": ""})
            else:
                self._append(conv, "bot", "", via="app", markdown=sent.text)

    def _wecom_update_card(self, sent: Sent) -> None:
        task_id = self.wecom.click_codes.get(sent.target)
        if task_id:
            self._update_cards(task_id, list(sent.payload.get("userids") or []) or None, buttons=[],
                               outcome=sent.payload.get("button", {}).get("replace_name", ""))

    def _wecom_response_url(self, sent: Sent) -> None:
        conv = self._replies.get(sent.target)
        if conv:
            self._append(conv, "bot", "", via="response_url", markdown=sent.text)

    def _dingtalk_session(self, sent: Sent) -> None:
        conv = self._replies.get(sent.target)
        if conv:
            self._append(conv, "bot", "", via="session", markdown=sent.text)

    def _dingtalk_group_message(self, sent: Sent) -> None:
        self._append(f"dingtalk:{sent.target}", "bot", "", via="group_message", markdown=sent.text)

    def _dingtalk_custom_webhook(self, sent: Sent) -> None:
        conv = self._webhook_groups.get(("dingtalk", sent.target))
        if conv:
            self._append(conv, "bot", "", via="custom_webhook", markdown=sent.text)

    def _dingtalk_oto(self, sent: Sent) -> None:
        conv = f"dingtalk:@{sent.target}"
        if conv in self.conversations:
            self._append(conv, "bot", "", via="oto", markdown=sent.text)

    def _dingtalk_card(self, sent: Sent) -> None:
        body = sent.payload["body"]
        self._append(f"dingtalk:{sent.target}", "bot", "", via="card",
                     card=dingtalk_card(body["outTrackId"], body["cardData"]["cardParamMap"]))

    def _dingtalk_card_update(self, sent: Sent) -> None:
        self._show_dingtalk_card(sent.target, sent.payload.get("cardData", {}).get("cardParamMap"))

    def _show_dingtalk_card(self, track_id: str, params: dict | None) -> None:
        """A DingTalk card changed in place: its new parameters (from an update or a click's answer)."""
        if params:
            card = dingtalk_card(track_id, params)
            self._update_cards(track_id, None, buttons=card["buttons"], outcome=card["outcome"], body=card["body"])

    def _rejected(self, conv_id: str, status: int) -> None:
        """The app refused the callback: the page says so (it never should, from this page)."""
        self._append(conv_id, "system", "", via="rejected", markdown=str(status))

    # -- what the visitor does -----------------------------------------------------------------
    def say(self, conv_id: str, user_id: str, text: str) -> dict:
        """`user_id` types `text` in `conv_id`; the twin posts it to the app's real endpoint."""
        text = (text or "").strip()
        if not text or len(text) > MAX_TEXT:
            raise BadRequest("bad_message")
        conv = self._conversation(conv_id, user_id, "bad_message")
        self._append(conv_id, "me", self.person_name(conv.platform, user_id), markdown=text)
        if conv.platform == "wecom":
            return self._say_wecom(conv, user_id, text)
        return self._say_dingtalk(conv, user_id, text)

    def _conversation(self, conv_id: str, user_id: str, unknown: str) -> Conversation:
        """The conversation, if `user_id` may speak in it (a private chat is its owner's only)."""
        conv = self.conversations.get(conv_id)
        if conv is None:
            raise BadRequest(unknown)
        if conv.kind == "private" and conv.user_id != user_id:
            raise BadRequest("not_your_chat")
        return conv

    def _say_wecom(self, conv: Conversation, user_id: str, text: str) -> dict:
        if conv.kind == "group":   # @-mention of the AI bot: JSON callback, stream reply in the response
            msgid = f"aibot-{secrets.token_hex(8)}"
            self._expect_reply(msgid, conv.id)   # a later answer to its response_url lands here too
            result = self.wecom.aibot_text(user_id, text, chatid=conv.chat_id, msgid=msgid)
            reply = (result.reply or {}).get("stream", {}).get("content") if result.status == 200 else None
            via = "aibot_reply"
        else:                      # the self-built app's chat: XML callback, passive XML reply
            result = self.wecom.app_text(user_id, text)
            reply = (result.reply or {}).get("Content") if result.status == 200 else None
            via = "app_reply"
        if reply:
            self._append(conv.id, "bot", "", via=via, markdown=reply)
        elif result.status != 200:
            self._rejected(conv.id, result.status)
        return {"status": result.status}

    def _say_dingtalk(self, conv: Conversation, user_id: str, text: str) -> dict:
        body, session = self.dingtalk.robot_body(user_id, text, conversation_id=conv.chat_id)
        self._expect_reply(session, conv.id)   # the reply arrives at this sessionWebhook, maybe before we return
        resp = self.dingtalk.robot_message(body)
        if resp.status_code != 200:
            self._rejected(conv.id, resp.status_code)
        return {"status": resp.status_code}

    def click(self, conv_id: str, user_id: str, card_id: str, action: str) -> dict:
        """`user_id` presses button `action` on card `card_id`: the platform's card callback."""
        if not card_id or not action:
            raise BadRequest("no_card")
        conv = self._conversation(conv_id, user_id, "no_card")
        if conv.platform == "wecom":
            result = self.wecom.card_click(user_id, card_id, action)
            if result.status != 200:
                self._rejected(conv.id, result.status)
            return {"status": result.status}
        resp = self.dingtalk.click(card_id, user_id, action)
        try:
            payload = resp.json()
        except ValueError:
            payload = {}
        # DingTalk shows the card the callback answered with
        self._show_dingtalk_card(card_id, payload.get("cardData", {}).get("cardParamMap"))
        if payload.get("message"):
            self._append(conv.id, "system", self.person_name("dingtalk", user_id), via="toast",
                         markdown=str(payload["message"]))
        elif resp.status_code != 200:
            self._rejected(conv.id, resp.status_code)
        return {"status": resp.status_code}

    def fast_forward(self, minutes: int) -> dict:
        """Move the sandbox's clock on and run what the scheduler would run by then."""
        if not 1 <= minutes <= 7 * 24 * 60:
            raise BadRequest("bad_minutes")
        from bot.jobs import run_job
        self.relay.clock.advance(timedelta(minutes=minutes))
        done = {name: run_job(self.relay, name) for name in ("delay-scan", "reminders", "daily-digest")}
        done["outbox"] = run_job(self.relay, "outbox")
        return {**self.clock(), "jobs": done}

    def minutes_until(self, hhmm: str) -> int:
        """Minutes from now to the next factory-local `hhmm` (tomorrow's, if today's has passed)."""
        local = self.relay.clock.local(self.relay.clock.now())
        hour, minute = map(int, hhmm.split(":"))
        target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if target <= local:
            target += timedelta(days=1)
        return max(1, int((target - local).total_seconds() // 60) + 1)


def dingtalk_card(track_id: str, params: dict) -> dict:
    buttons = json.loads(params.get("buttons") or "[]")
    return {"id": track_id, "title": params.get("title", ""), "body": params.get("markdown", ""),
            "buttons": [{"key": b["action"], "label": b["text"], "style": b.get("style", "normal")} for b in buttons],
            "outcome": params.get("outcome", "")}


class BadRequest(ValueError):
    """A visitor's request the sandbox cannot carry out; the message is a code the page explains."""


def blueprint(console: SandboxConsole) -> Blueprint:
    bp = Blueprint("sandbox", __name__)

    def body() -> dict:
        if not request.is_json:   # JSON only: a cross-site form post cannot drive the sandbox
            raise BadRequest("json_required")
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise BadRequest("json_required")
        return data

    @bp.errorhandler(BadRequest)
    def bad_request(exc):
        return jsonify(error=str(exc)), 400

    @bp.get("/sandbox")
    def page():
        tokens = console.relay.settings.api.board_tokens
        return render_page(
            "sandbox",
            people=[{"name": p.name, "roles": list(p.roles), "workshops": list(p.workshops),
                     "ids": dict(p.identities)} for p in console.people],
            conversations=[asdict(c) for c in console.conversations.values()],
            board_url=f"/board?token={tokens[0]}" if tokens else "")

    @bp.get("/sandbox/api/state")
    def state():
        since = request.args.get("since", type=int, default=-1)
        if since == console.revision:   # the page polls often: only the time, unless something changed
            return jsonify(revision=since, unchanged=True, **console.clock())
        return jsonify(console.state())

    @bp.post("/sandbox/api/say")
    def say():
        data = body()
        return jsonify(console.say(str(data.get("conv", "")), str(data.get("user", "")), str(data.get("text", ""))))

    @bp.post("/sandbox/api/click")
    def click():
        data = body()
        return jsonify(console.click(str(data.get("conv", "")), str(data.get("user", "")),
                                     str(data.get("card", "")), str(data.get("action", ""))))

    @bp.post("/sandbox/api/clock")
    def clock():
        data = body()
        if data.get("until"):
            try:
                minutes = console.minutes_until(str(data["until"]))
            except ValueError:
                raise BadRequest("bad_time") from None
        else:
            try:
                minutes = int(data.get("minutes", 0))
            except (TypeError, ValueError):
                raise BadRequest("bad_minutes") from None
        return jsonify(console.fast_forward(minutes))

    return bp
