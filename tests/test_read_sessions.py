"""Pages and reads that change nothing run in read-only sessions (`relay.ReadSession`): on SQLite a
deferred snapshot outside the writers' queue, so a slow board or export never holds up a 报工;
nothing in one can write, and the pooled connection it used writes again afterwards."""
import contextlib
import threading
from datetime import datetime

import pytest
import requests
from sqlalchemy import delete, event, func, select, text, update
from sqlalchemy.exc import OperationalError

from bot.jobs import replan
from storage.db import (ReadOnlySession, make_engine, make_read_session_factory, make_session_factory, retrying,
                        write_changes)
from storage.events import record_event
from storage.migrate import init_db
from storage import planner
from storage.models import Order, PlanRun, Report, Step, Workshop
from storage.planner import FULL
from tests.test_board import TOKEN
from tests.test_commands import seed

COUNT = select(func.count()).select_from(Report)
LONG_AGO = datetime(2000, 1, 1)


def assert_stored_as_planned(live) -> None:
    """Every order's row and every step hold the plan of the work as it now is."""
    with live.relay.Session() as session:
        now = planner.plan_in_memory(session, live.relay.clock.now(), live.relay.plan)
        for order in now.orders.values():
            assert session.get(Order, order.order_id).late_minutes == order.late_minutes
            for sp in order.steps:
                assert session.get(Step, sp.step_id).planned_end == sp.planned_end


@contextlib.contextmanager
def begun(engine):
    """The BEGIN statements sent while the block runs, in order."""
    begins: list[str] = []

    def on_sql(conn, cursor, statement, params, context, executemany):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(engine, "before_cursor_execute", on_sql)
    try:
        yield begins
    finally:
        event.remove(engine, "before_cursor_execute", on_sql)


def test_a_report_is_answered_while_a_page_reads(live):
    seed(live)
    sqlite = live.relay.engine.dialect.name == "sqlite"
    with live.relay.ReadSession() as page:
        before = page.scalar(COUNT)                     # the page's read is open from here
        replies: list[str] = []
        worker = threading.Thread(target=lambda: replies.append(live.say("zhangwei", "报工 SO-1001 50")))
        worker.start()
        worker.join(timeout=20)
        assert not worker.is_alive(), "the 报工 waited for a page that only reads"
        assert "SO-1001" in replies[0] and "50" in replies[0]
        if sqlite:                                      # one snapshot for the whole page
            assert page.scalar(COUNT) == before
    with live.relay.Session() as session:
        assert session.scalar(COUNT) == before + 1
        assert session.scalar(select(Report.good).order_by(Report.id.desc()).limit(1)) == 50
    board = requests.get(f"{live.url}/board", params={"token": TOKEN})
    assert board.status_code == 200 and "50/200" in board.text   # the next page read sees it


def test_a_read_session_cannot_write_and_its_connection_writes_again(settings):
    init_db(settings.app.database_url, settings)
    engine = make_engine(settings.app.database_url, pool_size=1, max_overflow=0)   # one connection, reused
    Read, Write = make_read_session_factory(engine), make_session_factory(engine)
    try:
        with Read() as page:
            shop = page.scalars(select(Workshop).order_by(Workshop.id)).first()
            shop.name = "改了名"
            with pytest.raises(ReadOnlySession):
                page.flush()
            with pytest.raises(ReadOnlySession):         # nor past the flush: the plain statements that write
                write_changes(page, (Workshop,))
            with pytest.raises(ReadOnlySession):
                record_event(page, datetime(2026, 11, 27, 9, 0), "note", order_id=None, actor=None)
            page.rollback()
        if engine.dialect.name == "sqlite":              # SQLite itself refuses a write past the ORM
            with Read() as page, pytest.raises(OperationalError, match="readonly"):
                page.execute(text("UPDATE workshops SET aliases = 'x'"))
        for round_ in range(2):                          # read, write, read, write on the one connection
            with Read() as page:
                name = page.scalar(select(Workshop.name).order_by(Workshop.id).limit(1))
            with Write.begin() as session:
                session.execute(update(Workshop).where(Workshop.name == name).values(aliases=f"r{round_}"))
            with Read() as page:
                assert page.scalar(select(Workshop.aliases).where(Workshop.name == name)) == f"r{round_}"
                assert name != "改了名"
    finally:
        engine.dispose()


