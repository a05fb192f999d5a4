"""Who did the work (issue 18): workers and their shares named in a report, the team of the shift
(班组), undone and corrected with the report, in the timeline; through signed callbacks on both
twins, with the database and the replies checked."""
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from storage.models import Event, Order, Person, Report, ReportShare, TeamMember
from tests.helpers import snapshot
from tests.test_commands import seed

BOOKKEEPING = {"inbound_messages", "outbox", "questions"}


@pytest.fixture(params=["wecom", "dingtalk"])
def plant(live, request):
    live.platform = request.param
    live.relay.clock.set_local(datetime(2026, 11, 10, 9, 0))
    return seed(live)


def shares(live, report_id=None) -> list[tuple[str, int, int, str]]:
    """The shares of a report (the last one by default): (worker, good, scrap, basis)."""
    with live.session() as s:
        report_id = report_id or s.scalars(select(Report.id).order_by(Report.id.desc())).first()
        return [(name, sh.good, sh.scrap, sh.basis) for sh, name in s.execute(
            select(ReportShare, Person.name).join(Person, Person.id == ReportShare.person_id)
            .where(ReportShare.report_id == report_id).order_by(ReportShare.id)).all()]


def last_report(live) -> Report:
    with live.session() as s:
        return s.scalars(select(Report).order_by(Report.id.desc())).first()


def same_data(before, after, also=()):
    skip = BOOKKEEPING | set(also)
    return {k: v for k, v in before.items() if k not in skip} == {k: v for k, v in after.items() if k not in skip}


def totals(live) -> dict[str, tuple[int, int]]:
    """Per worker good and scrap of the standing reports, computed here from the rows: a share
    counts while its report stands; a report without shares is its reporter's."""
    out: dict[str, list[int]] = {}
    with live.session() as s:
        names = {p.id: p.name for p in s.scalars(select(Person))}
        for report in s.scalars(select(Report).where(Report.undone_at.is_(None))):
            rows = s.scalars(select(ReportShare).where(ReportShare.report_id == report.id)).all()
            for person_id, good, scrap in ([(r.person_id, r.good, r.scrap) for r in rows]
                                           or [(report.person_id, report.good, report.scrap)]):
                t = out.setdefault(names[person_id], [0, 0])
                t[0] += good
                t[1] += scrap
    return {k: (v[0], v[1]) for k, v in out.items()}


def test_a_report_names_its_workers_and_their_shares(plant):
    reply = plant.say("zhangwei", "报工 SO-1001 120 王五60 赵六60")
    assert "已报工" in reply and "分给：王五 60，赵六 60" in reply, reply
    assert shares(plant) == [("王五", 60, 0, "named"), ("赵六", 60, 0, "named")]
    with plant.session() as s:
        event = s.scalars(select(Event).where(Event.kind == "report")).one()
        assert [(w["name"], w["good"]) for w in event.data["workers"]] == [("王五", 60), ("赵六", 60)]
    assert totals(plant) == {"王五": (60, 0), "赵六": (60, 0)}


