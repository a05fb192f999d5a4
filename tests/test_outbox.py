"""The outbox delivers through the twin, retries with backoff, and keeps what it cannot send."""
from datetime import timedelta

from sqlalchemy import select

from bot.outbox import MAX_ATTEMPTS
from storage import outbox as store
from storage.models import OutboxMessage


def enqueue_notice(live, key="n1", target="key-welding"):
    with live.relay.Session.begin() as s:
        store.enqueue(s, live.relay.clock.now(), key=key, platform="wecom", channel="webhook", target=target,
                      payload={"msgtype": "markdown", "markdown": {"content": "测试通知"}})


def row(live, key="n1") -> OutboxMessage:
    with live.session() as s:
        return s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()


def test_same_idempotency_key_is_stored_once(live):
    enqueue_notice(live)
    enqueue_notice(live)
    assert live.relay.dispatcher.run_once() == 1
    assert live.relay.dispatcher.run_once() == 0
    assert len(live.twin.sends_to("webhook", "key-welding")) == 1


def test_failed_send_is_retried_after_backoff_and_arrives_once(live):
    live.twin.fail_next(("http", 500), ("errcode", 45009))
    enqueue_notice(live)
    assert live.relay.dispatcher.run_once() == 0
    first = row(live)
    assert (first.status, first.attempts) == ("pending", 1) and "500" in first.last_error
    assert live.relay.dispatcher.run_once() == 0  # not due yet
    live.relay.clock.advance(timedelta(seconds=6))
    assert live.relay.dispatcher.run_once() == 0  # 45009: rate limited, try later
    live.relay.clock.advance(timedelta(seconds=11))
    assert live.relay.dispatcher.run_once() == 1
    assert row(live).status == "sent"
    assert [s.text for s in live.twin.sends_to("webhook")] == ["测试通知"]


def test_permanent_failure_goes_to_dead_letters_and_can_be_retried(live):
    enqueue_notice(live, target="")
    live.relay.dispatcher.run_once()
    assert row(live).status == "dead"
    with live.relay.Session.begin() as s:
        assert [r.idempotency_key for r in store.failed(s)] == ["n1"]
    with live.relay.Session.begin() as s:
        s.execute(OutboxMessage.__table__.update().values(target="key-welding"))
        assert store.retry_dead(s, live.relay.clock.now()) == 1
    assert live.relay.dispatcher.run_once() == 1


def test_gives_up_after_the_last_try(live):
    live.twin.fail_next(*[("http", 503)] * MAX_ATTEMPTS)
    enqueue_notice(live)
    for _ in range(MAX_ATTEMPTS):
        live.relay.dispatcher.run_once()
        live.relay.clock.advance(timedelta(hours=2))
    assert row(live).status == "dead" and row(live).attempts == MAX_ATTEMPTS
    assert live.twin.sent == []


def test_a_dead_senders_lease_expires_and_another_takes_over(live):
    enqueue_notice(live)
    with live.relay.Session.begin() as s:
        assert store.claim(s, live.relay.clock.now(), row(live).id)  # a sender claims it and dies
    assert live.relay.dispatcher.run_once() == 0
    live.relay.clock.advance(timedelta(seconds=61))
    assert live.relay.dispatcher.run_once() == 1
    assert len(live.twin.sent) == 1
