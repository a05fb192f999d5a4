"""What every handler gets: the session, the time, the sender, the group, and a way to notify."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.neutral import ChatMessage, Notice, Reply
from storage.errors import StepNotFound, UserError
from storage.models import GroupBinding, Order, Person, Step
from storage.production import Limits


def limits_for(settings: Settings) -> Limits:
    app = settings.app
    return Limits(tolerance_percent=app.report_tolerance_percent, max_quantity=app.max_report_quantity,
                  undo_window=timedelta(minutes=app.undo_window_minutes))


@dataclass
class Context:
    session: Session
    clock: Clock
    settings: Settings
    message: ChatMessage
    person: Person | None
    group: GroupBinding | None
    notices: list[Notice] = field(default_factory=list)
    closed_cards: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, subject id, decision)

    @property
    def now(self):
        return self.clock.now()

    @property
    def limits(self) -> Limits:
        return limits_for(self.settings)

    def notify_workshop(self, workshop_id: int, template: str, key: str, card=None, **context: Any) -> None:
        self.notices.append(Notice(workshop_id=workshop_id, template=template, context=context, key=key, card=card))

    def notify_role(self, role: str, template: str, key: str, card=None, **context: Any) -> None:
        self.notices.append(Notice(workshop_id=None, role=role, template=template, context=context, key=key,
                                   card=card))

    def notify_person(self, person_id: int, platform: str | None, template: str, key: str, **context: Any) -> None:
        self.notices.append(Notice(workshop_id=None, person_id=person_id, platform=platform, template=template,
                                   context=context, key=key))

    def close_cards(self, kind: str, subject_id: int, decision: str) -> None:
        """Cards about this subject are decided now, wherever they were sent."""
        self.closed_cards.append((kind, subject_id, decision))

    def workshop_id(self) -> int | None:
        """The workshop this message speaks for: the group's, else the sender's only one."""
        if self.group is not None and self.group.workshop_id is not None:
            return self.group.workshop_id
        if self.person is not None and len(self.person.workshops) == 1:
            return self.person.workshops[0].id
        return None

    @staticmethod
    def is_step_name_of(step: Step, name: str) -> bool:
        ws = step.workshop
        return name.lower() in {ws.name.lower(), ws.code.lower(), *ws.aliases.lower().split()}

    def is_step_name(self, order: Order, name: str) -> bool:
        return any(self.is_step_name_of(s, name) for s in order.steps)

    def step_for(self, order: Order, step_name: str | None) -> Step:
        """The order's step named, or the one at this chat's workshop."""
        if step_name:
            matches = [s for s in order.steps if self.is_step_name_of(s, step_name)]
        else:
            ws = self.workshop_id()
            matches = [s for s in order.steps if s.workshop_id == ws] if ws else []
        if len(matches) != 1:
            raise StepNotFound(order_no=order.order_no, step=step_name,
                               steps=[s.workshop.name for s in order.steps])
        return matches[0]


Handler = Callable[[Context, list[str]], Reply]


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    handler: Handler
    needs_person: bool = True


COMMANDS: dict[str, Command] = {}


def command(name: str, *aliases: str, needs_person: bool = True):
    """Register a handler under its Simplified name and its aliases (Traditional, English)."""
    def register(fn: Handler) -> Handler:
        cmd = Command(name=name, aliases=aliases, handler=fn, needs_person=needs_person)
        for word in (name, *aliases):
            if word.lower() in COMMANDS:
                raise RuntimeError(f"command word {word} registered twice")
            COMMANDS[word.lower()] = cmd
        return fn
    return register


def find_command(word: str) -> Command | None:
    from bot.text import simplify
    return COMMANDS.get(word.lower()) or COMMANDS.get(simplify(word).lower())


# (card kind, action) -> function(ctx, stored card row, click); raises UserError to refuse.
CARD_ACTIONS: dict[tuple[str, str], Callable[..., None]] = {}


def card_action(kind: str, action: str):
    """Register what a card's button does."""
    def register(fn):
        CARD_ACTIONS[(kind, action)] = fn
        return fn
    return register


def decide(row, person: Person, decision: str, now) -> None:
    """Close a card: later clicks change nothing."""
    row.status, row.decision, row.decided_by, row.decided_at = "decided", decision, person.id, now


def error_reply(error: UserError) -> Reply:
    return Reply(template=f"errors/{error.template}", context=dict(error.context))
