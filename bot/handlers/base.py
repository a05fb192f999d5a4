"""What every handler gets: the session, the time, the sender, the group, and a way to notify."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeAlias
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.neutral import CardClick, ChatMessage, Notice, Reply
from storage.errors import StepNotFound
from storage.models import Card as CardRow
from storage.models import GroupBinding, Order, Person, Step
from storage.production import Limits


def limits_for(settings: Settings) -> Limits:
    app = settings.app
    return Limits(tolerance_percent=app.report_tolerance_percent, max_quantity=app.max_report_quantity,
                  undo_window=timedelta(minutes=app.undo_window_minutes))


@dataclass(kw_only=True)
class ActionContext:
    """What every action gets, typed or clicked: the session, the time, who acts, and a way to
    queue notices and close cards (all applied by the caller in the same transaction)."""
    session: Session
    clock: Clock
    settings: Settings
    person: Person | None
    source: str                          # how events name what caused them: `wecom:msg:<id>`, `…:card:<id>`
    group: GroupBinding | None = None
    public_url: str = ""                 # where people reach this server (links in replies); "" = unknown
    notices: list[Notice] = field(default_factory=list)
    closed_cards: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, subject id, decision)
    refreshed_cards: list[tuple[str, int, dict]] = field(default_factory=list)  # (kind, subject id, context)

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

    def replan(self) -> None:
        """Bring the plan up to date with this command's changes now (before reading a forecast
        for the reply; the commit would do it anyway). Nothing is flushed for it: the commit
        writes the command's changes and the plan's in one flush."""
        from storage.planner import sync
        sync(self.session, flush=False)

    def requests_closed_by_completion(self) -> None:
        """The requests an order withdrew as it completed (`storage.requests.withdraw_for_done`):
        their cards close and their requesters are told. Read again, so that what a rolled-back
        savepoint withdrew is not told."""
        from storage.models import ChangeRequest
        from storage.requests import WITHDRAWN
        from bot.handlers.requests import KIND_WORDS
        ids = self.session.info.pop(WITHDRAWN, [])
        if not ids:   # (nearly always: no query on the callback's path)
            return
        for request in self.session.scalars(select(ChangeRequest).where(ChangeRequest.id.in_(ids),
                                                                        ChangeRequest.status == "withdrawn")):
            self.close_cards("approval", request.id, "completed")
            if request.requester_id is not None:
                self.notify_person(request.requester_id, request.payload.get("origin", {}).get("platform"),
                                   "notices/request_decided", key=f"request:{request.id}:told", request_id=request.id,
                                   kind=KIND_WORDS[request.kind], status="completed",
                                   order_no=request.payload.get("order_no"), decider="", reason="")

    def close_cards(self, kind: str, subject_id: int, decision: str) -> None:
        """Cards about this subject are decided now, wherever they were sent."""
        self.closed_cards.append((kind, subject_id, decision))

    def refresh_cards(self, kind: str, subject_id: int, context: dict) -> None:
        """Open cards about this subject show `context` now (their buttons stay)."""
        self.refreshed_cards.append((kind, subject_id, context))

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


@dataclass(frozen=True)
class Reading:
    """How a command was understood: in words for the person (`SO-1013 后门内板 冲压 良品 5`) and as
    the exact command that does it (what a confirmation runs)."""
    text: str
    command: str


@dataclass(kw_only=True)
class Context(ActionContext):
    """A typed command's context: the message, and the commands known (for 帮助).

    A handler that is not sure of its reading says why (`doubt`) and what it read (`read_as`);
    the reader then asks the person to confirm instead of applying it, unless this run is the
    confirmation itself (`confirmed`)."""
    message: ChatMessage
    commands: CommandTable
    confirmed: bool = False
    lock_orders: bool = False   # the command changes the order it names: read it locked, once
    doubts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    reading: Reading | None = None

    def doubt(self, kind: str, **data: Any) -> None:
        """Something about this reading is a guess (see bot/templates/errors/confirm.md.j2)."""
        if (kind, data) not in self.doubts:
            self.doubts.append((kind, data))

    def read_as(self, text: str, command: str) -> None:
        self.reading = Reading(text=" ".join(text.split()), command=" ".join(command.split()))


@dataclass(kw_only=True)
class ClickContext(ActionContext):
    """A button press's context: the click itself."""
    click: CardClick


Handler = Callable[[Context, list[str]], Reply]
Note: TypeAlias = tuple[str, dict[str, Any]] | None   # what a press tells the clicker: (template, context)
# What a card's button does: (ctx, the stored card, the click) -> an optional note to the
# clicker; raises UserError to refuse, and then nothing changes.
CardAction = Callable[[ClickContext, CardRow, CardClick], Note]


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    handler: Handler
    needs_person: bool = True
    reads_only: bool = False   # changes nothing: answered even when spoken, without a confirmation


class CommandTable:
    """The commands an application knows, by every word that names them."""

    def __init__(self) -> None:
        self._by_word: dict[str, Command] = {}

    def add(self, command: Command) -> None:
        for word in (command.name, *command.aliases):
            if word.lower() in self._by_word:
                raise RuntimeError(f"command word {word} registered twice")
            self._by_word[word.lower()] = command

    def words(self) -> list[str]:
        """Every word that names a command (the reader cuts glued text at them)."""
        return list(self._by_word)

    def find(self, word: str) -> Command | None:
        """The command a typed word names (Simplified, Traditional or English, any case)."""
        from bot.text import simplify
        return self._by_word.get(word.lower()) or self._by_word.get(simplify(word).lower())


def decide(row, person: Person, decision: str, now) -> None:
    """Close a card: later clicks change nothing."""
    row.status, row.decision, row.decided_by, row.decided_at = "decided", decision, person.id, now

