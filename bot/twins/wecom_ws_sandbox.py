"""The long-connection gateway as the sandbox page uses it: a person types in a WeCom group or
1:1 and the bot answers on the connection; cards with buttons sit in the groups and change in
place after a click. The sandbox runs `linerelay wecom-ws`'s ConnectionProcess beside the app
(`on_app`), as a plant would run the process beside the web server."""
from __future__ import annotations

import asyncio
import threading
from typing import Any

from bot.twins.base import Answer, CardChange, Seen, Sent, Viewer
from bot.twins.wecom import template_card_view
from bot.twins.wecom_ws import AiBotGateway


class AiBotSandboxTwin:
    def __init__(self, gateway: AiBotGateway, groups: set[str]):
        self.gateway, self.groups = gateway, groups
        self.viewers: list[Viewer] = []
        self.app_url: str | None = None
        self._process: Any = None
        self._thread: threading.Thread | None = None
        gateway.on_sent = self._show

    @property
    def base_url(self) -> str:
        return self.gateway.url

    def on_app(self, relay) -> None:
        """Hold the connection for the sandbox's app, in a thread of its own."""
        from bot.wecom_ws.runner import ConnectionProcess
        self._process = ConnectionProcess(relay, backoff=(0.2, 2.0))
        self._thread = threading.Thread(target=lambda: asyncio.run(self._process.run()), name="wecom-ws", daemon=True)
        self._thread.start()
        self.gateway.wait_subscribed()

    def _conv(self, target: str) -> str:
        return target if target in self.groups else f"@{target}"

    def shown(self, sent: Sent) -> list[Seen | CardChange]:
        if sent.api == "push" and sent.payload.get("msgtype") == "template_card":
            return [Seen(self._conv(sent.target), "group_card", card=template_card_view(sent.payload["template_card"]))]
        if sent.api == "push":
            return [Seen(self._conv(sent.target), "aibot_push", sent.text)]
        if sent.api == "update":
            buttons = sent.payload["template_card"].get("button_list") or [{}]
            return [CardChange(sent.target, None, {"buttons": [], "outcome": buttons[0].get("text", "")})]
        return []   # replies are the answer to `say`

    def _show(self, sent: Sent) -> None:
        for item in self.shown(sent):
            for viewer in self.viewers:
                viewer(item)

    def say(self, user_id: str, text: str, chat_id: str | None) -> Answer:
        body = self.gateway.answer(self.gateway.text(user_id, text, chatid=chat_id), timeout=30)
        content = (body.get("stream") or body.get("markdown") or {}).get("content", "")
        return Answer(200, [Seen(chat_id or f"@{user_id}", "aibot_reply", content)] if content else [])

    def press(self, user_id: str, card_id: str, action: str, chat_id: str | None) -> Answer:
        """A member presses a button on a card in the group; the card changes when the bot answers."""
        self.gateway.click(user_id, chat_id or user_id, card_id, action)
        return Answer(200)

    @staticmethod
    def describe() -> dict:
        return {"title": "企业微信·长连接", "color": "#0ea5e9",
                "how": {"group": "企业微信群 · 发「@产线接力 命令」（智能机器人长连接：按钮卡片就在群里）",
                        "private": "企业微信 · 与智能机器人单聊"},
                "via": {"aibot_reply": "智能机器人回复", "aibot_push": "智能机器人推送",
                        "group_card": "智能机器人推送 · 群内按钮卡片"},
                "toast": "企业微信提示"}

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
        if self._thread is not None:
            self._thread.join(5)
        self.gateway.stop()


def sandbox_twin(settings, clock) -> tuple[AiBotSandboxTwin, dict[str, str]]:
    """A started gateway for the sandbox, and the setting that points the connection at it."""
    aibot = settings.platforms["wecom-ws"]
    gateway = AiBotGateway(aibot.bot_id, aibot.secret).start()
    groups = {g.chat_id for g in settings.groups if g.platform == "wecom-ws"}
    gateway.known_chats.update(groups)   # the demo's bot has been @-mentioned in each group
    return AiBotSandboxTwin(gateway, groups), {"wecom.aibot.ws_url": gateway.url}
