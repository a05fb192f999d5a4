"""The question the bot last asked a person in a chat: asked, then taken by the next message
(which answers it or drops it). One per person and chat; it expires after a few minutes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Question

ANY_CHAT = "*"   # a question asked on a card: answered in whichever chat the person writes next


@dataclass(frozen=True)
class Asked:
    """A question as it was stored: what kind of answer it wants and the command that answer runs."""
    kind: str
    command: str
    reading: str
    source: str


def ask(session: Session, now: datetime, *, person_id: int, chat: str, kind: str, command: str,
        reading: str, source: str, ttl: timedelta) -> None:
    """Remember this question for the person in this chat, replacing the one asked before."""
    values = {"kind": kind, "command": command[:1000], "reading": reading[:500], "source": source[:200],
              "asked_at": now, "expires_at": now + ttl}
    row = session.scalars(select(Question).where(Question.person_id == person_id, Question.chat == chat)
                          .with_for_update()).first()
    if row is not None:
        for name, value in values.items():
            setattr(row, name, value)
        return
    try:
        with session.begin_nested():   # another worker may be asking this person at the same moment
            session.add(Question(person_id=person_id, chat=chat, **values))
    except IntegrityError:
        row = session.scalars(select(Question).where(Question.person_id == person_id, Question.chat == chat)
                              .with_for_update()).one()
        for name, value in values.items():
            setattr(row, name, value)


# built once (as the other statements of every message): building a statement costs several
# times what running it does
_QUESTIONS = Question.__table__
_TAKE = (select(_QUESTIONS.c.id, _QUESTIONS.c.kind, _QUESTIONS.c.command, _QUESTIONS.c.reading, _QUESTIONS.c.source,
                _QUESTIONS.c.expires_at)   # Core, plain rows: what `take` reads, without the ORM's loading
         .where(_QUESTIONS.c.person_id == bindparam("b_person"), _QUESTIONS.c.chat.in_((bindparam("b_chat"), ANY_CHAT)))
         .order_by(_QUESTIONS.c.asked_at.desc(), _QUESTIONS.c.id.desc()).with_for_update())


def take(session: Session, now: datetime, *, person_id: int, chat: str) -> Asked | None:
    """The live question for this person in this chat (or asked on a card), removed: the message
    that takes it answers it or, by being something else, drops it. Expired ones go too."""
    rows = session.execute(_TAKE, {"b_person": person_id, "b_chat": chat}).all()
    live = next((r for r in rows if r.expires_at > now), None)
    taken = Asked(live.kind, live.command, live.reading, live.source) if live is not None else None
    if rows:
        session.execute(delete(Question).where(Question.id.in_([r.id for r in rows])))
    return taken


def forget_expired(session: Session, now: datetime) -> None:
    """Drop every expired question (housekeeping; `take` ignores them anyway)."""
    session.execute(delete(Question).where(Question.expires_at <= now))
