"""Whose delay is it: an order's delay belongs to the first step on its route that is late, not
to every workshop downstream that will receive the parts late because of it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar


class Timed(Protocol):
    """What the rule reads of a step: its forecast start (None: not scheduled — done or on hold),
    its planned end and its lateness in working minutes. Times are Unix seconds (`StepPlan`) or
    naive UTC datetimes (rows read from the database, `storage.delays`), alike within one call."""
    @property
    def fs(self) -> Any: ...
    @property
    def pe(self) -> Any: ...
    @property
    def late_minutes(self) -> int: ...


S = TypeVar("S", bound=Timed)


@dataclass(frozen=True)
class Delay(Generic[S]):
    level: str                          # "late": its planned end has passed; "at_risk": forecast past it
    cause: S                            # the step whose workshop must act
    downstream: tuple[S, ...]           # later open steps, which only receive the parts late


def delay_of(steps: Sequence[S], now: Any, tolerance_minutes: int) -> Delay[S] | None:
    """The delay of an order whose steps (in route order) are `steps`, and the step that causes
    it: the first open step whose planned end has passed, or whose forecast passes its planned end
    by more than the tolerance; steps after it are late only because of it (or are judged again
    once it is done). `now` in the steps' kind of time."""
    open_steps = [s for s in steps if s.fs is not None]
    for i, step in enumerate(open_steps):
        if now > step.pe:
            return Delay("late", step, tuple(open_steps[i + 1:]))
        if step.late_minutes > tolerance_minutes:
            return Delay("at_risk", step, tuple(open_steps[i + 1:]))
    return None
