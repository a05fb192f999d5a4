"""The plan of record: planned dates back from the due date at standard rates, the forecast
forward from now on finite capacity, and lateness measured in working time."""
from __future__ import annotations

from array import array
from datetime import datetime, time, timedelta
from collections.abc import Iterator, Mapping, Sequence

from planning.calendar import WorkCalendar
from planning.forecast import Slot, forecast
from planning.model import OrderPlan, OrderState, Plan, StepPlan, Workload, to_ts
from planning.work import step_work

# Dates are kept within 2000-2099 (what the database and an ISO 8601 reader expect): an absurd
# quantity can only reach them, and a plan that does is said to be late anyway.
FIRST, LAST = 946684800.0, 4102444800.0


def _clamp(ts: float) -> float:
    return ts if FIRST <= ts <= LAST else min(max(ts, FIRST), LAST)


def due_at(order: OrderState, cal: WorkCalendar) -> float:
    """The end of the due date's working time in the last step's workshop (the last working
    moment before it, when the plant does not work that day)."""
    last = order.steps[-1].workshop_id if order.steps else None
    key = (order.due_date, last)
    if key not in cal._due:
        midnight = datetime.combine(order.due_date + timedelta(days=1), time(0), tzinfo=cal.tz).timestamp()
        cal._due[key] = cal.timeline(last, near=midnight).snap_back(midnight)
    return cal._due[key]


def due_plan(order: OrderState, cal: WorkCalendar) -> Sequence[float]:
    """Each step's latest start and end at its standard rate for the order to be done on its
    due date: back from the due moment, each step ending when the next one must start. Flat, in
    route order: start and end of the first step, then of the second, ...

    Kept with the calendar (it changes only with the due date, the route's quantities and rates,
    or the calendar), per order: one number made from what the dates are made of, and the dates
    as an array of floats. About 300 bytes an order; keyed by all it is made of, with a dict of
    tuples per order, it took ~1.2 KB (~58 MB of a long-lived jobs process at 50,000 orders). Two
    different routes would have to hash alike (one chance in 2^64 per change) for an order to be
    given the dates of before; the plan's own fingerprint (StepPlan.fingerprint) rests on the same."""
    made_of = hash((order.due_date, tuple((s.id, s.workshop_id, s.planned_qty, s.std_rate) for s in order.steps)))
    cached = cal._due_plans.get(order.id)
    if cached is not None and cached[0] == made_of:
        return cached[1]
    end = due = due_at(order, cal)
    dates = array("d", bytes(16 * len(order.steps)))
    for i in range(len(order.steps) - 1, -1, -1):
        step = order.steps[i]
        tl = cal.timeline(step.workshop_id, near=due)   # one line near the due date for the whole route
        end = tl.snap_back(end)
        start = tl.sub(end, step.planned_qty / step.std_rate * 3600)
        dates[2 * i], dates[2 * i + 1] = _clamp(start), _clamp(end)
        end = start
    if len(cal._due_plans) > 100_000:    # a long-lived process: forget orders long done
        cal._due_plans.clear()
    cal._due_plans[order.id] = (made_of, dates)
    return dates


def plan_orders(load: Workload, cal: WorkCalendar, now: datetime,
                outage_seconds: float) -> Iterator[tuple[OrderState, OrderPlan]]:
    """Every order's plan, one at a time in the load's order, once the forecast is made (a big
    plant's whole plan need not be held at once: the jobs store it as it comes)."""
    made = forecast(load, cal, now, outage_seconds)
    for position, order in enumerate(load.orders):
        yield order, assemble(order, cal, made.order_slots(position, order))


def build_plan(load: Workload, cal: WorkCalendar, now: datetime, outage_seconds: float) -> Plan:
    """The whole plan: every order's planned dates and every open step's forecast."""
    return Plan(now=now, orders={order.id: planned for order, planned in plan_orders(load, cal, now, outage_seconds)})


def retime(order: OrderState, stored_starts: Mapping[int, datetime | None], cal: WorkCalendar, now: datetime,
           outage_seconds: float) -> dict[int, Slot]:
    """One order's forecast again after a change to it, keeping each waiting step's place in its
    workshop's queue (its stored start) and the route's order. The whole plan, which may also
    re-sequence the queues, is made by `build_plan` (the replan job, every structural change)."""
    now_ts = to_ts(now)
    slots: dict[int, Slot] = {}
    prev_state, prev_end = None, None
    for state in order.steps:
        if state.status == "done":
            prev_state, prev_end = state, None
            continue
        tl = cal.timeline(state.workshop_id)
        work = step_work(state, prev_state, now_ts, tl)
        release = now_ts
        if state.status == "blocked":
            release = to_ts(state.recovery) if state.recovery else tl.add(tl.snap(now_ts), outage_seconds)
        start = tl.snap(max(release, now_ts))
        stored = stored_starts.get(state.id)
        if stored is not None and state.processed == 0 and state.status != "running":
            start = max(start, tl.snap(to_ts(stored)))
        end = start if prev_end is None else max(start, prev_end)
        if work.at_hand:
            end = max(end, tl.add(start, work.seconds(work.at_hand)))
        if work.rest:
            rest_start = tl.snap(max(prev_end or now_ts, release, end if work.at_hand else start))
            if not work.at_hand:
                start = rest_start
            end = max(end, tl.add(rest_start, work.seconds(work.rest)))
        slots[state.id] = (start, end, None)
        prev_state, prev_end = state, end
    return slots


def assemble(order: OrderState, cal: WorkCalendar, slots: Mapping[int, Slot]) -> OrderPlan:
    """Planned and forecast dates of one order's steps, and how late each is in working time."""
    due = _clamp(due_at(order, cal))
    planned = due_plan(order, cal)
    steps = []
    ends: list[float] = []
    for i, state in enumerate(order.steps):
        ps, pe = planned[2 * i], planned[2 * i + 1]
        fs: float | None = None
        fe: float | None = None
        line = None
        late = 0
        if state.status == "done":    # history: when it was done, no lateness to forecast
            fe = to_ts(state.completed_at) if state.completed_at else None
        elif not order.on_hold and state.id in slots:
            fs, fe, line = slots[state.id]
            if not (FIRST <= fs and fe <= LAST):
                fs, fe = _clamp(fs), _clamp(fe)
            if state.processed > 0 and state.first_report_at is not None:
                fs = min(fs, to_ts(state.first_report_at))   # started: the start is history
            if fe > pe:
                late = _minutes(cal.working_between(state.workshop_id, pe, fe))
        steps.append(StepPlan(state.id, order.id, state.seq, state.workshop_id, ps, pe, fs, fe, line, late,
                              cal.provisional_ts(pe) or (fe is not None and cal.provisional_ts(fe))))
        if fe is not None:
            ends.append(fe)
    open_on_hold = order.on_hold and any(st.status != "done" for st in order.steps)
    finish = max(ends) if ends and not open_on_hold else None
    last = order.steps[-1].workshop_id if order.steps else None
    return OrderPlan(order.id, order.order_no, due, finish,
                     _minutes(cal.working_between(last, due, finish)) if finish is not None else 0, tuple(steps))


def _minutes(seconds: float) -> int:
    """Working seconds as whole minutes."""
    return int(round(seconds / 60)) if seconds > 0 else 0
