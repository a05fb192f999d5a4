"""What a message becomes where a platform cannot show it as it is: the one place for that.

Read by the router (bot/routing.py) with each platform's `Capabilities`.

A card whose buttons cannot go to anyone on a platform becomes its text plus, for each
button, the command a person can type to do the same; markdown becomes plain text where a
platform shows no markdown.
"""
from __future__ import annotations

import re
from enum import Enum

from bot.cards import Card
from bot.platforms.contract import Capabilities


class CardRoute(Enum):
    GROUP = "group"    # the card, buttons and all, goes into the group
    PEOPLE = "people"  # the group gets the notice; the buttons go to the people who must act
    TEXT = "text"      # buttons reach nobody: the group gets the notice and the typed commands


def card_route(capabilities: Capabilities) -> CardRoute:
    """Where a notice's card goes on a platform that can do what `capabilities` say."""
    if capabilities.group_cards:
        return CardRoute.GROUP
    if capabilities.person_cards:
        return CardRoute.PEOPLE
    return CardRoute.TEXT


def shown(capabilities: Capabilities, markdown: str) -> str:
    """The text as the platform can show it: markdown, or plain text where it shows none."""
    return markdown if capabilities.markdown else plain_text(markdown)


def commands_text(card: Card) -> str:
    """`回复「接收 SO-1001」确认接收` lines for the buttons that have a typed equivalent."""
    lines = [f"回复「{b.command}」{b.label}" for b in card.buttons if b.command]
    return "\n".join(f"> {line}" for line in lines)


def without_buttons(text: str, card: Card) -> str:
    """The text of a card whose buttons cannot be shown: the text, then the typed commands."""
    commands = commands_text(card)
    return f"{text}\n\n{commands}" if commands else text


def plain_text(markdown: str) -> str:
    """Markdown as plain text, for channels that show no markdown."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown)
    text = re.sub(r"^#+\s*", "", text, flags=re.M)
    text = re.sub(r"^>\s?", "", text, flags=re.M)
    text = re.sub(r'<font[^>]*>(.*?)</font>', r"\1", text)
    return re.sub(r"\\([\\`*_\[\]<>#|~])", r"\1", text)
