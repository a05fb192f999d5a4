"""The whole plan reads the work column by column (planning.model.OrderTable) and stores it as it
is assembled: each order made from the columns is the order as the database holds it, exactly
(times to the microsecond), and the plan made from the columns is the plan made from objects."""
from datetime import datetime, timedelta

from sqlalchemy import update

from planning.model import OrderTable, Workload
from planning.plan import build_plan
from storage import planner
from storage.models import Order, Step
from tests.test_commands import seed
from tests.test_lifecycle import hold
from tests.test_read_sessions import assert_stored_as_planned

REPORTED = datetime(2026, 11, 25, 1, 2, 3, 456789)
UPDATED = datetime(2026, 11, 25, 0, 59, 58, 987654)


def plant_with_every_kind_of_step(live):
    """Orders with steps in every state: reported (a handoff pending), blocked with a recovery, done,
    paused, and an order without steps; times with microseconds."""
    seed(live)
    live.add_order("SO-1003", quantity=80, days=9, priority=3)
    assert "已报工" in live.say("zhangwei", "报工 SO-1001 120")       # reported: a batch handed on, pending
    assert "已报工" in live.say("zhangwei", "报工 SO-1002 100")       # stamping done
    assert "已登记异常" in live.say("zhangwei", "异常 SO-1003 设备 冲床液压故障 预计明天10点修好")
    hold(live, "暂停", "SO-1002")                                      # paused: on hold, not forecast
    with live.relay.Session.begin() as session:
        now = live.relay.clock.now()
        session.add(Order(order_no="SO-1999", product="车门总成", quantity=10, customer="测试客户", priority=3,
                          due_date=live.relay.clock.today() + timedelta(days=4), created_at=now,
                          updated_at=now))   # no steps: not planned
        session.execute(update(Step).where(Step.first_report_at.is_not(None)).values(first_report_at=REPORTED))
        session.execute(update(Order).values(updated_at=UPDATED))


def as_objects(session, order_id):
    order = session.get(Order, order_id)
    pending, recovery = planner._pending_and_recovery(session, list(order.steps))
    return [planner._state(s, pending, recovery) for s in order.steps]


def test_each_order_read_column_by_column_is_the_order_as_stored(live):
    plant_with_every_kind_of_step(live)
    with live.relay.ReadSession() as session:
        load, stored = planner.load_workload(session)
        assert isinstance(load.orders, OrderTable)
        read = {o.order_no: o for o in load.orders}
        assert "SO-1999" not in read and list(load.orders.ids) == sorted(load.orders.ids)
        for order in load.orders:
            assert list(order.steps) == as_objects(session, order.id)
        states = {s.status for o in load.orders for s in o.steps}
        assert {"done", "blocked", "running"} <= states
        assert any(s.recovery for o in load.orders for s in o.steps)
        assert any(s.pending_in for o in load.orders for s in o.steps)
        assert any(s.first_report_at == REPORTED for o in load.orders for s in o.steps)
        assert any(o.on_hold for o in load.orders)
        for p, order_id in enumerate(load.orders.ids):   # what the database held, to write only what changed
            row = session.get(Order, order_id)
            assert stored.order(p) == (row.due_at, row.forecast_end, row.late_minutes, row.updated_at)
        assert load.orders[-1].id == load.orders.ids[-1] and len(load.orders[1:]) == len(load.orders) - 1


def test_the_plan_from_columns_is_the_plan_from_objects_and_is_stored(live):
    plant_with_every_kind_of_step(live)
    now = live.relay.clock.now()
    with live.relay.ReadSession() as session:
        load, _ = planner.load_workload(session)
        cal = planner.calendar(session, live.relay.plan)
        columns = build_plan(load, cal, now, live.relay.plan.outage_seconds)
        objects = build_plan(Workload(tuple(load.orders), load.capacity), cal, now, live.relay.plan.outage_seconds)
    assert columns.orders == objects.orders
    with live.relay.Session.begin() as session:   # the stored plan forgotten: the jobs' plan writes it all again
        session.execute(update(Step).values(plan_hash=0, planned_end=datetime(2000, 1, 1)))
        session.execute(update(Order).values(late_minutes=-5))
    result = planner.replan_all(live.relay.Session, live.relay.plan, read_factory=live.relay.ReadSession,
                                orders_per_transaction=2)
    # every order's row matched the updated_at it was read with (microseconds and all)
    assert result["orders_written"] == result["orders"] == len(load.orders)
    assert_stored_as_planned(live)
