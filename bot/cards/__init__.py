"""Cards as data: one neutral description, rendered per platform at the edge.

The body is markdown from `bot/templates/cards/<kind>.md.j2`; buttons are (action, label).
A DingTalk group gets an interactive card; a WeCom group, whose robot webhook cannot carry
buttons, gets the same body as a markdown notice (the buttons go to the person who must act
through the self-built app).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    action: str
    label: str
    style: str = "primary"   # primary / danger / normal


@dataclass(frozen=True)
class Card:
    kind: str                          # handoff / approval / warning; also the body template name
    subject_id: int                    # the handoff, request or step the card is about
    title: str
    context: dict[str, Any]
    buttons: tuple[Button, ...] = ()
    outcome: str | None = None         # once decided: what happened, shown instead of buttons
    actors: str = ""                   # who may press: "leads:<workshop id>" or "role:<role>"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CardClick:
    """A button press, whatever platform it came from."""
    platform: str
    track_id: str
    user_id: str
    action: str
    params: dict[str, Any]
