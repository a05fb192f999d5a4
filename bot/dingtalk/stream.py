"""DingTalk Stream mode (`linerelay stream`): for a factory with no public URL.

The official `dingtalk-stream` SDK holds an outbound WebSocket to DingTalk; robot messages and
card clicks arrive over it and go to the same core as HTTP mode. A message is acknowledged only
after its command is stored: if storing fails, the ack says so and DingTalk delivers it again
(the message id keeps that from counting twice).
"""
from __future__ import annotations

import asyncio
import logging
import threading

import dingtalk_stream
from dingtalk_stream import AckMessage

from bot.dingtalk.adapter import apply_click, for_our_robot, to_click, to_neutral

log = logging.getLogger(__name__)


class RobotMessages(dingtalk_stream.CallbackHandler):
    def __init__(self, relay):
        super().__init__()
        self.relay = relay

    async def process(self, callback):
        settings = self.relay.settings.platform("dingtalk")
        body = callback.data if isinstance(callback.data, dict) else {}
        if not for_our_robot(body, settings.robot_code):
            return AckMessage.STATUS_BAD_REQUEST, "unknown robotCode"
        try:
            message = to_neutral(body, settings.oapi_base_url, self.relay.platforms["dingtalk"].message_file)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            return AckMessage.STATUS_BAD_REQUEST, f"not a robot message: {exc}"
        if message is None:
            return AckMessage.STATUS_OK, "ignored"
        try:
            await asyncio.to_thread(self.relay.handle_message, message)
        except Exception:  # not stored: tell DingTalk, which delivers it again
            log.exception("stream message %s not stored", message.message_id)
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "not stored"
        return AckMessage.STATUS_OK, "OK"


class CardClicks(dingtalk_stream.CallbackHandler):
    def __init__(self, relay):
        super().__init__()
        self.relay = relay

    async def process(self, callback):
        try:
            click = to_click(callback.data if isinstance(callback.data, dict) else {})
        except (KeyError, TypeError, AttributeError, ValueError, IndexError):
            return AckMessage.STATUS_BAD_REQUEST, {"message": "not a card callback"}
        # The Stream frame's own id: a redelivered frame is the same click, applied once.
        frame_id = getattr(getattr(callback, "headers", None), "message_id", None)
        status, payload = await asyncio.to_thread(apply_click, self.relay, click,
                                                  f"stream:{frame_id}" if frame_id else None)
        return (AckMessage.STATUS_OK if status < 500 else AckMessage.STATUS_SYSTEM_EXCEPTION), payload


def make_client(relay) -> dingtalk_stream.DingTalkStreamClient:
    settings = relay.settings.platform("dingtalk")
    # The SDK reads this class attribute; pointing it at the configured base URL lets the twin
    # (or a proxy) stand in for DingTalk.
    dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API = f"{settings.api_base_url}/v1.0/gateway/connections/open"
    client = dingtalk_stream.DingTalkStreamClient(dingtalk_stream.Credential(settings.app_key, settings.app_secret))
    client.register_callback_handler(dingtalk_stream.ChatbotMessage.TOPIC, RobotMessages(relay))
    client.register_callback_handler(dingtalk_stream.CallbackHandler.TOPIC_CARD_CALLBACK, CardClicks(relay))
    return client


class StreamRunner:
    """The stream client on an event loop of its own thread (the CLI runs it in the foreground)."""

    def __init__(self, relay):
        self.client = make_client(relay)
        self.loop = asyncio.new_event_loop()
        self._task = None
        self._thread = threading.Thread(target=self._run, name="dingtalk-stream", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._task = self.loop.create_task(self.client.start())
        try:
            self.loop.run_until_complete(self._task)
        except (asyncio.CancelledError, RuntimeError):
            pass

    def start(self) -> StreamRunner:
        self._thread.start()
        return self

    def stop(self) -> None:
        def cancel():
            if self._task is not None:
                self._task.cancel()
                self.loop.call_later(0.2, self._task.cancel)  # the SDK's retry loop swallows one
        self.loop.call_soon_threadsafe(cancel)
        self._thread.join(timeout=5)
