"""How much work a step has left, how much of it can start now, and at what rate."""
from __future__ import annotations

from dataclasses import dataclass

from planning.model import MIN_RATE_SECONDS, RATE_BOUNDS, StepState, to_ts
from planning.timeline import Timeline


@dataclass(frozen=True)
class Work:
    at_hand: int         # units whose input is here (or, for the first step, all of them)
    rest: int            # units that arrive when the step before finishes
    rate: float          # units per working hour: measured once there is enough reporting
    measured: bool

    def seconds(self, units: int) -> float:
        return units / self.rate * 3600

    @property
    def remaining(self) -> int:
        return self.at_hand + self.rest


def step_work(step: StepState, prev: StepState | None, now_ts: float, timeline: Timeline) -> Work:
    """The step's remaining units, split into what it has and what is still upstream.

    A later step expects its planned quantity while the step before is open (or all it received,
    if more), and exactly what it received once the step before is done."""
    processed = step.processed
    if prev is None:
        at_hand, rest = max(step.planned_qty - processed, 0), 0
    else:
        arrived = step.received + step.pending_in
        target = arrived if prev.status == "done" else max(step.planned_qty, arrived)
        remaining = max(target - processed, 0)
        at_hand = min(remaining, max(arrived - processed, 0))
        rest = remaining - at_hand
    rate, measured = step.std_rate, False
    if step.first_report_at is not None and processed > 0:
        worked = timeline.between(to_ts(step.first_report_at), now_ts)
        if worked >= MIN_RATE_SECONDS:
            low, high = RATE_BOUNDS
            rate = min(max(processed / (worked / 3600), step.std_rate * low), step.std_rate * high)
            measured = True
    return Work(at_hand=at_hand, rest=rest, rate=rate, measured=measured)
