"""The forecast: every open step scheduled forward from now on its workshop's lines.

A discrete-event simulation in working time. Each workshop has `capacity` parallel lines and,
whenever a line is free, takes the most urgent work whose input is here: steps already running
first (they hold their line), then by priority, due date and order number. A step's work comes
in up to two parts: what its input already covers (it may start now, on a partial handoff) and
the rest, which arrives when the step before it finishes. A blocked step's work is released at
its expected recovery. No step finishes before the step that feeds it.

The simulation keeps its steps column by column (a step is its index in the arrays, ~50 bytes
of state, not an object of ~250): a big plant's whole plan holds 300,000 of them at once.
"""
from __future__ import annotations

import heapq
from array import array
from dataclasses import dataclass, field

from planning.calendar import WorkCalendar
from planning.model import OrderState, StepState, Workload, queue_keys, to_ts
from planning.timeline import Timeline
from planning.work import step_work

RELEASE, FREE = 0, 1
RANKS = 1 << 40
INF = float("inf")
Slot = tuple[float, float, "int | None"]


@dataclass(frozen=True)
class Forecast:
    """When each open step of each order not on hold starts and ends (Unix seconds) and on which
    line, by the step's index; `first[p]` is the index of the first open step of `load.orders[p]`
    (-1: none planned), its other open steps following in route order."""
    first: array
    start: array
    end: array
    line: array

    def order_slots(self, position: int, order: OrderState) -> dict[int, Slot]:
        """`order` (the load's order at `position`): step id -> (start, end, line); line is None
        for work that needs none."""
        k = self.first[position]
        out: dict[int, Slot] = {}
        if k < 0:
            return out
        for state in order.steps:
            if state.status != "done":
                out[state.id] = (self.start[k], self.end[k], self.line[k] or None)
                k += 1
        return out


@dataclass(slots=True)
class _Sim:
    cal: WorkCalendar
    now: float
    lines: dict[int, list[int]] = field(default_factory=dict)   # free line numbers per workshop
    ready: dict[int, list] = field(default_factory=dict)        # waiting parts per workshop
    tl: dict[int, Timeline] = field(default_factory=dict)       # each workshop's working time
    events: list = field(default_factory=list)
    counter: int = 0
    # per step, by index
    ws: array = field(default_factory=lambda: array("i"))
    key: array = field(default_factory=lambda: array("q"))       # its place in its workshop's queue
    parts: array = field(default_factory=lambda: array("b"))     # parts of its work not placed yet
    waits: bytearray = field(default_factory=bytearray)          # the step before is not done
    nxt: array = field(default_factory=lambda: array("q"))       # the next open step (-1: none)
    has_rest: bytearray = field(default_factory=bytearray)       # work arriving when the step before ends
    rest_seconds: array = field(default_factory=lambda: array("d"))
    rest_release: array = field(default_factory=lambda: array("d"))
    start: array = field(default_factory=lambda: array("d"))
    end: array = field(default_factory=lambda: array("d"))
    line: array = field(default_factory=lambda: array("i"))      # 0: none

    def push(self, t: float, kind: int, data) -> None:
        self.counter += 1
        heapq.heappush(self.events, (t, self.counter, kind, data))


def forecast(load: Workload, cal: WorkCalendar, now_utc, outage_seconds: float) -> Forecast:
    """Schedule every open step of every order not on hold; returns when each starts and ends."""
    now = to_ts(now_utc)
    sim = _Sim(cal=cal, now=now)
    orders = load.orders
    # the queue's order as one number per order: priority, then due date, then order number
    ranked = sorted(queue_keys(orders))
    first = array("q", [-1]) * len(orders)
    for rank, (*_, position) in enumerate(ranked):
        first[position] = _prepare(sim, orders[position], rank, load, outage_seconds)
    del ranked
    parts, waits = sim.parts, sim.waits
    for i in range(len(sim.ws)):
        if parts[i] == 0 and not waits[i]:
            _finish(sim, i, now)
    _run(sim)
    return Forecast(first, sim.start, sim.end, sim.line)


