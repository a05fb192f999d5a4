"""The race harness: each pair of conflicting actions started at the same instant (a barrier,
two threads, a session each), many times, and the books checked after every round.

Repetitions per pair: $LINERELAY_RACE_REPS (default 3, enough on SQLite, which serialises
writers anyway; `.ci/run` sets 50 for the PostgreSQL pass, where row locks decide).
"""
from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select


from bot.clock import Clock
from storage.db import make_engine, make_session_factory, retrying
from storage.directory import person_by_platform_id
from storage.errors import UserError
from storage.incidents import open_incident
from storage.lifecycle import audit_order
from storage.migrate import init_db
from storage.models import ChangeRequest, Handoff, Order, Person, Report
from storage.orders import OrderData, find_order, upsert_order
from storage.production import Limits, confirm_handoffs, hand_over, report_output, undo_report
from storage.requests import Policy, decide_request, file_request
from tests.helpers import make_settings

REPS = int(os.environ.get("LINERELAY_RACE_REPS", "3"))
LIMITS = Limits(tolerance_percent=5, max_quantity=100_000, undo_window=timedelta(minutes=30))
POLICY = Policy(mode="any", approver_ids=(), allow_self=False)


class World:
    """A plant in a database of its own; each round works on a fresh order."""

    def __init__(self, database_url: str):
        settings = make_settings(database_url)
        init_db(database_url, settings)
        self.engine = make_engine(database_url, pool_size=4, max_overflow=4) if not database_url.startswith("sqlite") \
            else make_engine(database_url)
        self.Session = make_session_factory(self.engine)
        self.clock = Clock("Asia/Shanghai")
        self.numbers = itertools.count(1)
        self.order_no = ""

    def person(self, s, name: str) -> Person:
        return person_by_platform_id(s, "wecom", name)

    def new_order(self, quantity=200) -> str:
        self.order_no = f"SO-R{next(self.numbers)}"
        with self.Session.begin() as s:
            upsert_order(s, self.clock.now(), OrderData(self.order_no, "车门总成", quantity,
                                                        self.clock.today() + timedelta(days=5)),
                         actor=None, source="race")
        return self.order_no

    def step_id(self, s, seq=1) -> int:
        return find_order(s, self.order_no).steps[seq - 1].id

    # -- the actions, each in a session of its own --------------------------------------------
    def report(self, s, good, who="zhangwei", seq=1):
        return report_output(s, self.clock.now(), step_id=self.step_id(s, seq), person=self.person(s, who),
                             good=good, scrap=0, note="", source="race", limits=LIMITS)

    def undo(self, s, who="zhangwei"):
        return undo_report(s, self.clock.now(), person=self.person(s, who), report_id=None, source="race",
                           limits=LIMITS)

    def hand_all(self, s, who="zhangwei"):
        """交接 全部: every good part not handed over yet, as the locked step counts them."""
        return hand_over(s, self.clock.now(), step_id=self.step_id(s), person=self.person(s, who), quantity=None,
                         source="race")

    def receive(self, s, who="lina"):
        order = find_order(s, self.order_no)
        return confirm_handoffs(s, self.clock.now(), order=order, workshop_id=order.steps[1].workshop_id,
                                person=self.person(s, who), source="race")

    def incident(self, s):
        return open_incident(s, self.clock.now(), step_id=self.step_id(s), person=self.person(s, "zhangwei"),
                             category="设备", description="race", expected_recovery=None, source="race")

    def file(self, s, kind, **payload):
        order = find_order(s, self.order_no)
        return file_request(s, self.clock.now(), kind=kind, order=order, payload={"order_no": self.order_no, **payload},
                            reason="", person=self.person(s, "chenjing"), source="race").id

    def decide(self, s, request_id, who, approve=True):
        return decide_request(s, self.clock.now(), request_id=request_id, person=self.person(s, who), approve=approve,
                              reason="" if approve else "race", policy=POLICY, source="race")

    def file_now(self, kind, **payload) -> int:
        ids = []
        self.do(lambda s: ids.append(self.file(s, kind, **payload)))
        return ids[-1]

    def do(self, fn):
        def work():
            with self.Session.begin() as s:
                fn(s)
        retrying(work)

    def race(self, a, b) -> list[str]:
        """Run a and b at once; 'ok' or the refusal's template for each."""
        barrier = threading.Barrier(2)

        def run(fn):
            barrier.wait()
            try:
                self.do(fn)
                return "ok"
            except UserError as exc:
                return exc.code

        with ThreadPoolExecutor(2) as pool:
            return [f.result() for f in [pool.submit(run, a), pool.submit(run, b)]]

    def books(self) -> list[str]:
        with self.Session() as s:
            return audit_order(s, find_order(s, self.order_no).id)


@pytest.fixture
def world(database_url):
    w = World(database_url)
    yield w
    w.engine.dispose()


