from sqlalchemy import select
from storage.models import Step, Order


def test_report_through_twin(live):
    live.add_order()
    reply = live.say("zhangwei", "报工 SO-1001 120")
    assert "120/200" in reply
    with live.session() as s:
        step = s.scalars(select(Step).join(Order).where(Order.order_no == "SO-1001", Step.seq == 1)).one()
        assert step.good_qty == 120
