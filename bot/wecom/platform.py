"""WeCom at the edge: how replies and notices look on WeCom and which API carries them."""
from __future__ import annotations

import re

from bot.wecom.settings import WeComSettings
from bot.outbox import SendError
from bot.wecom.api import WeComApi
from storage.models import GroupBinding, OutboxMessage

# WeCom's robot markdown allows at most 4096 bytes of content.
MAX_MARKDOWN_BYTES = 4096


def clip(text: str, limit: int = MAX_MARKDOWN_BYTES) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 4].decode(errors="ignore") + "\n…"


def plain_text(markdown: str) -> str:
    """Markdown to plain text for channels that show no markdown (app passive replies)."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown)
    text = re.sub(r"^#+\s*", "", text, flags=re.M)
    text = re.sub(r"^>\s?", "", text, flags=re.M)
    text = re.sub(r'<font[^>]*>(.*?)</font>', r"\1", text)
    return re.sub(r"\\([\\`*_\[\]<>#|~])", r"\1", text)


class WeComPlatform:
    name = "wecom"
    group_cards = False   # robot webhooks carry no buttons; button cards go to a person (app)
    person_cards = True

    def __init__(self, settings: WeComSettings, api: WeComApi | None = None):
        self.settings = settings
        self.api = api or WeComApi(settings.api_base_url, settings.corp_id, settings.secret, settings.agent_id)

    def reply_delivery(self, message, markdown: str) -> tuple[str, str, dict, str]:
        """The reply rides back in the callback's HTTP response (passive reply): recorded as sent."""
        return "passive", message.sender_id, {"markdown": markdown}, "sent"

    def notice_delivery(self, group: GroupBinding, markdown: str) -> tuple[str, str, dict, str | None]:
        """A group notice goes through the group's robot webhook (no buttons possible there)."""
        payload = {"msgtype": "markdown", "markdown": {"content": clip(markdown)}}
        problem = None if group.webhook_key else f"group {group.chat_id} has no webhook_key"
        return "webhook", group.webhook_key, payload, problem

    def person_delivery(self, user_id: str, markdown: str) -> tuple[str, str, dict]:
        return "app", user_id, {"msgtype": "markdown", "markdown": {"content": clip(markdown)}}

    def person_card_delivery(self, user_ids: list[str], track_id: str, data: dict) -> tuple[str, str, dict]:
        """A button card to the people who must act, as a self-built app template card."""
        return "app", "|".join(user_ids), {"msgtype": "template_card", "template_card": template_card(track_id, data)}

    def card_update(self, track_id: str, view: dict):
        return None  # WeCom updates a card only with a click's response code: see click_followups

    def click_followups(self, row, view: dict, click, message: str) -> list:
        """Replace the buttons for everyone who got the card once it is decided (the response
        code works once); explain a refusal or a question to the clicker by app message."""
        out = []
        code = click.params.get("response_code")
        if code and not view.get("buttons"):
            out.append(("card_update", row.audience, {
                "userids": row.audience.split("|"), "response_code": code,
                "button": {"replace_name": plain_text(view.get("outcome_short") or view.get("outcome") or "")[:20]}}))
        if message:
            out.append(("app", click.user_id, {"msgtype": "text", "text": {"content": plain_text(message)}}))
        return out

    def senders(self):
        return {("wecom", "webhook"): self._send_webhook, ("wecom", "app"): self._send_app,
                ("wecom", "response_url"): self._send_response_url,
                ("wecom", "card_update"): lambda m: self.api.update_template_card(m.payload)}

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


def template_card(track_id: str, data: dict) -> dict:
    """A `button_interaction` template card (≤ 6 buttons; task_id is our track id)."""
    styles = {"primary": 1, "danger": 2, "normal": 4}
    return {
        "card_type": "button_interaction",
        "source": {"desc": "产线接力"},
        "main_title": {"title": data["title"][:36]},
        "sub_title_text": plain_text(data["body"])[:300],
        "task_id": track_id,
        "button_list": [{"text": label[:10], "style": styles.get(style, 1), "key": action}
                        for action, label, style in data.get("buttons", [])[:6]],
    }
