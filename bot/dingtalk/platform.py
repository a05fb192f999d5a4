"""DingTalk at the edge: replies through the sessionWebhook, pushes through the OpenAPI robot or
a custom robot webhook, and interactive cards with buttons right in the group."""
from __future__ import annotations

import json

from typing import TYPE_CHECKING, Any
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from bot.dingtalk.api import DingTalkApi
from bot.dingtalk.settings import DingTalkSettings
from bot.neutral import ChatMessage
from bot.outbox import SendError
from bot.platforms.contract import Capabilities, CardView, Delivery, Image, Platform, Sender
from bot.platforms.mentions import Mention, as_names, render
from storage.directory import group_by_chat
from storage.models import GroupBinding, OutboxMessage

if TYPE_CHECKING:
    from bot.services import Services

MAX_PARAM_BYTES = 15000


def title_of(markdown: str) -> str:
    """DingTalk markdown needs a title (shown in the chat list): the first line, unstyled."""
    first = markdown.strip().splitlines()[0] if markdown.strip() else "产线接力"
    return first.replace("*", "").replace("#", "").strip()[:30] or "产线接力"


def markdown_message(markdown: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": title_of(markdown), "text": markdown}}


class DingTalkPlatform(Platform):
    """The robot answers through each message's sessionWebhook and pushes into groups; its
    interactive cards carry buttons right in the group and are updated in place."""
    name = "dingtalk"
    capabilities = Capabilities(group_cards=True, person_cards=False, markdown=True)

    def __init__(self, settings: DingTalkSettings, api: DingTalkApi | None = None):
        self.settings = settings
        self.Session: sessionmaker[Session] | None = None  # set by bind(): custom webhooks read the group's secret
        self.api = api or DingTalkApi(settings.api_base_url, settings.oapi_base_url, settings.app_key,
                                      settings.app_secret)
        self.max_photo_bytes = 5 * 1024 * 1024   # set by bind() from app.max_photo_bytes

    def bind(self, services: Services) -> None:
        from bot.dingtalk.api import PER_ROBOT_PER_MINUTE
        from bot.outbox import SharedRateLimiter
        self.Session = services.Session
        self.max_photo_bytes = services.settings.app.max_photo_bytes
        self.api.wall_clock = services.clock.epoch  # webhook signatures carry the (one) clock's time
        # 20 a minute per robot across every process that sends (counted in the database)
        self.api.limiter = SharedRateLimiter(services.Session, PER_ROBOT_PER_MINUTE, prefix="dingtalk:")

    def message_file(self, download_code: str) -> bytes:
        """A picture a person sent the robot, by its download code (at most the photo size cap)."""
        return self.api.message_file(self.settings.robot_code, download_code, self.max_photo_bytes)

    def on_public_url(self, url: str) -> None:
        """Card clicks (HTTP mode) go to `url`/dingtalk/card: tell DingTalk. With clicks over
        Stream there is nothing to register."""
        if self.settings.card_callbacks == "http":
            self.register_card_callback(url)

    def reply(self, message: ChatMessage, text: str) -> Delivery:
        """Replies go to the message's sessionWebhook, through the outbox, right after the commit."""
        return Delivery("session_webhook", message.reply_url or "", markdown_message(text))

    def group_text(self, group: GroupBinding, text: str) -> Delivery:
        if group.webhook_key:
            # The signing secret stays in group_bindings; the sender looks it up at send time.
            return Delivery("custom_webhook", group.chat_id, {"message": markdown_message(text)})
        param = {"title": title_of(text), "text": text}
        problem = "" if len(json.dumps(param, ensure_ascii=False).encode()) <= MAX_PARAM_BYTES else "message too long"
        return Delivery("group_message", group.chat_id, {"msgKey": "sampleMarkdown", "msgParam": param}, problem=problem)

    def group_notice(self, group: GroupBinding, text: str, mentions: Sequence[Mention]) -> Delivery:
        """A custom robot @-mentions with `at.atUserIds` and `@userid` in the text; the OpenAPI
        group message (groupMessages/send) has no such field, so there the names are written."""
        if not group.webhook_key or not mentions:
            return self.group_text(group, as_names(text))
        body = render(text, mentions, lambda m: f"@{m.user_id}")
        message = {**markdown_message(body), "at": {"atUserIds": [m.user_id for m in mentions], "isAtAll": False}}
        return Delivery("custom_webhook", group.chat_id, {"message": message})

    def group_image(self, group: GroupBinding, image: Image) -> Delivery | None:
        """DingTalk markdown shows a picture by its link (`![title](url)`), fetched from the address
        LineRelay serves it at; without one there is no picture."""
        if not image.url:
            return None
        return self.group_text(group, f"#### {image.title}\n![{image.title}]({image.url})")

    def group_card(self, group: GroupBinding, card: CardView) -> Delivery:
        """An advanced interactive card into the group. Its clicks come back as it is created:
        to /dingtalk/card under the registered route key (HTTP), or over `linerelay stream`'s
        connection (STREAM: DingTalk sends a STREAM card's clicks nowhere else)."""
        callback: dict[str, Any] = {"callbackType": "STREAM"} if self.settings.card_callbacks == "stream" else \
            {"callbackType": "HTTP", "callbackRouteKey": self.settings.card_callback_route_key}
        body: dict[str, Any] = {
            "cardTemplateId": self.settings.card_template_id,
            "outTrackId": card.track_id,
            "cardData": {"cardParamMap": card_params(card)},
            **callback,
            "openSpaceId": f"dtv1.card//IM_GROUP.{group.chat_id}",
            "imGroupOpenSpaceModel": {"supportForward": False},
            "imGroupOpenDeliverModel": {"robotCode": self.settings.robot_code},
        }
        if card.mentions:   # the card arrives as "@张伟" for these people ({userId: name})
            body["imGroupOpenDeliverModel"] = {**body["imGroupOpenDeliverModel"],
                                               "atUserIds": {m.user_id: m.name for m in card.mentions}}
        return Delivery("card", group.chat_id, body)

    def card_callback_url(self, public_url: str) -> str:
        return f"{public_url.rstrip('/')}/dingtalk/card?token={self.settings.card_callback_secret}"

    def register_card_callback(self, public_url: str) -> str:
        url = self.card_callback_url(public_url)
        self.api.register_card_callback(self.settings.card_callback_route_key, url)
        return url

    def person_text(self, user_id: str, text: str) -> Delivery:
        """A 1:1 message from the robot (robot/oToMessages/batchSend)."""
        return Delivery("oto", user_id, {"msgKey": "sampleMarkdown", "msgParam": {"title": title_of(text), "text": text}})

    def card_update(self, card: CardView) -> Delivery:
        """A card decided elsewhere is updated in place (PUT /v1.0/card/instances); a click's own
        answer carries the updated card, so a click needs no follow-up."""
        return Delivery("card_update", card.track_id,
                        {"outTrackId": card.track_id, "cardData": {"cardParamMap": card_params(card)}})

    def senders(self) -> dict[str, Sender]:
        return {"session_webhook": self._send_session, "group_message": self._send_group,
                "custom_webhook": self._send_custom, "card": self._send_card,
                "card_update": lambda m: self.api.update_card(m.payload),
                "oto": lambda m: self.api.oto_send(self.settings.robot_code, [m.target],
                                                   m.payload["msgKey"], m.payload["msgParam"])}

    def _send_session(self, message: OutboxMessage) -> None:
        if not message.target.startswith(("http://", "https://")):
            raise SendError("no sessionWebhook to answer on", retryable=False)
        self.api.session_webhook_send(message.target, message.payload)

    def _send_group(self, message: OutboxMessage) -> None:
        self.api.group_send(self.settings.robot_code, message.target, message.payload["msgKey"],
                            message.payload["msgParam"])

    def _send_custom(self, message: OutboxMessage) -> None:
        if self.Session is None:
            raise SendError("not bound to an application", retryable=False)
        with self.Session() as session:
            group = group_by_chat(session, self.name, message.target)
            if group is None or not group.webhook_key:
                raise SendError(f"group {message.target} has no custom robot any more", retryable=False)
            token, secret = group.webhook_key, group.webhook_secret
        self.api.custom_webhook_send(token, secret, message.payload["message"])

    def _send_card(self, message: OutboxMessage) -> None:
        self.api.create_and_deliver_card(message.payload)


def card_params(card: CardView) -> dict[str, str]:
    """The card template's variables; DingTalk wants every value as a string."""
    buttons = [{"action": a, "text": label, "style": style} for a, label, style in card.buttons]
    return {"title": card.title, "markdown": card.body, "outcome": card.outcome,
            "buttons": json.dumps(buttons, ensure_ascii=False), "decided": "true" if not buttons else "false"}
