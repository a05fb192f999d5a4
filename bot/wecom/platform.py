"""WeCom at the edge: how replies and notices look on WeCom and which API carries them."""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from bot.neutral import CardClick, ChatMessage
from bot.outbox import SendError
from bot.platforms.contract import Capabilities, CardView, Delivery, Image, Platform, Sender
from bot.platforms.mentions import Mention, render
from bot.services import Services
from bot.platforms.fallbacks import plain_text
from bot.wecom.api import WeComApi
from bot.wecom.settings import WeComSettings
from storage.models import GroupBinding, OutboxMessage

# WeCom's robot markdown allows at most 4096 bytes of content; a robot image at most 2 MB (jpg/png).
MAX_MARKDOWN_BYTES = 4096
MAX_IMAGE_BYTES = 2 * 1024 * 1024


def clip(text: str, limit: int = MAX_MARKDOWN_BYTES) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 4].decode(errors="ignore") + "\n…"


class WeComPlatform(Platform):
    """Commands come through the AI bot and are answered in its callback's response; group
    notices go through each group's robot webhook, which carries no buttons, so cards with
    buttons go to the people who must act, as self-built app messages."""
    name = "wecom"
    capabilities = Capabilities(group_cards=False, person_cards=True, markdown=True)

    def __init__(self, settings: WeComSettings, api: WeComApi | None = None):
        self.settings = settings
        if settings.aibot.long_connection:
            # The AI bot's long connection (bot/wecom_ws) puts cards with buttons into the groups;
            # the app's 1:1 cards are then only its fallback, never sent beside them.
            self.capabilities = Capabilities(group_cards=False, person_cards=False, markdown=True)
        self.api = api or WeComApi(settings.api_base_url, settings.corp_id, settings.secret, settings.agent_id)

    def bind(self, services: Services) -> None:
        """Group robots 20 a minute, app messages 30 a minute per member: counted in the
        database, so they hold across every process that sends."""
        from bot.outbox import SharedRateLimiter
        from bot.wecom.api import MEMBER_PER_MINUTE, WEBHOOK_PER_MINUTE
        self.api.webhook_limiter = SharedRateLimiter(services.Session, WEBHOOK_PER_MINUTE, prefix="wecom:")
        self.api.member_limiter = SharedRateLimiter(services.Session, MEMBER_PER_MINUTE, prefix="wecom:")

    def reply(self, message: ChatMessage, text: str) -> Delivery:
        """The reply rides back in the callback's HTTP response (passive reply): recorded as sent."""
        return Delivery("passive", message.sender_id, {"markdown": text}, status="sent")

    def group_text(self, group: GroupBinding, text: str) -> Delivery:
        payload = {"msgtype": "markdown", "markdown": {"content": clip(text)}}
        problem = "" if group.webhook_key else f"group {group.chat_id} has no webhook_key"
        return Delivery("webhook", group.webhook_key, payload, problem=problem)

    def group_notice(self, group: GroupBinding, text: str, mentions: Sequence[Mention]) -> Delivery:
        """Robot markdown @-mentions a member with `<@userid>` (path/91770; not markdown_v2)."""
        return self.group_text(group, render(text, mentions, lambda m: f"<@{m.user_id}>"))

    def group_image(self, group: GroupBinding, image: Image) -> Delivery:
        """The robot's `image` message: the picture itself, base64 with its MD5 (path/91770)."""
        payload = {"msgtype": "image", "image": {"base64": base64.b64encode(image.png).decode(),
                                                 "md5": hashlib.md5(image.png).hexdigest()}}
        problem = "" if group.webhook_key else f"group {group.chat_id} has no webhook_key"
        if len(image.png) > MAX_IMAGE_BYTES:
            problem = "image larger than 2 MB"
        return Delivery("webhook", group.webhook_key, payload, problem=problem)

    def person_text(self, user_id: str, text: str) -> Delivery:
        return Delivery("app", user_id, {"msgtype": "markdown", "markdown": {"content": clip(text)}})

    def person_card(self, user_ids: list[str], card: CardView) -> Delivery:
        """A button card to the people who must act, as a self-built app template card."""
        return Delivery("app", "|".join(user_ids), {"msgtype": "template_card", "template_card": template_card(card)})

    def click_followups(self, card: CardView, click: CardClick, message: str) -> list[Delivery]:
        """Replace the buttons for everyone who got the card once it is decided (the click's
        response code works once); explain a refusal or a question to the clicker by app message.
        (WeCom updates a card only with a click's response code, so there is no card_update.)"""
        out = []
        code = click.params.get("response_code")
        if code and not card.buttons:
            out.append(Delivery("card_update", "|".join(card.audience), {
                "userids": list(card.audience), "response_code": code,
                "button": {"replace_name": plain_text(card.outcome_short or card.outcome)[:20]}}))
        if message:
            out.append(Delivery("app", click.user_id, {"msgtype": "text", "text": {"content": plain_text(message)}}))
        return out

    def senders(self) -> dict[str, Sender]:
        return {"webhook": self._send_webhook, "app": self._send_app, "response_url": self._send_response_url,
                "card_update": lambda m: self.api.update_template_card(m.payload)}

    def _send_webhook(self, message: OutboxMessage) -> None:
        self.api.webhook_send(message.target, message.payload)

    def _send_app(self, message: OutboxMessage) -> None:
        self.api.send_app_message({"touser": message.target, **message.payload})

    def _send_response_url(self, message: OutboxMessage) -> None:
        if not message.target.startswith(("http://", "https://")):
            raise SendError("bad response_url", retryable=False)
        self.api.response_url_send(message.target, message.payload)


def aibot_reply(markdown: str, stream_id: str) -> dict:
    """The AI bot's passive reply: a finished stream message, whose content is markdown."""
    return {"msgtype": "stream", "stream": {"id": stream_id, "finish": True, "content": clip(markdown, 20480)}}


def template_card(card: CardView) -> dict:
    """A `button_interaction` template card (≤ 6 buttons; task_id is our track id)."""
    styles = {"primary": 1, "danger": 2, "normal": 4}
    return {
        "card_type": "button_interaction",
        "source": {"desc": "产线接力"},
        "main_title": {"title": card.title[:36]},
        "sub_title_text": plain_text(card.body)[:300],
        "task_id": card.track_id,
        "button_list": [{"text": label[:10], "style": styles.get(style, 1), "key": action}
                        for action, label, style in card.buttons[:6]],
    }