def rounds(world, setup, a, b, check):
    outcomes = set()
    for _ in range(REPS):
        world.new_order()
        context = setup()
        result = world.race(lambda s, c=context: a(s, c), lambda s, c=context: b(s, c))
        problems = world.books()
        assert not problems, (world.order_no, result, problems)
        check(result, context)
        outcomes.add(tuple(result))
    return outcomes


def test_undo_undo(world):
    """Two reports, two undos at once: each undo takes back one report (as one after the other
    would), never the same one twice; and one report, two undos: one is refused."""
    def check(result, reports):
        with world.Session() as s:
            undone = s.scalars(select(Report).where(Report.step_id == world.step_id(s), Report.undone_at.is_not(None))).all()
        assert len(undone) == result.count("ok") == min(reports, 2), (result, reports)
        assert set(result) <= {"ok", "nothing_to_undo"}, result

    def setup(reports):
        def go():
            for good in (50, 30)[:reports]:
                world.do(lambda s, g=good: world.report(s, g))
            return reports
        return go
    for reports in (1, 2):
        rounds(world, setup(reports), lambda s, _: world.undo(s), lambda s, _: world.undo(s), check)


def test_undo_receive(world):
    def check(result, _):
        assert result.count("ok") == 1, result
        with world.Session() as s:
            handoff = s.scalars(select(Handoff).join(Order, Handoff.from_step.has(order_id=Order.id))
                                .where(Order.order_no == world.order_no)).one()
            assert handoff.status == ("withdrawn" if result[0] == "ok" else "confirmed")
    rounds(world, lambda: world.do(lambda s: world.report(s, 200)),
           lambda s, _: world.undo(s), lambda s, _: world.receive(s), check)


def test_receive_receive(world):
    def check(result, _):
        assert sorted(result) == ["no_pending_handoff", "ok"], result
    rounds(world, lambda: world.do(lambda s: world.report(s, 200)),
           lambda s, _: world.receive(s, "lina"), lambda s, _: world.receive(s, "wangqiang"), check)



def test_hand_all_hand_all_and_hand_all_report(world):
    """Two 交接 全部 at once hand each part over once; one beside a report hands over what the
    step had when it got the lock, never a part not made."""
    def made_and_handed():
        with world.Session() as s:
            st = find_order(s, world.order_no).steps[0]
            batches = sum(h.quantity for h in s.scalars(select(Handoff).where(Handoff.from_step_id == st.id)))
            assert batches == st.handed_qty
            return st.good_qty, st.handed_qty

    for other, outcomes, books in ((lambda s, _: world.hand_all(s), [["nothing_to_hand_over", "ok"]], {(120, 120)}),
                                   (lambda s, _: world.report(s, 30), [["ok", "ok"]], {(150, 120), (150, 150)})):
        def check(result, _, outcomes=outcomes, books=books):
            assert sorted(result) in outcomes and made_and_handed() in books, (result, made_and_handed())
        rounds(world, lambda: world.do(lambda s: world.report(s, 120)), lambda s, _: world.hand_all(s), other, check)

def test_report_undo(world):
    def check(result, _):
        assert result == ["ok", "ok"], result
        with world.Session() as s:
            st = find_order(s, world.order_no).steps[0]
            assert st.good_qty == 100 and st.handed_qty in (0, 100)
    rounds(world, lambda: world.do(lambda s: world.report(s, 100)),
           lambda s, _: world.report(s, 100), lambda s, _: world.undo(s), check)


def test_report_incident(world):
    def check(result, _):
        assert result[1] == "ok" and result[0] in ("ok", "step_not_ready"), result
        with world.Session() as s:
            st = find_order(s, world.order_no).steps[0]
            assert st.status == "blocked" and st.good_qty == (100 if result[0] == "ok" else 50)
    rounds(world, lambda: world.do(lambda s: world.report(s, 50)),
           lambda s, _: world.report(s, 50), lambda s, _: world.incident(s), check)


def test_approve_approve(world):
    def check(result, request_id):
        assert sorted(result) == ["ok", "request_decided"], result
        with world.Session() as s:
            assert s.get(ChangeRequest, request_id).status == "approved"
            assert find_order(s, world.order_no).status == "paused"
    rounds(world, lambda: world.file_now("pause"), lambda s, r: world.decide(s, r, "zhouzong"),
           lambda s, r: world.decide(s, r, "wujingli"), check)


def test_approve_reject(world):
    def check(result, request_id):
        assert sorted(result) == ["ok", "request_decided"], result
        with world.Session() as s:
            status = s.get(ChangeRequest, request_id).status
            assert status == ("approved" if result[0] == "ok" else "rejected")
            assert find_order(s, world.order_no).status == ("paused" if status == "approved" else "in_progress")
    rounds(world, lambda: (world.do(lambda s: world.report(s, 10)), world.file_now("pause"))[1],
           lambda s, r: world.decide(s, r, "zhouzong"), lambda s, r: world.decide(s, r, "wujingli", approve=False),
           check)


