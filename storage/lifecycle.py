"""The order lifecycle in one place: the states of orders, steps, handoffs and requests, the
moves between them, the order states each action may start from, the lock order every writer
follows, and an audit of the books.

Every domain function that changes an order first calls `lock_order_tree` (which takes the
locks in the documented order) and then `require` (which refuses, in Chinese, an action the
order's state forbids). State changes go through `move`, which refuses a move the table does
not list: that is a bug, not a user's mistake, so it raises `IllegalMove`.

Lock order (PostgreSQL row locks, `SELECT … FOR UPDATE`): order → its steps by sequence →
handoffs (by id) → reports → requests. SQLite serialises writers (`BEGIN IMMEDIATE`), so there
the same code simply runs one transaction at a time. Whatever a decision depends on is read
again after the locks are taken.
"""
from __future__ import annotations

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.util import identity_key

from storage.errors import OrderNotActive, StepNotReady
from storage.models import Handoff, Order, Report, Step

ORDER_STATES = ("planned", "in_progress", "blocked", "done", "paused", "cancelled")
STEP_STATES = ("waiting", "ready", "running", "blocked", "done")
HANDOFF_STATES = ("pending", "confirmed", "disputed", "settled", "withdrawn")
REQUEST_STATES = ("pending", "approved", "rejected", "withdrawn")

# Which moves exist, and what makes them.
MOVES: dict[str, dict[tuple[str, str], str]] = {
    "step": {
        ("waiting", "ready"): "parts received (接收, a dispute)",
        ("ready", "running"): "first report",
        ("ready", "done"): "nothing to process: the upstream is done and sent nothing more",
        ("running", "done"): "all input processed (report, receive, quantity change)",
        ("running", "ready"): "undo of the only report",
        ("done", "running"): "undo, correction, more parts, a larger quantity",
        ("done", "ready"): "undo of the only report of a finished step",
        ("waiting", "blocked"): "异常", ("ready", "blocked"): "异常", ("running", "blocked"): "异常",
        ("blocked", "waiting"): "恢复", ("blocked", "ready"): "恢复", ("blocked", "running"): "恢复",
    },
    "handoff": {
        ("pending", "confirmed"): "接收 / 确认接收",
        ("pending", "disputed"): "接收 with another number",
        ("pending", "withdrawn"): "undo of the report that created it",
        ("disputed", "settled"): "了结 / 处理",
    },
    "request": {
        ("pending", "approved"): "同意 (under the policy)",
        ("pending", "rejected"): "驳回",
        ("pending", "withdrawn"): "the order was cancelled (nothing else can be decided of it)",
    },
    "hold": {  # the order's paused/cancelled flag, set only by approved requests
        ("active", "paused"): "变更 暂停", ("active", "cancelled"): "变更 取消",
        ("paused", "active"): "变更 继续", ("paused", "cancelled"): "变更 取消",
    },
}

ACTIVE = frozenset({"planned", "in_progress", "blocked"})
EVERY = frozenset(ORDER_STATES)

# The order states each action may start from; anything else is refused with OrderNotActive.
ALLOWED: dict[str, frozenset[str]] = {
    "report": ACTIVE, "handoff": ACTIVE, "incident": ACTIVE,
    # parts already on their way still arrive at a paused order (a pause stops the work, not the books)
    "receive": ACTIVE | {"paused"}, "dispute": ACTIVE | {"paused"},
    "undo": ACTIVE | {"done", "paused"},
    "correct": ACTIVE | {"done", "paused"},
    "resume": EVERY,          # closing an exception never produces anything
    "settle": EVERY,
    "quantity": ACTIVE | {"paused"},
    "due_date": ACTIVE | {"paused"},
    "pause": ACTIVE,
    "resume_order": frozenset({"paused"}),
    "cancel": ACTIVE | {"paused"},
}

# The step states each production action needs (the order's state is checked first).
STEP_ALLOWED: dict[str, frozenset[str]] = {
    "report": frozenset({"ready", "running"}),
    "incident": frozenset({"waiting", "ready", "running"}),
}


