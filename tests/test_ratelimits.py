"""Send limits hold across processes: two dispatchers (two relays with their own platform clients,
as two web workers or a worker and the jobs process would have) share one count in the database."""
import threading

from bot.app import build_relay
from bot.neutral import Notice
from bot.routing import queue
from storage.directory import workshop_by_name


def second_process(live):
    """Another relay on the same database: its own engine, dispatcher and API clients."""
    relay = build_relay(live.relay.settings, clock=live.relay.clock)
    return relay


def both_dispatch(*relays):
    barrier = threading.Barrier(len(relays))

    def run(relay):
        barrier.wait()
        relay.dispatcher.run_once(limit=200)
    threads = [threading.Thread(target=run, args=(r,)) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_two_dispatchers_keep_the_robot_limits(live):
    other = second_process(live)
    with live.relay.Session.begin() as s:
        welding = workshop_by_name(s, "焊接")
        for i in range(30):
            live.relay.enqueue_notice(s, Notice(welding.id, "notices/handoff", {
                "order_no": f"SO-{i}", "product": "车门总成", "from_workshop": "冲压", "to_workshop": "焊接",
                "quantity": 1}, key=f"n{i}"))
    both_dispatch(live.relay, other)
    assert len(live.dingtalk.sends_to("group_message", "cid-welding")) == 20   # DingTalk robot: 20/min
    assert len(live.twin.sends_to("webhook", "key-welding")) == 20             # WeCom group robot: 20/min
    other.dispatcher.stop()
    other.engine.dispose()


def test_two_dispatchers_keep_the_per_member_limit(live):
    other = second_process(live)
    platform = live.relay.platforms["wecom"]
    with live.relay.Session.begin() as s:
        for i in range(35):
            queue(s, live.relay.clock.now(), "wecom", platform.person_text("lina", f"消息 {i}"), key=f"m{i}")
    both_dispatch(live.relay, other)
    assert len([m for m in live.twin.sends_to("message") if m.target == "lina"]) == 30  # WeCom app: 30/min/member
    other.dispatcher.stop()
    other.engine.dispose()
