"""Where WeCom refuses a push on the long connection: the group robot webhook and the
self-built app's 1:1 card carry it instead, and the refused row records why.

WeCom refuses `aibot_send_msg` into a chat where nobody has written to the bot (errcode 93006,
a chatid it does not accept) or when the bot is not subscribed (846609). The webhook shows no
buttons, so a card's buttons go to the people who must act as app template cards, as on the
HTTP-callback channel.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from bot.platforms.fallbacks import plain_text
from bot.routing import queue
from bot.wecom_ws.platform import NAME
from storage.directory import group_by_chat
from storage.models import Card as CardRow
from storage.models import OutboxMessage, Person

log = logging.getLogger(__name__)
REFUSALS = {93006: "the bot was never @-mentioned in that chat", 846609: "the bot is not subscribed"}


def fall_back(relay, message: OutboxMessage, errcode: int) -> str:
    """Queue the refused push on the WeCom platform's other channels; returns what was done."""
    wecom = relay.platforms.get("wecom")
    if wecom is None:
        return "no fallback: [wecom] (webhook, self-built app) is not configured"
    done: list[str] = []
    with relay.Session.begin() as session:
        now = relay.clock.now()
        group = group_by_chat(session, NAME, message.target)
        card_row = None
        if message.payload.get("msgtype") == "template_card":
            task_id = message.payload["template_card"].get("task_id", "")
            card_row = session.scalars(select(CardRow).where(CardRow.track_id == task_id)).first()
        people = ""
        if card_row is not None and relay.cards.copy_to_people(session, wecom, card_row, f"fallback:{message.id}:card"):
            done.append("the self-built app's card to the people who act")
            people = "、".join(p.name for p in _audience(session, card_row))
        text = _text(relay, message, card_row, people)
        if group is not None:
            delivery = wecom.group_text(group, text)
            queue(session, now, "wecom", delivery, f"fallback:{message.id}:webhook")
            done.append("the group robot webhook" + (f" (dead: {delivery.problem})" if delivery.problem else ""))
        elif card_row is None:   # a push to one person: the app's message
            queue(session, now, "wecom", wecom.person_text(message.target, plain_text(text)), f"fallback:{message.id}:app")
            done.append("the self-built app's message")
    why = f"{REFUSALS.get(errcode, 'refused')}: fell back to " + (" and ".join(done) or "nothing")
    log.warning("wecom-ws: push %s to %s refused (%s); %s", message.id, message.target, errcode, why)
    return why


def _audience(session, card_row: CardRow) -> list[Person]:
    from bot.cardflow import actors
    from bot.cards import Card
    return actors(session, Card(kind=card_row.kind, subject_id=card_row.subject_id, title="", context={},
                                actors=str(card_row.data.get("actors", ""))))


def _text(relay, message: OutboxMessage, card_row: CardRow | None, people: str) -> str:
    if card_row is None:
        return str(message.payload.get("markdown", {}).get("content", ""))
    return relay.messages.render("notices/ws_fallback_card", {"title": card_row.data["title"],
                                                             "body": card_row.data["body"], "people": people})
