"""What every platform twin shares: a recording of every send, waiting for one, injected faults,
and what a person on the platform would see, in a neutral form any page can draw."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from collections.abc import Callable

import requests

from bot.twins.server import ThreadedServer


@dataclass
class Sent:
    """One message the app sent to the platform."""
    api: str               # e.g. "webhook", "message", "update_card", "card", "session"
    target: str            # webhook key, user, chat, response code, outTrackId …
    payload: dict[str, Any]
    at: float = field(default_factory=time.time)

    @property
    def text(self) -> str:
        """The visible text of markdown, text and stream payloads."""
        for kind in ("markdown", "text", "stream", "markdown_v2"):
            if isinstance(self.payload.get(kind), dict):
                part = self.payload[kind]
                return part.get("content", part.get("text", ""))  # DingTalk markdown uses "text"
        return json.dumps(self.payload, ensure_ascii=False)


@dataclass
class Seen:
    """A message as a person on the platform would see it in one chat."""
    conv: str                  # the group's chat id, or "@<user id>" for a person's chat with the bot
    via: str                   # how it reached the chat, in the platform's terms (webhook, app_card, card …)
    markdown: str = ""
    card: dict[str, Any] | None = None   # {id, title, body, buttons: [{key, label, style}], outcome}
    who: str = "bot"           # "bot", or "system" for what the platform itself says (a toast)
    image: str = ""            # a picture the message shows: its address (or a data: URL)


@dataclass
class CardChange:
    """A card that changed in place where people see it."""
    card_id: str
    users: list[str] | None    # whose copies changed (None: every copy)
    changes: dict[str, Any]    # the card's new buttons, outcome, body …


@dataclass
class Answer:
    """What a person sees at once after typing or pressing something on the platform."""
    status: int                # the app's HTTP answer to the platform's callback
    seen: list[Seen] = field(default_factory=list)
    changes: list[CardChange] = field(default_factory=list)


Viewer = Callable[["Seen | CardChange"], None]


class SandboxTwin(Protocol):
    """What the sandbox needs of a platform's twin: a person typing and pressing buttons there,
    what people see, and how the page should present the platform."""
    viewers: list[Viewer]
    app_url: str | None

    @property
    def base_url(self) -> str: ...

    def say(self, user_id: str, text: str, chat_id: str | None) -> Answer:
        """`user_id` types `text` in group `chat_id` (None: their own chat with the bot)."""
        ...

    def press(self, user_id: str, card_id: str, action: str, chat_id: str | None) -> Answer:
        """`user_id` presses button `action` on card `card_id` where they see it."""
        ...

    def describe(self) -> dict[str, Any]:
        """Title, colour, a line about each kind of chat, names of its ways of delivering."""
        ...

    def stop(self) -> None: ...


class TwinBase:
    name = "twin"
    MAX_REMEMBERED = 5000      # conversations remembered for replies that come later

    def __init__(self, app_url: str | None, clock: Callable[[], float] | None):
        self.app_url = app_url
        self.clock = clock or (lambda: int(time.time()))
        self.sent: list[Sent] = []
        self.tokens: set[str] = set()
        self.failures: list[tuple[str, Any]] = []   # queued faults: ("http", 500) / ("errcode", 45009) / ("sleep", s)
        self.viewers: list[Viewer] = []   # told what people see after every accepted send (the sandbox page)
        self._lock = threading.Condition()
        self._local = threading.local()
        self.server = ThreadedServer(self._build_app())

    def _build_app(self):
        raise NotImplementedError

    @property
    def http(self) -> requests.Session:
        """One HTTP session per calling thread (tests post from many threads at once)."""
        if not hasattr(self._local, "http"):
            self._local.http = requests.Session()
        return self._local.http

    @property
    def base_url(self) -> str:
        return self.server.url

    def start(self):
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def _record(self, sent: Sent) -> None:
        with self._lock:
            self.sent.append(sent)
            self._lock.notify_all()
        if self.viewers:
            for item in self.shown(sent):
                for viewer in self.viewers:
                    viewer(item)

    def shown(self, sent: Sent) -> list[Seen | CardChange]:
        """What people see because of a send (each twin knows how its platform shows it)."""
        return []

    def remember(self, table: dict[str, str], key: str, value: str) -> None:
        """Remember where a later reply goes; the oldest is forgotten first."""
        with self._lock:
            table[key] = value
            while len(table) > self.MAX_REMEMBERED:
                table.pop(next(iter(table)))

    def wait_for(self, predicate: Callable[[Sent], bool], timeout: float = 10.0) -> Sent:
        """The first recorded send matching `predicate`, waiting for it up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for sent in self.sent:
                    if predicate(sent):
                        return sent
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching {self.name} send within {timeout}s; sent: {self.sent!r}")
                self._lock.wait(remaining)

    def sends_to(self, api: str, target: str | None = None) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.api == api and (target is None or s.target == target)]

    def fail_next(self, *faults: tuple[str, Any]) -> None:
        with self._lock:
            self.failures.extend(faults)

    def expire_tokens(self) -> None:
        """The platform may invalidate an access token early; the app must refresh."""
        self.tokens.clear()

    def take_fault(self) -> tuple[str, Any] | None:
        """The next injected fault, if any. ("sleep", s) sleeps and lets the call go on;
        ("timeout", s) sleeps and then fails without doing anything (a gateway timeout)."""
        with self._lock:
            if not self.failures:
                return None
            kind, value = self.failures.pop(0)
        if kind in ("sleep", "timeout"):
            time.sleep(value)
            return ("http", 504) if kind == "timeout" else None
        return kind, value
