"""The sandbox's chat page (`/sandbox`): try LineRelay in a browser, as any person, in any group.

The page never calls a handler. A message typed on it is handed to the platform twin, which
encrypts and signs it exactly as WeCom or DingTalk would and posts it to the app's real callback
endpoint; a button pressed on a card becomes the platform's card callback. What the page shows
is what the twins received from the app over their send APIs (group robot pushes, app messages,
interactive cards, card updates, session replies), so it shows what the platform would show.

Only `linerelay sandbox` mounts this blueprint; a production app has no `/sandbox`.
"""
from __future__ import annotations

import functools
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Blueprint, jsonify, request

from bot.board import render_page
from bot.twins.base import Answer, CardChange, SandboxTwin, Seen

if TYPE_CHECKING:
    from bot.config import PersonConfig
    from bot.relay import Relay

MAX_TEXT = 500
MAX_ENTRIES = 5000


@dataclass
class Conversation:
    id: str            # "<platform>:<chat id>" (a group) · "<platform>:@<user id>" (a person's chat with the bot)
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
    image: str = ""    # a picture in the message (its address, or a data: URL)


class SandboxConsole:
    """The chat page's state: conversations, and every message shown in them."""

    def __init__(self, relay: Relay, twins: dict[str, SandboxTwin],
                 switch_mode: Callable[[str], None] | None = None):
        self.relay, self.twins = relay, twins
        self.switch_mode = switch_mode   # starts the demo again in the other WeCom mode (SandboxHost)
        s = relay.settings
        self.people = list(s.people)
        self.identity = {name: relay.platforms[name].identity for name in twins}   # whose user ids each shows
        self.conversations: dict[str, Conversation] = {}
        for g in s.groups:
            if g.platform in twins:
                self._add(Conversation(f"{g.platform}:{g.chat_id}", g.platform, "group", g.name, chat_id=g.chat_id))
        for p in self.people:
            for platform in twins:
                uid = self.user_id(p, platform)
                if uid:
                    self._add(Conversation(f"{platform}:@{uid}", platform, "private", p.name, user_id=uid))
        self.entries: list[Entry] = []
        self.revision = 0
        self._lock = threading.Lock()
        for name, twin in twins.items():
            twin.viewers.append(functools.partial(self._seen, name))

    def _add(self, conv: Conversation) -> None:
        self.conversations[conv.id] = conv

    def platforms(self) -> list[dict]:
        """Each platform as the page presents it (its twin knows how)."""
        return [{"name": name, **twin.describe()} for name, twin in self.twins.items()]

    def user_id(self, person: PersonConfig, platform: str) -> str | None:
        """A demo person's user id on a platform."""
        return person.user_id(self.identity[platform])

    def platform_of(self, user_id: str) -> str | None:
        """The first platform on which a demo person has this user id."""
        return next((name for p in self.people for name in self.twins if self.user_id(p, name) == user_id), None)

    # -- the log -------------------------------------------------------------------------------
    def _now(self) -> str:
        return self.relay.clock.local(self.relay.clock.now()).strftime("%m-%d %H:%M")

    def _append(self, conv: str, who: str, author: str, *, via: str = "", markdown: str = "",
                card: dict | None = None, image: str = "") -> None:
        with self._lock:
            self.revision += 1
            self.entries.append(Entry(self.revision, conv, who, author, self._now(), via, markdown, card, image))
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
        return next((p.name for p in self.people if self.user_id(p, platform) == user_id), user_id)

    # -- what people on the platforms see (the twins tell) ---------------------------------------
    def _seen(self, platform: str, item: Seen | CardChange, author: str = "") -> None:
        if isinstance(item, CardChange):
            self._update_cards(item.card_id, item.users, **item.changes)
            return
        conv = f"{platform}:{item.conv}"
        if conv in self.conversations:
            self._append(conv, item.who, author if item.who == "system" else "", via=item.via,
                         markdown=self._names(platform, item.markdown), card=item.card, image=item.image)

    def _names(self, platform: str, markdown: str) -> str:
        """@-mentions as people see them: `<@zhangwei>` (WeCom) or `@dt-zhangwei` (DingTalk) as `@张伟`."""
        if "@" not in markdown:
            return markdown
        for person in self.people:
            uid = self.user_id(person, platform)
            if uid:
                markdown = re.sub(rf"<@{re.escape(uid)}>|@{re.escape(uid)}(?![\w.-])", f"@{person.name}", markdown)
        return markdown

    def _answered(self, conv: Conversation, user_id: str, answer: Answer) -> dict:
        items: list[Seen | CardChange] = [*answer.seen, *answer.changes]
        for item in items:
            self._seen(conv.platform, item, author=self.person_name(conv.platform, user_id))
        if answer.status != 200 and not answer.seen:   # the app refused the callback: say so
            self._append(conv.id, "system", "", via="rejected", markdown=str(answer.status))
        return {"status": answer.status}

    # -- what the visitor does -----------------------------------------------------------------
    def say(self, conv_id: str, user_id: str, text: str) -> dict:
        """`user_id` types `text` in `conv_id`; the twin posts it to the app's real endpoint."""
        text = (text or "").strip()
        if not text or len(text) > MAX_TEXT:
            raise BadRequest("bad_message")
        conv = self._conversation(conv_id, user_id, "bad_message")
        self._append(conv_id, "me", self.person_name(conv.platform, user_id), markdown=text)
        return self._answered(conv, user_id, self.twins[conv.platform].say(user_id, text, conv.chat_id))

    def _conversation(self, conv_id: str, user_id: str, unknown: str) -> Conversation:
        """The conversation, if `user_id` may speak in it (a private chat is its owner's only)."""
        conv = self.conversations.get(conv_id)
        if conv is None:
            raise BadRequest(unknown)
        if conv.kind == "private" and conv.user_id != user_id:
            raise BadRequest("not_your_chat")
        return conv

    def click(self, conv_id: str, user_id: str, card_id: str, action: str) -> dict:
        """`user_id` presses button `action` on card `card_id`: the platform's card callback."""
        if not card_id or not action:
            raise BadRequest("no_card")
        conv = self._conversation(conv_id, user_id, "no_card")
        return self._answered(conv, user_id, self.twins[conv.platform].press(user_id, card_id, action, conv.chat_id))

    def fast_forward(self, minutes: int) -> dict:
        """Move the sandbox's clock on and run what the scheduler would run by then."""
        if not 1 <= minutes <= 7 * 24 * 60:
            raise BadRequest("bad_minutes")
        from bot.jobs import run_job
        self.relay.clock.advance(timedelta(minutes=minutes))
        done = {name: run_job(self.relay, name) for name in ("delay-scan", "reminders", "daily-digest")}
        done["outbox"] = run_job(self.relay, "outbox")
        return {**self.clock(), "jobs": done}

    def minutes_until(self, hhmm: str, workday: bool = False) -> int:
        """Minutes from now to the next factory-local `hhmm` (tomorrow's, if today's has passed);
        `workday`: on the plant's next working day (the morning button on a Friday night goes to
        Monday, where the digest comes, not to a Saturday without one)."""
        local = self.relay.clock.local(self.relay.clock.now())
        hour, minute = map(int, hhmm.split(":"))
        target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if target <= local:
            target += timedelta(days=1)
        if workday:
            from storage import planner
            with self.relay.Session() as session:
                cal = planner.calendar(session)
                for _ in range(6):   # within the 7 days the clock may move at once
                    if cal.is_workday(target.date(), None):
                        break
                    target += timedelta(days=1)
        return max(1, int((target - local).total_seconds() // 60) + 1)


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

    def wecom_mode() -> str:
        return "long_connection" if "wecom-ws" in console.relay.platforms else "callback"

    @bp.get("/sandbox/api/mode")
    def mode():
        return jsonify(mode=wecom_mode(), switchable=console.switch_mode is not None)

    @bp.post("/sandbox/api/mode")
    def switch_mode():
        """The header's switch: the demo starts again with WeCom on the other mode (202), the
        page polls GET /sandbox/api/mode until it has."""
        wanted = str(body().get("mode", ""))
        if wanted not in ("callback", "long_connection"):
            raise BadRequest("bad_mode")
        if wanted == wecom_mode():
            return jsonify(mode=wanted, restarting=False)
        if console.switch_mode is None:
            raise BadRequest("mode_switch_unavailable")
        console.switch_mode(wanted)
        return jsonify(mode=wanted, restarting=True), 202

    @bp.get("/sandbox")
    def page():
        tokens = console.relay.settings.api.board_tokens
        return render_page(
            "sandbox",
            people=[{"name": p.name, "roles": list(p.roles), "workshops": list(p.workshops),
                     "ids": {name: console.user_id(p, name) for name in console.twins}} for p in console.people],
            conversations=[asdict(c) for c in console.conversations.values()],
            platforms=console.platforms(),
            wecom_mode=wecom_mode(), switchable=console.switch_mode is not None,
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
                minutes = console.minutes_until(str(data["until"]), workday=bool(data.get("workday")))
            except ValueError:
                raise BadRequest("bad_time") from None
        else:
            try:
                minutes = int(data.get("minutes", 0))
            except (TypeError, ValueError):
                raise BadRequest("bad_minutes") from None
        return jsonify(console.fast_forward(minutes))

    return bp
