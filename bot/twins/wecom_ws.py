"""The WeCom twin's AI-bot long connection: a local WebSocket gateway speaking the documented
frames (path/101463): `aibot_subscribe` (BotID + Secret), `ping`, `aibot_msg_callback` and
`aibot_event_callback` pushed to the holder, `aibot_respond_msg`, `aibot_respond_update_msg`
(within 5 s of the click), `aibot_send_msg`, and `disconnected_event` when a second
subscription takes the bot over. Every frame is acked `{headers: {req_id}, errcode, errmsg}`.

What the docs leave open, the twin decides and says so: a push into a chat where nobody has
written to the bot is refused with 93006; more than 30 a minute into one conversation with
45009; message callbacks not answered when a connection ends are delivered again to the next
holder (the receiver's msgid dedupe makes that harmless, and it is the only way not to lose
them); a frame received while `drop_on` says so is not applied and the connection is cut.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from websockets.asyncio.server import ServerConnection

from bot.twins.base import Sent
from bot.twins.wsserver import WebSocketServerThread

UPDATE_WINDOW = 5.0
PUSHES_PER_MINUTE = 30


class AiBotGateway(WebSocketServerThread):
    def __init__(self, bot_id: str, secret: str, host: str = "127.0.0.1", aibot_id: str = "twin-aibot"):
        super().__init__(host, name="wecom-ws-twin")
        self.bot_id, self.secret, self.aibot_id = bot_id, secret, aibot_id
        self.holder: ServerConnection | None = None
        self.subscriptions = 0
        self.kicked = 0                           # disconnected_events sent
        self.known_chats: set[str] = set()        # chats where someone wrote to the bot: pushes accepted
        self.refuse: dict[str, int] = {}          # chat -> errcode its pushes get (injected)
        self.sent: list[Sent] = []                # pushes, replies and card updates the bot made
        self.acks: list[dict] = []                # every ack the twin gave (errcode and cmd)
        self.drop_on: Callable[[dict], bool] | None = None   # cut the connection on such a frame
        self.on_sent: Callable[[Sent], None] | None = None   # told of every send (the sandbox page)
        self._callbacks: dict[str, tuple[float, dict]] = {}   # req_id -> (when, frame) awaiting an answer
        self._clicks: dict[str, float] = {}       # click req_id -> when it was delivered
        self._answers: dict[str, Future] = {}
        self._pushes: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._subscribed = threading.Condition(self._lock)

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    # -- the server side: frames from the bot ---------------------------------------------------
    async def _handle(self, ws: ServerConnection) -> None:
        try:
            async for raw in ws:
                try:
                    frame = json.loads(raw)
                except ValueError:
                    continue
                if self.drop_on is not None and self.drop_on(frame):
                    ws.transport.abort()   # cut, as a network would: no close frame, nothing applied
                    return
                await self._frame(ws, frame)
        except Exception:   # a client that vanished mid-frame
            pass
        finally:
            with self._lock:
                if self.holder is ws:
                    self.holder = None

    async def _frame(self, ws: ServerConnection, frame: dict) -> None:
        cmd, req_id = frame.get("cmd"), str((frame.get("headers") or {}).get("req_id", ""))
        body = frame.get("body") or {}
        if cmd == "aibot_subscribe":
            errcode, errmsg = await self._subscribe(ws, body)
        elif ws is not self.holder:
            errcode, errmsg = 846609, "not subscribed"
        elif cmd == "ping":
            errcode, errmsg = 0, "ok"
        elif cmd == "aibot_respond_msg":
            errcode, errmsg = self._respond(req_id, body)
        elif cmd == "aibot_respond_update_msg":
            errcode, errmsg = self._update(req_id, body)
        elif cmd == "aibot_send_msg":
            errcode, errmsg = self._push(body)
        else:
            errcode, errmsg = 40008, f"unknown cmd {cmd}"
        self.acks.append({"cmd": cmd, "req_id": req_id, "errcode": errcode})
        await ws.send(json.dumps({"headers": {"req_id": req_id}, "errcode": errcode, "errmsg": errmsg}))

    async def _subscribe(self, ws: ServerConnection, body: dict) -> tuple[int, str]:
        if body.get("bot_id") != self.bot_id or body.get("secret") != self.secret:
            return 853000, "invalid bot_id or secret"
        old = self.holder
        if old is not None and old is not ws:
            await self._event(old, "disconnected_event", {})
            self.kicked += 1
            await old.close(code=1000, reason="another connection subscribed")
        with self._subscribed:
            self.holder = ws
            self.subscriptions += 1
            self._subscribed.notify_all()
        for _when, frame in list(self._callbacks.values()):   # unanswered: delivered again
            if frame["cmd"] == "aibot_msg_callback":
                await ws.send(json.dumps(frame, ensure_ascii=False))
        return 0, "ok"

    def _respond(self, req_id: str, body: dict) -> tuple[int, str]:
        entry = self._callbacks.pop(req_id, None)
        if entry is None:
            return 40058, "no callback with this req_id awaits an answer"
        frame = entry[1]["body"]
        self._record(Sent("respond", frame.get("chatid") or frame["from"]["userid"], body))
        self._resolve(req_id, body)
        return 0, "ok"

    def _update(self, req_id: str, body: dict) -> tuple[int, str]:
        clicked = self._clicks.pop(req_id, None)
        if clicked is None:
            return 40058, "no card click with this req_id"
        if time.time() - clicked > UPDATE_WINDOW:
            return 40058, "a card is updated within 5 s of its click"
        if body.get("response_type") != "update_template_card" or "template_card" not in body:
            return 40058, "response_type must be update_template_card"
        self._record(Sent("update", body["template_card"].get("task_id", ""), body))
        self._resolve(req_id, body)
        return 0, "ok"

    def _push(self, body: dict) -> tuple[int, str]:
        chat = str(body.get("chatid", ""))
        if body.get("msgtype") not in ("markdown", "template_card"):
            return 40008, "aibot_send_msg takes markdown or template_card"
        if chat in self.refuse:
            return self.refuse[chat], "refused (injected)"
        if chat not in self.known_chats:
            return 93006, "invalid chatid: nobody has written to the bot there"
        now = time.time()
        recent = [t for t in self._pushes.get(chat, []) if now - t < 60]
        if len(recent) >= PUSHES_PER_MINUTE:
            return 45009, "api freq out of limit"
        self._pushes[chat] = recent + [now]
        self._record(Sent("push", chat, body))
        return 0, "ok"

    def _record(self, sent: Sent) -> None:
        self.sent.append(sent)
        if self.on_sent is not None:
            self.on_sent(sent)

    def _resolve(self, req_id: str, body: dict) -> None:
        future = self._answers.get(req_id)
        if future is not None and not future.done():
            future.set_result(body)

    async def _event(self, ws: ServerConnection, event_type: str, detail: dict, **more: Any) -> str:
        req_id = secrets.token_hex(8)
        body = {"msgid": secrets.token_hex(10), "create_time": int(time.time()), "aibotid": self.aibot_id,
                "msgtype": "event", "event": {"eventtype": event_type, event_type: detail}, **more}
        await ws.send(json.dumps({"cmd": "aibot_event_callback", "headers": {"req_id": req_id}, "body": body},
                                 ensure_ascii=False))
        return req_id

    # -- the client side: what people do (called from the tests' thread) -----------------------
    def wait_subscribed(self, count: int = 1, timeout: float = 15.0) -> None:
        with self._subscribed:
            if not self._subscribed.wait_for(lambda: self.subscriptions >= count and self.holder is not None, timeout):
                raise AssertionError(f"no subscription number {count}")

    def message(self, user: str, msgtype: str, content: dict, chatid: str | None = None,
                msgid: str | None = None) -> str:
        """A person writes to the bot (in group `chatid`, or 1:1): the callback goes to the holder."""
        chat = chatid or user
        self.known_chats.add(chat)
        body = {"msgid": msgid or secrets.token_hex(10), "aibotid": self.aibot_id, "chatid": chat,
                "chattype": "group" if chatid else "single", "from": {"userid": user}, "msgtype": msgtype,
                msgtype: content, "response_url": f"http://127.0.0.1:9/aibot/response/{secrets.token_hex(6)}"}
        return self._deliver({"cmd": "aibot_msg_callback", "headers": {"req_id": secrets.token_hex(8)}, "body": body})

    def text(self, user: str, text: str, chatid: str | None = None, msgid: str | None = None) -> str:
        content = f"@产线接力 {text}" if chatid else text   # in a group the text keeps the @-mention
        return self.message(user, "text", {"content": content}, chatid, msgid)

    def say(self, user: str, text: str, chatid: str | None = None, msgid: str | None = None,
            timeout: float = 30.0) -> str:
        """`user` writes; returns the reply's text as it shows (a finished stream or markdown)."""
        body = self.answer(self.text(user, text, chatid, msgid), timeout)
        part = body.get("stream") or body.get("markdown") or {}
        return str(part.get("content", ""))

    def click(self, user: str, chatid: str, task_id: str, key: str, msgid: str | None = None) -> str:
        """`user` presses button `key` on card `task_id` in `chatid`; returns the click's req_id."""
        detail = {"card_type": "button_interaction", "event_key": key, "task_id": task_id}
        with self._lock:
            holder = self.holder
        if holder is None:
            raise AssertionError("nobody holds the connection")
        future = asyncio.run_coroutine_threadsafe(self._click(holder, user, chatid, detail, msgid), self.loop)
        return future.result(10)

    async def _click(self, ws: ServerConnection, user: str, chatid: str, detail: dict, msgid: str | None) -> str:
        req_id = secrets.token_hex(8)
        self._clicks[req_id] = time.time()
        self._answers[req_id] = Future()
        body = {"msgid": msgid or secrets.token_hex(10), "create_time": int(time.time()), "aibotid": self.aibot_id,
                "chatid": chatid, "chattype": "group", "from": {"userid": user}, "msgtype": "event",
                "event": {"eventtype": "template_card_event", "template_card_event": detail}}
        await ws.send(json.dumps({"cmd": "aibot_event_callback", "headers": {"req_id": req_id}, "body": body},
                                 ensure_ascii=False))
        return req_id

    def answer(self, req_id: str, timeout: float = 30.0) -> dict:
        """What the bot answered to callback `req_id` (a reply, or a card update)."""
        future = self._answers.get(req_id)
        if future is None:
            raise AssertionError(f"no callback {req_id}")
        return future.result(timeout)

    def kick(self) -> None:
        """Another process subscribes with this bot: the holder gets `disconnected_event`."""
        async def go():
            if self.holder is not None:
                await self._event(self.holder, "disconnected_event", {})
                self.kicked += 1
        asyncio.run_coroutine_threadsafe(go(), self.loop).result(10)

    def drop(self) -> None:
        """The network cuts the holder's connection."""
        def cut():
            if self.holder is not None:
                self.holder.transport.abort()
        self.loop.call_soon_threadsafe(cut)

    def pushes(self, chat: str | None = None) -> list[Sent]:
        return [s for s in list(self.sent) if s.api == "push" and (chat is None or s.target == chat)]

    def wait_for(self, predicate: Callable[[Sent], bool], timeout: float = 15.0) -> Sent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [s for s in list(self.sent) if predicate(s)]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError("the bot sent nothing like that")

    def _deliver(self, frame: dict) -> str:
        req_id = frame["headers"]["req_id"]
        self._callbacks[req_id] = (time.time(), frame)
        self._answers[req_id] = Future()

        async def send():
            if self.holder is not None:   # else it waits for the next holder
                await self.holder.send(json.dumps(frame, ensure_ascii=False))
        asyncio.run_coroutine_threadsafe(send(), self.loop).result(10)
        return req_id