@pytest.mark.parametrize("text, expected", [
    ("报工 SO-1001 100 不良 3 王五 赵六 孙七", [("王五", 34, 1), ("赵六", 33, 1), ("孙七", 33, 1)]),
    ("报工 SO-1001 100 王五70 赵六、孙七", [("王五", 70, 0), ("赵六", 15, 0), ("孙七", 15, 0)]),
    ("报工 SO-1001 王五60 赵六40 不良 2", [("王五", 60, 1), ("赵六", 40, 1)]),
    ("报工 SO-1001 90 王五赵六孙七", [("王五", 30, 0), ("赵六", 30, 0), ("孙七", 30, 0)]),
    ("报工 SO-1001 50 王五 50", [("王五", 50, 0)]),
    ("报工 SO-1001 10 不良 3 王五8 赵六2", [("王五", 8, 2), ("赵六", 2, 1)]),
    # workers @-mentioned (WeCom and DingTalk keep the mention in the text where it was typed)
    ("报工 SO-1001 120 @王五 @赵六", [("王五", 60, 0), ("赵六", 60, 0)]),
    ("报工 SO-1001 @王五 60 @赵六 60", [("王五", 60, 0), ("赵六", 60, 0)]),
    ("报工 @产线接力 SO-1001 120 @王五60 @赵六60 @产线接力", [("王五", 60, 0), ("赵六", 60, 0)]),
    ("报工 SO-1001 王五做了60 赵六做了40", [("王五", 60, 0), ("赵六", 40, 0)]),   # the verb between name and share
])
def test_shares_split_equally_unless_given_and_scrap_follows_the_good(plant, text, expected):
    assert "已报工" in plant.say("zhangwei", text)
    assert [(n, g, s) for n, g, s, _ in shares(plant)] == expected
    report = last_report(plant)
    assert sum(g for _, g, _ in expected) == report.good and sum(s for _, _, s in expected) == report.scrap


@pytest.mark.parametrize("text, says", [
    ("报工 SO-1001 120 王五60 赵六50", "合计 110，和良品 120 对不上"),
    ("报工 SO-1001 100 王五80 赵六30 孙七", "已超过良品 100"),
    ("报工 SO-1001 100 王五 王五", "「王五」写了两次"),
])
def test_shares_that_do_not_add_up_are_refused_and_change_nothing(plant, text, says):
    before = snapshot(plant.relay)
    reply = plant.say("zhangwei", text)
    assert says in reply, reply
    assert same_data(before, snapshot(plant.relay))


def test_a_name_that_is_nobody_is_asked_about_never_guessed(plant):
    before = snapshot(plant.relay)
    reply = plant.say("zhangwei", "报工 SO-1001 120 王五60 赵陆60")
    assert "人员名单里没有「赵陆」" in reply and "赵六" in reply and "不会替你猜" in reply, reply
    assert same_data(before, snapshot(plant.relay))
    reply = plant.say("zhangwei", "赵六")
    assert "已报工" in reply and "分给：王五 60，赵六 60" in reply, reply
    assert shares(plant) == [("王五", 60, 0, "named"), ("赵六", 60, 0, "named")]


def test_the_worker_asked_about_may_be_tapped(plant):
    """The answer to "who is 赵陆?" is often the worker tapped in the group: `@产线接力 @赵六`
    (the bot's mention, then the worker's). It names 赵六; before, every mention before the first
    word was dropped as the bot's, and the answer was read as nothing at all (help)."""
    reply = plant.say("zhangwei", "报工 SO-1001 120 王五60 赵陆60")
    assert "人员名单里没有「赵陆」" in reply, reply
    reply = plant.say("zhangwei", "@赵六")
    assert "已报工" in reply and "分给：王五 60，赵六 60" in reply, reply
    assert shares(plant) == [("王五", 60, 0, "named"), ("赵六", 60, 0, "named")]


def test_a_file_between_the_question_and_its_answer_leaves_the_question_open(plant):
    """A file (or video) is answered with what is read instead, and takes no question with it:
    the answer after it still completes the report."""
    reply = plant.say("zhangwei", "报工 SO-1001 120 王五60 赵陆60")
    assert "人员名单里没有「赵陆」" in reply, reply
    if plant.platform == "wecom":
        result = plant.twin.aibot_message({"msgid": "file-between", "aibotid": "b", "chattype": "group",
                                           "chatid": "wr-stamping", "from": {"userid": "zhangwei"},
                                           "msgtype": "file", "file": {"url": f"{plant.twin.base_url}/x"}})
        said = result.reply["stream"]["content"]
    else:
        body, session = plant.dingtalk.robot_body("dt-zhangwei", "", conversation_id="cid-stamping")
        body["msgtype"], body["content"] = "file", {"downloadCode": "dc", "fileName": "a.pdf"}
        del body["text"]
        assert plant.dingtalk.robot_message(body).status_code == 200
        said = plant.dingtalk.wait_for(lambda m: m.api == "session" and m.target == session).text
    assert "文件我还看不了" in said, said
    reply = plant.say("zhangwei", "赵六")
    assert "已报工" in reply and "分给：王五 60，赵六 60" in reply, reply