def test_approve_and_the_completing_report(world):
    """A due-date change is approved while the last workshop reports the order done: either the
    approval comes first (approved, then the order completes), or the completion does (the
    request is withdrawn with it and the approval is refused as decided) — never an approved
    change on a done order, never a request left pending on it."""
    leads = {1: "zhangwei", 2: "lina", 3: "zhaomin", 4: "liuyang"}

    def setup():
        for seq in (1, 2, 3):
            world.do(lambda s, seq=seq: world.report(s, 200, who=leads[seq], seq=seq))
            world.do(lambda s, seq=seq: confirm_handoffs(
                s, world.clock.now(), order=find_order(s, world.order_no),
                workshop_id=find_order(s, world.order_no).steps[seq].workshop_id,
                person=world.person(s, leads[seq + 1]), source="race"))
        return world.file_now("due_date", due_date=(world.clock.today() + timedelta(days=9)).isoformat())

    def check(result, request_id):
        assert result[1] == "ok" and result[0] in ("ok", "request_decided"), result
        with world.Session() as s:
            assert find_order(s, world.order_no).status == "done"
            status = s.get(ChangeRequest, request_id).status
            assert status == ("approved" if result[0] == "ok" else "withdrawn"), (result, status)
    outcomes = rounds(world, setup, lambda s, r: world.decide(s, r, "zhouzong"),
                      lambda s, r: world.report(s, 200, who="liuyang", seq=4), check)
    assert outcomes


def test_change_report(world):
    def setup():
        world.do(lambda s: world.report(s, 90))
        return world.file_now("quantity", quantity=100)

    def check(result, request_id):
        assert result[1] == "ok" and result[0] in ("ok", "quantity_below_produced"), result
        with world.Session() as s:
            st = find_order(s, world.order_no).steps[0]
            assert st.good_qty == 105
            # never jammed: a step that has made its planned quantity is done and handed over
            assert (st.status == "done") == (st.good_qty >= st.planned_qty)
    outcomes = rounds(world, setup, lambda s, r: world.decide(s, r, "zhouzong"),
                      lambda s, r: world.report(s, 15), check)
    assert outcomes


def test_undo_and_receive_through_real_callbacks(live):
    """The same race end to end: signed callbacks through both twins at the same instant, the
    lead's 撤销 on WeCom and the next lead's 接收 on DingTalk; one of them wins, and says so."""
    from tests.test_commands import seed
    seed(live)
    for i in range(max(2, REPS // 5)):
        order_no = f"SO-E{i}"
        live.add_order(order_no, quantity=20)
        assert "已报工" in live.say("zhangwei", f"报工 {order_no} 20", platform="wecom")
        barrier = threading.Barrier(2)

        def say(user, text, chat, platform, barrier=barrier):
            barrier.wait()
            return live.say(user, text, chat=chat, platform=platform)
        with ThreadPoolExecutor(2) as pool:
            undo = pool.submit(say, "zhangwei", "撤销", "wr-stamping", "wecom")
            receive = pool.submit(say, "lina", f"接收 {order_no}", "wr-welding", "dingtalk")
            replies = undo.result(), receive.result()
        won = ["已撤销" in replies[0], "已确认接收" in replies[1]]
        assert won.count(True) == 1, replies
        with live.session() as s:
            order = find_order(s, order_no)
            assert audit_order(s, order.id) == []
            assert order.steps[1].received_qty == (20 if won[1] else 0)


def test_a_card_click_and_a_typed_command_at_once(live):
    """确认接收 pressed by one lead while the other types 接收: the click locks the card, the
    command the order; both take the order first, so neither waits for the other in a circle."""
    from tests.test_commands import seed
    seed(live)
    for i in range(max(2, REPS // 5)):
        order_no = f"SO-C{i}"
        live.add_order(order_no, quantity=20)
        live.say("zhangwei", f"报工 {order_no} 20")
        card = live.twin.wait_for(lambda m, n=order_no: m.api == "message" and m.payload.get("msgtype") == "template_card"
                                  and n in str(m.payload))
        barrier = threading.Barrier(2)

        def click(task=card.payload["template_card"]["task_id"], barrier=barrier):
            barrier.wait()
            return live.twin.card_click("wangqiang", task, "confirm").status

        def typed(order_no=order_no, barrier=barrier):
            barrier.wait()
            return live.say("lina", f"接收 {order_no}", chat="wr-welding")
        with ThreadPoolExecutor(2) as pool:
            clicked, typed_reply = pool.submit(click), pool.submit(typed)
            status, reply = clicked.result(), typed_reply.result()
        assert status == 200
        with live.session() as s:
            order = find_order(s, order_no)
            assert audit_order(s, order.id) == [] and order.steps[1].received_qty == 20
            assert s.scalars(select(Handoff.status).where(Handoff.to_step_id == order.steps[1].id)).one() == "confirmed"
        assert "已确认接收" in reply or "没有待确认" in reply, reply
