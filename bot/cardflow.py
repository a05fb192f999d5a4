"""Cards we send: remembered when sent, closed everywhere once decided.

Every card sent is a row in `cards`; a click is accepted only for such a row (bot/clicks.py).
Deciding a card, by click or by the matching text command, closes every card about the same
subject on every platform: each platform updates its copies now if it can
(`Platform.card_update`), else at their next click.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cards import Card
from bot.handlers.base import decide
from bot.platforms.contract import CardView, Platform
from bot.platforms.mentions import Mention
from bot.routing import queue
from bot.services import Services
from storage.directory import leads_of, people_with_role
from storage.models import Card as CardRow
from storage.models import GroupBinding, Person


def new_track_id() -> str:
    """Unguessable, and within every platform's card id alphabet ([A-Za-z0-9_-], ≤ 128)."""
    return "lr_" + secrets.token_urlsafe(24)


def actors(session: Session, card: Card) -> list[Person]:
    """The people a card's buttons are for: `leads:<workshop>`, `role:<role>`, `approvers:<ids>`."""
    kind, _, value = card.actors.partition(":")
    if kind == "leads":
        return leads_of(session, int(value))
    if kind == "role":
        return people_with_role(session, value)
    if kind == "approvers":
        return [p for i in value.split(",") if i and (p := session.get(Person, int(i))) is not None]
    return []


class CardService:
    """Stores the cards it sends and closes them; the platforms say how each travels."""

    def __init__(self, services: Services, platforms: Mapping[str, Platform]):
        self.services, self.platforms = services, platforms

    def _store(self, session: Session, platform: str, card: Card, audience: str) -> CardRow:
        body = self.services.messages.render(f"cards/{card.kind}", card.context)
        row = CardRow(track_id=new_track_id(), platform=platform, kind=card.kind, subject_id=card.subject_id,
                      audience=audience, status="open", created_at=self.services.clock.now(),
                      data={"title": card.title, "body": body, "actors": card.actors,
                            "buttons": [[b.action, b.label, b.style] for b in card.buttons]})
        session.add(row)
        return row

    def send_to_group(self, session: Session, platform: Platform, group: GroupBinding, card: Card, key: str,
                      not_before: datetime | None = None, fresh: bool = False,
                      mentions: tuple[Mention, ...] = ()) -> None:
        """Remember the card and queue it into a group that can show its buttons (delivered with
        an @-mention of `mentions` where the platform can)."""
        row = self._store(session, platform.name, card, group.chat_id)
        view = replace(CardView.of(row), mentions=mentions)
        queue(session, self.services.clock.now(), platform.name, platform.group_card(group, view), key,
              not_before=not_before, fresh=fresh)

    def send_to_people(self, session: Session, platform: Platform, card: Card, key: str,
                       not_before: datetime | None = None, fresh: bool = False) -> None:
        """Remember the card and queue it to the people on `platform` who must act."""
        user_ids = [uid for p in actors(session, card) if (uid := p.user_id(platform.identity))]
        if not user_ids:
            return
        row = self._store(session, platform.name, card, "|".join(user_ids))
        queue(session, self.services.clock.now(), platform.name, platform.person_card(user_ids, CardView.of(row)),
              key, not_before=not_before, fresh=fresh)

    def copy_to_people(self, session: Session, platform: Platform, row: CardRow, key: str) -> bool:
        """The same open card again, to the people on `platform` who must act (where it could not
        go into its group); False when nobody there can act on it."""
        kind, _, value = str(row.data.get("actors", "")).partition(":")
        card = Card(kind=row.kind, subject_id=row.subject_id, title=row.data["title"], context={},
                    actors=str(row.data.get("actors", "")))
        user_ids = [uid for p in actors(session, card) if (uid := p.user_id(platform.identity))] if kind and value else []
        if not user_ids or row.status != "open":
            return False
        copy = CardRow(track_id=new_track_id(), platform=platform.name, kind=row.kind, subject_id=row.subject_id,
                       audience="|".join(user_ids), status="open", created_at=self.services.clock.now(),
                       data=dict(row.data))
        session.add(copy)
        queue(session, self.services.clock.now(), platform.name, platform.person_card(user_ids, CardView.of(copy)), key)
        return True

    def outcome_texts(self, decision: str, person: Person, at: datetime) -> dict[str, str]:
        """What a decided card says instead of its buttons: in full, and in a few words."""
        context = {"decision": decision, "person": person.name, "at": at}
        render = self.services.messages.render
        return {"outcome": render("cards/outcome", context), "outcome_short": render("cards/outcome_short", context)}

    def refresh(self, session: Session, kind: str, subject_id: int, context: dict) -> None:
        """The open cards about this subject say what `context` says now (a corrected quantity),
        buttons and all, on the platforms that can update a card."""
        body = self.services.messages.render(f"cards/{kind}", context)
        rows = session.scalars(select(CardRow).where(CardRow.kind == kind, CardRow.subject_id == subject_id,
                                                     CardRow.status == "open")).all()
        for row in rows:
            if row.data.get("body") == body:
                continue
            row.data = {**row.data, "body": body}
            platform = self.platforms.get(row.platform)
            update = platform.card_update(CardView.of(row)) if platform else None
            if update is not None:
                queue(session, self.services.clock.now(), row.platform, update,
                      f"card:{row.track_id}:body:{hashlib.sha256(body.encode()).hexdigest()[:16]}")

    def close(self, session: Session, closed: list[tuple[str, int, str]], person: Person,
              skip_id: int | None = None) -> None:
        """Decide every open card about these subjects and update the copies that can be."""
        for kind, subject_id, decision in closed:
            rows = session.scalars(select(CardRow).where(CardRow.kind == kind, CardRow.subject_id == subject_id,
                                                         CardRow.status == "open")).all()
            self.close_rows(session, [row for row in rows if row.id != skip_id], person, decision)

    def close_rows(self, session: Session, rows: list[CardRow], person: Person, decision: str) -> None:
        """Decide these cards and update the copies that can be."""
        if not rows:   # the usual case on every message: nothing to render
            return
        now = self.services.clock.now()
        outcome = self.outcome_texts(decision, person, now)
        for row in rows:
            decide(row, person, decision, now)
            row.data = {**row.data, **outcome}
            platform = self.platforms.get(row.platform)
            update = platform.card_update(CardView.of(row)) if platform else None
            if update is not None:
                queue(session, now, row.platform, update, f"card:{row.track_id}:update")