def test_someone_addressed_before_a_command_is_not_read_as_a_word(plant):
    """`@产线接力 @王五 报工 …`: the lead tells 王五 too; the command is read past both mentions,
    also while a question is open (a tapped worker answers only a question about a worker)."""
    reply = plant.say("zhangwei", "报工 SO-1001 120 王五60 赵陆60")
    assert "人员名单里没有「赵陆」" in reply, reply
    reply = plant.say("zhangwei", "@王五 报工 SO-1001 30")
    assert "已报工" in reply and "30/200" in reply, reply
    assert shares(plant) == []   # nobody named: the reporter's own


def test_two_people_of_one_name_are_told_apart_by_their_account(plant):
    with plant.relay.Session.begin() as s:
        twin = Person(name="王五", roles="")
        twin.set_user_id("wecom", "wangwu2")
        twin.set_user_id("dingtalk", "dt-wangwu2")
        s.add(twin)
    before = snapshot(plant.relay)
    reply = plant.say("zhangwei", "报工 SO-1001 120 王五60 赵六60")
    account = "wangwu2" if plant.platform == "wecom" else "dt-wangwu2"
    assert "「王五」有 2 人同名" in reply and account in reply, reply
    assert same_data(before, snapshot(plant.relay))
    assert "已报工" in plant.say("zhangwei", account)
    with plant.session() as s:
        row = s.scalars(select(ReportShare).order_by(ReportShare.id)).first()
        assert s.get(Person, row.person_id).user_id("wecom") == "wangwu2"


def test_the_team_of_the_shift_shares_the_leads_reports(plant):
    reply = plant.say("zhangwei", "班组 王五 赵六 孙七")
    assert "本班班组：王五、赵六、孙七（3 人）" in reply and "11-10 21:00" in reply, reply
    assert "已报工" in plant.say("zhangwei", "报工 SO-1001 100")
    assert [(n, g, b) for n, g, _, b in shares(plant)] == [("王五", 34, "team"), ("赵六", 33, "team"), ("孙七", 33, "team")]
    assert "王五、赵六、孙七" in plant.say("zhangwei", "班组")
    assert "已报工" in plant.say("zhangwei", "报工 SO-1001 20 @王五 @赵六")     # tapped: not the whole team
    assert shares(plant) == [("王五", 10, 0, "named"), ("赵六", 10, 0, "named")]
    # Workers named in a report take the place of the team for that report.
    assert "分给：赵六 10" in plant.say("zhangwei", "报工 SO-1001 10 赵六")
    assert shares(plant) == [("赵六", 10, 0, "named")]
    # Another lead's reports are not shared by this team.
    plant.say("zhangwei", "报工 SO-1002 100")
    plant.say("lina", "接收 SO-1002", chat="wr-welding")
    assert "已报工" in plant.say("lina", "报工 SO-1002 10", chat="wr-welding")
    assert shares(plant) == []
    # The team lasts a shift (app.team_hours): after it, reports are the reporter's again.
    plant.relay.clock.advance(timedelta(hours=13))
    assert "现在没有设班组" in plant.say("zhangwei", "班组")
    plant.say("zhangwei", "报工 SO-1001 5")
    assert shares(plant) == []


