"""A dispatcher sends only for the platforms it has senders for: a platform whose sends need a
connection one process holds (a long-lived WebSocket) is sent for by that process alone, and no
other process takes its rows, fails them, or buries them as dead letters."""
from __future__ import annotations

from bot.clock import Clock
from bot.outbox import Dispatcher
from storage import outbox as store
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from storage.models import OutboxMessage


def test_each_dispatcher_sends_only_what_it_can(database_url):
    upgrade_to_head(database_url)
    engine = make_engine(database_url)
    Session = make_session_factory(engine)
    clock = Clock()
    with Session.begin() as session:
        store.enqueue(session, clock.now(), key="a", platform="web", channel="say", target="g1", payload={"n": 1})
        store.enqueue(session, clock.now(), key="b", platform="socket", channel="say", target="g2", payload={"n": 2})
    web_sent, socket_sent = [], []
    web = Dispatcher(Session, clock, {("web", "say"): lambda m: web_sent.append(m.target)})
    socket = Dispatcher(Session, clock, {("socket", "say"): lambda m: socket_sent.append(m.target)})

    assert web.run_once() == 1 and web_sent == ["g1"]
    with Session() as session:   # the socket platform's row is untouched: still pending, no try used
        row = session.query(OutboxMessage).filter_by(idempotency_key="b").one()
        assert (row.status, row.attempts) == ("pending", 0)
    assert socket.run_once() == 1 and socket_sent == ["g2"]
    with Session() as session:
        assert {r.status for r in session.query(OutboxMessage)} == {"sent"}
    engine.dispose()
