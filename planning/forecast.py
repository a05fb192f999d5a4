"""The forecast: every open step scheduled forward from now on its workshop's lines.

A discrete-event simulation in working time. Each workshop has `capacity` parallel lines and,
whenever a line is free, takes the most urgent work whose input is here: steps already running
first (they hold their line), then by priority, due date and order number. A step's work comes
in up to two parts: what its input already covers (it may start now, on a partial handoff) and
the rest, which arrives when the step before it finishes. A blocked step's work is released at
its expected recovery. No step finishes before the step that feeds it.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from planning.calendar import WorkCalendar
from planning.model import OrderState, StepState, Workload, to_ts
from planning.timeline import Timeline
from planning.work import step_work

RELEASE, FREE = 0, 1
RANKS = 1 << 40


@dataclass(frozen=True)
class Forecast:
    """Per step id: (start, end, line) in Unix seconds; line is None for work that needs none."""
    slots: dict[int, tuple[float, float, int | None]]


@dataclass(slots=True)
class _Step:
    state: StepState
    workshop: int
    key: int
    parts_left: int = 0
    waits_for_prev: bool = False
    start: float = float("inf")
    end: float = float("-inf")
    line: int | None = None
    next: _Step | None = None
    rest_part: tuple | None = None      # (seconds, earliest release) once the step before ends


@dataclass(slots=True)
class _Sim:
    cal: WorkCalendar
    now: float
    lines: dict[int, list[int]] = field(default_factory=dict)   # free line numbers per workshop
    ready: dict[int, list] = field(default_factory=dict)        # waiting parts per workshop
    tl: dict[int, Timeline] = field(default_factory=dict)       # each workshop's working time
    events: list = field(default_factory=list)
    counter: int = 0

    def push(self, t: float, kind: int, data) -> None:
        self.counter += 1
        heapq.heappush(self.events, (t, self.counter, kind, data))


def forecast(load: Workload, cal: WorkCalendar, now_utc, outage_seconds: float) -> Forecast:
    """Schedule every open step of every order not on hold; returns when each starts and ends."""
    now = to_ts(now_utc)
    sim = _Sim(cal=cal, now=now)
    steps: list[_Step] = []
    # the queue's order as one number per order: priority, then due date, then order number
    ranked = sorted((o for o in load.orders if not o.on_hold), key=lambda o: (o.priority, o.due_date, o.order_no))
    for rank, order in enumerate(ranked):
        steps.extend(_prepare(sim, order, rank, load, outage_seconds))
    for st in steps:
        if st.parts_left == 0 and not st.waits_for_prev:
            _finish(sim, st, now)
    _run(sim)
    return Forecast({st.state.id: (st.start, st.end, st.line) for st in steps})


def _prepare(sim: _Sim, order: OrderState, rank: int, load: Workload, outage: float) -> list[_Step]:
    out: list[_Step] = []
    prev_state: StepState | None = None
    prev: _Step | None = None
    for state in order.steps:
        if state.status == "done":
            prev_state, prev = state, None
            continue
        ws = state.workshop_id
        if ws not in sim.lines:
            sim.lines[ws] = list(range(1, load.lines(ws) + 1))
            sim.ready[ws] = []
            sim.tl[ws] = sim.cal.timeline(ws)
        tl = sim.tl[ws]
        work = step_work(state, prev_state, sim.now, tl)
        running = state.processed > 0 or state.status == "running"
        # running steps first (they hold their line), then the queue's order; parts by step and part
        st = _Step(state=state, workshop=ws, key=((0 if running else 1) * RANKS + rank) * 1024 + state.seq * 2)
        release = sim.now
        if state.status == "blocked":
            release = to_ts(state.recovery) if state.recovery else tl.add(tl.snap(sim.now), outage)
        if work.at_hand:
            st.parts_left += 1
            sim.push(tl.snap(max(release, sim.now)), RELEASE, (st, work.seconds(work.at_hand), 0))
        if work.rest:
            st.parts_left += 1
            st.rest_part = (work.seconds(work.rest), release)
        if prev is not None:   # rest > 0 only while the step before is open (see step_work)
            prev.next = st
            st.waits_for_prev = True
        out.append(st)
        prev_state, prev = state, st
    return out


def _run(sim: _Sim) -> None:
    events = sim.events
    while events:
        t = events[0][0]
        touched = set()
        while events and events[0][0] == t:
            _, _, kind, data = heapq.heappop(events)
            if kind == RELEASE:
                st, seconds, part = data
                heapq.heappush(sim.ready[st.workshop], (st.key + part, st, seconds))
                touched.add(st.workshop)
            else:
                ws, line = data
                heapq.heappush(sim.lines[ws], line)
                touched.add(ws)
        for ws in touched:
            _dispatch(sim, ws, t)


def _dispatch(sim: _Sim, ws: int, t: float) -> None:
    free, ready, tl, events = sim.lines[ws], sim.ready[ws], sim.tl[ws], sim.events
    while free and ready:
        _, st, seconds = heapq.heappop(ready)
        line = heapq.heappop(free)
        end, free_at = tl.add_and_snap(t, seconds)
        if t < st.start:
            st.start, st.line = t, line
        if end > st.end:
            st.end = end
        sim.counter += 1
        heapq.heappush(events, (free_at, sim.counter, FREE, (ws, line)))
        st.parts_left -= 1
        if st.parts_left == 0 and not st.waits_for_prev:
            _finish(sim, st, st.end)


def _finish(sim: _Sim, st: _Step, at: float) -> None:
    """All the step's work is placed: its end is known, so the next step's rest can be released."""
    if st.end == float("-inf"):              # nothing to do here but wait for the step before
        st.end = at
    if st.start == float("inf"):
        st.start = st.end
    nxt = st.next
    if nxt is None:
        return
    nxt.waits_for_prev = False
    nxt.end = max(nxt.end, st.end)
    if nxt.rest_part is not None:
        seconds, release = nxt.rest_part
        nxt.rest_part = None
        sim.push(sim.tl[nxt.workshop].snap(max(st.end, release)), RELEASE, (nxt, seconds, 1))
    elif nxt.parts_left == 0:
        _finish(sim, nxt, st.end)
