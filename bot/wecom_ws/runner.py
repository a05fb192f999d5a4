"""`linerelay wecom-ws`: the process that holds the AI bot's long connection.

It subscribes (bot/wecom_ws/client.py), hands every message callback to the same neutral path
and dedupe as the HTTP callback and answers on the connection (`aibot_respond_msg`), applies
card clicks (`template_card_event`) once and updates the card within WeCom's 5 s
(`aibot_respond_update_msg`), and delivers the outbox rows of platform `wecom-ws` that any
process queued (`aibot_send_msg`), within WeCom's 30 a minute and 1000 an hour per conversation.

A dropped connection is opened again with backoff; rows that could not go stay queued and go
after it. A `disconnected_event` (another process subscribed with this bot) ends the process
with exit status 3: two holders reconnecting would kick each other forever.

Several processes may run for one bot (a standby on a second host): only the holder of the
database lease `wecom-ws:<bot_id>` connects; the others stand by and take over within
`standby_lease_seconds` of the holder dying, at once when it stops cleanly. A holder that finds
its lease taken (it stalled longer than the lease) closes its connection and stands by.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta

from bot.neutral import CardClick
from bot.outbox import SendError, SharedRateLimiter
from bot.platforms.contract import ClickResult
from bot.wecom.adapter import aibot_to_neutral
from bot.wecom.platform import aibot_reply
from bot.wecom.settings import AiBotSettings
from bot.wecom_ws.client import (RESPOND, RESPOND_UPDATE, SEND, AiBotConnection, AuthFailed, ConnectionLost, FrameError,
                                 Kicked, event_type)
from bot.wecom_ws.fallback import REFUSALS, fall_back
from bot.wecom_ws.platform import NAME, WeComWsPlatform, updated_card
from storage.leases import Lease
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
EXIT_KICKED, EXIT_AUTH = 3, 2
PER_MINUTE, PER_HOUR = 30, 1000   # per conversation, replies and pushes together (path/101463)
SEND_TIMEOUT = 10.0


class ConnectionProcess:
    """One bot's connection, its inbound frames and the outbox rows it delivers."""

    def __init__(self, relay, settings: AiBotSettings | None = None, *, backoff: tuple[float, float] = (1.0, 30.0),
                 holder: str | None = None):
        self.relay = relay
        self.settings = settings or relay.settings.platforms[NAME]
        self.lease = Lease(relay.Session, relay.clock.now, lease_name(self.settings.bot_id),
                           holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}",
                           timedelta(seconds=self.settings.standby_lease_seconds))
        self.standing_by = False
        # a renewal runs in a worker thread and outlives a cancel: the lock and the flag keep one
        # that is in flight when the holder stops from taking the lease back after its release
        self._lease_lock = threading.Lock()
        self._released = False
        self.platform: WeComWsPlatform = relay.platforms[NAME]
        self.backoff = backoff
        self.conn: AiBotConnection | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.connected = asyncio.Event()
        self.subscriptions = 0
        self._task: asyncio.Task | None = None
        minute = SharedRateLimiter(relay.Session, PER_MINUTE, 60.0, prefix=f"{NAME}:m:")
        hour = SharedRateLimiter(relay.Session, PER_HOUR, 3600.0, prefix=f"{NAME}:h:")
        self.limiters = (minute, hour)   # the minute's refuses first, before an hour's slot is taken
        self.platform.attach({"send": self._send})
        relay.dispatcher.senders[(NAME, "send")] = self._send

    # -- the connection -------------------------------------------------------------------------
    async def run(self) -> int:
        """Hold the connection until kicked (3), refused (2) or stopped (0); reconnect after drops."""
        self.loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._released = False
        try:
            return await self._hold()
        except asyncio.CancelledError:
            return 0
        finally:
            with self._lease_lock, contextlib.suppress(Exception):   # a standby takes over at once
                self._released = True
                self.lease.release()

    def stop(self) -> None:
        """End `run` from another thread (a signal handler, the tests)."""
        if self.loop is not None and self._task is not None:
            with contextlib.suppress(RuntimeError):   # it has ended already: its loop is closed
                self.loop.call_soon_threadsafe(self._task.cancel)

    async def _hold(self) -> int:
        delay = self.backoff[0]
        while True:
            await self._wait_for_lease()
            conn = AiBotConnection(self.settings.ws_url, self.settings.bot_id, self.settings.secret,
                                   ping_seconds=self.settings.ping_seconds)
            # renewed from the moment it is held, also while connecting (which may take a while)
            keeper = asyncio.create_task(self._keep_lease(conn), name="aibot-lease")
            subscribed = self.subscriptions
            try:
                code = await self._connection(conn)
                if code is None and self.subscriptions > subscribed:   # it was up: again at once
                    delay = self.backoff[0]
                elif code is None:   # could not connect: back off (still holding the lease)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.backoff[1])
            finally:
                keeper.cancel()
            if code is not None:
                return code

    async def _connection(self, conn: AiBotConnection) -> int | None:
        """Open, serve until the connection ends; an exit status, or None to connect again."""
        try:
            await conn.open()
        except AuthFailed as exc:
            log.error("wecom-ws: the subscription was refused (%s): check wecom.aibot bot_id and secret", exc)
            return EXIT_AUTH
        except (ConnectionLost, OSError, TimeoutError) as exc:
            log.warning("wecom-ws: cannot connect (%s); trying again", exc)
            return None
        self.conn, self.subscriptions = conn, self.subscriptions + 1
        self.connected.set()
        log.info("wecom-ws: subscribed as bot %s", self.settings.bot_id)
        self.relay.dispatcher.kick()   # what was queued while we were away
        try:
            await self._serve(conn)
        except Kicked:
            holder = await asyncio.to_thread(self._lease_holder)
            if holder is not None and holder != self.lease.holder:
                # a standby took the lease while this process stalled: the lease was kept, so stand by
                log.warning("wecom-ws: %s took the lease over and subscribed; standing by", holder)
                return None
            log.error("wecom-ws: another instance subscribed with this bot and took over; exiting")
            return EXIT_KICKED
        except ConnectionLost as exc:
            log.warning("wecom-ws: connection lost (%s); reconnecting", exc)
        finally:
            self.connected.clear()
            self.conn = None
            await conn.close()
        return None

    async def _wait_for_lease(self) -> None:
        """Return once this process holds the bot's lease; until then stand by."""
        while not await asyncio.to_thread(self._take_lease):
            if not self.standing_by:
                self.standing_by = True
                log.info("wecom-ws: standing by; %s holds bot %s", self.lease.holder_now(), self.settings.bot_id)
            await asyncio.sleep(self.lease.renew_seconds)
        if self.standing_by:
            log.info("wecom-ws: took over bot %s", self.settings.bot_id)
        self.standing_by = False

    async def _keep_lease(self, conn: AiBotConnection) -> None:
        """Renew while connected; a lease found taken (this process stalled past it) ends the connection."""
        while True:
            await asyncio.sleep(self.lease.renew_seconds)
            if not await asyncio.to_thread(self._take_lease, True):
                log.warning("wecom-ws: %s took the lease over; closing and standing by", self.lease.holder_now())
                await conn.close()
                return

    def _lease_holder(self) -> str | None:
        try:
            return self.lease.holder_now()
        except Exception:   # the database is away: nobody known to hold it
            log.exception("wecom-ws: cannot reach the lease")
            return None

    def _take_lease(self, holding: bool = False) -> bool:
        with self._lease_lock:
            if self._released:   # stopped: a renewal that was in flight takes nothing back
                return False
            try:
                return self.lease.take()
            except Exception:   # the database is away: a holder keeps its connection, a standby waits
                log.exception("wecom-ws: cannot reach the lease")
                return holding

    async def _serve(self, conn: AiBotConnection) -> None:
        tasks: set[asyncio.Task] = set()
        try:
            async for frame in conn.frames():
                task = asyncio.create_task(self._frame(conn, frame))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            for task in list(tasks):   # answers in flight when the connection ended
                task.cancel()

    async def _frame(self, conn: AiBotConnection, frame: dict) -> None:
        try:
            if frame.get("cmd") == "aibot_msg_callback":
                await self._message(conn, frame)
            elif event_type(frame) == "template_card_event":
                await self._click(conn, frame)
        except (ConnectionLost, FrameError, TimeoutError) as exc:
            log.warning("wecom-ws: could not answer a %s: %s", frame.get("cmd"), exc)
        except Exception:   # one bad frame never ends the connection
            log.exception("wecom-ws: a frame failed")

    async def _message(self, conn: AiBotConnection, frame: dict) -> None:
        """Through the same path and dedupe as the HTTP callback; the reply on the connection."""
        req_id = str(frame.get("headers", {}).get("req_id", ""))
        try:
            message = aibot_to_neutral(frame.get("body") or {}, NAME, self.relay.settings.app.max_photo_bytes)
        except (KeyError, TypeError, AttributeError, ValueError):
            log.warning("wecom-ws: a message callback that is not an AI bot message, ignored")
            return
        if message is None:
            return
        reply = await asyncio.to_thread(self.relay.handle_message, message)
        await asyncio.to_thread(self._count, message.chat_id or message.sender_id)
        body = aibot_reply(reply.markdown, f"r{message.message_id}"[:64])
        await conn.request(RESPOND, body, req_id=req_id)

    async def _click(self, conn: AiBotConnection, frame: dict) -> None:
        """Applied once (the event's msgid); the card updated in answer, within 5 s."""
        req_id = str(frame.get("headers", {}).get("req_id", ""))
        body = frame.get("body") or {}
        try:
            event = body["event"]["template_card_event"]
            click = CardClick(platform=NAME, track_id=str(event["task_id"]), user_id=str(body["from"]["userid"]),
                              action=str(event.get("event_key") or ""), params={"chatid": body.get("chatid") or ""})
            dedupe = f"event:{body['msgid']}"
        except (KeyError, TypeError):
            log.warning("wecom-ws: a template_card_event without task_id, from or msgid, ignored")
            return
        outcome = await asyncio.to_thread(self.relay.handle_click, click, dedupe)
        if outcome.card is None or outcome.result not in (ClickResult.APPLIED, ClickResult.ALREADY_DECIDED):
            return   # refused or asked: the card stays as it is; the clicker is told in the chat
        if outcome.card.buttons:
            return   # applied, but the card is still open (an approval waiting for more votes)
        await conn.request(RESPOND_UPDATE, updated_card(outcome.card), req_id=req_id)

    # -- the outbox's sender (called on the dispatcher's thread) --------------------------------
    def _send(self, message: OutboxMessage) -> None:
        conn, loop = self.conn, self.loop
        if conn is None or loop is None or not self.connected.is_set():
            raise SendError("the long connection is down", retry_after=2)
        wait = next((w for limiter in self.limiters if (w := limiter.acquire(message.target))), 0.0)
        if wait:
            raise SendError(f"30/min or 1000/h to {message.target} reached", retry_after=wait)
        body = {"chatid": message.target, **message.payload}
        request = conn.request(SEND, body, req_id=f"lr_out_{message.id}")
        try:
            future = asyncio.run_coroutine_threadsafe(request, loop)
        except RuntimeError as exc:   # the connection process is ending: its loop is closed
            request.close()
            raise SendError("the long connection is down", retry_after=2) from exc
        try:
            future.result(SEND_TIMEOUT)
        except FrameError as exc:
            if exc.errcode in REFUSALS:
                why = fall_back(self.relay, message, exc.errcode)
                raise SendError(f"refused ({exc.errcode} {exc.errmsg}); {why}", retryable=False) from exc
            raise SendError(str(exc)) from exc
        except (ConnectionLost, FutureTimeout, TimeoutError) as exc:
            future.cancel()
            raise SendError(f"the long connection dropped: {exc}", retry_after=2) from exc

    def _count(self, conversation: str) -> None:
        """A reply counts against its conversation's limits, so pushes there leave room for it;
        it is never held back itself (the person is waiting for it)."""
        for limiter in self.limiters:
            if limiter.acquire(conversation):
                log.warning("wecom-ws: replies in %s are over WeCom's limit", conversation)
                return


def lease_name(bot_id: str) -> str:
    """`wecom-ws:<bot_id>`, hashed when it would not fit the lease's 40 characters."""
    name = f"{NAME}:{bot_id}"
    return name if len(name) <= 40 else f"{NAME}:{hashlib.sha256(bot_id.encode()).hexdigest()[:31]}"
