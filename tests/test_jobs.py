"""Scheduled jobs with an injected clock, through the twins: what each group received, and what
it did not (no duplicate warnings, nothing in quiet hours, no digest twice)."""
from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from bot.jobs import run_job
from bot.jobs.runner import try_lease
from bot.worktime import QuietHours
from bot.clock import Clock
from storage.models import Order, OutboxMessage
from tests.helpers import settle

WEDNESDAY = date(2026, 11, 25)


def at(live, day: date, hh: int, mm: int = 0):
    live.relay.clock.set_local(datetime(day.year, day.month, day.day, hh, mm))


def job(live, name):
    result = run_job(live.relay, name)
    live.relay.dispatcher.run_once()
    settle(live)
    return result


def texts(sends):
    return [s.text for s in sends]


@pytest.fixture
def plant(live):
    at(live, WEDNESDAY, 9)
    live.add_order("SO-1001", quantity=200, days=0)   # due today: stamping should be long done
    live.add_order("SO-1002", quantity=100, days=20)  # far off: no warning
    return live


def stamping_warnings(live):
    return [t for t in texts(live.twin.sends_to("webhook", "key-stamping")) if "延期" in t]


def test_late_step_warned_once_on_every_channel(plant):
    at(plant, WEDNESDAY, 17)
    assert job(plant, "delay-scan")["warnings"] >= 1
    warnings = stamping_warnings(plant)
    assert len(warnings) == 1 and "SO-1001" in warnings[0] and "已延期" in warnings[0]
    card = plant.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-stamping")
    assert "已知悉" in card.payload["body"]["cardData"]["cardParamMap"]["buttons"]
    app = plant.twin.wait_for(lambda m: m.api == "message" and m.target == "zhangwei")
    assert app.payload["template_card"]["button_list"][0]["key"] == "ack"
    assert not any("SO-1002" in t for t in texts(plant.twin.sent))
    at(plant, WEDNESDAY, 17, 10)
    job(plant, "delay-scan")
    assert len(stamping_warnings(plant)) == 1  # the same level is never repeated


def test_unacknowledged_warning_escalates_to_managers_once(plant):
    """The escalation delay (60 minutes) is the workshop's working time: a warning at 17:00, half
    an hour before the shift ends, escalates at 08:30 next morning, not at 18:00 when nobody is
    there to acknowledge it; the lead is told so, and the managers how long it waited (1 hour)."""
    at(plant, WEDNESDAY, 17)
    job(plant, "delay-scan")
    warned = [t for t in texts(plant.twin.sends_to("webhook", "key-stamping")) if "SO-1001" in t and "升级" in t]
    assert warned and "11-26 08:30" in warned[0], warned
    at(plant, WEDNESDAY, 17, 30)
    assert job(plant, "delay-scan")["escalations"] == 0  # not yet
    at(plant, WEDNESDAY, 18, 5)
    assert job(plant, "delay-scan")["escalations"] == 0  # after hours: the time does not count
    at(plant, WEDNESDAY + timedelta(days=1), 8, 35)
    assert job(plant, "delay-scan")["escalations"] >= 1
    managers = [t for t in texts(plant.twin.sends_to("webhook", "key-managers")) if "预警升级" in t]
    assert len(managers) >= 1 and "SO-1001" in managers[0] and "已等 1 小时" in managers[0], managers
    plant.dingtalk.wait_for(lambda m: m.api == "group_message" and m.target == "cid-managers" and "预警升级" in m.text)
    count = len(managers)
    at(plant, WEDNESDAY + timedelta(days=1), 10)
    job(plant, "delay-scan")
    assert len([t for t in texts(plant.twin.sends_to("webhook", "key-managers")) if "预警升级" in t]) == count


def test_acknowledged_warning_does_not_escalate(plant):
    at(plant, WEDNESDAY, 17)
    job(plant, "delay-scan")
    assert "已确认知悉" in plant.say("zhangwei", "知悉 SO-1001")
    at(plant, WEDNESDAY, 19)
    job(plant, "delay-scan")
    escalated = [t for t in texts(plant.twin.sends_to("webhook", "key-managers")) if "预警升级" in t]
    assert not [t for t in escalated if "SO-1001" in t]  # acknowledged by the workshop that causes it
    # welding is late only because stamping is: it was told when the parts come, never asked to acknowledge
    welding = texts(plant.twin.sends_to("webhook", "key-welding"))
    assert [t for t in welding if "SO-1001" in t and "因冲压延误" in t]
    assert not [t for t in welding if "SO-1001" in t and "知悉" in t]


