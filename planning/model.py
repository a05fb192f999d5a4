"""What the planner reads and writes: plain data about orders and steps, no database rows."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

EPOCH = datetime(1970, 1, 1)
OPEN = ("waiting", "ready", "running", "blocked")
# The actual rate is trusted after this much working time of reporting, and only within these
# bounds of the standard rate (a lead who reports a morning's output at once is not 10x faster).
MIN_RATE_SECONDS = 30 * 60
RATE_BOUNDS = (0.25, 4.0)


def to_ts(utc_naive: datetime) -> float:
    return (utc_naive - EPOCH).total_seconds()


def from_ts(ts: float) -> datetime:
    """Naive UTC, to the second (what the database stores)."""
    return EPOCH + timedelta(seconds=round(ts))


@dataclass(frozen=True, slots=True)
class StepState:
    """One step as it stands: its quantities, its state, and its standard rate."""
    id: int
    seq: int
    workshop_id: int
    status: str                        # waiting / ready / running / blocked / done
    planned_qty: int
    std_rate: float                    # units per working hour (the route's standard)
    good: int = 0
    scrap: int = 0
    received: int = 0
    pending_in: int = 0                # parts handed over to it, not yet confirmed
    first_report_at: datetime | None = None
    completed_at: datetime | None = None
    recovery: datetime | None = None   # blocked: when it is expected to run again

    @property
    def processed(self) -> int:
        return self.good + self.scrap


@dataclass(frozen=True, slots=True)
class OrderState:
    id: int
    order_no: str
    priority: int                      # 1 = most urgent
    due_date: date
    steps: tuple[StepState, ...]
    on_hold: bool = False              # paused or cancelled: not planned

    def with_steps(self, steps) -> OrderState:
        return replace(self, steps=tuple(steps))


@dataclass(frozen=True)
class Workload:
    """Everything the forecast needs: the open orders and each workshop's parallel lines."""
    orders: tuple[OrderState, ...]
    capacity: dict[int, int] = field(default_factory=dict)   # workshop id -> lines (default 1)

    def lines(self, workshop_id: int) -> int:
        return max(1, self.capacity.get(workshop_id, 1))


@dataclass(slots=True)
class StepPlan:
    """Planned and forecast dates of one step, as Unix seconds (datetimes on demand)."""
    step_id: int
    order_id: int
    seq: int
    workshop_id: int
    ps: float                          # planned start / end: back from the due date
    pe: float
    fs: float | None                   # forecast start / end; None: not scheduled (done, on hold)
    fe: float | None                   # done: when it was done
    line: int | None = None
    late_minutes: int = 0              # forecast end past planned end, working minutes
    provisional: bool = False          # a date in a year whose holidays are not confirmed

    @property
    def planned_start(self) -> datetime:
        return from_ts(self.ps)

    @property
    def planned_end(self) -> datetime:
        return from_ts(self.pe)

    @property
    def forecast_start(self) -> datetime | None:
        return None if self.fs is None else from_ts(self.fs)

    @property
    def forecast_end(self) -> datetime | None:
        return None if self.fe is None else from_ts(self.fe)

    @property
    def open(self) -> bool:
        return self.fs is not None

    def fingerprint(self) -> int:
        """What the database holds of this plan, as one number: rows whose number is unchanged
        are not written again."""
        return hash((round(self.ps), round(self.pe), None if self.fs is None else round(self.fs),
                     None if self.fe is None else round(self.fe), self.line, self.late_minutes,
                     self.provisional)) & 0x7FFFFFFFFFFFFFFF


@dataclass(slots=True)
class OrderPlan:
    order_id: int
    order_no: str
    due: float                         # the end of the due date's working time
    fe: float | None                   # forecast finish; None while on hold
    late_minutes: int                  # working minutes past due (0: on time)
    steps: tuple[StepPlan, ...]

    @property
    def due_at(self) -> datetime:
        return from_ts(self.due)

    @property
    def forecast_end(self) -> datetime | None:
        return None if self.fe is None else from_ts(self.fe)

    @property
    def late(self) -> bool:
        return self.late_minutes > 0


@dataclass(frozen=True)
class Plan:
    now: datetime
    orders: dict[int, OrderPlan]

    def step(self, step_id: int) -> StepPlan | None:
        for order in self.orders.values():
            for step in order.steps:
                if step.step_id == step_id:
                    return step
        return None

    def steps(self) -> dict[int, StepPlan]:
        return {s.step_id: s for o in self.orders.values() for s in o.steps}