def test_the_whole_plan_reads_its_snapshot_outside_the_writers_queue(live):
    """The jobs' whole plan reads ~1 s at 10,000 orders: in a read-only session, so that second
    holds up no 报工; only its store, which checks each row's stamp, is a writer's transaction."""
    seed(live)
    live.say("zhangwei", "报工 SO-1001 50")
    with begun(live.relay.engine) as begins:
        result = replan.run(live.relay)
    assert result["orders"] == 2
    if live.relay.engine.dialect.name == "sqlite":
        assert begins == ["BEGIN", "BEGIN IMMEDIATE"]   # the snapshot, then the store
    with live.relay.Session() as session:
        assert session.get(PlanRun, FULL).orders == 2


def test_the_whole_plan_is_stored_a_batch_of_orders_at_a_time(live):
    """Each batch of orders is a writer's transaction of its own (a 报工 waits for one batch, not
    for the whole plan); what is stored is the same plan as one transaction would store."""
    for n in range(5):
        live.add_order(f"SO-20{n:02d}", quantity=100 + n, days=3 + n, priority=1 + n % 3)
    live.say("zhangwei", "报工 SO-2000 40")
    with live.relay.Session.begin() as session:   # every step's plan forgotten: the whole plan stores it all
        session.execute(update(Step).values(planned_start=LONG_AGO, planned_end=LONG_AGO, plan_hash=0))
    with begun(live.relay.engine) as begins:
        result = planner.replan_all(live.relay.Session, live.relay.plan, read_factory=live.relay.ReadSession,
                                    orders_per_transaction=2)
    assert result["orders"] == 5 and result["orders_written"] == 5
    if live.relay.engine.dialect.name == "sqlite":
        assert begins == ["BEGIN"] + ["BEGIN IMMEDIATE"] * 3           # the snapshot, then 2 + 2 + 1 orders
    with live.relay.Session() as session:
        stored = {s.id: (s.planned_start, s.planned_end) for s in session.scalars(select(Step))}
        assert LONG_AGO not in {t for pair in stored.values() for t in pair}
        again = planner.plan_in_memory(session, live.relay.clock.now(), live.relay.plan)
        for order in again.orders.values():
            for step in order.steps:
                assert stored[step.step_id] == (step.planned_start, step.planned_end)
        assert session.get(PlanRun, FULL).steps_written == len(stored)


def test_a_whole_plan_made_by_a_command_meanwhile_overtakes_the_jobs_plan(live):
    """A command's whole plan stored between two of the jobs' batches: the jobs' run does not write
    its older plan over it; it starts again from a new snapshot, and what is stored in the end is
    the plan of the work as it now is."""
    from sqlalchemy.orm import Session as OrmSession
    for n in range(4):
        live.add_order(f"SO-20{n:02d}", quantity=100 + n, days=3 + n, priority=3)
    with live.relay.Session.begin() as session:   # forgotten: the jobs' plan stores every step
        session.execute(update(Step).values(planned_start=LONG_AGO, planned_end=LONG_AGO, plan_hash=0))
    batches: list[int] = []

    def rush_after_the_first_batch(session):
        if session.info.get("planning") and not batches:
            batches.append(1)
            with live.relay.Session.begin() as command:   # 插单: SO-2003 first; a whole plan of its own
                command.scalars(select(Order).where(Order.order_no == "SO-2003")).one().priority = 1

    event.listen(OrmSession, "after_commit", rush_after_the_first_batch)
    try:
        result = planner.replan_all(live.relay.Session, live.relay.plan, read_factory=live.relay.ReadSession,
                                    orders_per_transaction=1)
    finally:
        event.remove(OrmSession, "after_commit", rush_after_the_first_batch)
    assert batches and result["attempts"] == 2 and result["orders"] == 4
    with live.relay.Session() as session:
        run = session.get(PlanRun, FULL)
        assert run.generation >= 3                      # the first plan, the command's, the jobs' second try
        now = planner.plan_in_memory(session, live.relay.clock.now(), live.relay.plan)
        stored = {s.id: (s.planned_start, s.planned_end, s.forecast_start, s.forecast_end)
                  for s in session.scalars(select(Step))}
        assert all(stored[sp.step_id] == (sp.planned_start, sp.planned_end, sp.forecast_start, sp.forecast_end)
                   for order in now.orders.values() for sp in order.steps)   # the rush first, the rest after