def test_each_workshop_downstream_of_a_late_one_is_told_when_the_parts_reach_it(plant):
    """One line per late order to every later workshop: late because of which workshop, and when
    the parts reach it, the forecast end of the step before it in the stored plan."""
    from storage.models import Step, Workshop
    at(plant, WEDNESDAY, 17)
    job(plant, "delay-scan")
    with plant.session() as s:
        route = s.execute(select(Workshop.code, Workshop.name, Step.forecast_end).join(Step.workshop)
                          .join(Order, Step.order_id == Order.id).where(Order.order_no == "SO-1001")
                          .order_by(Step.seq)).all()
    assert route[0].code == "stamping" and len(route) >= 3
    for before, later in pairwise(route):
        [line] = [t for t in texts(plant.twin.sends_to("webhook", f"key-{later.code}")) if "SO-1001" in t]
        arrives = plant.relay.clock.local(before.forecast_end).strftime("%m-%d %H:%M")
        assert "因冲压延误" in line and f"预计 {arrives} 到{later.name}" in line, (line, arrives)
        assert "知悉" not in line
    assert not [t for t in texts(plant.twin.sends_to("webhook", "key-stamping")) if "因冲压延误" in t]


def test_a_paused_order_is_not_warned_until_it_resumes(plant):
    plant.say("chenjing", "变更 SO-1001 暂停 原因 客户要求", chat=None)
    plant.say("zhouzong", "同意 REQ-1", chat=None)
    at(plant, WEDNESDAY, 17)
    assert job(plant, "delay-scan")["warnings"] == 0
    assert not [t for t in texts(plant.twin.sent) if "SO-1001" in t and "延" in t]
    plant.say("chenjing", "变更 SO-1001 继续", chat=None)
    plant.say("zhouzong", "同意 REQ-2", chat=None)
    at(plant, WEDNESDAY, 17, 5)
    assert job(plant, "delay-scan")["warnings"] == 1
    assert len(stamping_warnings(plant)) == 1 and "SO-1001" in stamping_warnings(plant)[0]


def test_ack_button_on_the_dingtalk_card(plant):
    at(plant, WEDNESDAY, 17)
    job(plant, "delay-scan")
    card = plant.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-stamping")
    resp = plant.dingtalk.click(card.payload["body"]["outTrackId"], "dt-zhangwei", "ack")
    assert resp.status_code == 200 and "已知悉" in resp.json()["cardData"]["cardParamMap"]["outcome"]
    at(plant, WEDNESDAY, 19)
    job(plant, "delay-scan")
    assert not [t for t in texts(plant.twin.sends_to("webhook", "key-managers")) if "预警升级" in t and "**冲压**" in t]


def test_quiet_hours_hold_warnings_until_morning(plant):
    at(plant, WEDNESDAY, 22)
    assert job(plant, "delay-scan")["warnings"] >= 1
    assert stamping_warnings(plant) == []
    with plant.session() as s:
        held = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        assert held
    at(plant, WEDNESDAY + timedelta(days=1), 6, 50)
    job(plant, "outbox")
    assert stamping_warnings(plant) == []
    at(plant, WEDNESDAY + timedelta(days=1), 7, 1)
    job(plant, "outbox")
    assert len(stamping_warnings(plant)) == 1


def test_daily_digest_once_per_group_and_day(plant):
    plant.say("zhangwei", "报工 SO-1001 150 不良 3")
    at(plant, WEDNESDAY + timedelta(days=1), 7, 59)
    assert job(plant, "daily-digest")["digests"] == 0
    at(plant, WEDNESDAY + timedelta(days=1), 8, 1)
    first = job(plant, "daily-digest")["digests"]
    assert first >= 5  # 4 workshops' groups and the managers' groups, on both platforms
    digest = [t for t in texts(plant.twin.sends_to("webhook", "key-stamping")) if "日报" in t]
    assert len(digest) == 1 and "SO-1001 150" in digest[0] and "良率 98.0%" in digest[0]
    assert any("全厂日报" in t for t in texts(plant.twin.sends_to("webhook", "key-managers")))
    plant.dingtalk.wait_for(lambda m: m.api == "group_message" and m.target == "cid-stamping" and "日报" in m.text)
    at(plant, WEDNESDAY + timedelta(days=1), 9)
    assert job(plant, "daily-digest")["digests"] == 0
    assert len([t for t in texts(plant.twin.sends_to("webhook", "key-stamping")) if "日报" in t]) == 1


