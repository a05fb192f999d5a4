"""What the planner reads and writes: plain data about orders and steps, no database rows."""
from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import overload

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


class OrderTable(Sequence[OrderState]):
    """Orders and their steps column by column, each order made into an `OrderState` when it is
    asked for and let go after: ~100 bytes a step instead of ~400 as objects (the whole plan of a
    big plant reads 300,000 steps; the forecast goes through them once, the plan once more).
    Filled with every order (`add_order`), then their steps by order and route (`add_step`),
    then `drop_empty`."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.order_nos: list[str] = []
        self.priority = array("q")
        self.due = array("i")             # the due date's ordinal
        self.hold = bytearray()
        self.first = array("q", [0])      # order p's steps are first[p]..first[p + 1] - 1
        self.step_ids = array("q")
        self.seq = array("q")
        self.workshop = array("q")
        self.status = bytearray()         # an index into self.statuses
        self.planned = array("q")
        self.rate = array("d")
        self.good = array("q")
        self.scrap = array("q")
        self.received = array("q")
        self.pending = array("q")
        self.first_report = array("q")    # microseconds since 1970 (exact); NONE: none
        self.completed = array("q")
        self.recovery = array("q")
        self.statuses: list[str] = []
        self._status_code: dict[str, int] = {}
        self._at = -1                     # the last order given a step

    def add_order(self, id: int, order_no: str, priority: int, due_date: date, on_hold: bool) -> None:
        """Orders first, in the order their steps will come."""
        self.ids.append(id)
        self.order_nos.append(order_no)
        self.priority.append(priority)
        self.due.append(due_date.toordinal())
        self.hold.append(1 if on_hold else 0)
        self.first.append(0)

    def add_step(self, position: int, id: int, seq: int, workshop_id: int, status: str, planned_qty: int,
                 std_rate: float, good: int, scrap: int, received: int, pending_in: int,
                 first_report_at: datetime | None, completed_at: datetime | None, recovery: datetime | None) -> None:
        """The next step of the order at `position` (steps come by order, then route)."""
        n = len(self.step_ids)
        if position != self._at:                                 # the first of its order's steps
            for q in range(self._at + 1, position + 1):          # orders between have none
                self.first[q] = self.first[q + 1] = n
            self._at = position
        code = self._status_code.get(status)
        if code is None:
            code = self._status_code[status] = len(self.statuses)
            self.statuses.append(status)
        self.step_ids.append(id)
        self.seq.append(seq)
        self.workshop.append(workshop_id)
        self.status.append(code)
        self.planned.append(planned_qty)
        self.rate.append(std_rate)
        self.good.append(good)
        self.scrap.append(scrap)
        self.received.append(received)
        self.pending.append(pending_in)
        self.first_report.append(micros(first_report_at))
        self.completed.append(micros(completed_at))
        self.recovery.append(micros(recovery))
        self.first[position + 1] = n + 1

    def drop_empty(self) -> array:
        """Once every step is added: the orders without steps are left out (they are not
        planned). Returns the positions kept."""
        n = len(self.step_ids)
        for q in range(self._at + 1, len(self.ids)):
            self.first[q] = self.first[q + 1] = n
        self._at = len(self.ids) - 1
        kept = array("q", (p for p in range(len(self.ids)) if self.first[p] < self.first[p + 1]))
        if len(kept) < len(self.ids):
            keep_positions(self, ("ids", "order_nos", "priority", "due", "hold"), kept)
            self.first = array("q", [0, *(self.first[p + 1] for p in kept)])
        return kept

    def queue_keys(self) -> list[tuple[int, date, str, int]]:
        """(priority, due date, order number, position) of each order not on hold, read from the
        columns (see `queue_keys`)."""
        due, fromordinal = self.due, date.fromordinal
        return [(self.priority[p], fromordinal(due[p]), self.order_nos[p], p) for p in range(len(self.ids))
                if not self.hold[p]]

    def steps_of(self, position: int) -> range:
        """The indexes of the steps of the order at `position`."""
        return range(self.first[position], self.first[position + 1])

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, position: int) -> OrderState: ...

    @overload
    def __getitem__(self, position: slice) -> Sequence[OrderState]: ...

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[p] for p in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        return OrderState(id=self.ids[position], order_no=self.order_nos[position], priority=self.priority[position],
                          due_date=date.fromordinal(self.due[position]),
                          steps=tuple(self._step(k) for k in self.steps_of(position)),
                          on_hold=bool(self.hold[position]))

    def __iter__(self) -> Iterator[OrderState]:
        for position in range(len(self)):
            yield self[position]

    def _step(self, k: int) -> StepState:
        t = self.first_report[k], self.completed[k], self.recovery[k]
        return StepState(self.step_ids[k], self.seq[k], self.workshop[k], self.statuses[self.status[k]],
                         self.planned[k], self.rate[k], self.good[k], self.scrap[k], self.received[k],
                         self.pending[k], None if t[0] == NONE else EPOCH + timedelta(microseconds=t[0]),
                         None if t[1] == NONE else EPOCH + timedelta(microseconds=t[1]),
                         None if t[2] == NONE else EPOCH + timedelta(microseconds=t[2]))


NONE = -(1 << 63)    # a column's None (a datetime or a number) in an array of integers
MICROSECOND = timedelta(microseconds=1)


def micros(value: datetime | None) -> int:
    """A naive UTC datetime as whole microseconds since 1970, exactly (NONE: None)."""
    return NONE if value is None else (value - EPOCH) // MICROSECOND


def from_micros(value: int) -> datetime | None:
    return None if value == NONE else EPOCH + timedelta(microseconds=value)


def keep_positions(owner: object, columns: tuple[str, ...], positions: Sequence[int]) -> None:
    """Keep only `positions` of each of `owner`'s named columns (arrays, bytearrays or lists)."""
    for name in columns:
        column = getattr(owner, name)
        picked = (column[p] for p in positions)
        setattr(owner, name, array(column.typecode, picked) if isinstance(column, array) else type(column)(picked))


def queue_keys(orders: Sequence[OrderState]) -> list[tuple[int, date, str, int]]:
    """(priority, due date, order number, position in `orders`) of each order not on hold: what
    the queues' order is made of."""
    if isinstance(orders, OrderTable):
        return orders.queue_keys()
    return [(o.priority, o.due_date, o.order_no, p) for p, o in enumerate(orders) if not o.on_hold]


@dataclass(frozen=True)
class Workload:
    """Everything the forecast needs: the open orders and each workshop's parallel lines."""
    orders: Sequence[OrderState]      # a tuple, or an OrderTable for a whole plant
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
