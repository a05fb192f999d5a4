"""The application object: what it holds (services), whom it speaks through (platforms), what
it knows (commands, card actions), and the three things it does (apply a message, apply a
click, route a notice). Everything is added to it in code, never by importing a module."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm import Session as OrmSession   # the name Session is the factory's in the class

from bot.answers import AnswerButtons
from bot.cardflow import CardService
from bot.clicks import ClickService
from bot.clock import Clock
from bot.config import Settings
from bot.core import MessageService
from bot.handlers.base import CardAction, Command, CommandTable, Handler
from bot.messages import Messages
from bot.neutral import CardClick, ChatMessage, Notice, RenderedReply
from bot.outbox import Dispatcher
from bot.platforms.contract import ClickOutcome, Image, Platform
from bot.routing import NoticeRouter
from bot.services import Services
from storage.models import GroupBinding
from storage.planner import PlanConfig


class Relay:
    def __init__(self, services: Services):
        self.services = services
        self.platforms: dict[str, Platform] = {}
        self.commands = CommandTable()
        self.card_actions: dict[tuple[str, str], CardAction] = {}
        self.cards = CardService(services, self.platforms)
        self.router = NoticeRouter(services, self.platforms, self.cards)
        self.inbox = MessageService(services, self.platforms, self.commands, self.cards, self.router)
        self.clicks = ClickService(services, self.platforms, self.card_actions, self.cards, self.router)
        self.clicks.answers = AnswerButtons(services, self.platforms, self.cards, self.inbox.handle)

    # -- what it is told ------------------------------------------------------------------------
    def add_platform(self, platform: Platform) -> None:
        """Speak through `platform`; its senders join the outbox's."""
        self.platforms[platform.name] = platform
        platform.bind(self.services)
        self.services.outbox.senders.update({(platform.name, channel): send
                                             for channel, send in platform.senders().items()})

    def add_command(self, handler: Handler, name: str, *aliases: str, needs_person: bool = True,
                    reads_only: bool = False) -> None:
        """`name` (and each alias) typed first in a message runs `handler`."""
        self.commands.add(Command(name=name, aliases=aliases, handler=handler, needs_person=needs_person,
                                  reads_only=reads_only))

    def add_card_action(self, kind: str, action: str, fn: CardAction) -> None:
        """What button `action` on a card of `kind` does."""
        self.card_actions[(kind, action)] = fn

    # -- what it does ---------------------------------------------------------------------------
    def handle_message(self, message: ChatMessage) -> RenderedReply:
        return self.inbox.handle(message)

    def handle_click(self, click: CardClick, dedupe_key: str | None = None) -> ClickOutcome:
        return self.clicks.handle(click, dedupe_key)

    def enqueue_notice(self, session: Session, notice: Notice) -> None:
        self.router.enqueue(session, notice)

    def enqueue_group_text(self, session: Session, group: GroupBinding, text: str, key: str,
                           not_before: datetime | None = None, fresh: bool = False) -> None:
        self.router.group_text(session, group, text, key, not_before=not_before, fresh=fresh)

    def enqueue_group_image(self, session: Session, group: GroupBinding, image: Image, key: str) -> None:
        self.router.group_image(session, group, image, key)

    def on_public_url(self, url: str) -> None:
        """The app answers at `url` now: tell every platform that must know (and links use it
        where `app.public_url` names no other address)."""
        self.services.public_url = self.services.public_url or url
        for platform in self.platforms.values():
            platform.on_public_url(url)

    # -- what it holds, by name (jobs, the CLI and tests read these) ----------------------------
    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def engine(self) -> Engine:
        return self.services.engine

    @property
    def Session(self) -> sessionmaker[Session]:  # noqa: N802 (a factory, named like one)
        return self.services.Session

    @property
    def ReadSession(self) -> sessionmaker[OrmSession]:  # noqa: N802
        return self.services.ReadSession

    @property
    def messages(self) -> Messages:
        return self.services.messages

    @property
    def dispatcher(self) -> Dispatcher:
        return self.services.outbox

    @property
    def plan(self) -> PlanConfig:
        return self.services.plan


__all__ = ["Relay"]