def test_the_first_two_whole_plans_of_a_database_at_once_are_both_counted(live):
    """The jobs' and a command's whole plans, the first of a database, at the same time: the run's
    row does not exist yet, both go to insert it; the second waits for the first (PostgreSQL: on
    the row's key; SQLite: for the writer) and then counts itself on the row, instead of failing."""
    seed(live)
    now = live.relay.clock.now()
    with live.relay.Session.begin() as session:
        planner.plan_all(session, now, live.relay.plan)        # stored: neither plan below writes a step
        session.execute(delete(PlanRun))
    first_in, go_on = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def whole_plan(hold: bool):
        try:
            with live.relay.Session.begin() as session:
                planner.plan_all(session, now, live.relay.plan)
                if hold:                         # the row inserted, not committed yet
                    first_in.set()
                    go_on.wait(10)
        except BaseException as exc:   # noqa: BLE001 - reported below
            errors.append(exc)

    first = threading.Thread(target=whole_plan, args=(True,))
    first.start()
    assert first_in.wait(10)
    second = threading.Thread(target=whole_plan, args=(False,))
    second.start()
    # as far as it gets: on PostgreSQL it waits for the first's key; on SQLite, for the writer
    _until_someone_waits(live.relay.engine, live.relay.engine.dialect.name == "postgresql")
    go_on.set()
    first.join(20)
    second.join(20)
    assert not first.is_alive() and not second.is_alive()
    assert not errors, errors
    with live.relay.Session() as session:
        assert session.get(PlanRun, FULL).generation == 2


def test_a_command_holding_an_order_and_the_jobs_batch_waiting_for_it_both_finish(live):
    """A command holds an order (its row locked) and then makes a whole plan, which updates every
    order in id order; the jobs' batch meanwhile holds the orders before it and waits for it. On
    PostgreSQL that is a deadlock, and the database aborts one side: the command is tried again by
    `retrying`, as commands are, and so is the jobs' batch. Both finish; the command's plan
    overtakes the jobs' run, which starts again and stores the plan of the work as it now is."""
    for n in range(6):
        live.add_order(f"SO-20{n:02d}", quantity=100 + n, days=3 + n, priority=3)
    with live.relay.Session.begin() as session:   # every order's and step's plan to be written again
        session.execute(update(Step).values(plan_hash=0, planned_end=LONG_AGO))
        session.execute(update(Order).values(late_minutes=-5))
        ids = sorted(session.scalars(select(Order.id).where(Order.order_no.like("SO-20%"))))
    postgres = live.relay.engine.dialect.name == "postgresql"
    held, errors, results = threading.Event(), [], []

    def command():
        first = [True]

        def work():
            with live.relay.Session.begin() as session:
                session.get(Order, ids[1], with_for_update=True)       # the command's order, held
                if first[0]:
                    first[0] = False
                    held.set()
                    _until_someone_waits(live.relay.engine, postgres)
                planner.plan_all(session, live.relay.clock.now(), live.relay.plan)
        try:
            retrying(work)
        except BaseException as exc:   # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=command)
    thread.start()
    assert held.wait(10)
    try:   # the jobs' first batch: the first order, then the command's (held)
        results.append(planner.replan_all(live.relay.Session, live.relay.plan, read_factory=live.relay.ReadSession,
                                          orders_per_transaction=3))
    except BaseException as exc:   # noqa: BLE001 - reported below
        errors.append(exc)
    thread.join(30)
    assert not thread.is_alive()
    assert not errors, errors
    # overtaken once by the command's plan, unless PostgreSQL aborted the command (it aborts the
    # side whose check runs first, a second after it began to wait: the jobs' batch)
    assert results[0]["orders"] >= 6 and results[0]["attempts"] in (1, 2)
    assert_stored_as_planned(live)


def _until_someone_waits(engine, postgres: bool, timeout: float = 10) -> None:
    """Until another session waits for a lock (PostgreSQL), or a moment (SQLite: the writers'
    queue, nothing to see)."""
    import time
    if not postgres:
        time.sleep(0.3)
        return
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND datname = current_database() AND pid <> pg_backend_pid()")).scalar():
                return
            conn.rollback()
            time.sleep(0.02)


