"""Questions with buttons: where a chat can show buttons (a DingTalk group; WeCom's long
connection), the bot's confirmation question comes with a small card — 确认 / 取消 — beside its
text. A press is the asker's typed answer (`是` / `不`): it goes through the message path like
any message (the question is taken there, under its lock, so a press and a typed `是` apply the
reading once between them), and the reply rides back on the card instead of a chat message.

The card is about the person asked (its subject is their person id, only they may press it);
it closes when pressed, when the person's next message in that chat takes the question, and
when a newer question replaces it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.cardflow import CardService
from bot.cards import Button, Card
from bot.errors import NeedsConfirmation
from bot.handlers.base import Context, decide
from bot.neutral import CardClick, ChatMessage, RenderedReply
from bot.platforms.contract import CardView, ClickOutcome, ClickResult, Platform
from bot.services import Services
from storage.directory import person_by_platform_id
from storage.errors import UserError
from storage.models import Card as CardRow
from storage.models import Person

log = logging.getLogger(__name__)

KIND = "confirm"
ANSWERS = {"yes": "是", "no": "不"}   # what each button types


def offer_buttons(session: Session, cards: CardService, platform: Platform, ctx: Context,
                  error: UserError | None) -> bool:
    """After a message: close the person's older question cards in this chat; if the message
    ended with a confirmation asked in a group that shows buttons, send its card. True when
    anything was queued."""
    person, group = ctx.person, ctx.group
    if person is None or group is None:
        return False
    closed = close_open(session, cards, person, group.chat_id, ctx.message.answered_card)
    if not isinstance(error, NeedsConfirmation) or not platform.capabilities.group_cards:
        return closed
    render = cards.services.messages.render
    card = Card(kind=KIND, subject_id=person.id, title=render("cards/confirm_title", {}),
                context={"person": person.name, "verb": error.data.get("verb", ""),
                         "reading": error.data.get("reading", "")},
                buttons=(Button("yes", render("cards/confirm_yes", {})),
                         Button("no", render("cards/confirm_no", {}), style="normal")))
    cards.send_to_group(session, platform, group, card, f"{platform.name}:confirm:{ctx.message.message_id}",
                        fresh=True)
    return True


# Built once, and Core: it runs on every message and finds nothing nearly always (the ORM's
# loading cost more than the query). Run on the connection, not flushing the session: the
# command's own changes do not touch these rows; the commit writes them.
_CARDS = CardRow.__table__
_OPEN_QUESTIONS = (select(_CARDS.c.id, _CARDS.c.track_id)
                   .where(_CARDS.c.kind == KIND, _CARDS.c.subject_id == bindparam("b_person"),
                          _CARDS.c.audience == bindparam("b_chat"), _CARDS.c.status == "open")
                   .order_by(_CARDS.c.id).with_for_update())


def close_open(session: Session, cards: CardService, person: Person, chat_id: str, pressed: str) -> bool:
    """Close this person's open question cards in this chat, but the one being pressed (their
    copies updated where possible): the message that takes the question ends them. All of them
    locked, as read."""
    found = session.connection().execute(_OPEN_QUESTIONS, {"b_person": person.id, "b_chat": chat_id}).all()
    closing = [card_id for card_id, track_id in found if track_id != pressed]
    if not closing:
        return False
    rows = session.scalars(select(CardRow).where(CardRow.id.in_(closing)).order_by(CardRow.id)   # locked above
                           .execution_options(autoflush=False)).all()
    cards.close_rows(session, list(rows), person, "replaced")
    return True


class AnswerButtons:
    """Presses on question cards, answered through the message path."""

    def __init__(self, services: Services, platforms: Mapping[str, Platform], cards: CardService,
                 handle_message: Callable[[ChatMessage], RenderedReply]):
        self.services, self.platforms, self.cards = services, platforms, cards
        self.handle_message = handle_message

    def owns(self, click: CardClick) -> bool:
        """True when the click is on a question card of ours (it is then answered here)."""
        with self.services.Session() as session:
            return session.scalar(select(CardRow.kind).where(CardRow.track_id == click.track_id,
                                                            CardRow.platform == click.platform)) == KIND

    def handle(self, click: CardClick, dedupe_key: str | None) -> ClickOutcome:
        render = self.services.messages.render
        with self.services.Session() as session:
            row = session.scalars(select(CardRow).where(CardRow.track_id == click.track_id,
                                                        CardRow.platform == click.platform)).one()
            platform = self.platforms.get(click.platform)
            person = person_by_platform_id(session, platform.identity, click.user_id) if platform else None
            if row.status != "open":
                return ClickOutcome(ClickResult.ALREADY_DECIDED, CardView.of(row),
                                    render("errors/card_decided", {"data": row.data}))
            if person is None or person.id != row.subject_id:
                return ClickOutcome(ClickResult.REFUSED, CardView.of(row), render("errors/not_your_question", {}))
            if click.action not in ANSWERS:
                return ClickOutcome(ClickResult.UNKNOWN_ACTION, CardView.of(row), render("errors/unknown_card", {}))
            chat_id = row.audience
        # One answer per card: a repeated press (or its redelivery) is answered from the record.
        message = ChatMessage(platform=click.platform, message_id=f"card:{click.track_id}", sender_id=click.user_id,
                              chat_type="group", chat_id=chat_id, text=ANSWERS[click.action],
                              answered_card=click.track_id)
        reply = self.handle_message(message)
        return self._closed(click, person.id, reply.markdown)

    def _closed(self, click: CardClick, person_id: int, said: str) -> ClickOutcome:
        """The card, closed with the reply as its outcome (the message path may have closed it)."""
        with self.services.Session.begin() as session:
            row = session.scalars(select(CardRow).where(CardRow.track_id == click.track_id,
                                                        CardRow.platform == click.platform).with_for_update()).one()
            person = session.get(Person, person_id)
            assert person is not None
            if row.status == "open":
                decide(row, person, click.action, self.services.clock.now())
                row.data = {**row.data, "outcome": said, "outcome_short": said.splitlines()[0][:40] if said else ""}
            return ClickOutcome(ClickResult.APPLIED, CardView.of(row), said)