def test_two_digest_runs_at_once_send_each_group_its_digest_once(plant):
    """Two runs (a jobs process and `linerelay run-job daily-digest`) start at the same instant: the
    one row per group and day decides; the loser's transaction fails and it sends nothing twice."""
    import threading
    from storage.models import GroupBinding, SentDigest
    at(plant, WEDNESDAY + timedelta(days=1), 8, 1)
    barrier = threading.Barrier(2)
    results: list[dict] = []

    def one_run():
        barrier.wait()
        results.append(run_job(plant.relay, "daily-digest"))
    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with plant.session() as s:
        groups = s.scalar(select(func.count()).select_from(GroupBinding).where(
            GroupBinding.workshop_id.is_not(None) | (GroupBinding.role == "managers")))
        rows = s.execute(select(SentDigest.group_id, func.count()).group_by(SentDigest.group_id)).all()
    assert len(results) == 2 and sum(r["digests"] for r in results) == groups == len(rows) >= 5
    assert all(n == 1 for _, n in rows)
    job(plant, "outbox")
    settle(plant)
    for key in ("key-stamping", "key-welding", "key-painting", "key-assembly", "key-managers"):
        assert len([t for t in texts(plant.twin.sends_to("webhook", key)) if "日报" in t]) == 1, key


def test_one_group_whose_digest_fails_holds_back_no_other_group(plant, monkeypatch):
    """One group's digest cannot be made (here: queueing it fails); the run's one transaction
    fails, each group is then sent on its own: the others get theirs, the job says it failed, and
    the next minute's run sends the one that failed, once."""
    from storage.models import GroupBinding
    with plant.session() as s:
        stamping = s.scalar(select(GroupBinding.id).where(GroupBinding.chat_id == "wr-stamping"))
    relay = plant.relay
    real = relay.enqueue_group_text
    broken = {"on": True}

    def enqueue(session, group, text, key):
        if broken["on"] and group.id == stamping:
            raise RuntimeError("the stamping group's digest cannot be queued")
        return real(session, group, text, key=key)
    monkeypatch.setattr(relay, "enqueue_group_text", enqueue)
    at(plant, WEDNESDAY + timedelta(days=1), 8, 1)
    with pytest.raises(RuntimeError):
        run_job(relay, "daily-digest")
    job(plant, "outbox")
    settle(plant)
    assert not [t for t in texts(plant.twin.sends_to("webhook", "key-stamping")) if "日报" in t]
    for key in ("key-welding", "key-painting", "key-assembly", "key-managers"):
        assert len([t for t in texts(plant.twin.sends_to("webhook", key)) if "日报" in t]) == 1, key
    broken["on"] = False
    at(plant, WEDNESDAY + timedelta(days=1), 8, 2)
    assert job(plant, "daily-digest")["digests"] == 1
    job(plant, "outbox")
    settle(plant)
    for key in ("key-stamping", "key-welding", "key-managers"):
        assert len([t for t in texts(plant.twin.sends_to("webhook", key)) if "日报" in t]) == 1, key


def test_digest_survives_failing_sends_and_arrives_once(plant):
    plant.twin.fail_next(("http", 500), ("errcode", 45009), ("http", 502))
    at(plant, WEDNESDAY + timedelta(days=1), 8, 1)
    run_job(plant.relay, "daily-digest")
    for _minute in range(0, 30, 2):
        plant.relay.clock.advance(timedelta(minutes=2))
        plant.relay.dispatcher.run_once()
    settle(plant)
    for key in ("key-stamping", "key-welding", "key-painting", "key-assembly", "key-managers"):
        assert len([t for t in texts(plant.twin.sends_to("webhook", key)) if "日报" in t]) == 1, key


