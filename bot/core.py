"""Applying a message: one message in, one transaction, one reply and its notices out."""
from __future__ import annotations

import logging
from typing import cast
from collections.abc import Mapping

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import photos
from bot.answers import offer_buttons
from bot.cardflow import CardService
from bot.errors import error_reply
from bot.handlers.base import CommandTable, Context
from bot.neutral import ChatMessage, RenderedReply, Reply
from bot.platforms.contract import Platform
from bot.platforms.fallbacks import shown
from bot.reader import Reader
from bot.routing import NoticeRouter, queue
from bot.services import Services
from bot.text import tokenize
from storage.db import retrying
from storage.directory_cache import sender_and_group
from storage.errors import UserError
from storage.models import InboundMessage

log = logging.getLogger(__name__)

_INBOUND = cast(Table, InboundMessage.__table__)
_CLAIM = insert(_INBOUND).values(platform=bindparam("b_platform"), msg_id=bindparam("b_msg_id"),
                                 received_at=bindparam("b_received_at")).returning(_INBOUND.c.id)
_ANSWERED = update(_INBOUND).where(_INBOUND.c.id == bindparam("b_id")).values(reply=bindparam("b_reply"))


class _Refused(Exception):
    """A command refused the message: its transaction is rolled back whole."""

    def __init__(self, error: UserError):
        super().__init__(error.code)
        self.error = error


class MessageService:
    """Applies each platform message at most once and answers it (the stored answer on a retry)."""

    def __init__(self, services: Services, platforms: Mapping[str, Platform], commands: CommandTable,
                 cards: CardService, router: NoticeRouter):
        self.services, self.platforms, self.commands = services, platforms, commands
        self.cards, self.router = cards, router
        self.reader = Reader(commands)
        self.photos = photos.PhotoDesk(services)

    def handle(self, message: ChatMessage) -> RenderedReply:
        """Apply a command at most once and return its reply (the stored one on a retry)."""
        fetched = photos.fetch(message, self.services.settings.app.max_photo_bytes) if message.photos else []
        try:
            try:
                rendered, has_notices = retrying(lambda: self._apply(message, fetched))
            except _Refused as refused:   # its transaction is rolled back: the refusal is a new one
                error = refused.error
                rendered, has_notices = retrying(lambda: self._apply(message, fetched, error))
        except IntegrityError:
            stored = self._stored_reply(message)
            if stored is None:
                raise
            log.info("duplicate %s message %s answered from the record", message.platform, message.message_id)
            return stored
        if has_notices:
            self.services.outbox.kick()
        return rendered

    def _apply(self, message: ChatMessage, fetched: photos.Fetched,
               refused: UserError | None = None) -> tuple[RenderedReply, bool]:
        """One transaction: claim the message, run the command, store and queue the reply.

        No savepoint on the way (it costs a round trip and a flush on every message): a command
        that refuses raises `_Refused`, which rolls the whole transaction back, and the refusal
        is applied in a fresh one (`refused`: the command is not run again)."""
        services = self.services
        with services.Session.begin() as session:
            now = services.clock.now()
            # claims the message id first: a concurrent duplicate waits or fails here (a plain
            # statement, not an ORM flush: the commit's flush is the callback's one)
            inbound_id = session.connection().execute(_CLAIM, {"b_platform": message.platform,
                                                               "b_msg_id": message.message_id,
                                                               "b_received_at": now}).scalar_one()
            platform = self.platforms[message.platform]
            person, group = sender_and_group(session, platform.identity, message.sender_id, message.platform,
                                             message.chat_id)
            ctx = Context(session=session, clock=services.clock, settings=services.settings, message=message,
                          commands=self.commands, source=message.source, public_url=services.public_url,
                          person=person, group=group)
            carded = False
            if message.unread:   # a file, a video: not read, and the open question is not taken by it
                reply = Reply("unread_kind", {"kind": message.unread})
            elif fetched and not tokenize(message.text):   # a photo alone (in a group with `@bot`): for their exception
                reply = self.photos.attach(session, ctx, fetched, None)
            else:
                reply, carded = self._dispatch(session, ctx, platform, refused)
                if fetched and reply.template == "incident_ok":   # sent with `异常 …`: for the one it opened
                    reply = self.photos.attach(session, ctx, fetched, reply)
            rendered = RenderedReply(services.messages.render(reply.template, reply.context))
            session.connection().execute(_ANSWERED, {"b_id": inbound_id, "b_reply": rendered.to_json()})
            pending = carded
            if not message.answered_card:   # a button's answer is shown on its card
                delivery = platform.reply(message, shown(platform.capabilities, rendered.markdown))
                queue(session, now, message.platform, delivery, f"{message.platform}:reply:{message.message_id}",
                      fresh=True)
                pending = pending or delivery.status == "pending"
            self._effects(session, ctx)
            return rendered, bool(ctx.notices or ctx.closed_cards) or pending

    def _dispatch(self, session: Session, ctx: Context, platform: Platform,
                  refused: UserError | None) -> tuple[Reply, bool]:
        """The command the text says, or the question it answers (a refusal changes nothing: it
        raises `_Refused` and comes back as `refused`); and whether a question went out with
        buttons too."""
        message = ctx.message
        asked = self.reader.take_question(session, ctx)   # this message answers it or drops it
        error: UserError | None = refused
        if refused is None:
            try:
                reply = self.reader.dispatch(ctx, asked)
            except UserError as exc:
                raise _Refused(exc) from exc
        else:
            log.info("refused %s from %s: %s %s", message.text, message.sender_id, refused.code, refused.data)
            reply = error_reply(refused)
        self.reader.remember(session, ctx, error)   # a question asked is kept for the next message
        carded = offer_buttons(session, self.cards, platform, ctx, error)   # with buttons where they show
        return reply, carded

    def _effects(self, session: Session, ctx: Context) -> None:
        """What the command decided besides its reply: cards closed, notices sent."""
        ctx.requests_closed_by_completion()
        for kind, subject_id, context in ctx.refreshed_cards:
            self.cards.refresh(session, kind, subject_id, context)
        if ctx.closed_cards and ctx.person is not None:
            self.cards.close(session, ctx.closed_cards, ctx.person)
        for notice in ctx.notices:
            self.router.enqueue(session, notice)

    def _stored_reply(self, message: ChatMessage) -> RenderedReply | None:
        with self.services.Session() as session:
            row = session.scalars(select(InboundMessage).where(InboundMessage.platform == message.platform,
                                                               InboundMessage.msg_id == message.message_id)).first()
            return RenderedReply.from_json(row.reply) if row is not None and row.reply else None
