"""The platform-free core: one message in, one transaction, one reply and its notices out."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot import cardflow as cards, handlers
from bot.clock import Clock
from bot.config import Settings
from bot.handlers.base import Context, error_reply, find_command
from bot.messages import Messages
from bot.neutral import ChatMessage, Notice, RenderedReply, Reply
from bot.outbox import Dispatcher
from bot.text import tokenize
from storage import outbox as outbox_store
from storage.db import make_engine, make_session_factory, retrying
from storage.directory import group_by_chat, groups_of_role, groups_of_workshop, person_by_platform_id
from storage.errors import UnknownCommand, UnknownPerson, UserError
from storage.models import InboundMessage, Person

log = logging.getLogger(__name__)


class Relay:
    """Holds what handlers, adapters and jobs share: settings, database, clock, outbox."""

    def __init__(self, settings: Settings, clock: Clock | None = None, engine=None):
        self.settings = settings
        self.clock = clock or Clock(settings.app.timezone)
        self.engine = engine or make_engine(settings.app.database_url)
        self.Session = make_session_factory(self.engine)
        self.messages = Messages(self.clock)
        self.platforms: dict = {}   # name -> adapter object with render_notice() and senders()
        self.dispatcher = Dispatcher(self.Session, self.clock, {},
                                     lease=timedelta(seconds=settings.app.outbox_lease_seconds))

    def add_platform(self, name: str, platform) -> None:
        self.platforms[name] = platform
        if hasattr(platform, "bind"):
            platform.bind(self)
        self.dispatcher.senders.update(platform.senders())

    def handle_message(self, message: ChatMessage) -> RenderedReply:
        """Apply a command at most once and return its reply (the stored one on a retry)."""
        try:
            rendered, has_notices = retrying(lambda: self._apply(message))
        except IntegrityError:
            stored = self._stored_reply(message)
            if stored is None:
                raise
            log.info("duplicate %s message %s answered from the record", message.platform, message.message_id)
            return stored
        if has_notices:
            self.dispatcher.kick()
        return rendered

    def _apply(self, message: ChatMessage) -> tuple[RenderedReply, bool]:
        with self.Session.begin() as session:
            now = self.clock.now()
            inbound = InboundMessage(platform=message.platform, msg_id=message.message_id, received_at=now)
            session.add(inbound)
            session.flush()  # claims the message id first: a concurrent duplicate waits or fails here
            ctx = Context(session=session, clock=self.clock, settings=self.settings, message=message,
                          person=person_by_platform_id(session, message.platform, message.sender_id),
                          group=group_by_chat(session, message.platform, message.chat_id)
                          if message.chat_id else None)
            try:
                with session.begin_nested():
                    reply = self._dispatch(ctx)
            except UserError as exc:
                log.info("refused %s from %s: %s %s", message.text, message.sender_id, exc.template, exc.context)
                reply = error_reply(exc)
                ctx.notices.clear()
                ctx.closed_cards.clear()
            rendered = RenderedReply(self.messages.render(reply.template, reply.context))
            inbound.reply = rendered.to_json()
            channel, target, payload, status = self.platforms[message.platform].reply_delivery(message, rendered.markdown)
            outbox_store.enqueue(session, now, key=f"{message.platform}:reply:{message.message_id}",
                                 platform=message.platform, channel=channel, target=target,
                                 payload=payload, status=status, fresh=True)
            if ctx.closed_cards and ctx.person is not None:
                cards.close_cards(self, session, ctx.closed_cards, ctx.person)
            for notice in ctx.notices:
                self.enqueue_notice(session, notice)
            return rendered, bool(ctx.notices or ctx.closed_cards) or status == "pending"

    def _dispatch(self, ctx: Context) -> Reply:
        words = tokenize(ctx.message.text)
        if not words:
            return Reply("help", {"known": ctx.person is not None})
        command = find_command(words[0])
        if command is None:
            raise UnknownCommand(word=words[0][:20])
        if command.needs_person and ctx.person is None:
            raise UnknownPerson(sender=ctx.message.sender_id)
        return command.handler(ctx, words[1:])

    def _stored_reply(self, message: ChatMessage) -> RenderedReply | None:
        with self.Session() as session:
            row = session.scalars(select(InboundMessage).where(InboundMessage.platform == message.platform,
                                                               InboundMessage.msg_id == message.message_id)).first()
            return RenderedReply.from_json(row.reply) if row is not None and row.reply else None

    def _enqueue_person_message(self, session, notice: Notice, text: str) -> None:
        """A message to one person, on the platform they used (app message / robot 1:1)."""
        person = session.get(Person, notice.person_id)
        for name, platform in self.platforms.items():
            user_id = person.user_id(name)
            if user_id and (notice.platform in (None, name)):
                channel, target, payload = platform.person_delivery(user_id, text)
                outbox_store.enqueue(session, self.clock.now(), key=f"{notice.key}:{name}", platform=name,
                                     channel=channel, target=target, payload=payload)

    def enqueue_notice(self, session, notice: Notice) -> None:
        """One outbox row per group bound to the workshop, on whichever platform it lives.

        Where the group's platform can show buttons in a group (DingTalk), the notice's card is
        sent and remembered; elsewhere the notice text goes out as markdown.
        """
        text = self.messages.render(notice.template, notice.context)
        if notice.person_id is not None:
            self._enqueue_person_message(session, notice, text)
            return
        groups = groups_of_role(session, notice.role) if notice.role else groups_of_workshop(session, notice.workshop_id)
        if notice.card is not None:
            for platform in self.platforms.values():
                if getattr(platform, "person_cards", False):
                    cards.send_person_card(self, session, platform, notice.card, f"{notice.key}:{platform.name}:card",
                                           not_before=notice.not_before, fresh=notice.fresh)
        for group in groups:
            platform = self.platforms.get(group.platform)
            key = f"{notice.key}:{group.platform}:{group.chat_id}"
            if notice.card is not None and platform is not None and platform.group_cards:
                cards.send_group_card(self, session, platform, group, notice.card, key, not_before=notice.not_before,
                                      fresh=notice.fresh)
                continue
            self.enqueue_group_text(session, group, text, key, not_before=notice.not_before, fresh=notice.fresh)

    def enqueue_group_text(self, session, group, text: str, key: str, not_before=None, fresh: bool = False) -> None:
        """One markdown message into one group, on its platform. A message that cannot go (no such
        platform configured, no webhook key) is kept as a dead letter with the reason."""
        now = self.clock.now()
        platform = self.platforms.get(group.platform)
        if platform is None:
            outbox_store.enqueue(session, now, key=key, platform=group.platform, channel="none",
                                 target=group.chat_id, payload={"markdown": text}, status="dead",
                                 error=f"platform {group.platform} is not configured")
            return
        channel, target, payload, problem = platform.notice_delivery(group, text)
        outbox_store.enqueue(session, now, key=key, platform=group.platform, channel=channel,
                             target=target, payload=payload, status="dead" if problem else "pending",
                             error=problem or "", not_before=not_before, fresh=fresh)


__all__ = ["Relay", "handlers"]
