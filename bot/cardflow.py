"""Cards we send and the clicks that come back: remembered, checked, applied once.

A card goes into a group where the platform can show buttons there (DingTalk), else to the
people who must act (WeCom app message). Every card sent is a row in `cards`; a click is
accepted only for such a row, from a person the card's action allows, while it is open.
Deciding a card (by click or by the matching text command) closes every card about the same
subject on both platforms.
"""
from __future__ import annotations

import logging
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.cards import Card, CardClick
from bot.handlers.base import CARD_ACTIONS, Context, decide
from storage import outbox as outbox_store
from storage.db import retrying
from storage.directory import leads_of, people_with_role, person_by_platform_id
from storage.errors import NotAllowed, UserError
from storage.models import Card as CardRow
from storage.models import GroupBinding, InboundMessage, Person

log = logging.getLogger(__name__)


def new_track_id() -> str:
    """Unguessable, and within both platforms' alphabets ([A-Za-z0-9_-], ≤ 128)."""
    return "lr_" + secrets.token_urlsafe(24)


def _store(relay, session, platform: str, card: Card, audience: str) -> CardRow:
    body = relay.messages.render(f"cards/{card.kind}", card.context)
    row = CardRow(track_id=new_track_id(), platform=platform, kind=card.kind, subject_id=card.subject_id,
                  audience=audience, status="open", created_at=relay.clock.now(),
                  data={"title": card.title, "body": body, "buttons": [[b.action, b.label, b.style] for b in card.buttons]})
    session.add(row)
    return row


def send_group_card(relay, session, platform, group: GroupBinding, card: Card, key: str, not_before=None,
                    fresh: bool = False) -> None:
    """Remember the card and queue its delivery into a group (DingTalk)."""
    row = _store(relay, session, group.platform, card, group.chat_id)
    channel, target, payload = platform.card_delivery(group, row.track_id, row.data)
    outbox_store.enqueue(session, relay.clock.now(), key=key, platform=group.platform, channel=channel,
                         target=target, payload=payload, not_before=not_before, fresh=fresh)


def actors(session, card: Card) -> list[Person]:
    kind, _, value = card.actors.partition(":")
    if kind == "leads":
        return leads_of(session, int(value))
    if kind == "role":
        return people_with_role(session, value)
    if kind == "approvers":
        return [session.get(Person, int(i)) for i in value.split(",") if i]
    return []


def send_person_card(relay, session, platform, card: Card, key: str, not_before=None, fresh: bool = False) -> None:
    """Remember the card and queue it to the people who must act (WeCom self-built app)."""
    user_ids = [uid for p in actors(session, card) if (uid := p.user_id(platform.name))]
    if not user_ids:
        return
    row = _store(relay, session, platform.name, card, "|".join(user_ids))
    channel, target, payload = platform.person_card_delivery(user_ids, row.track_id, row.data)
    outbox_store.enqueue(session, relay.clock.now(), key=key, platform=platform.name, channel=channel,
                         target=target, payload=payload, not_before=not_before, fresh=fresh)


def card_view(row: CardRow) -> dict:
    """What a stored card shows now: its body, and either its buttons or its outcome."""
    data = dict(row.data)
    if row.status != "open":
        data["buttons"] = []
    return data


def outcome_texts(relay, decision: str, person: Person, at) -> dict:
    """What a decided card says instead of its buttons: in full, and short enough for WeCom's
    button replacement text (20 characters)."""
    context = {"decision": decision, "person": person.name, "at": at}
    return {"outcome": relay.messages.render("cards/outcome", context),
            "outcome_short": relay.messages.render("cards/outcome_short", context)}


def close_cards(relay, session, closed: list[tuple[str, int, str]], person: Person, skip_id: int | None = None) -> None:
    """Decide every open card about these subjects; DingTalk cards are updated in place now,
    WeCom cards at their next click (WeCom updates a card only with a click's response code)."""
    now = relay.clock.now()
    for kind, subject_id, decision in closed:
        rows = session.scalars(select(CardRow).where(CardRow.kind == kind, CardRow.subject_id == subject_id,
                                                     CardRow.status == "open")).all()
        outcome = outcome_texts(relay, decision, person, now)
        for row in rows:
            if row.id == skip_id:
                continue
            decide(row, person, decision, now)
            row.data = {**row.data, **outcome}
            platform = relay.platforms.get(row.platform)
            update = platform.card_update(row.track_id, card_view(row)) if platform else None
            if update is not None:
                channel, target, payload = update
                outbox_store.enqueue(session, now, key=f"card:{row.track_id}:update", platform=row.platform,
                                     channel=channel, target=target, payload=payload)


