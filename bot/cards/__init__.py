"""Cards as data: one neutral description, rendered per platform at the edge.

The body is markdown from `bot/templates/cards/<kind>.md.j2`; buttons are (action, label).
Where buttons go depends on what each platform can show (bot/platforms/fallbacks.py): into the
group, to the people who must act, or nowhere, and then the text lists each button's command.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.neutral import CardClick


@dataclass(frozen=True)
class Button:
    action: str
    label: str
    style: str = "primary"   # primary / danger / normal
    command: str = ""        # what a person types to do the same, where buttons cannot go


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


__all__ = ["Button", "Card", "CardClick"]
