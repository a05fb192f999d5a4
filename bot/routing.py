"""Routing a notice: to every group bound to a workshop (or holding a role), or to one person,
on whichever platform each lives, as a card where its buttons can go and as text elsewhere."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from collections.abc import Mapping

from sqlalchemy.orm import Session

from bot.neutral import Notice
from bot.platforms.contract import Delivery, Image, Platform
from bot.platforms.fallbacks import CardRoute, card_route, shown, without_buttons
from bot.platforms.mentions import Mention, as_names, marked
from bot.services import Services
from storage import outbox as outbox_store
from storage.directory import groups_of_role, groups_of_workshop
from storage.models import GroupBinding, Person

if TYPE_CHECKING:
    from bot.cardflow import CardService


def queue(session: Session, now: datetime, platform: str, delivery: Delivery, key: str, *,
          not_before: datetime | None = None, fresh: bool = False) -> None:
    """Put a delivery in the outbox; one that cannot go is kept as a dead letter with the reason."""
    outbox_store.enqueue(session, now, key=key, platform=platform, channel=delivery.channel, target=delivery.target,
                         payload=delivery.payload, status="dead" if delivery.problem else delivery.status,
                         error=delivery.problem, not_before=not_before, fresh=fresh)


class NoticeRouter:
    """Turns notices into outbox rows, in the transaction that produced them."""

    def __init__(self, services: Services, platforms: Mapping[str, Platform], cards: CardService):
        self.services, self.platforms, self.cards = services, platforms, cards

    def enqueue(self, session: Session, notice: Notice) -> None:
        """One outbox row per group (or per person) the notice reaches; its card goes wherever
        each platform can show buttons (see bot.platforms.fallbacks.card_route)."""
        text = self.services.messages.render(notice.template, notice.context)
        if notice.person_id is not None:
            self._to_person(session, notice, text)
            return
        if notice.role:
            groups = groups_of_role(session, notice.role)
        else:
            groups = groups_of_workshop(session, notice.workshop_id) if notice.workshop_id is not None else []
        if notice.card is not None:
            for name, each in self.platforms.items():
                if card_route(each.capabilities) is CardRoute.PEOPLE:
                    self.cards.send_to_people(session, each, notice.card, f"{notice.key}:{name}:card",
                                              not_before=notice.not_before, fresh=notice.fresh)
        seen: dict = {}   # what each platform shows of it, and to whom: worked out once per notice
        for group in groups:
            self._to_group(session, notice, group, text, seen)

    def _to_group(self, session: Session, notice: Notice, group: GroupBinding, text: str, seen: dict) -> None:
        """The card, where the group's platform shows buttons in groups; else the notice's text,
        followed by the typed commands when the buttons reach nobody on that platform."""
        platform, card = self.platforms.get(group.platform), notice.card
        key = f"{notice.key}:{group.platform}:{group.chat_id}"
        route = card_route(platform.capabilities) if platform is not None and card is not None else None
        if route is CardRoute.GROUP and platform is not None and card is not None:
            mentions = self._once(seen, (platform.name, "mentions"),
                                  lambda: self.mentions(session, platform, notice.mentions or marked(text)))
            self.cards.send_to_group(session, platform, group, card, key, not_before=notice.not_before,
                                     fresh=notice.fresh, mentions=mentions)
            return
        body = without_buttons(text, card) if route is CardRoute.TEXT and card is not None else text
        self.group_text(session, group, body, key, not_before=notice.not_before, fresh=notice.fresh, seen=seen)

    def group_text(self, session: Session, group: GroupBinding, text: str, key: str,
                   not_before: datetime | None = None, fresh: bool = False, seen: dict | None = None) -> None:
        """One message into one group, on its platform; the people its text marks are @-mentioned
        where the platform can. A message that cannot go (no such platform configured, no webhook
        key) is kept as a dead letter with the reason. `seen`: what earlier groups of the same
        message worked out (the text as each platform shows it, the people it mentions there)."""
        platform = self.platforms.get(group.platform)
        if platform is None:
            delivery = Delivery("none", group.chat_id, {"markdown": as_names(text)},
                                problem=f"platform {group.platform} is not configured")
        else:
            seen = {} if seen is None else seen
            body, marks = self._once(seen, (platform.name, text),
                                     lambda: (shown(platform.capabilities, text), marked(text)))
            if marks:
                delivery = platform.group_notice(group, body, self._once(
                    seen, (platform.name, text, "mentions"), lambda: self.mentions(session, platform, marks)))
            else:
                delivery = platform.group_text(group, body)
        queue(session, self.services.clock.now(), group.platform, delivery, key, not_before=not_before, fresh=fresh)

    def group_image(self, session: Session, group: GroupBinding, image: Image, key: str) -> None:
        """A picture into one group, where its platform shows pictures there; elsewhere nothing."""
        platform = self.platforms.get(group.platform)
        delivery = platform.group_image(group, image) if platform is not None else None
        if delivery is not None:
            queue(session, self.services.clock.now(), group.platform, delivery, key)

    @staticmethod
    def _once(seen: dict, key: tuple, make):
        if key not in seen:
            seen[key] = make()
        return seen[key]

    @staticmethod
    def mentions(session: Session, platform: Platform, person_ids: tuple[int, ...] | list[int]) -> tuple[Mention, ...]:
        """These people as `platform` knows them (those without a user id there are left out)."""
        out = []
        for person_id in person_ids:
            person = session.get(Person, person_id)
            user_id = person.user_id(platform.identity) if person is not None else None
            if person is not None and user_id:
                out.append(Mention(person.id, user_id, person.name))
        return tuple(out)

    def _to_person(self, session: Session, notice: Notice, text: str) -> None:
        """A message to one person, on the platform they used (or on every one they are on)."""
        person = session.get(Person, notice.person_id)
        if person is None:
            return
        for name, platform in self.platforms.items():
            if notice.platform is None and platform.people_of in self.platforms:
                continue   # a second channel of a platform that is here: that platform's own reaches them
            user_id = person.user_id(platform.identity)
            if user_id and notice.platform in (None, name):
                queue(session, self.services.clock.now(), name,
                      platform.person_text(user_id, shown(platform.capabilities, as_names(text))), f"{notice.key}:{name}")