def handle_click(relay, click: CardClick, dedupe_key: str | None = None) -> tuple[int, dict | None, str]:
    """Apply a click once. Returns (HTTP status, the card's view, an explanation)."""
    try:
        return retrying(lambda: _handle_click(relay, click, dedupe_key))
    except IntegrityError:  # the same click delivered twice at once: the first one counts
        return 200, None, ""
    finally:
        relay.dispatcher.kick()


def _handle_click(relay, click: CardClick, dedupe_key: str | None) -> tuple[int, dict | None, str]:
    with relay.Session.begin() as session:
        row = session.scalars(select(CardRow).where(CardRow.track_id == click.track_id,
                                                    CardRow.platform == click.platform)).first()
        if row is None:
            return 404, None, relay.messages.render("errors/unknown_card", {})
        # Lock every card about the same subject, always in id order: two clicks on two copies
        # (a WeCom card and a DingTalk card) queue up instead of deadlocking.
        siblings = session.scalars(select(CardRow).where(CardRow.kind == row.kind, CardRow.subject_id == row.subject_id)
                                   .order_by(CardRow.id).with_for_update(of=CardRow)
                                   .execution_options(populate_existing=True)).all()
        row = next(r for r in siblings if r.id == row.id)
        if dedupe_key is not None:
            if session.scalar(select(InboundMessage.id).where(InboundMessage.platform == click.platform,
                                                              InboundMessage.msg_id == dedupe_key)):
                return 200, card_view(row), ""
            session.add(InboundMessage(platform=click.platform, msg_id=dedupe_key, received_at=relay.clock.now()))
            session.flush()
        person = person_by_platform_id(session, click.platform, click.user_id)
        if row.status != "open":
            message = relay.messages.render("errors/card_decided", {"data": row.data})
            _followups(relay, session, row, click, message)
            return 200, card_view(row), message
        action = CARD_ACTIONS.get((row.kind, click.action))
        if action is None:
            return 400, card_view(row), relay.messages.render("errors/unknown_card", {})
        ctx = Context(session=session, clock=relay.clock, settings=relay.settings, message=None,
                      person=person, group=None)
        try:
            with session.begin_nested():
                if person is None:
                    raise NotAllowed(action="card", workshop="")
                note = action(ctx, row, click)
                if row.status != "open":
                    row.data = {**row.data, **outcome_texts(relay, click.action, person, relay.clock.now())}
        except UserError as exc:
            log.info("card click not applied: %s %s by %s: %s", row.kind, click.action, click.user_id, exc.template)
            message = relay.messages.render(f"errors/{exc.template}", exc.context)
            _followups(relay, session, row, click, message)
            return (200 if exc.asks else 403), card_view(row), message
        close_cards(relay, session, ctx.closed_cards, person, skip_id=row.id)
        for notice in ctx.notices:
            relay.enqueue_notice(session, notice)
        message = relay.messages.render(note[0], note[1]) if note else ""
        _followups(relay, session, row, click, message)
        return 200, card_view(row), message


def _followups(relay, session, row: CardRow, click: CardClick, message: str) -> None:
    """What the platform needs after a click: WeCom updates the card with the click's response
    code and explains a refusal by app message; DingTalk needs nothing (the response does it)."""
    platform = relay.platforms.get(click.platform)
    if platform is None:
        return
    for i, (channel, target, payload) in enumerate(platform.click_followups(row, card_view(row), click, message)):
        outbox_store.enqueue(session, relay.clock.now(), key=f"click:{click.track_id}:{click.user_id}:"
                             f"{click.params.get('response_code', '')}:{relay.clock.now().isoformat()}:{i}",
                             platform=click.platform, channel=channel, target=target, payload=payload)
