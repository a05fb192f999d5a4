"""DingTalk at the edge: replies through the sessionWebhook, pushes through the OpenAPI robot or
a custom robot webhook, and interactive cards with buttons right in the group."""
from __future__ import annotations

import json

from bot.dingtalk.settings import DingTalkSettings
from bot.dingtalk.api import DingTalkApi
from bot.outbox import SendError
from storage.directory import group_by_chat
from storage.models import GroupBinding, OutboxMessage

MAX_PARAM_BYTES = 15000


def title_of(markdown: str) -> str:
    """DingTalk markdown needs a title (shown in the chat list): the first line, unstyled."""
    first = markdown.strip().splitlines()[0] if markdown.strip() else "产线接力"
    return first.replace("*", "").replace("#", "").strip()[:30] or "产线接力"


def markdown_message(markdown: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": title_of(markdown), "text": markdown}}


class DingTalkPlatform:
    name = "dingtalk"
    group_cards = True

    def __init__(self, settings: DingTalkSettings, api: DingTalkApi | None = None):
        self.settings = settings
        self.Session = None  # set by bind(): the custom-webhook sender reads the group's secret
        self.api = api or DingTalkApi(settings.api_base_url, settings.oapi_base_url, settings.app_key,
                                      settings.app_secret)

    def bind(self, relay) -> None:
        self.Session = relay.Session
        self.api.wall_clock = relay.clock.epoch  # webhook signatures carry the (one) clock's time

    def reply_delivery(self, message, markdown: str) -> tuple[str, str, dict, str]:
        """Replies go to the message's sessionWebhook, through the outbox, right after the commit."""
        return "session_webhook", message.reply_url or "", markdown_message(markdown), "pending"

    def notice_delivery(self, group: GroupBinding, markdown: str) -> tuple[str, str, dict, str | None]:
        if group.webhook_key:
            # The signing secret stays in group_bindings; the sender looks it up at send time.
            return "custom_webhook", group.chat_id, {"message": markdown_message(markdown)}, None
        param = {"title": title_of(markdown), "text": markdown}
        problem = None if len(json.dumps(param, ensure_ascii=False).encode()) <= MAX_PARAM_BYTES else "message too long"
        return "group_message", group.chat_id, {"msgKey": "sampleMarkdown", "msgParam": param}, problem

    def card_delivery(self, group: GroupBinding, track_id: str, data: dict) -> tuple[str, str, dict]:
        """An advanced interactive card into the group; clicks come to /dingtalk/card (HTTP mode)."""
        body = {
            "cardTemplateId": self.settings.card_template_id,
            "outTrackId": track_id,
            "cardData": {"cardParamMap": card_params(data)},
            "callbackType": "HTTP",
            "callbackRouteKey": self.settings.card_callback_route_key,
            "openSpaceId": f"dtv1.card//IM_GROUP.{group.chat_id}",
            "imGroupOpenSpaceModel": {"supportForward": False},
            "imGroupOpenDeliverModel": {"robotCode": self.settings.robot_code},
        }
        return "card", group.chat_id, body

    def card_callback_url(self, public_url: str) -> str:
        return f"{public_url.rstrip('/')}/dingtalk/card?token={self.settings.card_callback_secret}"

    def register_card_callback(self, public_url: str) -> str:
        url = self.card_callback_url(public_url)
        self.api.register_card_callback(self.settings.card_callback_route_key, url)
        return url

    def person_delivery(self, user_id: str, markdown: str) -> tuple[str, str, dict]:
        """A 1:1 message from the robot (robot/oToMessages/batchSend)."""
        return "oto", user_id, {"msgKey": "sampleMarkdown", "msgParam": {"title": title_of(markdown), "text": markdown}}

    def card_update(self, track_id: str, view: dict) -> tuple[str, str, dict]:
        """A card decided elsewhere is updated in place (PUT /v1.0/card/instances)."""
        return "card_update", track_id, {"outTrackId": track_id, "cardData": {"cardParamMap": card_params(view)}}

    def click_followups(self, row, view: dict, click, message: str) -> list:
        return []  # the click's HTTP/Stream response carries the updated card and the message

    def senders(self):
        return {("dingtalk", "session_webhook"): self._send_session, ("dingtalk", "group_message"): self._send_group,
                ("dingtalk", "custom_webhook"): self._send_custom, ("dingtalk", "card"): self._send_card,
                ("dingtalk", "card_update"): lambda m: self.api.update_card(m.payload),
                ("dingtalk", "oto"): lambda m: self.api.oto_send(self.settings.robot_code, [m.target],
                                                                 m.payload["msgKey"], m.payload["msgParam"])}

    def _send_session(self, message: OutboxMessage) -> None:
        if not message.target.startswith(("http://", "https://")):
            raise SendError("no sessionWebhook to answer on", retryable=False)
        self.api.session_webhook_send(message.target, message.payload)

    def _send_group(self, message: OutboxMessage) -> None:
        self.api.group_send(self.settings.robot_code, message.target, message.payload["msgKey"],
                            message.payload["msgParam"])

    def _send_custom(self, message: OutboxMessage) -> None:
        with self.Session() as session:
            group = group_by_chat(session, "dingtalk", message.target)
            if group is None or not group.webhook_key:
                raise SendError(f"group {message.target} has no custom robot any more", retryable=False)
            token, secret = group.webhook_key, group.webhook_secret
        self.api.custom_webhook_send(token, secret, message.payload["message"])

    def _send_card(self, message: OutboxMessage) -> None:
        self.api.create_and_deliver_card(message.payload)


def card_params(data: dict) -> dict[str, str]:
    """The card template's variables; DingTalk wants every value as a string."""
    buttons = [{"action": a, "text": label, "style": style} for a, label, style in data.get("buttons", [])]
    return {"title": data["title"], "markdown": data["body"], "outcome": data.get("outcome", ""),
            "buttons": json.dumps(buttons, ensure_ascii=False), "decided": "true" if not buttons else "false"}