def _prepare(sim: _Sim, order: OrderState, rank: int, load: Workload, outage: float) -> int:
    """Add the order's open steps; returns the index of the first (-1: none)."""
    first = -1
    prev_state: StepState | None = None
    prev = -1
    for state in order.steps:
        if state.status == "done":
            prev_state, prev = state, -1
            continue
        ws = state.workshop_id
        if ws not in sim.lines:
            sim.lines[ws] = list(range(1, load.lines(ws) + 1))
            sim.ready[ws] = []
            sim.tl[ws] = sim.cal.timeline(ws)
        tl = sim.tl[ws]
        work = step_work(state, prev_state, sim.now, tl)
        running = state.processed > 0 or state.status == "running"
        i = len(sim.ws)
        first = i if first < 0 else first
        sim.ws.append(ws)
        # running steps first (they hold their line), then the queue's order; parts by step and part
        sim.key.append(((0 if running else 1) * RANKS + rank) * 1024 + state.seq * 2)
        sim.start.append(INF)
        sim.end.append(-INF)
        sim.line.append(0)
        sim.nxt.append(-1)
        release = sim.now
        if state.status == "blocked":
            release = to_ts(state.recovery) if state.recovery else tl.add(tl.snap(sim.now), outage)
        parts = 0
        if work.at_hand:
            parts += 1
            sim.push(tl.snap(max(release, sim.now)), RELEASE, (i, work.seconds(work.at_hand), 0))
        sim.has_rest.append(1 if work.rest else 0)
        sim.rest_seconds.append(work.seconds(work.rest) if work.rest else 0.0)
        sim.rest_release.append(release)
        parts += 1 if work.rest else 0
        sim.parts.append(parts)
        if prev >= 0:   # rest > 0 only while the step before is open (see step_work)
            sim.nxt[prev] = i
        sim.waits.append(1 if prev >= 0 else 0)
        prev_state, prev = state, i
    return first


def _run(sim: _Sim) -> None:
    events, ready, lines, key = sim.events, sim.ready, sim.lines, sim.key
    ws_of = sim.ws
    while events:
        t = events[0][0]
        touched = set()
        while events and events[0][0] == t:
            _, _, kind, data = heapq.heappop(events)
            if kind == RELEASE:
                i, seconds, part = data
                ws = ws_of[i]
                heapq.heappush(ready[ws], (key[i] + part, i, seconds))
                touched.add(ws)
            else:
                ws, line = data
                heapq.heappush(lines[ws], line)
                touched.add(ws)
        for ws in touched:
            _dispatch(sim, ws, t)


def _dispatch(sim: _Sim, ws: int, t: float) -> None:
    free, ready, tl, events = sim.lines[ws], sim.ready[ws], sim.tl[ws], sim.events
    start, end, line_of, parts, waits = sim.start, sim.end, sim.line, sim.parts, sim.waits
    while free and ready:
        _, i, seconds = heapq.heappop(ready)
        line = heapq.heappop(free)
        done, free_at = tl.add_and_snap(t, seconds)
        if t < start[i]:
            start[i], line_of[i] = t, line
        if done > end[i]:
            end[i] = done
        sim.counter += 1
        heapq.heappush(events, (free_at, sim.counter, FREE, (ws, line)))
        parts[i] -= 1
        if parts[i] == 0 and not waits[i]:
            _finish(sim, i, end[i])


def _finish(sim: _Sim, i: int, at: float) -> None:
    """All the step's work is placed: its end is known, so the next step's rest can be released."""
    start, end = sim.start, sim.end
    if end[i] == -INF:              # nothing to do here but wait for the step before
        end[i] = at
    if start[i] == INF:
        start[i] = end[i]
    n = sim.nxt[i]
    if n < 0:
        return
    sim.waits[n] = 0
    if end[i] > end[n]:
        end[n] = end[i]
    if sim.has_rest[n]:
        sim.has_rest[n] = 0
        sim.push(sim.tl[sim.ws[n]].snap(max(end[i], sim.rest_release[n])), RELEASE, (n, sim.rest_seconds[n], 1))
    elif sim.parts[n] == 0:
        _finish(sim, n, end[i])
