"""The plan in the database: what the planner reads, what it writes, and when it runs.

Every transaction that changes the work re-plans before it commits (`sync`, also called by a
command that shows a forecast in its reply): a change to an order's progress (a report, a
handoff, an exception) re-times the orders it touched; a change that moves the queues (a new
order, a priority, quantity, due date or hold, the calendar, a workshop's capacity) re-plans
everything. The jobs process makes the whole plan again (`replan_all`) soon after changes and at
least every few minutes, since forecasts slide as time passes; it never overwrites a step that a
command re-timed after it read its snapshot (`plan_stamp`).
"""
from __future__ import annotations

import time
from array import array
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

from sqlalchemy import bindparam, event, func, inspect, select, update
from sqlalchemy.orm import Session

from planning.calendar import WorkCalendar
from planning.model import (NONE, OrderPlan, OrderState, OrderTable, Plan, StepPlan, StepState, Workload, from_micros,
                            keep_positions, micros, to_ts)
from planning.plan import assemble, build_plan, plan_orders, retime
from storage.calendar import CalendarConfig, load_calendar, read_calendar
from storage.db import chunked, retrying, write_changes
from storage.models import (CalendarDay, CalendarYear, Handoff, Incident, Order, PlanRun, Step, Workshop)
from storage.views import OPEN_STEP

STRUCTURAL_ORDER_FIELDS = ("priority", "due_date", "quantity", "hold")
FULL = "forecast"


@dataclass(frozen=True)
class PlanConfig:
    calendar: CalendarConfig
    outage_minutes: int
    now: Callable[[], datetime]

    @property
    def outage_seconds(self) -> float:
        return self.outage_minutes * 60.0


def install(session_factory, config: PlanConfig) -> None:
    """Sessions from this factory keep the plan: they note what their flushes change, and re-plan
    before they commit."""
    session_factory.configure(info={"plan": config})


def config_of(session: Session) -> PlanConfig | None:
    return session.info.get("plan")


def calendar(session: Session, config: PlanConfig | None = None) -> WorkCalendar:
    config = config or config_of(session)
    assert config is not None, "the session factory has no plan configuration (storage.planner.install)"
    return load_calendar(session, config.calendar, config.now().date())


def calendar_as_read(session: Session) -> WorkCalendar | None:
    """The calendar in `session`'s own snapshot (`calendar` may be a few seconds older: another
    process's change is seen at the next check), or None without a plan configuration."""
    config = config_of(session)
    return read_calendar(session, config.calendar, config.now().date()) if config is not None else None


# -- what changed ---------------------------------------------------------------------------------
# What the plan writes: a step or an order whose only changes are these was re-timed, not changed
# (it is not planned again for them).
PLAN_OUTPUTS = {Step: frozenset({"planned_start", "planned_end", "forecast_start", "forecast_end", "forecast_line",
                                 "late_minutes", "provisional", "plan_hash", "plan_stamp", "retimed_at"}),
                Order: frozenset({"due_at", "forecast_end", "late_minutes"})}
RETIMED = "plan_retimed"   # session.info: order id -> the OrderState this transaction last re-timed it from


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _ctx) -> None:
    if "plan" not in session.info or session.info.get("planning"):
        return
    _note(session)


def _note(session: Session) -> None:
    """Note what the session's new, changed and deleted objects (flushed now, or still pending)
    ask of the plan: the orders to re-time, the steps whose inputs changed, or the whole plan."""
    touched = session.info.setdefault("plan_orders", set())
    steps = session.info.setdefault("plan_steps", set())
    new = session.new
    for obj in list(new) + [o for o in session.dirty if not _only_plan_outputs(o)] + list(session.deleted):
        if isinstance(obj, Order):
            touched.add(obj.id)
            if obj in new or obj in session.deleted or _changed(obj, STRUCTURAL_ORDER_FIELDS):
                session.info["plan_full"] = True
        elif isinstance(obj, Step):
            touched.add(obj.order_id)
            if obj in new or _changed(obj, ("planned_qty",)):
                session.info["plan_full"] = True
        elif isinstance(obj, Handoff):
            steps.update((obj.from_step_id, obj.to_step_id))
        elif isinstance(obj, Incident):
            steps.add(obj.step_id)
        elif isinstance(obj, (CalendarDay, CalendarYear)) or (isinstance(obj, Workshop) and
                                                               _changed(obj, ("capacity", "working_hours"))):
            session.info["plan_full"] = True