def test_a_team_is_cleared_replaced_and_refused_to_others(plant):
    plant.say("zhangwei", "班组 王五 赵六")
    assert "王五、孙七" in plant.say("zhangwei", "班组 王五、孙七")
    assert "已清空" in plant.say("zhangwei", "班组 清空")
    plant.say("zhangwei", "报工 SO-1001 10")
    assert shares(plant) == []
    assert "王五、赵六" in plant.say("zhangwei", "班组 王五和赵六")   # names joined by 和
    assert "已清空" in plant.say("zhangwei", "清空班组")             # the command said the other way round
    assert "现在没有设班组" in plant.say("zhangwei", "班组")
    before = snapshot(plant.relay)
    assert "只有班组长和车间主任可以设班组" in plant.say("chenjing", "班组 王五", chat=None)
    reply = plant.say("zhangwei", "班组 王五 赵陆")
    assert "人员名单里没有「赵陆」" in reply
    assert same_data(before, snapshot(plant.relay))
    assert "王五、赵六" in plant.say("zhangwei", "赵六")
    with plant.session() as s:
        assert len(s.scalars(select(TeamMember)).all()) == 2
    assert "看不懂「60」" in plant.say("zhangwei", "班组 王五 60")


def test_undo_and_correction_leave_the_per_worker_totals_right(plant):
    plant.say("zhangwei", "报工 SO-1001 120 王五60 赵六60")
    first = last_report(plant).id
    plant.say("zhangwei", "班组 赵六 孙七")
    plant.say("zhangwei", "报工 SO-1001 40 不良 2")
    assert totals(plant) == {"王五": (60, 0), "赵六": (80, 1), "孙七": (20, 1)}
    assert "已撤销" in plant.say("zhangwei", "撤销")            # the team's report goes, shares and all
    assert totals(plant) == {"王五": (60, 0), "赵六": (60, 0)}
    # A head corrects the first report: the shares follow the new numbers …
    reply = plant.say("qianzhuren", f"更正 R-{first} 良品 100 不良 2")
    assert "已更正" in reply and "工人：王五 50（不良 1），赵六 50（不良 1）" in reply, reply
    assert totals(plant) == {"王五": (50, 1), "赵六": (50, 1)}
    # … or are named anew (the quantities stay).
    reply = plant.say("qianzhuren", f"更正 R-{first} 王五 70 孙七 30")
    assert "工人：王五 70（不良 1），孙七 30（不良 1）" in reply, reply
    assert totals(plant) == {"王五": (70, 1), "孙七": (30, 1)}
    with plant.session() as s:
        assert (s.get(Report, first).good, s.get(Report, first).scrap) == (100, 2)
    with plant.session() as s:
        kinds = [(e.kind, [w["name"] for w in e.data.get("workers", [])])
                 for e in s.scalars(select(Event).join(Order).where(Order.order_no == "SO-1001").order_by(Event.id))
                 if e.kind.startswith("report")]
    assert kinds == [("report", ["王五", "赵六"]), ("report", ["赵六", "孙七"]), ("report_undone", ["赵六", "孙七"]),
                     ("report_corrected", ["王五", "赵六"]), ("report_corrected", ["王五", "孙七"])]
    before = snapshot(plant.relay)
    assert "对不上" in plant.say("qianzhuren", f"更正 R-{first} 良品 100 王五 70 孙七 20")
    assert same_data(before, snapshot(plant.relay))


def test_the_timeline_shows_who_did_the_work(plant):
    plant.say("zhangwei", "报工 SO-1001 120 王五60 赵六60")
    key = plant.relay.settings.api.keys[0]
    events = requests.get(f"{plant.url}/api/orders/SO-1001/events", headers={"Authorization": f"Bearer {key}"},
                          timeout=10).json()["events"]
    report = next(e for e in events if e["kind"] == "report")
    assert [(w["name"], w["good"]) for w in report["data"]["workers"]] == [("王五", 60), ("赵六", 60)]
    token = plant.relay.settings.api.board_tokens[0]
    page = requests.get(f"{plant.url}/board/orders/SO-1001?token={token}", timeout=10).text
    assert "工人：王五 60，赵六 60" in page
