"""WeCom's AI bot on its long connection: what travels on it and how it looks.

Replies, group notices and cards with buttons all go on the one WebSocket the connection
process holds (`linerelay wecom-ws`). Web workers and the jobs process only queue them (outbox
rows of platform `wecom-ws`); this platform has no senders of its own until the connection
process attaches the live connection's (bot/wecom_ws/runner.py), so nobody else claims them.
"""
from __future__ import annotations

from collections.abc import Mapping

from bot.neutral import CardClick, ChatMessage
from bot.platforms.contract import Capabilities, CardView, Delivery, Platform, Sender
from bot.platforms.fallbacks import plain_text
from bot.wecom.platform import clip, template_card
from bot.wecom.settings import AiBotSettings
from storage.models import GroupBinding

NAME = "wecom-ws"
# WeCom's AI-bot markdown and stream content: at most 20480 bytes (path/101031).
MAX_CONTENT_BYTES = 20480


def markdown(text: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": clip(text, MAX_CONTENT_BYTES)}}


class WeComWsPlatform(Platform):
    """A second channel of WeCom (`people_of = "wecom"`): the same people, its own groups
    (`platform = "wecom-ws"`), and cards with buttons in those groups."""
    name = NAME
    people_of = "wecom"
    capabilities = Capabilities(group_cards=True, person_cards=False, markdown=True)

    def __init__(self, settings: AiBotSettings):
        self.settings = settings
        self._senders: dict[str, Sender] = {}

    def reply(self, message: ChatMessage, text: str) -> Delivery:
        """The reply goes back on the connection at once (`aibot_respond_msg` with the inbound
        frame's req_id), by the process that received it: recorded as sent."""
        return Delivery("respond", message.reply_url or message.sender_id, markdown(text), status="sent")

    def group_text(self, group: GroupBinding, text: str) -> Delivery:
        return Delivery("send", group.chat_id, markdown(text))

    def person_text(self, user_id: str, text: str) -> Delivery:
        """To one person: a push whose chatid is their userid (refused if they never wrote to
        the bot; then the self-built app carries it, see runner.Fallback)."""
        return Delivery("send", user_id, markdown(text))

    def group_card(self, group: GroupBinding, card: CardView) -> Delivery:
        return Delivery("send", group.chat_id, {"msgtype": "template_card", "template_card": template_card(card)})

    def card_update(self, card: CardView) -> Delivery | None:
        """WeCom changes an AI-bot card only in answer to a click (5 s): a card decided elsewhere
        (a typed command, another copy) gets a short follow-up in its chat instead."""
        if not card.audience or not (card.outcome_short or card.outcome):
            return None
        return Delivery("send", card.audience[0], markdown(f"{card.title}：{card.outcome_short or card.outcome}"))

    def click_followups(self, card: CardView, click: CardClick, message: str) -> list[Delivery]:
        """The card itself is updated on the connection in answer to the click (runner); what the
        clicker is told (a refusal, a question) goes into the chat the click came from."""
        chat = str(click.params.get("chatid") or click.user_id)
        if not message:
            return []
        return [Delivery("send", chat, markdown(f"<@{click.user_id}> {message}"))]

    def senders(self) -> Mapping[str, Sender]:
        """Empty except in the connection process, which attaches the live connection's."""
        return dict(self._senders)

    def attach(self, senders: Mapping[str, Sender]) -> None:
        self._senders = dict(senders)


def updated_card(card: CardView) -> dict:
    """The card as it shows after a click: its buttons replaced by the outcome (same task_id)."""
    body = template_card(card)
    if not card.buttons:
        outcome = plain_text(card.outcome_short or card.outcome)
        body["button_list"] = [{"text": outcome[:10] or "已处理", "style": 4, "key": "decided"}]
        body["sub_title_text"] = (plain_text(card.body)[:240] + "\n" + plain_text(card.outcome))[:300]
    return {"response_type": "update_template_card", "template_card": body}
