"""The platform contract: what a chat platform gives LineRelay and what it gets back.

A platform's adapter turns the platform's callbacks into `ChatMessage`s and `CardClick`s
(bot/neutral.py) and hands them to the application; the application asks the platform, through
the methods below, how a reply, a notice or a card travels there (a `Delivery`, queued in the
outbox), and the platform's senders carry them. What a platform can show is data
(`Capabilities`); what happens where it cannot show something is decided in one place
(`bot.platforms.fallbacks`), never by the caller asking which platform it is.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any
from collections.abc import Callable, Mapping, Sequence

from bot.platforms.mentions import Mention, as_names

if TYPE_CHECKING:
    from bot.neutral import CardClick, ChatMessage
    from bot.services import Services
    from storage.models import Card as CardRow
    from storage.models import GroupBinding, OutboxMessage


@dataclass(frozen=True)
class Capabilities:
    """What a platform can show. The router reads these; it never asks for a platform's name."""
    group_cards: bool = False    # a card with buttons can sit in a group chat
    person_cards: bool = False   # a card with buttons can be sent to one person
    markdown: bool = True        # markdown shows as formatted text (else the text is sent plain)


@dataclass(frozen=True)
class Delivery:
    """One message for the outbox: the platform's channel that carries it, to whom, and what."""
    channel: str                 # the platform's own name for a send API ("webhook", "card" …)
    target: str                  # whom it goes to on that channel (webhook key, chat id, user ids …)
    payload: dict[str, Any]
    status: str = "pending"      # "sent": already carried (a passive reply rides in the HTTP response)
    problem: str = ""            # why it cannot go; it is kept as a dead letter with this reason


@dataclass(frozen=True)
class Image:
    """A picture for a group: the PNG itself, and the unguessable address where LineRelay serves
    the same picture (empty where the server has no address people reach)."""
    title: str
    png: bytes
    url: str = ""


Sender = Callable[["OutboxMessage"], object]   # raises bot.outbox.SendError when it could not send


@dataclass(frozen=True)
class CardView:
    """What a card we sent shows now: its text and either its buttons or its outcome."""
    track_id: str
    title: str
    body: str
    buttons: tuple[tuple[str, str, str], ...] = ()   # (action, label, style); none once decided
    outcome: str = ""            # once decided: who decided what, when
    outcome_short: str = ""      # the same in a few words (where a platform allows only those)
    audience: tuple[str, ...] = ()   # the group's chat id, or the user ids of the people it went to
    mentions: tuple[Mention, ...] = ()   # whom the card @-mentions where it is delivered (not stored)

    @classmethod
    def of(cls, row: CardRow) -> CardView:
        data = row.data
        return cls(track_id=row.track_id, title=data["title"], body=data["body"],
                   buttons=tuple(tuple(b) for b in data.get("buttons", [])) if row.status == "open" else (),
                   outcome=data.get("outcome", ""), outcome_short=data.get("outcome_short", ""),
                   audience=tuple(u for u in row.audience.split("|") if u))


class ClickResult(Enum):
    """How a button press ended, for the platform's adapter to answer in its own terms."""
    APPLIED = "applied"          # the action was carried out (or the press repeated one that was)
    ASKED = "asked"              # nothing changed yet: the clicker is asked for more (a number, a reason)
    ALREADY_DECIDED = "decided"  # the card was decided before; nothing changed
    REFUSED = "refused"          # the clicker may not do this; nothing changed
    UNKNOWN_CARD = "unknown_card"      # not a card we sent
    UNKNOWN_ACTION = "unknown_action"  # a card we sent, but no such button on it


@dataclass(frozen=True)
class ClickOutcome:
    result: ClickResult
    card: CardView | None = None     # the card as it shows now (None: not ours)
    message: str = ""                # what the clicker is told (markdown), if anything


class Platform(ABC):
    """A chat platform as the core sees it. A subclass sets `name` and `capabilities`, says how
    each kind of message travels there, and sends what the outbox hands it."""
    name: str = ""
    capabilities: Capabilities = Capabilities()
    people_of: str = ""   # a second channel of a platform (WeCom's AI-bot long connection) names it here:
                          # its people have that platform's user ids. Empty: this platform's own.

    @property
    def identity(self) -> str:
        """Whose user ids the people on this platform have (the name stored in person_identities)."""
        return self.people_of or self.name

    def bind(self, services: Services) -> None:  # noqa: B027 (a hook: most platforms need nothing)
        """Called once by the application that takes this platform (its clock, its sessions)."""

    def on_public_url(self, url: str) -> None:  # noqa: B027 (a hook: most platforms need nothing)
        """The app answers at `url` now; register whatever callback the platform must be told of."""

    @abstractmethod
    def reply(self, message: ChatMessage, text: str) -> Delivery:
        """The answer to `message`, in the conversation it came from."""

    @abstractmethod
    def group_text(self, group: GroupBinding, text: str) -> Delivery:
        """A notice into a group, unprompted."""

    def group_notice(self, group: GroupBinding, text: str, mentions: Sequence[Mention]) -> Delivery:
        """A notice into a group that @-mentions people: `text` marks each of them
        (bot.platforms.mentions). A platform that can mention people in this group turns the marks
        into its mentions; by default they become the plain names (`@张伟`)."""
        return self.group_text(group, as_names(text))

    def group_image(self, group: GroupBinding, image: Image) -> Delivery | None:
        """A picture into a group, where the platform shows one there (None: it cannot, and the
        group gets nothing; whatever the picture says is in the text beside it)."""
        return None

    @abstractmethod
    def person_text(self, user_id: str, text: str) -> Delivery:
        """A message to one person, unprompted."""

    def group_card(self, group: GroupBinding, card: CardView) -> Delivery:
        """A card with buttons in a group (asked for only when `capabilities.group_cards`)."""
        raise NotImplementedError(f"{self.name} cannot show cards in groups")

    def person_card(self, user_ids: list[str], card: CardView) -> Delivery:
        """A card with buttons to these people (asked for only when `capabilities.person_cards`)."""
        raise NotImplementedError(f"{self.name} cannot send cards to people")

    def card_update(self, card: CardView) -> Delivery | None:
        """A card decided elsewhere changes in place, if the platform can do that unprompted."""
        return None

    def click_followups(self, card: CardView, click: CardClick, message: str) -> list[Delivery]:
        """What must be sent after a click, beyond the callback's own answer."""
        return []

    @abstractmethod
    def senders(self) -> Mapping[str, Sender]:
        """The send function of each channel this platform's deliveries name."""