def test_an_order_re_timed_by_a_command_between_two_batches_keeps_the_commands_plan(live):
    """The jobs read their snapshot; a command then re-times an order of a later batch (its steps'
    stamps move; its row's forecast changes, its updated_at does not): that batch leaves the order
    row as the command stored it, as it leaves its steps."""
    from datetime import timedelta
    from sqlalchemy.orm import Session as OrmSession
    for n in range(3):
        live.add_order(f"SO-20{n:02d}", quantity=100 + n, days=3 + n, priority=3)
    with live.relay.Session.begin() as session:   # every order's row to be written by the jobs' plan
        session.execute(update(Order).values(late_minutes=-5))
        last = session.scalars(select(Order.id).order_by(Order.id.desc()).limit(1)).one()
    stored: dict = {}

    def retime_after_the_first_batch(session):
        if session.info.get("planning") and not stored:
            stored["row"] = None
            with live.relay.Session.begin() as command:   # a command's re-time, hours later than the jobs' now
                command.info["planning"] = True
                planner.retime_orders(command, live.relay.clock.now() + timedelta(days=3), live.relay.plan, [last])
            with live.relay.Session() as look:
                row = look.get(Order, last)
                stored["row"] = (row.due_at, row.forecast_end, row.late_minutes, row.updated_at)

    event.listen(OrmSession, "after_commit", retime_after_the_first_batch)
    try:
        planner.replan_all(live.relay.Session, live.relay.plan, read_factory=live.relay.ReadSession,
                           orders_per_transaction=1)
    finally:
        event.remove(OrmSession, "after_commit", retime_after_the_first_batch)
    assert stored and stored["row"][2] != -5
    with live.relay.Session() as session:
        row = session.get(Order, last)
        assert (row.due_at, row.forecast_end, row.late_minutes, row.updated_at) == stored["row"]
        assert session.scalar(select(func.count()).select_from(Order).where(Order.late_minutes == -5)) == 0


def test_a_commands_whole_plan_that_read_before_the_jobs_last_batch_stores_the_work_as_it_now_is(live,
                                                                                                    monkeypatch):
    """A command (停产: the next three days closed) makes a whole plan and reads the stored plan;
    the jobs' last batch, planned from a snapshot without those days, commits before the command
    stores its plan. A plan writes an order's row only as it read it, so on PostgreSQL (reads do
    not wait for writers) the command's plan left that batch's orders with the jobs' forecast, the
    closed days not in it, until the next whole plan. It now sees the count of whole plans moved
    under the run's lock and makes its plan again. On SQLite the jobs' batch waits for the
    command's transaction and is overtaken. Either way what is stored is the plan of the work as
    it now is."""
    from datetime import timedelta
    from storage.calendar import set_days
    for n in range(4):
        live.add_order(f"SO-20{n:02d}", quantity=100 + n, days=3 + n, priority=3)
    with live.relay.Session.begin() as session:   # the jobs' plan writes every order's row and step
        session.execute(update(Step).values(plan_hash=0, planned_end=LONG_AGO))
        session.execute(update(Order).values(late_minutes=-5))
        first = session.scalar(select(PlanRun.generation).where(PlanRun.name == FULL)) or 0
    postgres = live.relay.engine.dialect.name == "postgresql"
    read, jobs_read, jobs_done, errors = threading.Event(), threading.Event(), threading.Event(), []
    real_write, real_plan = planner.write_plan, planner.plan_orders

    def write_plan(session, plans, stored):
        if threading.current_thread().name == "command" and not read.is_set():
            read.set()                                      # the command's plan has read the stored plan
            # PostgreSQL: until the jobs' batch committed; SQLite: until the jobs read their
            # snapshot (their batch then waits for this transaction)
            (jobs_done if postgres else jobs_read).wait(10)
        return real_write(session, plans, stored)

    def plan_orders(*args, **kwargs):
        if threading.current_thread().name != "command":
            jobs_read.set()
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(planner, "write_plan", write_plan)
    monkeypatch.setattr(planner, "plan_orders", plan_orders)

    def command():
        try:
            with live.relay.Session.begin() as session:   # a whole plan at the commit
                today = live.relay.clock.today()
                set_days(session, live.relay.clock.now(), first=today + timedelta(days=1),
                         last=today + timedelta(days=3), workshop=None, kind="closed", spans="", note="停电",
                         person=None, source="test")
        except BaseException as exc:   # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=command, name="command")
    thread.start()
    assert read.wait(10)
    try:
        result = planner.replan_all(live.relay.Session, live.relay.plan, read_factory=live.relay.ReadSession)
    finally:
        jobs_done.set()
    thread.join(30)
    assert not thread.is_alive() and not errors, errors
    # PostgreSQL: the jobs' batch committed first (the race itself); SQLite: it was overtaken
    assert result["attempts"] == (1 if postgres else 2) and result["orders"] >= 4
    with live.relay.Session() as session:
        assert session.get(PlanRun, FULL).generation == first + 2   # each plan counted once
        now = planner.plan_in_memory(session, live.relay.clock.now(), live.relay.plan)
        for order in now.orders.values():
            row = session.get(Order, order.order_id)
            assert (row.due_at, row.forecast_end, row.late_minutes) == (order.due_at, order.forecast_end,
                                                                        order.late_minutes), row.order_no
            for sp in order.steps:
                step = session.get(Step, sp.step_id)
                assert (step.planned_end, step.forecast_end) == (sp.planned_end, sp.forecast_end)
