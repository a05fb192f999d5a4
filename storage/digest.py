"""What the daily digests say, read from the stored plan and the event log: a factory day's output
against the plan per workshop, the orders that need a person (one line per order, the worst state
first, each with its owner and what is expected), and the bottleneck by the plan's queue."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, UTC
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from planning.calendar import WorkCalendar
from planning.model import to_ts
from storage.db import chunked
from storage.delays import OrderDelay
from storage.directory import leads_of
from storage.models import ChangeRequest, Handoff, Incident, Order, PlanRun, Report, Step, Workshop
from storage.planner import FULL, calendar
from storage.views import cancelled_orders

# Worst first: an order that is in several of these states is listed once, in the first.
STATES = ("stopped", "late", "at_risk", "dispute", "handoff", "request")
MAX_ITEMS = 5


@dataclass(frozen=True)
class ShopDay:
    """One workshop's factory day: standing reports stamped that day against the plan's quantity."""
    workshop_id: int
    name: str
    good: int
    scrap: int
    planned: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.good / self.planned) if self.planned else None


@dataclass(frozen=True)
class Attention:
    """An order that needs a person: its worst state, where, who owns it and what is expected."""
    state: str                               # one of STATES
    order_no: str
    product: str
    workshop_id: int
    workshop: str
    owners: tuple[str, ...]
    rank: tuple = ()                         # priority, due date, number: the order of equals
    reason: str = ""                         # stopped: the exception; dispute: the quantities
    since: datetime | None = None            # stopped: when the line stopped
    expected: datetime | None = None         # stopped: recovery; late/at risk: the step's forecast end
    planned_end: datetime | None = None      # late/at risk: the cause step's planned end
    late_minutes: int = 0                    # the cause step's forecast past its planned end
    due_at: datetime | None = None
    order_late_minutes: int = 0              # the order's forecast past its due moment
    stopped_minutes: int = 0                 # stopped: for how long, in the workshop's working time
    quantity: int = 0                        # handoff: parts waiting
    other: str = ""                          # handoff: from which workshop; request: what is asked
    also_late: bool = False                  # stopped and (forecast) late as well
    provisional: bool = False


@dataclass(frozen=True)
class Bottleneck:
    """The workshop whose queue adds the most lateness in the forecast."""
    workshop: str
    added_minutes: int          # working minutes its queue adds, summed over the orders it delays
    orders: int                 # orders it delays
    queue: int                  # open steps planned there
    most_minutes: int = 0       # the most it adds to one order


@dataclass
class Counts:
    stopped: int = 0
    late: int = 0
    at_risk: int = 0
    orders: set[str] = field(default_factory=set)


def day_window(tz: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """The factory day `day` (midnight to midnight, factory time) as naive UTC bounds."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    to_utc = lambda d: d.astimezone(UTC).replace(tzinfo=None)  # noqa: E731
    return to_utc(start), to_utc(start + timedelta(days=1))


def output_between(session: Session, start: datetime, end: datetime) -> dict[int, tuple[int, int]]:
    """Good and scrap per workshop: the standing (not undone) reports stamped in [start, end)."""
    rows = session.execute(select(Step.workshop_id, func.sum(Report.good), func.sum(Report.scrap))
                           .select_from(Report).join(Step, Report.step_id == Step.id)
                           .where(Report.created_at >= start, Report.created_at < end, Report.undone_at.is_(None))
                           .group_by(Step.workshop_id)).all()
    return {ws: (int(good or 0), int(scrap or 0)) for ws, good, scrap in rows}


def planned_between(session: Session, cal: WorkCalendar, start: datetime, end: datetime) -> dict[int, int]:
    """The quantity the plan puts in [start, end) per workshop: each step's planned quantity spread
    over its planned window (planned start to planned end) in its workshop's working time."""
    return planned_in(session, cal, [(start, end)])[0]


def planned_in(session: Session, cal: WorkCalendar, windows: list[tuple[datetime, datetime]]) -> list[dict[int, int]]:
    """`planned_between` for each of `windows`, from one read of the steps planned across them
    (by the index on the planned window, which starts from the plan's end: the steps still to
    come, not the whole history; cancelled orders, a short list, left out)."""
    if not windows:
        return []
    rows = session.execute(select(Step.workshop_id, Step.planned_qty, Step.planned_start, Step.planned_end)
                           .where(Step.planned_end > min(a for a, _ in windows),
                                  Step.planned_start < max(b for _, b in windows),
                                  Step.order_id.notin_(cancelled_orders()))).all()
    bounds = [(to_ts(a), to_ts(b)) for a, b in windows]
    totals: list[dict[int, float]] = [{} for _ in windows]
    for ws, qty, ps, pe in rows:
        s, e = to_ts(ps), to_ts(pe)
        whole: float | None = None
        for (a, b), total in zip(bounds, totals, strict=True):
            if e <= a or s >= b:   # not in this window (the query's bounds, per window)
                continue
            if whole is None:
                whole = cal.working_between(ws, s, e)
            if whole > 0:
                share = cal.working_between(ws, max(s, a), min(e, b)) / whole
            else:   # no working time in the window: all of it on the day it ends
                share = 1.0 if a <= e < b else 0.0
            total[ws] = total.get(ws, 0.0) + qty * share
    return [{ws: round(v) for ws, v in total.items()} for total in totals]


