"""The per-process cache of people and groups (storage/directory_cache.py) never answers with a
stale directory: a change committed by another process (here: another engine, with a cache of
its own) is seen by the app's next message. End to end through the WeCom twin."""
from __future__ import annotations

from sqlalchemy import func, select

from storage.db import make_engine, make_session_factory
from storage.models import DirectoryVersion, GroupBinding, Person, PersonIdentity, Report, Workshop


def other_process(live):
    """A session factory of its own engine, as the jobs process or another worker has."""
    engine = make_engine(str(live.relay.engine.url.render_as_string(hide_password=False)))
    return engine, make_session_factory(engine)


def reports(live) -> int:
    with live.session() as s:
        return s.scalar(select(func.count()).select_from(Report))


def version(live) -> int:
    with live.session() as s:
        return s.scalar(select(DirectoryVersion.version))


def test_a_person_added_removed_and_rebound_elsewhere_is_seen_by_the_next_message(live):
    live.add_order("SO-1001")
    assert "还没有登记" in live.say("newlead", "报工 SO-1001 5")   # unknown: remembered as unknown
    engine, Session = other_process(live)
    try:
        with Session.begin() as s:
            stamping = s.scalars(select(Workshop).where(Workshop.code == "stamping")).one()
            s.add(Person(name="新班长", roles="lead", workshops=[stamping],
                         identities=[PersonIdentity(platform="wecom", user_id="newlead")]))
        assert "已报工" in live.say("newlead", "报工 SO-1001 5")
        assert reports(live) == 1
        with Session.begin() as s:   # no longer leads stamping
            person = s.scalars(select(Person).where(Person.name == "新班长")).one()
            person.workshops = []
        reply = live.say("newlead", "报工 SO-1001 6")
        assert "没有做任何修改" in reply, reply
        assert reports(live) == 1
        with Session.begin() as s:   # the stamping group rebound to welding: the report goes there
            s.scalars(select(GroupBinding).where(GroupBinding.chat_id == "wr-stamping")).one().workshop_id = \
                s.scalars(select(Workshop.id).where(Workshop.code == "welding")).one()
        reply = live.say("zhangwei", "报工 SO-1001 7")   # zhangwei leads stamping, not welding
        assert "焊接" in reply and "已报工" not in reply, reply
    finally:
        engine.dispose()


def test_a_report_leaves_the_directory_version_alone(live):
    live.add_order("SO-1001")
    live.say("zhangwei", "报工 SO-1001 5")
    before = version(live)
    for qty in (6, 7, 8):
        assert "已报工" in live.say("zhangwei", f"报工 SO-1001 {qty}")
    assert version(live) == before   # a cached person merged into a session is not a change
    assert reports(live) == 4


def test_a_worker_added_elsewhere_is_named_in_the_next_report(live):
    """The names a report may credit are read once per directory version: 孙八, unknown at first
    (the report asks what the word means and books nothing), is credited once another process
    adds him."""
    from storage.models import ReportShare
    live.add_order("SO-1001")
    assert "已报工" in live.say("zhangwei", "报工 SO-1001 10 王五10")   # the names are read (and kept)
    reply = live.say("zhangwei", "报工 SO-1001 20 孙八20")
    assert "已报工" not in reply and "孙八" in reply, reply
    assert reports(live) == 1
    engine, Session = other_process(live)
    try:
        with Session.begin() as s:
            s.add(Person(name="孙八", roles="worker", identities=[PersonIdentity(platform="wecom", user_id="sunba")]))
        assert "已报工" in live.say("zhangwei", "报工 SO-1001 20 孙八20")
    finally:
        engine.dispose()
    with live.session() as s:
        shares = s.execute(select(Person.name, ReportShare.good).join(ReportShare, ReportShare.person_id == Person.id)
                           .order_by(ReportShare.id)).all()
    assert [tuple(r) for r in shares] == [("王五", 10), ("孙八", 20)] and reports(live) == 2
