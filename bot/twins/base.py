"""What both platform twins share: a recording of every send, waiting for one, injected faults."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

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


class TwinBase:
    name = "twin"

    def __init__(self, app_url: str | None, clock: Callable[[], float] | None):
        self.app_url = app_url
        self.clock = clock or (lambda: int(time.time()))
        self.sent: list[Sent] = []
        self.tokens: set[str] = set()
        self.failures: list[tuple[str, Any]] = []   # queued faults: ("http", 500) / ("errcode", 45009) / ("sleep", s)
        self.listeners: list[Callable[[Sent], None]] = []   # told of every accepted send (the sandbox chat page)
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
        for listener in self.listeners:
            listener(sent)

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
