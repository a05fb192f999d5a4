"""The 报工 callback's hot path: its changes and the plan they move are written at the commit,
each row once, in plain statements (no unit of work), and what the commit stores is the plan of
what the transaction really did, also when something changed after the reply's re-time."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import event, func, select

from storage import planner
from storage.models import Event, Order, Report, Step

WEDNESDAY = date(2026, 11, 25)


def _plan_of(session, order_no: str) -> list[tuple]:
    order = session.scalars(select(Order).where(Order.order_no == order_no)).one()
    return [(s.seq, s.forecast_start, s.forecast_end, s.late_minutes, s.provisional)
            for s in sorted(order.steps, key=lambda s: s.seq)] + [(order.forecast_end, order.late_minutes)]


def _retimed_afresh(live, order_no: str) -> list[tuple]:
    """The order re-timed again from what is committed (nothing stored)."""
    with live.session() as s:
        order = s.scalars(select(Order).where(Order.order_no == order_no)).one()
        planner.retime_orders(s, live.relay.clock.now(), live.relay.plan, [order.id])
        planned = _plan_of(s, order_no)
        s.rollback()
    return planned


def test_a_report_callback_writes_each_row_once_without_a_flush_and_commits_the_plan_it_moved(live):
    live.relay.clock.set_local(datetime(2026, 11, 25, 9, 0))
    live.add_order("SO-1001", quantity=200, days=2)
    live.relay.clock.set_local(datetime(2026, 11, 25, 10, 30))
    flushed: list[set] = []
    written: list[tuple[str, object]] = []
    by_connection: dict[int, list[str]] = {}

    def on_flush(session, _ctx, _instances):
        flushed.append({type(o).__name__ for o in list(session.new) + list(session.dirty)})

    def on_sql(conn, _cursor, statement, params, _context, executemany):
        by_connection.setdefault(id(conn), []).append(" ".join(statement.split()))
        if statement.startswith(("UPDATE steps", "UPDATE orders", "INSERT INTO events")):
            rows = params if executemany else [params]
            written.extend((statement.split(" SET")[0].split(" (")[0],
                            row["b_pk"] if isinstance(row, dict) and "b_pk" in row else
                            row[-1] if statement.startswith("UPDATE") else None) for row in rows)
    engine = live.relay.engine
    live.say("zhangwei", "报工 SO-1001 10")   # the directory's and the calendar's caches filled
    with live.session() as s:
        before = s.scalar(select(func.max(Event.id))) or 0
    event.listen(live.relay.Session, "before_flush", on_flush)
    event.listen(engine, "before_cursor_execute", on_sql)
    try:
        reply = live.say("zhangwei", "报工 SO-1001 80")
    finally:
        event.remove(live.relay.Session, "before_flush", on_flush)
        event.remove(engine, "before_cursor_execute", on_sql)
    (callback,) = [sql for sql in by_connection.values() if any(q.startswith("INSERT INTO inbound_messages") for q in sql)]
    claim = next(i for i, q in enumerate(callback) if q.startswith("INSERT INTO inbound_messages"))
    queued = next(i for i, q in enumerate(callback) if q.startswith("INSERT INTO outbox"))
    callback = callback[claim:queued + 1]   # the message claimed … its reply queued, at the commit
    # no savepoint on the way, and no lazy load: with the directory's caches warm, the SELECTs
    # are the six the path states (the directory's version, the open question, the order with
    # its steps locked, the 班组, the step's standing reports, the open question cards), beside
    # the calendar's check (kept per thread: this test's server starts one per request)
    assert not any("SAVEPOINT" in q for q in callback), callback
    calendar = ("FROM calendar_days", "FROM calendar_years", "workshops.working_hours FROM workshops")
    selects = [q.split(" WHERE")[0][-40:] for q in callback
               if q.startswith("SELECT") and not any(part in q for part in calendar)]
    assert len(selects) == 6, selects
    # no unit of work over the steps, the order or the events: each is one plain statement
    assert not any(kinds & {"Step", "Order", "Event"} for kinds in flushed), flushed
    updates = [w for w in written if w[0].startswith("UPDATE")]
    assert len(updates) == len(set(updates)), written   # each row written once: progress and plan together
    assert ("UPDATE orders", None) not in updates and any(w[0] == "UPDATE steps" for w in updates)
    tables = [w[0] for w in updates]
    assert tables.index("UPDATE orders") < tables.index("UPDATE steps"), tables   # the lock order: order, steps
    steps = [w[1] for w in updates if w[0] == "UPDATE steps"]
    assert steps == sorted(steps), steps
    inserted = sum(w[0] == "INSERT INTO events" for w in written)
    with live.session() as s:
        assert s.scalars(select(Report.good).where(Report.step_id == select(Step.id).join(Order).where(
            Order.order_no == "SO-1001", Step.seq == 1).scalar_subquery()).order_by(Report.id)).all() == [10, 80]
        assert s.scalar(select(Step.good_qty).join(Order).where(Order.order_no == "SO-1001", Step.seq == 1)) == 90
        stored = _plan_of(s, "SO-1001")
        stamping_end = live.relay.clock.local(stored[0][2])
        kinds = s.scalars(select(Event.kind).join(Order).where(Order.order_no == "SO-1001")
                          .where(Event.id > before)).all()
    assert "report" in kinds and len(kinds) == inserted, (kinds, inserted)   # every event written, once
    assert f"预计完工 {stamping_end:%m-%d %H:%M}" in reply
    assert stored == _retimed_afresh(live, "SO-1001")


def test_a_change_after_the_replys_re_time_is_re_timed_again_at_commit(live):
    live.relay.clock.set_local(datetime(2026, 11, 25, 9, 0))
    live.add_order("SO-1001", quantity=600, days=3)
    live.relay.clock.set_local(datetime(2026, 11, 25, 10, 30))
    with live.relay.Session.begin() as s:
        step = s.scalars(select(Step).join(Order).where(Order.order_no == "SO-1001", Step.seq == 1)).one()
        step.good_qty, step.status = 100, "running"
        step.first_report_at = step.last_report_at = live.relay.clock.now()
        planner.sync(s, flush=False)            # what a reply shows
        shown = step.forecast_end
        step.good_qty = 500                     # and then the transaction changes more
    with live.session() as s:
        stored = _plan_of(s, "SO-1001")
    assert stored[0][2] != shown
    assert stored == _retimed_afresh(live, "SO-1001")


def test_what_the_plan_writes_asks_for_no_plan_of_its_own(live):
    live.relay.clock.set_local(datetime(2026, 11, 25, 9, 0))
    live.add_order("SO-1001", quantity=200, days=2)
    with live.relay.Session.begin() as s:
        step = s.scalars(select(Step).join(Order).where(Order.order_no == "SO-1001", Step.seq == 1)).one()
        step.late_minutes = 7                   # a plan output only: stored as written
        s.flush()
        assert not (s.info.get("plan_orders") or s.info.get("plan_steps") or s.info.get("plan_full"))
        step.good_qty = 10                      # progress: the order is re-timed
        s.flush()
        assert s.info.get("plan_orders") == {step.order_id}


def test_a_row_written_at_once_inside_a_rolled_back_savepoint_leaves_the_session(live):
    from sqlalchemy import inspect
    from storage.db import insert_now
    from storage.models import Person
    live.relay.clock.set_local(datetime(2026, 11, 25, 9, 0))
    live.add_order("SO-1001", quantity=200, days=2)
    with live.relay.Session.begin() as s:
        step = s.scalars(select(Step).join(Order).where(Order.order_no == "SO-1001", Step.seq == 1)).one()
        person = s.scalars(select(Person)).first()
        kept = insert_now(s, Report(step_id=step.id, person_id=person.id, good=3, scrap=0, note="", source="kept",
                                    created_at=live.relay.clock.now()))
        assert inspect(kept).persistent and kept.id is not None
        savepoint = s.begin_nested()
        undone = insert_now(s, Report(step_id=step.id, person_id=person.id, good=5, scrap=0, note="",
                                      source="undone", created_at=live.relay.clock.now()))
        savepoint.rollback()
        assert not inspect(undone).persistent
    with live.session() as s:
        assert s.scalars(select(Report.source).where(Report.step_id == step.id)).all() == ["kept"]


def test_a_session_closed_mid_transaction_forgets_what_it_re_timed(live):
    live.relay.clock.set_local(datetime(2026, 11, 25, 9, 0))
    live.add_order("SO-1001", quantity=600, days=3)
    session = live.relay.Session()
    step = session.scalars(select(Step).join(Order).where(Order.order_no == "SO-1001", Step.seq == 1)).one()
    step.good_qty, step.status = 100, "running"
    planner.sync(session, flush=False)
    assert session.info.get(planner.RETIMED)
    session.close()
    assert not session.info.get(planner.RETIMED)