def test_reminders_for_unconfirmed_handoffs_once(plant):
    plant.say("zhangwei", "报工 SO-1001 200")
    plant.relay.clock.advance(timedelta(minutes=121))
    assert job(plant, "reminders")["handoffs"] == 1
    assert any("还没确认接收" in t for t in texts(plant.twin.sends_to("webhook", "key-welding")))
    assert job(plant, "reminders")["handoffs"] == 0


def test_a_reminder_waits_for_working_time(plant):
    """A batch handed over at 17:00 on Wednesday is reminded after 120 minutes of welding's
    working time (half an hour that evening, the rest on Thursday morning): at 09:30, not at
    19:00 when nobody is there."""
    at(plant, WEDNESDAY, 17)
    plant.say("zhangwei", "报工 SO-1001 200")
    at(plant, WEDNESDAY, 19, 5)
    assert job(plant, "reminders")["handoffs"] == 0
    at(plant, WEDNESDAY + timedelta(days=1), 9, 0)
    assert job(plant, "reminders")["handoffs"] == 0            # 90 working minutes
    at(plant, WEDNESDAY + timedelta(days=1), 9, 31)
    assert job(plant, "reminders")["handoffs"] == 1


def test_reminders_for_pending_approvals(plant):
    plant.say("chenjing", "变更 SO-1002 暂停", chat=None)
    plant.relay.clock.advance(timedelta(minutes=121))
    assert job(plant, "reminders")["approvals"] == 1
    assert any("等待审批" in t for t in texts(plant.twin.sends_to("webhook", "key-managers")))


def test_no_reminders_about_a_cancelled_order(plant):
    """Its handoff cannot be received and its other request can only be rejected: nobody is
    reminded to do what the bot would then refuse."""
    plant.say("zhangwei", "报工 SO-1001 200")                               # a handoff to welding
    plant.say("chenjing", "变更 SO-1001 数量 300 原因 客户加量", chat=None)    # REQ-1, left pending
    plant.say("chenjing", "变更 SO-1001 取消 原因 客户撤单", chat=None)        # REQ-2
    plant.say("zhouzong", "同意 REQ-2", chat=None)
    with plant.session() as s:
        assert s.scalars(select(Order.status).where(Order.order_no == "SO-1001")).one() == "cancelled"
    plant.relay.clock.advance(timedelta(minutes=121))
    result = job(plant, "reminders")
    assert (result["handoffs"], result["approvals"]) == (0, 0), result
    assert not any("还没确认接收" in t for t in texts(plant.twin.sends_to("webhook", "key-welding")))
    plant.say("zhangwei", "报工 SO-1002 100")                               # another order's still are
    plant.relay.clock.advance(timedelta(minutes=181))                      # 11:01 → 14:02: 121 working minutes
    assert job(plant, "reminders")["handoffs"] == 1


def test_one_jobs_process_holds_the_lease_and_a_standby_takes_over(live):
    assert try_lease(live.relay, "host-a")
    assert not try_lease(live.relay, "host-b")
    assert try_lease(live.relay, "host-a")  # renewal
    live.relay.clock.advance(timedelta(seconds=61))  # host-a died: its lease runs out
    assert try_lease(live.relay, "host-b")
    assert not try_lease(live.relay, "host-a")


def test_quiet_hours():
    hours = QuietHours(Clock("Asia/Shanghai"), "21:00-07:00")
    assert hours.quiet_until(datetime(2026, 11, 25, 14)) == datetime(2026, 11, 25, 23)  # 22:00 → 07:00
    assert hours.quiet_until(datetime(2026, 11, 25, 3)) is None


def test_sends_failing_for_a_while_arrive_exactly_once_after_recovery(plant):
    """HTTP 500, errcode 45009 and a timeout, then WeCom recovers: each digest arrives once."""
    plant.relay.platforms["wecom"].api.timeout = 0.3
    plant.twin.fail_next(("http", 500), ("errcode", 45009), ("timeout", 0.6), ("http", 503), ("errcode", 45009))
    at(plant, WEDNESDAY + timedelta(days=1), 8, 1)
    run_job(plant.relay, "daily-digest")
    for _ in range(40):
        plant.relay.clock.advance(timedelta(minutes=1))
        plant.relay.dispatcher.run_once()
    with plant.session() as s:
        left = s.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent")).all()
        assert not left, [(m.channel, m.target, m.status, m.attempts, m.last_error) for m in left]
    for key in ("key-stamping", "key-welding", "key-painting", "key-assembly", "key-managers"):
        assert len([t for t in texts(plant.twin.sends_to("webhook", key)) if "日报" in t]) == 1, key


