"""Button presses: checked against the cards we sent, applied once, answered with a neutral outcome.

A click counts only for a card in `cards`, from a person the card's action allows, while the
card is open. The outcome says what happened; each platform's adapter answers its callback
in its own terms (an HTTP status, an updated card, an ack), and `Platform.click_followups`
adds what must be sent besides.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.answers import AnswerButtons
from bot.cardflow import CardService
from bot.errors import error_reply, is_question
from bot.handlers.base import CardAction, ClickContext
from bot.neutral import CardClick
from bot.platforms.contract import CardView, ClickOutcome, ClickResult, Platform
from bot.reader import ask
from bot.routing import NoticeRouter, queue
from bot.services import Services
from storage.db import retrying
from storage.directory import person_by_platform_id
from storage.errors import NotAllowed, UserError
from storage.lifecycle import lock_card_subject
from storage.models import Card as CardRow
from storage.models import InboundMessage
from storage.questions import ANY_CHAT

log = logging.getLogger(__name__)


# Refusals that say the same each time (not allowed, decided already, no such button): a person
# who keeps pressing is told once per card, not once per press (on WeCom's long connection every
# answer is a push into the group, counted against its 30 a minute).
SAID_ONCE = frozenset({ClickResult.REFUSED, ClickResult.ALREADY_DECIDED, ClickResult.UNKNOWN_ACTION})


class ClickService:
    def __init__(self, services: Services, platforms: Mapping[str, Platform],
                 actions: Mapping[tuple[str, str], CardAction], cards: CardService, router: NoticeRouter):
        self.services, self.platforms, self.actions = services, platforms, actions
        self.cards, self.router = cards, router
        self.answers: AnswerButtons | None = None   # presses on question cards (set by the Relay)

    def handle(self, click: CardClick, dedupe_key: str | None = None) -> ClickOutcome:
        """Apply a click once (`dedupe_key`: the platform's id for this delivery of it)."""
        if self.answers is not None and self.answers.owns(click):
            try:
                return self.answers.handle(click, dedupe_key)
            finally:
                self.services.outbox.kick()
        try:
            return retrying(lambda: self._handle(click, dedupe_key))
        except IntegrityError:  # the same click delivered twice at once: the first one counts
            return ClickOutcome(ClickResult.APPLIED)
        finally:
            self.services.outbox.kick()

    def _handle(self, click: CardClick, dedupe_key: str | None) -> ClickOutcome:
        render = self.services.messages.render
        with self.services.Session.begin() as session:
            row = self._locked_card(session, click)
            if row is None:
                return ClickOutcome(ClickResult.UNKNOWN_CARD, message=render("errors/unknown_card", {}))
            if dedupe_key is not None and self._seen(session, click, dedupe_key):
                return ClickOutcome(ClickResult.APPLIED, CardView.of(row))
            if row.status != "open":
                return self._answer(session, row, click, ClickResult.ALREADY_DECIDED,
                                    render("errors/card_decided", {"data": row.data}))
            action = self.actions.get((row.kind, click.action))
            if action is None:
                return ClickOutcome(ClickResult.UNKNOWN_ACTION, CardView.of(row), render("errors/unknown_card", {}))
            return self._apply(session, row, click, action)

    def _locked_card(self, session: Session, click: CardClick) -> CardRow | None:
        """The card clicked, with every card about the same subject locked in id order: two
        clicks on two copies (one per platform) queue up instead of deadlocking. The subject's
        order (and request) is locked first, as a typed command locks it before it closes cards:
        the lifecycle's one lock order (storage/lifecycle.py)."""
        row = session.scalars(select(CardRow).where(CardRow.track_id == click.track_id,
                                                    CardRow.platform == click.platform)).first()
        if row is None:
            return None
        lock_card_subject(session, row.kind, row.subject_id)
        siblings = session.scalars(select(CardRow).where(CardRow.kind == row.kind, CardRow.subject_id == row.subject_id)
                                   .order_by(CardRow.id).with_for_update(of=CardRow)
                                   .execution_options(populate_existing=True)).all()
        return next(r for r in siblings if r.id == row.id)

    def _seen(self, session: Session, click: CardClick, dedupe_key: str) -> bool:
        if session.scalar(select(InboundMessage.id).where(InboundMessage.platform == click.platform,
                                                          InboundMessage.msg_id == dedupe_key)):
            return True
        session.add(InboundMessage(platform=click.platform, msg_id=dedupe_key, received_at=self.services.clock.now()))
        session.flush()
        return False

    def _apply(self, session: Session, row: CardRow, click: CardClick, action: CardAction) -> ClickOutcome:
        services = self.services
        platform = self.platforms.get(click.platform)
        person = person_by_platform_id(session, platform.identity, click.user_id) if platform is not None else None
        ctx = ClickContext(session=session, clock=services.clock, settings=services.settings, person=person,
                           source=click.source, click=click)
        try:
            with session.begin_nested():
                if person is None:
                    raise NotAllowed(action="card", workshop="")
                note = action(ctx, row, click)
                if row.status != "open":
                    row.data = {**row.data, **self.cards.outcome_texts(click.action, person, services.clock.now())}
        except UserError as exc:
            log.info("card click not applied: %s %s by %s: %s", row.kind, click.action, click.user_id, exc.code)
            reply = error_reply(exc)
            result = ClickResult.ASKED if is_question(exc) else ClickResult.REFUSED
            if person is not None:   # the answer (a number, a reason) may come in any chat of theirs
                ask(session, services.clock.now(), person, ANY_CHAT, exc, click.source)
            return self._answer(session, row, click, result, services.messages.render(reply.template, reply.context))
        assert person is not None
        ctx.requests_closed_by_completion()
        for kind, subject_id, context in ctx.refreshed_cards:   # (a vote that does not decide yet)
            self.cards.refresh(session, kind, subject_id, context)
        self.cards.close(session, ctx.closed_cards, person, skip_id=row.id)
        for notice in ctx.notices:
            self.router.enqueue(session, notice)
        message = services.messages.render(note[0], note[1]) if note else ""
        return self._answer(session, row, click, ClickResult.APPLIED, message)

    def _answer(self, session: Session, row: CardRow, click: CardClick, result: ClickResult,
                message: str) -> ClickOutcome:
        """The outcome, with what the platform must send besides (queued in this transaction)."""
        view = CardView.of(row)
        platform = self.platforms.get(click.platform)
        now, press = self.services.clock.now(), secrets.token_hex(6)   # each press is sent about once
        if result in SAID_ONCE:   # a button pressed again and again: its refusal goes to that person once
            press = f"{result.value}:{hashlib.sha1(message.encode()).hexdigest()[:12]}"
        for i, delivery in enumerate(platform.click_followups(view, click, message) if platform else []):
            queue(session, now, click.platform, delivery, f"click:{click.track_id}:{click.user_id}:{press}:{i}")
        return ClickOutcome(result, view, message)