def shop_days(session: Session, cal: WorkCalendar, day: date) -> list[ShopDay]:
    """Every workshop's output and plan on factory day `day`, in route order."""
    return shop_days_of(session, cal, [day])[0]


def shop_days_of(session: Session, cal: WorkCalendar, days: list[date]) -> list[list[ShopDay]]:
    """`shop_days` of each of `days`, the plan read once for all of them."""
    windows = [day_window(cal.tz, day) for day in days]
    workshops = session.execute(select(Workshop.id, Workshop.name).order_by(Workshop.id)).all()
    out = []
    for (start, end), plan in zip(windows, planned_in(session, cal, windows), strict=True):
        done = output_between(session, start, end)
        out.append([ShopDay(ws, name, *done.get(ws, (0, 0)), plan.get(ws, 0)) for ws, name in workshops])
    return out


def working_days_before(cal: WorkCalendar, day: date, count: int = 7) -> list[date]:
    """The last `count` plant working days before `day`, oldest first (at most 60 days back)."""
    days: list[date] = []
    probe = day - timedelta(days=1)
    while len(days) < count and probe > day - timedelta(days=60):
        if cal.is_workday(probe):
            days.append(probe)
        probe -= timedelta(days=1)
    return days[::-1]


def candidates(session: Session, now: datetime, delays: list[OrderDelay],
               managers: tuple[str, ...] = ()) -> list[Attention]:
    """Everything in the plant that needs a person, in every state an order is in (read once for
    every digest of a run; `attention` picks each view's)."""
    return (_stopped_and_disputed(session, now) + _delayed(session, delays) + _handoffs_waiting(session)
            + _requests(session, managers))


def attention(session: Session, now: datetime, delays: list[OrderDelay], workshop_id: int | None = None,
              managers: tuple[str, ...] = (), found: list[Attention] | None = None) -> list[Attention]:
    """The orders that need a person, one item per order (its worst state), worst first, then by
    priority and due date. A workshop's view: what it must act on, parts waiting for it included;
    the plant's: every order, and the requests waiting for a decision (owned by `managers`).
    `found`: the plant's candidates, when already read."""
    items = found if found is not None else candidates(session, now, delays, managers)
    if workshop_id is None:
        items = [i for i in items if i.state != "handoff"]
    else:
        items = [i for i in items if i.workshop_id == workshop_id and i.state != "request"]
    by_order: dict[str, list[Attention]] = {}
    for item in items:
        by_order.setdefault(item.order_no, []).append(item)
    worst_first = []
    for same in by_order.values():
        worst = min(same, key=lambda i: STATES.index(i.state))
        if worst.state == "stopped" and any(i.state == "late" for i in same):
            worst = replace(worst, also_late=True)
        worst_first.append(worst)
    return sorted(worst_first, key=lambda i: (STATES.index(i.state), i.rank))


def counts(items: list[Attention]) -> Counts:
    """Orders stopped, late and at risk, each order counted once, in its worst state."""
    result = Counts()
    for item in items:
        if item.state in ("stopped", "late", "at_risk"):
            setattr(result, item.state, getattr(result, item.state) + 1)
    return result


def pick(items: list[Attention], limit: int = MAX_ITEMS) -> list[Attention]:
    """At most `limit` items, worst first (stopped lines before anything else)."""
    return items[:limit]


def _owners(session: Session, workshop_id: int) -> tuple[str, ...]:
    return tuple(p.name for p in leads_of(session, workshop_id))


def _rank(order: Order) -> tuple:
    return (order.priority, order.due_date, order.order_no)


def _stopped_and_disputed(session: Session, now: datetime) -> list[Attention]:
    """Open exceptions: a breakdown stops its step (its workshop must act); a quantity dispute is
    settled by the upstream workshop, whose step it is recorded on."""
    stmt = (select(Incident, Step, Order).join(Step, Incident.step_id == Step.id).join(Order, Step.order_id == Order.id)
            .where(Incident.closed_at.is_(None), Order.status.notin_(("done", "cancelled")))
            .order_by(Incident.opened_at, Incident.id))
    items = []
    rows = session.execute(stmt).all()
    cal = calendar(session) if rows else None
    for incident, step, order in rows:
        assert cal is not None
        base = Attention("stopped" if incident.blocking else "dispute", order.order_no, order.product,
                         step.workshop_id, step.workshop.name, _owners(session, step.workshop_id), _rank(order),
                         since=incident.opened_at, due_at=order.due_at, order_late_minutes=order.late_minutes,
                         stopped_minutes=cal.working_minutes(step.workshop_id, incident.opened_at, now))
        if incident.blocking:
            items.append(replace(base, reason=f"{incident.category}：{incident.description}".rstrip("："),
                                 expected=incident.expected_recovery))
        else:
            items.append(replace(base, reason=incident.description))
    return items


