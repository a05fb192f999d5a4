"""Cards we send and the clicks that come back: remembered, checked, applied once."""
from __future__ import annotations

import logging
import secrets

from sqlalchemy import select

from bot.cards import Card, CardClick
from bot.handlers.base import CARD_ACTIONS, Context
from storage import outbox as outbox_store
from storage.directory import person_by_platform_id
from storage.errors import NotAllowed, UserError
from storage.models import Card as CardRow
from storage.models import GroupBinding

log = logging.getLogger(__name__)


def new_track_id() -> str:
    """Unguessable, and within both platforms' alphabets ([A-Za-z0-9_-], ≤ 128)."""
    return "lr_" + secrets.token_urlsafe(24)


def send_card(relay, session, platform, group: GroupBinding, card: Card, key: str) -> None:
    """Remember the card and queue its delivery to a group."""
    track_id = new_track_id()
    body = relay.messages.render(f"cards/{card.kind}", card.context)
    row = CardRow(track_id=track_id, platform=group.platform, kind=card.kind, subject_id=card.subject_id,
                  audience=group.chat_id, status="open", created_at=relay.clock.now(),
                  data={"title": card.title, "body": body, "buttons": [[b.action, b.label, b.style] for b in card.buttons]})
    session.add(row)
    channel, target, payload = platform.card_delivery(group, track_id, row.data)
    outbox_store.enqueue(session, relay.clock.now(), key=key, platform=group.platform, channel=channel,
                         target=target, payload=payload)


def card_view(row: CardRow) -> dict:
    """What a stored card shows now: its body, and either its buttons or its outcome."""
    data = dict(row.data)
    if row.status != "open":
        data["buttons"] = []
    return data


def handle_click(relay, click: CardClick) -> tuple[int, dict | None, str]:
    """Apply a click once. Returns (HTTP status, the card's view, an explanation)."""
    with relay.Session.begin() as session:
        row = session.scalars(select(CardRow).where(CardRow.track_id == click.track_id,
                                                    CardRow.platform == click.platform)
                              .with_for_update(of=CardRow)).first()
        if row is None:
            return 404, None, relay.messages.render("errors/unknown_card", {})
        person = person_by_platform_id(session, click.platform, click.user_id)
        if row.status != "open":
            return 200, card_view(row), relay.messages.render("errors/card_decided", {"data": row.data})
        action = CARD_ACTIONS.get((row.kind, click.action))
        if action is None:
            return 400, card_view(row), relay.messages.render("errors/unknown_card", {})
        ctx = Context(session=session, clock=relay.clock, settings=relay.settings, message=None,
                      person=person, group=None)
        try:
            with session.begin_nested():
                if person is None:
                    raise NotAllowed(action="card", workshop="")
                action(ctx, row, click)
                row.data = {**row.data, "outcome": relay.messages.render(
                    "cards/outcome", {"decision": click.action, "person": person.name, "at": relay.clock.now()})}
        except UserError as exc:
            log.info("card click refused: %s %s by %s: %s %s", row.kind, click.action, click.user_id,
                     exc.template, exc.context)
            return 403, card_view(row), relay.messages.render(f"errors/{exc.template}", exc.context)
        for notice in ctx.notices:
            relay.enqueue_notice(session, notice)
        return 200, card_view(row), ""
