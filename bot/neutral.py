"""The seam between platform adapters and handlers: small, typed, platform-free."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Photo:
    """A picture sent with a message: how to fetch its bytes (the platform's download, decrypted),
    called once, before the message's transaction."""
    fetch: Callable[[], bytes] = field(repr=False)
    ref: str = ""            # what names it in logs (never its download URL)


@dataclass(frozen=True)
class ChatMessage:
    """One verified, decrypted command message, whatever platform it came from."""
    platform: str            # the platform's registry name
    message_id: str          # the platform's id, used for deduplication
    sender_id: str           # the sender's user id on that platform
    chat_type: str           # "group" | "single"
    chat_id: str | None      # group chat id, None in a direct chat
    text: str                # the text as typed (mentions before the command are the reader's to drop)
    chat_name: str = ""
    reply_url: str | None = None   # a platform URL to answer later (WeCom response_url)
    spoken: bool = False           # speech the platform transcribed: read like text, always confirmed first
    answered_card: str = ""        # a button's answer: the question card pressed (its reply rides on the card)
    photos: tuple[Photo, ...] = () # pictures sent with it (attached to the sender's exception)
    unread: str = ""               # a kind of message LineRelay does not read ("file", "video"): told so

    @property
    def source(self) -> str:
        """How events name this message: `wecom:msg:<id>`."""
        return f"{self.platform}:msg:{self.message_id}"


@dataclass(frozen=True)
class CardClick:
    """A button press, whatever platform it came from."""
    platform: str
    track_id: str            # the card's id as we sent it (bot.cardflow.new_track_id)
    user_id: str             # the clicker's platform user id
    action: str              # the button's action
    params: dict[str, Any]   # whatever else the platform sent that its follow-ups need

    @property
    def source(self) -> str:
        """How events name this click: `dingtalk:card:<track id>`."""
        return f"{self.platform}:card:{self.track_id}"


@dataclass(frozen=True)
class Reply:
    """What a handler answers: a reply template and its context (rendered at the edge)."""
    template: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    """A message to every group bound to a workshop (or with a role such as managers); with a
    card where the group can show one."""
    workshop_id: int | None
    template: str
    context: dict[str, Any]
    key: str                 # idempotency key: one notice per key, however often it is produced
    card: Any = None         # bot.cards.Card, shown with buttons where the platform allows
    role: str | None = None  # instead of a workshop: the groups with this role
    person_id: int | None = None   # instead of groups: one person, directly
    platform: str | None = None    # with person_id: the platform to reach them on
    not_before: Any = None         # hold until then (quiet hours); naive UTC
    fresh: bool = False            # the key names something just created: no need to look for it
    mentions: tuple[int, ...] = () # people (ids) the notice @-mentions where the platform can; the text
                                   # marks where (bot.platforms.mentions), a card is delivered with them


@dataclass(frozen=True)
class RenderedReply:
    """A reply rendered to markdown, stored with the inbound message for retries."""
    markdown: str

    def to_json(self) -> dict[str, Any]:
        return {"markdown": self.markdown}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenderedReply:
        return cls(markdown=data["markdown"])