class IllegalMove(RuntimeError):
    """A state change the lifecycle table does not allow: a bug in the caller."""


def order_state(order: Order) -> str:
    """The order's state as the lifecycle sees it (derived from the steps and the hold)."""
    from storage.orders import derive_status
    return derive_status(order)


def require(action: str, order: Order, step: Step | None = None) -> None:
    """Refuse, with a reply that says why, an action the order's (or step's) state forbids."""
    state = order_state(order)
    if state not in ALLOWED[action]:
        raise OrderNotActive(order_no=order.order_no, status=state, action=action)
    if step is not None and action in STEP_ALLOWED and step.status not in STEP_ALLOWED[action]:
        raise StepNotReady(order_no=order.order_no, workshop=step.workshop.name, status=step.status,
                           action=action)


def move(kind: str, row, new: str) -> None:
    """Change a step's, handoff's or request's status along an edge of the table."""
    old = row.status
    if old == new:
        return
    if (old, new) not in MOVES[kind]:
        raise IllegalMove(f"{kind} {getattr(row, 'id', '?')}: {old} → {new} is not in the lifecycle")
    row.status = new


def set_hold(order: Order, hold: str | None) -> None:
    """Pause, resume or cancel an order (only approved requests do this)."""
    old, new = order.hold or "active", hold or "active"
    if old != new and (old, new) not in MOVES["hold"]:
        raise IllegalMove(f"order {order.order_no}: {old} → {new}")
    order.hold = hold


# -- locks ------------------------------------------------------------------------------------

LOCKED = "locked_orders"   # session.info: the orders this transaction holds locked (read afresh then)


def lock_order_tree(session: Session, order_id: int) -> Order:
    """Lock the order row, then its steps in sequence order, and return the order fresh from
    the database (whatever this session read before is overwritten). An order this transaction
    has locked already is returned as it stands: nobody else can have changed it since."""
    if order_id in session.info.get(LOCKED, ()):
        held = session.identity_map.get(identity_key(Order, order_id))
        if held is not None:
            return held
    return _lock_tree(session, "id", order_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous) -> None:
    session.info.pop(LOCKED, None)   # a savepoint rolled back may have taken (and released) them


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(LOCKED, None)


def lock_order_tree_by_number(session: Session, order_no: str) -> Order | None:
    """The order with this number locked with its steps (as `lock_order_tree`), None if none."""
    return _lock_tree(session, "order_no", order_no, missing_ok=True)


def _tree_statements(key) -> tuple:
    """The locking reads of an order tree by `key` (Order.id or Order.order_no), built once.

    One statement: the order joined to its steps in sequence order. PostgreSQL locks the rows as
    the sorted join yields them, so the order row first, then its steps by seq — the lock order —
    and never the workshops joined for their names (FOR UPDATE OF orders, steps). The second is
    for an order without steps (nothing to join)."""
    where = key == bindparam("b_key")
    return (select(Order).join(Order.steps).where(where).order_by(Step.seq).options(contains_eager(Order.steps))
            .with_for_update(of=(Order, Step)).execution_options(populate_existing=True),
            select(Order).where(where).with_for_update(of=Order).execution_options(populate_existing=True))


_TREE = {"id": _tree_statements(Order.id), "order_no": _tree_statements(Order.order_no)}


def _lock_tree(session: Session, key: str, value, missing_ok: bool = False):
    with_steps, alone = _TREE[key]
    order = session.scalars(with_steps, {"b_key": value}).unique().one_or_none()
    if order is None:
        order = session.scalars(alone, {"b_key": value}).one_or_none()
    if order is None and not missing_ok:
        raise LookupError("no such order")
    if order is not None:
        session.info.setdefault(LOCKED, set()).add(order.id)
    return order


def lock_step_tree(session: Session, step_id: int) -> Step:
    """The step, with its order and the order's steps locked first (the lock order)."""
    known = session.identity_map.get(identity_key(Step, step_id))   # no query when the command read it
    order_id = known.order_id if known is not None else \
        session.scalars(select(Step.order_id).where(Step.id == step_id)).one()
    order = lock_order_tree(session, order_id)
    return next(s for s in order.steps if s.id == step_id)


