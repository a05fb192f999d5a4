"""Whose delay is it: an order's delay belongs to the first step on its route that is late, not
to every workshop downstream that will receive the parts late because of it."""
from __future__ import annotations

from dataclasses import dataclass

from planning.model import OrderPlan, StepPlan


@dataclass(frozen=True)
class Delay:
    level: str                          # "late": its planned end has passed; "at_risk": forecast past it
    cause: StepPlan                     # the step whose workshop must act
    downstream: tuple[StepPlan, ...]    # later open steps, which only receive the parts late


def delay_of(order: OrderPlan, now_ts: float, tolerance_minutes: int) -> Delay | None:
    """The order's delay and the step that causes it: the first open step whose planned end has
    passed, or whose forecast passes its planned end by more than the tolerance; steps after it
    are late only because of it (or are judged again once it is done)."""
    open_steps = [s for s in order.steps if s.fs is not None]
    for i, step in enumerate(open_steps):
        if now_ts > step.pe:
            return Delay("late", step, tuple(open_steps[i + 1:]))
        if step.late_minutes > tolerance_minutes:
            return Delay("at_risk", step, tuple(open_steps[i + 1:]))
    return None
