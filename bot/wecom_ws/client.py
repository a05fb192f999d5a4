"""A small client for WeCom's AI-bot long connection, on `websockets`, following the documented frames.

Frames are `{cmd, headers: {req_id}, body}`; every frame we send is answered by an ack
`{headers: {req_id}, errcode, errmsg}`. `open()` returns only once WeCom has accepted the
subscription (or raises); callbacks (`aibot_msg_callback`, `aibot_event_callback`) come out of
`frames()`; `request()` sends one frame and waits for its ack. A `disconnected_event` (another
process subscribed with this bot) ends `frames()` with `Kicked`: the caller must stop, not
reconnect, or the two would kick each other forever. A ping goes out every `ping_seconds`; two
unanswered pings close the connection, which the caller sees as a drop.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import ssl
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

log = logging.getLogger(__name__)

SUBSCRIBE, PING = "aibot_subscribe", "ping"
MSG_CALLBACK, EVENT_CALLBACK = "aibot_msg_callback", "aibot_event_callback"
RESPOND, RESPOND_UPDATE, SEND = "aibot_respond_msg", "aibot_respond_update_msg", "aibot_send_msg"
MISSED_PINGS = 2


class Kicked(Exception):
    """WeCom said another connection subscribed with this bot: this one must stop for good."""


class AuthFailed(Exception):
    """The subscription was refused (wrong BotID or Secret, errcode 853000 …)."""


class ConnectionLost(Exception):
    """The connection is gone (dropped, closed, or not answering pings)."""


class FrameError(Exception):
    """WeCom answered a frame with an error code."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"errcode {errcode} {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


def new_req_id(cmd: str) -> str:
    return f"{cmd}_{secrets.token_hex(10)}"


class AiBotConnection:
    """One subscribed connection. Not reused: after a drop, open a new one."""

    def __init__(self, url: str, bot_id: str, secret: str, *, ping_seconds: float = 30.0,
                 ack_timeout: float = 5.0):
        self.url, self.bot_id, self.secret = url, bot_id, secret
        self.ping_seconds, self.ack_timeout = ping_seconds, ack_timeout
        self._ws: ClientConnection | None = None
        self._pending: dict[str, deque[asyncio.Future[dict]]] = {}
        self._inbound: asyncio.Queue[dict | BaseException] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self.kicked = False

    async def open(self) -> None:
        """Connect and subscribe; returns once WeCom accepted the subscription."""
        # Only wss:// gets TLS: a plain ws:// URL (a local twin) must not be handed an SSL context.
        tls = ssl.create_default_context() if self.url.startswith("wss://") else None
        self._ws = await connect(self.url, ssl=tls, ping_interval=None, close_timeout=2, max_size=2**22)
        self._tasks.append(asyncio.create_task(self._read(), name="aibot-read"))
        try:
            await self.request(SUBSCRIBE, {"bot_id": self.bot_id, "secret": self.secret})
        except FrameError as exc:
            await self.close()
            raise AuthFailed(str(exc)) from exc
        except (ConnectionLost, TimeoutError) as exc:
            await self.close()
            raise ConnectionLost(f"no answer to the subscription: {exc}") from exc
        self._tasks.append(asyncio.create_task(self._ping(), name="aibot-ping"))

    async def request(self, cmd: str, body: dict[str, Any] | None = None, req_id: str | None = None,
                      timeout: float | None = None) -> dict:
        """Send one frame and wait for its ack; FrameError when WeCom answers with an error."""
        ws = self._ws
        if ws is None:
            raise ConnectionLost("not connected")
        req_id = req_id or new_req_id(cmd)
        frame: dict[str, Any] = {"cmd": cmd, "headers": {"req_id": req_id}}
        if body is not None:
            frame["body"] = body
        future: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(req_id, deque()).append(future)
        try:
            await ws.send(json.dumps(frame, ensure_ascii=False))
            # not wait_for: Python 3.11's returns an ack that came in the turn a cancel did and
            # swallows the cancel (a stop just as the subscription was acknowledged was lost)
            async with asyncio.timeout(timeout or self.ack_timeout):
                ack = await future
        except ConnectionClosed as exc:
            raise ConnectionLost(str(exc)) from exc
        finally:
            if not future.done():   # timed out or cancelled: nobody will read what comes later
                future.cancel()
            waiting = self._pending.get(req_id)
            if waiting is not None and future in waiting:
                waiting.remove(future)
            if not waiting:
                self._pending.pop(req_id, None)
        if ack.get("errcode", 0):
            raise FrameError(int(ack["errcode"]), str(ack.get("errmsg", "")))
        return ack

    async def frames(self) -> AsyncIterator[dict]:
        """The callbacks, in order, until the connection ends (ConnectionLost) or is taken over (Kicked)."""
        while True:
            item = await self._inbound.get()
            if isinstance(item, BaseException):
                raise item
            yield item

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        self._fail_pending(ConnectionLost("closed"))
        self._inbound.put_nowait(ConnectionLost("closed here"))   # whoever reads frames() sees the end

    # -- inside -----------------------------------------------------------------------------
    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                self._dispatch(raw)
                if self.kicked:
                    break
        except ConnectionClosed:
            pass
        code = self._ws.close_code
        end: BaseException = Kicked("another connection subscribed with this bot") if self.kicked \
            else ConnectionLost(f"connection closed (code {code})")
        self._fail_pending(ConnectionLost(str(end)))
        await self._inbound.put(end)

    def _dispatch(self, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            log.warning("aibot: a frame that is not JSON, ignored")
            return
        if not isinstance(frame, dict):
            return
        cmd = frame.get("cmd")
        if cmd in (MSG_CALLBACK, EVENT_CALLBACK):
            if event_type(frame) == "disconnected_event":
                self.kicked = True
                return
            self._inbound.put_nowait(frame)
            return
        req_id = str((frame.get("headers") or {}).get("req_id", ""))
        waiting = self._pending.get(req_id)
        if waiting:
            future = waiting.popleft()
            if not future.done():
                future.set_result(frame)

    async def _ping(self) -> None:
        missed = 0
        while True:
            await asyncio.sleep(self.ping_seconds)
            try:
                await self.request(PING, timeout=self.ping_seconds)
                missed = 0
            except (TimeoutError, FrameError):
                missed += 1
                log.warning("aibot: ping unanswered (%s in a row)", missed)
            except ConnectionLost:
                return
            if missed >= MISSED_PINGS and self._ws is not None:
                await self._ws.close(code=4000, reason="pings unanswered")
                return

    def _fail_pending(self, exc: BaseException) -> None:
        for waiting in self._pending.values():
            for future in waiting:
                if not future.done():
                    future.set_exception(exc)
        self._pending.clear()


def event_type(frame: dict) -> str:
    """`disconnected_event`, `template_card_event` … for an event callback; "" otherwise."""
    body = frame.get("body") or {}
    event = body.get("event") if isinstance(body, dict) else None
    return str(event.get("eventtype", "")) if isinstance(event, dict) else ""