def lock_handoffs(session: Session, stmt) -> list[Handoff]:
    """Handoffs matching `stmt`, locked in id order (after the order tree)."""
    return list(session.scalars(stmt.order_by(Handoff.id).with_for_update(of=Handoff)
                                .execution_options(populate_existing=True)))


def lock_report(session: Session, report_id: int) -> Report:
    """A report (known to exist: reports are never deleted), locked and read afresh."""
    return session.scalars(select(Report).where(Report.id == report_id).with_for_update(of=Report)
                           .execution_options(populate_existing=True)).one()


def lock_card_subject(session: Session, kind: str, subject_id: int) -> None:
    """Before a click locks its cards: lock what the card is about in the lifecycle's order (the
    order and its steps; an approval's request too), as a typed command does before it closes
    the same cards. Without this a click and a command on one order would wait for each other."""
    from storage.models import ChangeRequest, DelayWarning, Incident
    order_id: int | None = None
    if kind == "handoff":
        order_id = session.scalar(select(Step.order_id).join(Handoff, Handoff.from_step_id == Step.id)
                                  .where(Handoff.id == subject_id))
    elif kind == "dispute":
        order_id = session.scalar(select(Step.order_id).join(Incident, Incident.step_id == Step.id)
                                  .where(Incident.id == subject_id))
    elif kind == "warning":
        order_id = session.scalar(select(Step.order_id).join(DelayWarning, DelayWarning.step_id == Step.id)
                                  .where(DelayWarning.id == subject_id))
    elif kind == "approval":
        order_id = session.scalar(select(ChangeRequest.order_id).where(ChangeRequest.id == subject_id))
    if order_id is not None:
        lock_order_tree(session, order_id)
    if kind == "approval":
        session.scalars(select(ChangeRequest).where(ChangeRequest.id == subject_id)
                        .with_for_update(of=ChangeRequest)).all()


# -- the books --------------------------------------------------------------------------------

def audit_order(session: Session, order_id: int) -> list[str]:
    """What does not add up on this order: empty when the books balance.

    Each step's output is the sum of its standing reports; what it received is the sum of the
    handoffs taken in (confirmed, disputed, settled: what arrived); what it handed is the sum of
    its handoffs not withdrawn; a step that has processed all its input is done.
    """
    problems = []
    order = session.scalars(select(Order).where(Order.id == order_id)).one()
    for step in order.steps:
        good, scrap = session.execute(select(func.coalesce(func.sum(Report.good), 0), func.coalesce(func.sum(Report.scrap), 0))
                                      .where(Report.step_id == step.id, Report.undone_at.is_(None))).one()
        if (good, scrap) != (step.good_qty, step.scrap_qty):
            problems.append(f"{step.seq}: output {step.good_qty}/{step.scrap_qty} but reports {good}/{scrap}")
        received = session.scalar(select(func.coalesce(func.sum(Handoff.received_qty), 0)).where(
            Handoff.to_step_id == step.id, Handoff.status.in_(("confirmed", "disputed", "settled"))))
        if received != step.received_qty:
            problems.append(f"{step.seq}: received {step.received_qty} but handoffs {received}")
        handed = session.scalar(select(func.coalesce(func.sum(Handoff.quantity), 0)).where(
            Handoff.from_step_id == step.id, Handoff.status != "withdrawn"))
        if handed != step.handed_qty:
            problems.append(f"{step.seq}: handed {step.handed_qty} but handoffs {handed}")
        if step.handed_qty > step.good_qty:
            problems.append(f"{step.seq}: handed {step.handed_qty} more than made {step.good_qty}")
        if step.status not in STEP_STATES:
            problems.append(f"{step.seq}: unknown status {step.status}")
        if step.seq == 1 and step.status in ("ready", "running") and step.good_qty + step.scrap_qty >= step.planned_qty:
            problems.append(f"{step.seq}: made {step.good_qty + step.scrap_qty} of {step.planned_qty} but {step.status}")
    return problems