def test_a_standby_jobs_process_takes_over_when_the_first_dies(live):
    from bot.jobs.runner import JobsProcess
    first, second = JobsProcess(live.relay, "first"), JobsProcess(live.relay, "second")
    first._renew()
    second._renew()
    assert first.leader and not second.leader
    live.relay.clock.advance(timedelta(seconds=40))
    first._renew()  # alive: renews
    second._renew()
    assert first.leader and not second.leader
    live.relay.clock.advance(timedelta(seconds=61))  # first died 61 s ago
    second._renew()
    assert second.leader
    first._renew()
    assert not first.leader  # back from the dead, it stands by


def test_the_database_statistics_job_gives_sqlite_its_planner_statistics(plant):
    """SQLite picks indexes by its statistics (`db-stats`: at the jobs process's start, then every
    6 hours); without them a digest read all of a workshop's steps to find yesterday's few."""
    from sqlalchemy import text
    first = run_job(plant.relay, "db-stats")
    with plant.relay.engine.connect() as conn:
        if plant.relay.engine.dialect.name != "sqlite":
            assert first == {"analyzed": False}   # PostgreSQL's autovacuum keeps its own
            return
        tables = set(conn.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())
    assert first == {"analyzed": True} and {"steps", "orders", "workshops"} <= tables


def test_a_workshop_with_many_new_warnings_gets_the_most_urgent_one_by_one_and_the_rest_in_one_notice(plant,
                                                                                                 monkeypatch):
    """Past FOLD_AFTER new warnings for one workshop in a scan (a plant's first scan, a bad day),
    the rest arrive as one notice listing them; each is still a warning of its own: acknowledged
    by 知悉, escalated if nobody does, in the same way (one by one, then the rest together)."""
    from bot.jobs import delay_scan
    from storage.models import DelayWarning
    monkeypatch.setattr(delay_scan, "FOLD_AFTER", 2)
    for n in range(1, 6):
        plant.add_order(f"SO-200{n}", quantity=200, days=0)   # due today, like SO-1001
    at(plant, WEDNESDAY, 17)
    assert job(plant, "delay-scan")["warnings"] == 6
    stamping = stamping_warnings(plant)
    single = [t for t in stamping if "另有" not in t]
    folded = [t for t in stamping if "另有" in t]
    assert len(single) == 2 and "SO-1001" in single[0] + single[1] and "SO-2001" in single[0] + single[1]
    assert len(folded) == 1 and "另有 4 单" in folded[0] and "最急的 2 单已逐单预警" in folded[0]
    assert all(f"SO-200{n}" in folded[0] for n in range(2, 6)) and "SO-1001" not in folded[0]
    with plant.relay.Session() as s:
        assert s.scalar(select(func.count()).select_from(DelayWarning)) == 6   # each its own warning
    at(plant, WEDNESDAY, 17, 10)
    job(plant, "delay-scan")
    assert len(stamping_warnings(plant)) == 3                                    # nothing again
    assert "已确认知悉" in plant.say("zhangwei", "知悉 SO-2003")                 # a folded one, acknowledged
    at(plant, WEDNESDAY + timedelta(days=1), 8, 35)                              # 60 working minutes on
    assert job(plant, "delay-scan")["escalations"] == 5
    managers = [t for t in texts(plant.twin.sends_to("webhook", "key-managers")) if "预警升级" in t]
    assert len(managers) == 3
    rest = [t for t in managers if "另有" in t]
    assert len(rest) == 1 and "另有 3 单" in rest[0] and "SO-2003" not in rest[0]
    assert all(no in rest[0] for no in ("SO-2002", "SO-2004", "SO-2005"))
    at(plant, WEDNESDAY + timedelta(days=1), 10)
    assert job(plant, "delay-scan")["escalations"] == 0
    assert len([t for t in texts(plant.twin.sends_to("webhook", "key-managers")) if "预警升级" in t]) == 3
