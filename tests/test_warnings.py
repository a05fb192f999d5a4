"""Warnings say who, what and by when, through the twins: the responsible lead @-mentioned on each
platform (WeCom markdown `<@userid>`, DingTalk `atUserIds`), the lateness against the plan, the
forecast, and when the warning escalates to whom; escalations name the lead and the wait."""
import threading
from datetime import date, datetime

import pytest
from sqlalchemy import update

from bot.jobs import run_job
from storage.models import GroupBinding
from tests.helpers import settle

WEDNESDAY = date(2026, 11, 25)


def at(live, hh: int, mm: int = 0, day: date = WEDNESDAY):
    live.relay.clock.set_local(datetime(day.year, day.month, day.day, hh, mm))


def scan(live) -> dict:
    result = run_job(live.relay, "delay-scan")
    live.relay.dispatcher.run_once()
    settle(live)
    return result


@pytest.fixture
def plant(live):
    at(live, 9)
    live.add_order("SO-1001", quantity=200, days=0)   # due today: stamping should be long done
    at(live, 17)
    assert scan(live)["warnings"] >= 1
    return live


def test_the_warning_mentions_the_lead_and_says_when_it_escalates(plant):
    [text] = [s.text for s in plant.twin.sends_to("webhook", "key-stamping") if "已延期" in s.text]
    assert "<@zhangwei>" in text and "<@lr:" not in text            # WeCom robot markdown mention
    assert "**SO-1001**" in text and "计划 11-24 16:10 完工 · 预计 11-26" in text and "晚于交期 11-25 17:30" in text
    # 17:00 + escalation_minutes (60) of working time: half an hour today, half an hour tomorrow
    assert "未确认将于 **11-26 08:30** 升级给 周总、吴经理" in text
    card = plant.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-stamping").payload["body"]
    assert card["imGroupOpenDeliverModel"]["atUserIds"] == {"dt-zhangwei": "张伟"}
    assert "11-26 08:30** 升级给 周总、吴经理" in card["cardData"]["cardParamMap"]["markdown"]
    # welding is late only because stamping is: told when the parts come, nobody @-mentioned
    welding = [s.text for s in plant.twin.sends_to("webhook", "key-welding") if "SO-1001" in s.text]
    assert welding and not any("<@" in t for t in welding)


def test_the_escalation_names_the_lead_and_the_wait(plant):
    with plant.relay.Session.begin() as s:   # the DingTalk managers' group has a custom robot here
        s.execute(update(GroupBinding).where(GroupBinding.chat_id == "cid-managers")
                  .values(webhook_key="custom-robot-token-painting", webhook_secret="SECdemo0123456789painting"))
    at(plant, 18, 5)
    assert scan(plant)["escalations"] == 0                  # after hours: no working time passes
    at(plant, 8, 35, day=date(2026, 11, 26))
    assert scan(plant)["escalations"] == 1
    [text] = [s.text for s in plant.twin.sends_to("webhook", "key-managers") if "预警升级" in s.text]
    assert "张伟 自 11-25 17:00 起未确认，已等 1 小时" in text
    assert "<@zhouzong> <@wujingli>" in text and "请联系 张伟" in text
    sent = plant.dingtalk.wait_for(lambda m: m.api == "custom_webhook" and "预警升级" in m.text)
    assert sent.payload["at"] == {"atUserIds": ["dt-zhouzong", "dt-wujingli"], "isAtAll": False}
    assert "@dt-zhouzong @dt-wujingli" in sent.text and "已等 1 小时" in sent.text


def test_a_channel_without_mentions_writes_the_names(plant):
    at(plant, 8, 35, day=date(2026, 11, 26))   # an hour of the workshop's working time after the warning
    scan(plant)
    sent = plant.dingtalk.wait_for(lambda m: m.api == "group_message" and m.target == "cid-managers"
                                   and "预警升级" in m.text)
    assert "@周总 @吴经理" in sent.text and "<@" not in sent.text


def test_a_delay_gone_while_the_scan_read_the_plant_is_not_warned(live):
    """The scan reads the whole plant outside the writers' queue and decides under the writer's
    lock on the orders it found: stamping reported done between the two is not warned about (the
    order's delay, if any, is welding's now), and nothing is said to stamping's group."""
    from sqlalchemy import event, select
    from sqlalchemy.orm import Session as OrmSession
    from storage.db import READ_ONLY
    from storage.models import DelayWarning, Order
    at(live, 9)
    live.add_order("SO-1001", quantity=200, days=0)   # due today: stamping should be long done
    at(live, 17)
    reported: list[str] = []
    read_warnings: list[bool] = []
    scanner = threading.get_ident()     # the scan runs here; the app and the outbox in threads of their own

    def note_the_scans_read(conn, cursor, statement, params, context, executemany):
        if (threading.get_ident() == scanner and conn.get_execution_options().get(READ_ONLY)
                and "FROM delay_warnings" in statement):
            read_warnings.append(True)    # the scan's read (the plan's own read comes before it)

    def report_after_the_read(session, transaction):
        if threading.get_ident() == scanner and transaction.parent is None and read_warnings and not reported:
            reported.append("")            # once (the 报工's own sessions end here too)
            reported[0] = live.say("zhangwei", "报工 SO-1001 200")

    event.listen(live.relay.engine, "before_cursor_execute", note_the_scans_read)
    event.listen(OrmSession, "after_transaction_end", report_after_the_read)
    try:
        scan(live)
    finally:
        event.remove(OrmSession, "after_transaction_end", report_after_the_read)
        event.remove(live.relay.engine, "before_cursor_execute", note_the_scans_read)
    assert reported and "已报工" in reported[0]
    with live.relay.Session() as session:
        stamping, welding = session.scalars(select(Order).where(Order.order_no == "SO-1001")).one().steps[:2]
        assert stamping.status == "done"
        warned = set(session.scalars(select(DelayWarning.step_id)))
    assert stamping.id not in warned and warned == {welding.id}   # judged again: welding is the cause now
    assert not [s for s in live.twin.sends_to("webhook", "key-stamping") if "已延期" in s.text]
