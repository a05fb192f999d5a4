"""Domain rules without HTTP: capacity, derived status, text parsing (planning: test_planning.py)."""
from datetime import date, datetime

import pytest

from bot.text import normalize, parse_quantity, tokenize
from bot.errors import BadSyntax
from storage.errors import QuantityOutOfRange
from storage.models import Order, Step, Workshop
from storage.orders import derive_status, normalize_order_no
from storage.production import step_capacity


def make_order(qty=100, statuses=("ready", "waiting")):
    order = Order(order_no="SO-1", product="p", quantity=qty, due_date=date(2026, 12, 1), priority=3,
                  status="planned", hold=None)
    for i, st in enumerate(statuses, start=1):
        order.steps.append(Step(seq=i, workshop=Workshop(code=f"w{i}", name=f"车间{i}", aliases=""),
                                planned_qty=qty, good_qty=0, scrap_qty=0, received_qty=0, handed_qty=0,
                                units_per_hour=10.0, status=st, planned_start=datetime(2026, 11, 30),
                                planned_end=datetime(2026, 12, 1)))
    return order


def test_capacity_is_input_plus_tolerance():
    order = make_order(qty=200)
    assert step_capacity(order.steps[0], 5) == 210
    order.steps[1].received_qty = 150
    assert step_capacity(order.steps[1], 5) == 157


@pytest.mark.parametrize("statuses, hold, expected", [
    (("ready", "waiting"), None, "planned"),
    (("running", "waiting"), None, "in_progress"),
    (("done", "blocked"), None, "blocked"),
    (("done", "done"), None, "done"),
    (("running", "waiting"), "paused", "paused"),
])
def test_derived_order_status(statuses, hold, expected):
    order = make_order(statuses=statuses)
    order.hold = hold
    assert derive_status(order) == expected


def test_text_normalisation():
    assert normalize("@产线接力 报工　ＳＯ－１００１") == "报工 SO-1001"
    assert tokenize("报工：SO-1001，118、不良 2") == ["报工", "SO-1001", "118", "不良", "2"]
    assert normalize_order_no(" so－１００１ ") == "SO-1001"


def test_quantity_parsing():
    assert parse_quantity("120件", "报工", 1000) == 120
    with pytest.raises(QuantityOutOfRange):
        parse_quantity("-1", "报工", 1000)
    with pytest.raises(QuantityOutOfRange):
        parse_quantity("1001", "报工", 1000)
    with pytest.raises(BadSyntax):
        parse_quantity("1e3", "报工", 1000)