def _only_plan_outputs(obj) -> bool:
    """A step or order that only the plan wrote to (what a re-time stored, flushed later)."""
    outputs = PLAN_OUTPUTS.get(type(obj))
    return outputs is not None and set(inspect(obj).committed_state) <= outputs


def _changed(obj, fields: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


@event.listens_for(Session, "before_commit")
def _plan_before_commit(session: Session) -> None:
    sync(session)
    session.info.pop(RETIMED, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_retimed(session: Session, _previous) -> None:
    # a savepoint rolled back too: what it re-timed is expired back to the stored plan, so an
    # order whose progress it left alone must still be re-timed at the commit
    session.info.pop(RETIMED, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_retimed_at_end(session: Session, transaction) -> None:
    if transaction.parent is None:   # however it ended (a session closed mid-transaction too)
        session.info.pop(RETIMED, None)


def sync(session: Session, *, flush: bool = True) -> None:
    """Bring the plan up to date with this transaction's changes (re-time, or the whole plan).

    `flush=False` (a command that shows a forecast in its reply): the changes not flushed yet
    are read as they stand in the session, and what the plan writes stays in the session for the
    commit's one flush. The commit's own sync then finds those orders as they were re-timed and
    does not re-time them again."""
    config = config_of(session)
    if config is None or session.info.get("planning"):
        return
    _note(session)   # before the steps' and orders' own changes are written, unseen by the flush
    if flush:
        write_changes(session, (Order, Step))   # the lock order
        session.flush()
    full = session.info.pop("plan_full", False)
    orders = session.info.pop("plan_orders", set())
    steps = session.info.pop("plan_steps", set())
    if not (full or orders or steps):
        return
    session.info["planning"] = True
    try:
        now = config.now()
        if full:
            session.info.pop(RETIMED, None)
            plan_all(session, now, config)
        else:
            if steps:
                orders |= set(session.scalars(select(Step.order_id).where(Step.id.in_(steps))))
            retime_orders(session, now, config, orders)
    finally:
        session.info.pop("planning", None)
        session.info.pop("plan_orders", None)
        session.info.pop("plan_steps", None)


# -- reading ----------------------------------------------------------------------------------------
class Stored:
    """What the database held of the plan when the work was read (to write only what changed),
    beside the read orders' and steps' columns: per order its due moment, forecast end, lateness
    and `updated_at`; per step its plan fingerprint and stamp."""

    def __init__(self, table: OrderTable) -> None:
        self.table = table
        self.due = array("q")             # microseconds since 1970 (planning.model.micros)
        self.forecast_end = array("q")
        self.late = array("q")
        self.seen = array("q")            # updated_at
        self.hashes = array("q")
        self.stamps = array("q")

    def add_order(self, due_at: datetime | None, forecast_end: datetime | None, late_minutes: int | None,
                  updated_at: datetime | None) -> None:
        self.due.append(micros(due_at))
        self.forecast_end.append(micros(forecast_end))
        self.late.append(NONE if late_minutes is None else late_minutes)
        self.seen.append(micros(updated_at))

    def keep(self, positions: array) -> None:
        if len(positions) < len(self.due):
            keep_positions(self, ("due", "forecast_end", "late", "seen"), positions)

    def position(self, order_id: int) -> int:
        """The order's position as read (-1: not read)."""
        ids = self.table.ids
        p = bisect_left(ids, order_id)
        return p if p < len(ids) and ids[p] == order_id else -1

    def order(self, p: int) -> tuple:
        """(due_at, forecast_end, late_minutes, updated_at) as read."""
        late = self.late[p]
        return (from_micros(self.due[p]), from_micros(self.forecast_end[p]), None if late == NONE else late,
                from_micros(self.seen[p]))


def load_workload(session: Session, order_ids: Iterable[int] | None = None) -> tuple[Workload, Stored]:
    """Open orders (paused ones too, on hold) with their steps, in order id order, as an
    OrderTable (a column store: 300,000 steps at 50,000 orders); and what the database holds of
    their plan now (to write only what changes). Both are read streamed, a few thousand rows at
    a time: the rows of a big plant are never all held beside what they become."""
    open_order = (Order.status != "done") & (Order.hold.is_(None) | (Order.hold != "cancelled"))
    orders_q = select(Order.id, Order.order_no, Order.priority, Order.due_date, Order.hold, Order.due_at,
                      Order.forecast_end, Order.late_minutes, Order.updated_at).where(open_order)
    steps_q = (select(Step.id, Step.order_id, Step.seq, Step.workshop_id, Step.status, Step.planned_qty,
                      Step.units_per_hour, Step.good_qty, Step.scrap_qty, Step.received_qty, Step.first_report_at,
                      Step.completed_at, Step.plan_hash, Step.plan_stamp)
               .join(Order, Step.order_id == Order.id).where(open_order))
    if order_ids is not None:
        ids = list(order_ids)
        orders_q, steps_q = orders_q.where(Order.id.in_(ids)), steps_q.where(Order.id.in_(ids))
    pending = dict(session.execute(
        select(Handoff.to_step_id, func.sum(Handoff.quantity)).where(Handoff.status == "pending")
        .group_by(Handoff.to_step_id)).all())
    recovery = dict(session.execute(
        select(Incident.step_id, Incident.expected_recovery).where(Incident.closed_at.is_(None),
                                                                   Incident.blocking.is_(True))).all())
    table = OrderTable()
    stored = Stored(table)
    for o in session.execute(orders_q.order_by(Order.id).execution_options(yield_per=5000)):
        table.add_order(o.id, o.order_no, o.priority, o.due_date, o.hold is not None)
        stored.add_order(o.due_at, o.forecast_end, o.late_minutes, o.updated_at)
    read_ids, at = table.ids, 0
    for r in session.execute(steps_q.order_by(Step.order_id, Step.seq).execution_options(yield_per=5000)):
        while at < len(read_ids) and read_ids[at] < r.order_id:
            at += 1
        if at == len(read_ids) or read_ids[at] != r.order_id:
            continue     # its order closed between the two reads (PostgreSQL's READ COMMITTED)
        table.add_step(at, r.id, r.seq, r.workshop_id, r.status, r.planned_qty, r.units_per_hour, r.good_qty,
                       r.scrap_qty, r.received_qty, pending.get(r.id, 0) or 0, r.first_report_at, r.completed_at,
                       recovery.get(r.id))
        stored.hashes.append(r.plan_hash or 0)
        stored.stamps.append(r.plan_stamp or 0)
    stored.keep(table.drop_empty())   # an order without steps is not planned
    capacity = dict(session.execute(select(Workshop.id, Workshop.capacity)).all())
    return Workload(table, capacity), stored


# -- writing ----------------------------------------------------------------------------------------
_STEP_UPDATE = None
WRITE_ORDERS = 500   # orders per transaction of the jobs' whole plan (~3,000 steps; ~0.1 s of writing)
WRITE_BATCH = 2000   # steps per UPDATE executemany: a whole plan's parameters at once took ~70 MB at 10,000 orders


def _step_update():
    global _STEP_UPDATE
    if _STEP_UPDATE is None:
        t = Step.__table__
        _STEP_UPDATE = (update(t).where(t.c.id == bindparam("b_id"), t.c.plan_stamp == bindparam("b_stamp"))
                        .values(planned_start=bindparam("b_ps"), planned_end=bindparam("b_pe"),
                                forecast_start=bindparam("b_fs"), forecast_end=bindparam("b_fe"),
                                forecast_line=bindparam("b_line"), late_minutes=bindparam("b_late"),
                                provisional=bindparam("b_prov"), plan_hash=bindparam("b_hash")))
    return _STEP_UPDATE


def write_plan(session: Session, plans: Iterable[OrderPlan], stored: Stored) -> tuple[int, int]:
    """Store the plans' dates where they differ from what is stored; a step re-timed by a command
    since `stored` was read keeps its own (its stamp no longer matches). Rows are written in the
    lock order every writer follows (orders, then steps, each by id), so a command that holds an
    order and its steps and the full plan wait for each other but never deadlock.
    Returns (steps, orders) written."""
    order_rows: list[dict[str, Any]] = []
    changed: list[tuple[int, Any, StepPlan, Any]] = []   # (step id, stamp read, its plan, fingerprint)
    step_ids, hashes, stamps = stored.table.step_ids, stored.hashes, stored.stamps
    for order in plans:
        new = (order.due_at, order.forecast_end, order.late_minutes)
        p = stored.position(order.order_id)
        if p < 0:
            continue          # not read: nothing of it is written
        was = stored.order(p)
        if was[:3] != new:   # an order a command changed or re-timed since keeps its own
            order_rows.append({"b_id": order.order_id, "b_due": new[0], "b_fe": new[1], "b_late": new[2],
                               "b_seen": was[3], "b_was_due": was[0], "b_was_fe": was[1], "b_was_late": was[2]})
        for k, sp in zip(stored.table.steps_of(p), order.steps, strict=False):   # both in route order
            if step_ids[k] != sp.step_id:
                continue
            fingerprint = sp.fingerprint()
            if fingerprint != hashes[k]:
                changed.append((sp.step_id, stamps[k], sp, fingerprint))
    if order_rows:
        orders = Order.__table__
        # written only as it was read: a command's change moves updated_at, its re-time the plan's
        # own columns (which leave updated_at alone)
        session.connection().execute(update(orders).where(  # type: ignore[arg-type]
            orders.c.id == bindparam("b_id"), orders.c.updated_at == bindparam("b_seen"),
            orders.c.due_at.is_not_distinct_from(bindparam("b_was_due")),
            orders.c.forecast_end.is_not_distinct_from(bindparam("b_was_fe")),
            orders.c.late_minutes.is_not_distinct_from(bindparam("b_was_late"))).values(
            due_at=bindparam("b_due"), forecast_end=bindparam("b_fe"), late_minutes=bindparam("b_late")),
            sorted(order_rows, key=lambda r: r["b_id"]))
    changed.sort(key=lambda c: c[0])
    for batch in chunked(changed, WRITE_BATCH):   # the parameters of a batch at a time, not of the whole plan
        session.connection().execute(_step_update(), [
            {"b_id": step_id, "b_stamp": stamp, "b_ps": sp.planned_start, "b_pe": sp.planned_end,
             "b_fs": sp.forecast_start, "b_fe": sp.forecast_end, "b_line": sp.line, "b_late": sp.late_minutes,
             "b_prov": sp.provisional, "b_hash": fingerprint} for step_id, stamp, sp, fingerprint in batch])
    if changed or order_rows:
        _expire_loaded(session, {c[0] for c in changed}, {r["b_id"] for r in order_rows})
    return len(changed), len(order_rows)


def _expire_loaded(session: Session, step_ids: set[int], order_ids: set[int]) -> None:
    """Rows written with plain UPDATEs: objects this session holds read them again when used."""
    for obj in list(session.identity_map.values()):
        if (isinstance(obj, Step) and obj.id in step_ids) or (isinstance(obj, Order) and obj.id in order_ids):
            session.expire(obj)


def plan_all(session: Session, now: datetime, config: PlanConfig) -> dict:
    """The whole plan, made and stored in this transaction.

    On PostgreSQL another whole plan may commit while this one is made (reads do not wait for
    writers): the jobs' last batch, read by this plan as it was before. Its rows are then left as
    it stored them (a plan writes only rows as it read them), a plan made without this
    transaction's change. The count of whole plans tells: read first, and again under the run's
    lock when this plan is counted; if another was counted in between, this plan is read, made
    and stored once more, the run's row still locked, so that no other whole plan can be counted
    in between again (a command's re-time of a few orders still can: kept, like every re-time)."""
    started = time.perf_counter()
    seen = _generation(session)   # first: a plan committed during the reads below shows as newer
    bottleneck, orders_read, steps, orders = _plan_and_store(session, now, config)
    before = _record_run(session, now, orders_read, bottleneck.result(), steps, started)
    if before != seen:
        bottleneck, orders_read, more_steps, more_orders = _plan_and_store(session, now, config)
        steps, orders = steps + more_steps, orders + more_orders
        _record_run(session, now, orders_read, bottleneck.result(), steps, started, count=False)
    return {"orders": orders_read, "steps_written": steps, "orders_written": orders,
            "ms": int((time.perf_counter() - started) * 1000)}


def _plan_and_store(session: Session, now: datetime, config: PlanConfig) -> tuple[Bottleneck, int, int, int]:
    load, stored = load_workload(session)
    bottleneck = Bottleneck()
    plans = []
    for order, planned in plan_orders(load, calendar(session, config), now, config.outage_seconds):
        bottleneck.add(order, planned)
        plans.append(planned)
    steps, orders = write_plan(session, plans, stored)
    return bottleneck, len(load.orders), steps, orders


def _generation(session: Session) -> int:
    """How many whole plans have been stored (as this statement sees it)."""
    return session.scalar(select(PlanRun.generation).where(PlanRun.name == FULL)) or 0


class Bottleneck:
    """The workshop whose queue adds the most lateness in a plan, its orders added one by one: in
    each open order not on hold, the lateness each open step adds over the open step before it (a
    step inherits what its upstream brings), summed per workshop; ties go to the one delaying
    more orders, then the first. None when no workshop adds any."""

    def __init__(self) -> None:
        self.queue: Counter[int] = Counter()
        self.added: Counter[int] = Counter()
        self.delayed: Counter[int] = Counter()
        self.most: Counter[int] = Counter()

    def add(self, order: OrderState, planned: OrderPlan | None) -> None:
        if order.on_hold or planned is None:
            return
        late = {sp.step_id: sp.late_minutes for sp in planned.steps}
        before = 0
        for step in order.steps:   # in route order
            if step.status not in OPEN_STEP:
                continue
            more, before = late.get(step.id, 0) - before, late.get(step.id, 0)
            self.queue[step.workshop_id] += 1
            if more > 0:
                self.added[step.workshop_id] += more
                self.delayed[step.workshop_id] += 1
                self.most[step.workshop_id] = max(self.most[step.workshop_id], more)

    def result(self) -> dict[str, int] | None:
        added, delayed = self.added, self.delayed
        if not added:
            return None
        ws = max(added, key=lambda w: (added[w], delayed[w], -w))
        return {"workshop_id": ws, "added_minutes": added[ws], "orders": delayed[ws], "queue": self.queue[ws],
                "most_minutes": self.most[ws]}


def bottleneck_of(load: Workload, plan: Plan) -> dict[str, int] | None:
    """The bottleneck (see Bottleneck) of a plan made whole."""
    found = Bottleneck()
    for order in load.orders:
        found.add(order, plan.orders.get(order.id))
    return found.result()


def retime_orders(session: Session, now: datetime, config: PlanConfig, order_ids: Iterable[int]) -> None:
    """Re-time these orders after a change to their progress (the plan of the others stays).
    The orders and their steps are usually in the session already (the command read them)."""
    orders = [o for o in (session.get(Order, i) for i in sorted(i for i in order_ids if i is not None))
              if o is not None and o.status != "done" and o.hold != "cancelled"]
    if not orders:
        return
    pending, recovery = _pending_and_recovery(session, [s for o in orders for s in o.steps])
    with session.no_autoflush:   # a calendar changed in this transaction re-plans everything, not here
        cal = calendar(session, config)
    retimed = session.info.setdefault(RETIMED, {})
    for order in orders:
        rows = list(order.steps)
        state = OrderState(id=order.id, order_no=order.order_no, priority=order.priority, due_date=order.due_date,
                           steps=tuple(_state(s, pending, recovery) for s in rows), on_hold=order.hold is not None)
        if retimed.get(order.id) == state:   # re-timed from this very state earlier in the transaction
            continue
        retimed[order.id] = state
        slots = retime(state, {s.id: s.forecast_start for s in rows}, cal, now, config.outage_seconds)
        lines = {s.id: s.forecast_line for s in rows}
        _store_order(now, order, rows, assemble(state, cal, {k: (a, b, lines[k]) for k, (a, b, _) in slots.items()}))


def _pending_and_recovery(session: Session, steps: list[Step]) -> tuple[dict, dict]:
    """Parts handed to these steps and not yet confirmed; when blocked ones expect to run again."""
    handed = {(s.order_id, s.seq): s.handed_qty for s in steps}
    # only a step whose feeder has handed parts over can have any pending (no query otherwise)
    waiting = [s.id for s in steps if s.seq > 1 and s.status != "done" and handed.get((s.order_id, s.seq - 1), 1)]
    pending = dict(session.execute(select(Handoff.to_step_id, func.sum(Handoff.quantity)).where(
        Handoff.status == "pending", Handoff.to_step_id.in_(waiting)).group_by(Handoff.to_step_id)).all()) \
        if waiting else {}
    blocked = [s.id for s in steps if s.status == "blocked"]
    recovery = dict(session.execute(select(Incident.step_id, Incident.expected_recovery).where(
        Incident.closed_at.is_(None), Incident.blocking.is_(True), Incident.step_id.in_(blocked))).all()) \
        if blocked else {}
    return pending, recovery


def _state(step: Step, pending: dict, recovery: dict) -> StepState:
    return StepState(id=step.id, seq=step.seq, workshop_id=step.workshop_id, status=step.status,
                     planned_qty=step.planned_qty, std_rate=step.units_per_hour, good=step.good_qty,
                     scrap=step.scrap_qty, received=step.received_qty, pending_in=pending.get(step.id, 0) or 0,
                     first_report_at=step.first_report_at, completed_at=step.completed_at,
                     recovery=recovery.get(step.id))


def _store_order(now: datetime, order: Order, steps: list[Step], plan: OrderPlan) -> None:
    by_id = {s.id: s for s in steps}
    for sp in plan.steps:
        step = by_id[sp.step_id]
        fingerprint = sp.fingerprint()
        if fingerprint == step.plan_hash:
            continue
        step.planned_start, step.planned_end = sp.planned_start, sp.planned_end
        step.forecast_start, step.forecast_end, step.forecast_line = sp.forecast_start, sp.forecast_end, sp.line
        step.late_minutes, step.provisional, step.plan_hash = sp.late_minutes, sp.provisional, fingerprint
        step.plan_stamp = (step.plan_stamp or 0) + 1
        step.retimed_at = now
    order.due_at, order.forecast_end, order.late_minutes = plan.due_at, plan.forecast_end, plan.late_minutes


def replan_all(session_factory, config: PlanConfig, read_factory=None,
               orders_per_transaction: int = WRITE_ORDERS, attempts: int = 3) -> dict:
    """The jobs process's full plan: read a snapshot (in `read_factory`'s read-only session if
    given: on SQLite it then holds up no writer for the second or so the read takes at 10,000
    orders), plan outside any lock, then store it `orders_per_transaction` orders at a time, each
    batch a short transaction of its own that leaves alone whatever a command re-timed meanwhile
    (a 报工 waits for one batch, not for the whole plan's seconds of writing). Between batches a
    reader may see some orders re-timed and others not yet; each order is whole.

    A command that makes a whole plan of its own meanwhile (a new order, a priority, the
    calendar) overtakes this one: the batch that finds the count of whole plans changed since the
    snapshot is rolled back and the run starts again from a new snapshot (which also rewrites
    what its earlier batches stored), at most `attempts` times."""
    started = time.perf_counter()
    for attempt in range(1, attempts + 1):
        result = _replan_once(session_factory, config, read_factory or session_factory, orders_per_transaction)
        if result is not None:
            return {**result, "attempts": attempt, "total_ms": int((time.perf_counter() - started) * 1000)}
    return {"orders": 0, "steps_written": 0, "orders_written": 0, "plan_ms": 0, "attempts": attempts, "overtaken": True,
            "total_ms": int((time.perf_counter() - started) * 1000)}


class _Overtaken(Exception):
    """A command stored a whole plan after this run read its snapshot."""


def _replan_once(session_factory, config: PlanConfig, read_factory, orders_per_transaction: int) -> dict | None:
    now = config.now()
    started = time.perf_counter()
    with read_factory() as session:
        session.info.pop("plan", None)      # reading only: no re-plan of its own
        # first: under READ COMMITTED (PostgreSQL) a whole plan committed during the reads below
        # then shows as a newer generation, never as an older one beside newer work
        generation = _generation(session)
        load, stored = load_workload(session)
        cal = calendar(session, config)
        session.rollback()
    # the forecast is made first; each batch's orders are then assembled and stored, in order id
    # order, the plan of the orders stored before let go (not the whole plan held at once)
    began = started
    plans = plan_orders(load, cal, now, config.outage_seconds)
    planned, bottleneck = len(load.orders), Bottleneck()
    planning = 0.0     # the read, the forecast and each batch's assembly: all but the writing
    steps = orders = 0
    batches = max(1, -(-planned // orders_per_transaction))
    try:
        for number in range(1, batches + 1):
            batch = []
            for order, plan in islice(plans, orders_per_transaction):
                bottleneck.add(order, plan)
                batch.append(plan)
            planning += time.perf_counter() - began

            def store(batch=batch, last=number == batches, before=steps) -> tuple[int, int]:
                with session_factory.begin() as session:
                    session.info["planning"] = True     # this transaction is the plan: nothing to re-plan
                    written = write_plan(session, batch, stored)
                    # last in the lock order (orders, steps, then the run), as a command's whole plan takes it
                    current = session.scalar(select(PlanRun.generation).where(PlanRun.name == FULL)
                                             .with_for_update())
                    if (current or 0) != generation:
                        raise _Overtaken()
                    # the last batch records the run; on a new database the run's row may be
                    # inserted only now, by a command's first whole plan too: counted after it,
                    # this plan is older than that one
                    if last and _record_run(session, now, planned, bottleneck.result(), before + written[0],
                                            started) != generation:
                        raise _Overtaken()
                    return written
            # a command that holds an order of this batch and makes a whole plan takes the orders
            # in id order too, from the first: on PostgreSQL one side of that deadlock is aborted,
            # and this batch, like the command, is tried again (its stamps keep what was re-timed)
            written = retrying(store)
            steps, orders = steps + written[0], orders + written[1]
            began = time.perf_counter()
    except _Overtaken:
        return None
    return {"orders": planned, "steps_written": steps, "orders_written": orders, "plan_ms": int(planning * 1000)}


def _record_run(session: Session, now: datetime, planned: int, bottleneck, steps: int, started: float,
                count: bool = True) -> int:
    """The whole plan just stored: when, what it cost, and one more in the count of whole plans
    (the row locked and read afresh, last in the lock order, so no two plans count as one;
    `count=False`: this transaction's plan, counted already, stored again). Returns the count of
    whole plans before this one."""
    if count:
        run = session.get(PlanRun, FULL, with_for_update=True, populate_existing=True)
        if run is None:   # the first whole plan of this database: another may be inserting the row as well
            session.execute(_insert_or_nothing(session, PlanRun.__table__, name=FULL, planned_at=now, generation=0))
            run = session.get(PlanRun, FULL, with_for_update=True, populate_existing=True)
            if run is None:
                raise RuntimeError("the plan run's row was not stored")
        before = run.generation or 0
        run.generation = before + 1
    else:   # locked and counted by this transaction: the session's object holds its count, flushed or not
        run = session.get(PlanRun, FULL)
        assert run is not None, "the run's row was counted by this transaction"
        before = (run.generation or 0) - 1
    run.planned_at, run.steps_written, run.orders = now, steps, planned
    run.bottleneck = bottleneck
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    session.add(run)
    return before


def _insert_or_nothing(session: Session, table, **values):
    """INSERT … ON CONFLICT DO NOTHING: on PostgreSQL a second insert of the same key waits for the
    first transaction and then does nothing, where a plain INSERT would fail on the key."""
    from sqlalchemy.dialects import postgresql, sqlite
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    return sqlite.insert(table).values(**values).on_conflict_do_nothing()


def needs_replan(session: Session, now: datetime, refresh_seconds: float) -> bool:
    """A command re-timed something since the last full plan, or that plan is getting old."""
    run = session.get(PlanRun, FULL)
    if run is None or (now - run.planned_at).total_seconds() >= refresh_seconds:
        return True
    return session.scalar(select(Step.id).where(Step.retimed_at > run.planned_at).limit(1)) is not None


def plan_in_memory(session: Session, now: datetime, config: PlanConfig,
                   change: Callable[[Workload], Workload] | None = None) -> Plan:
    """The plan as it would be (with `change` applied to the work), without storing anything."""
    load, _ = load_workload(session)
    if change is not None:
        load = change(load)
    return build_plan(load, calendar(session, config), now, config.outage_seconds)


def ts(value: datetime | None) -> float | None:
    return None if value is None else to_ts(value)


@dataclass(frozen=True)
class MovedStep:
    order_no: str
    workshop_id: int
    workshop: str
    old: datetime
    new: datetime

    @property
    def later(self) -> bool:
        return self.new > self.old


@dataclass(frozen=True)
class Moved:
    items: list[MovedStep]

    def by_workshop(self) -> dict[int, list[MovedStep]]:
        out: dict[int, list[MovedStep]] = {}
        for item in self.items:
            out.setdefault(item.workshop_id, []).append(item)
        return out

    def orders(self) -> set[str]:
        return {i.order_no for i in self.items}


def forecast_ends(session: Session) -> dict[int, datetime | None]:
    """Every open step's forecast end now (to tell afterwards what a change moved)."""
    session.flush()
    return dict(session.execute(select(Step.id, Step.forecast_end).where(Step.status != "done")).all())


def moved_since(session: Session, before: dict[int, datetime | None], minutes: int = 30) -> Moved:
    """Open steps whose forecast end moved by at least `minutes` since `before`, soonest first."""
    rows = session.execute(select(Step.id, Step.forecast_end, Step.workshop_id, Workshop.name, Order.order_no)
                           .join(Workshop, Step.workshop_id == Workshop.id).join(Order, Step.order_id == Order.id)
                           .where(Step.id.in_(list(before)), Step.status != "done")).all()
    items = []
    for step_id, new, workshop_id, workshop, order_no in rows:
        old = before.get(step_id)
        if old is not None and new is not None and abs((new - old).total_seconds()) >= minutes * 60:
            items.append(MovedStep(order_no, workshop_id, workshop, old, new))
    items.sort(key=lambda i: (i.new, i.order_no))
    return Moved(items)