def _delayed(session: Session, delays: list[OrderDelay]) -> list[Attention]:
    """Late and at-risk orders, at the step that causes the delay (storage.delays); read as plain
    rows (a plant's bad day has hundreds)."""
    ids = [d.cause_step_id for d in delays]
    steps = {}
    for chunk in chunked(ids):
        steps.update({row.id: row for row in session.execute(
            select(Step.id, Step.workshop_id, Workshop.name.label("workshop"), Step.forecast_end, Step.planned_end,
                   Step.late_minutes, Step.provisional, Order.order_no, Order.product, Order.priority,
                   Order.due_date, Order.due_at, Order.late_minutes.label("order_late"))
            .join(Order, Step.order_id == Order.id).join(Workshop, Step.workshop_id == Workshop.id)
            .where(Step.id.in_(chunk)))})
    items = []
    for d in delays:
        step = steps.get(d.cause_step_id)
        if step is None:
            continue
        items.append(Attention(d.level, step.order_no, step.product, step.workshop_id, step.workshop,
                               _owners(session, step.workshop_id), (step.priority, step.due_date, step.order_no),
                               expected=step.forecast_end, planned_end=step.planned_end,
                               late_minutes=step.late_minutes, due_at=step.due_at, order_late_minutes=step.order_late,
                               provisional=step.provisional))
    return items


def _handoffs_waiting(session: Session) -> list[Attention]:
    """Parts handed over and not yet confirmed, per receiving step (a workshop's view shows them;
    the plant's leaves them to the reminders). Read as plain rows: a plant has hundreds pending."""
    into, source, source_shop = aliased(Workshop), aliased(Step), aliased(Workshop)
    rows = session.execute(
        select(Handoff.to_step_id, Handoff.quantity, Handoff.created_at, Step.workshop_id,
               into.name.label("workshop"), source_shop.name.label("source"), Order.order_no, Order.product,
               Order.priority, Order.due_date)
        .join(Step, Handoff.to_step_id == Step.id).join(Order, Step.order_id == Order.id)
        .join(into, Step.workshop_id == into.id).join(source, Handoff.from_step_id == source.id)
        .join(source_shop, source.workshop_id == source_shop.id)
        .where(Handoff.status == "pending").order_by(Handoff.created_at, Handoff.id)).all()
    totals: dict[int, Attention] = {}
    for row in rows:
        held = totals.get(row.to_step_id)
        qty = row.quantity + (held.quantity if held else 0)
        totals[row.to_step_id] = Attention("handoff", row.order_no, row.product, row.workshop_id, row.workshop,
                                           _owners(session, row.workshop_id),
                                           (row.priority, row.due_date, row.order_no),
                                           since=held.since if held else row.created_at, quantity=qty,
                                           other=row.source)
    return list(totals.values())


def _requests(session: Session, managers: tuple[str, ...]) -> list[Attention]:
    """Requests waiting for a decision (插单 has no order yet: its number is in the payload)."""
    rows = session.scalars(select(ChangeRequest).where(ChangeRequest.status == "pending")
                           .order_by(ChangeRequest.created_at, ChangeRequest.id)).all()
    items = []
    for req in rows:
        order = session.get(Order, req.order_id) if req.order_id else None
        number = order.order_no if order else str(req.payload.get("order_no", ""))
        items.append(Attention("request", number or f"REQ-{req.id}", order.product if order else
                               str(req.payload.get("product", "")), 0, "", managers,
                               (9, req.created_at.date(), number), since=req.created_at,
                               other=f"REQ-{req.id}:{req.kind}"))
    return items


def bottleneck(session: Session) -> Bottleneck | None:
    """The workshop whose queue adds the most lateness in the forecast, as the last whole plan
    found it (storage.planner.bottleneck_of; the digest makes the plan again first if commands
    re-timed orders since). None before any whole plan, or when no workshop adds any."""
    run = session.get(PlanRun, FULL)
    found = run.bottleneck if run is not None else None
    if not found:
        return None
    name = session.scalar(select(Workshop.name).where(Workshop.id == found["workshop_id"])) or ""
    return Bottleneck(name, found["added_minutes"], found["orders"], found["queue"], found["most_minutes"])
