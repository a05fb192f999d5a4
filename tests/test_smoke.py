from sqlalchemy import select
from storage.models import Step, Order


def test_report_through_twin(live):
    live.add_order()
    reply = live.say("zhangwei", "报工 SO-1001 120")
    assert "120/200" in reply
    with live.session() as s:
        step = s.scalars(select(Step).join(Order).where(Order.order_no == "SO-1001", Step.seq == 1)).one()
        assert step.good_qty == 120


def test_a_long_running_process_compiles_every_template_at_start(live):
    """wsgi.py and the jobs process warm the templates: every one of them compiles (a broken
    template fails here, not at the first message of its kind), and pages render from the warm
    environment."""
    from pathlib import Path

    import requests

    import bot
    messages = live.relay.messages
    on_disk = list(Path(bot.__file__).parent.joinpath("templates").rglob("*.j2"))
    assert messages.warm() == len(on_disk) > 50
    token = live.relay.settings.api.board_tokens[0]
    assert requests.get(f"{live.url}/board?token={token}", timeout=10).status_code == 200
