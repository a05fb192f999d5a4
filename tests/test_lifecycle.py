"""The order lifecycle end to end (issue #12): what a state forbids is refused with a clear reply
and changes nothing; the rules that close (separation of duties, quantity changes, undo, disputes,
corrections) hold through real callbacks on both platforms."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storage.models import ChangeRequest, Handoff, Incident, Order, Report
from tests.helpers import settle, snapshot
from tests.test_commands import seed, step

UNCHANGED_EXCEPT = ("outbox", "inbound_messages")


def same_data(before, after):
    return {k: v for k, v in before.items() if k not in UNCHANGED_EXCEPT} == \
           {k: v for k, v in after.items() if k not in UNCHANGED_EXCEPT}


@pytest.fixture(params=["wecom", "dingtalk"])
def plant(live, request):
    live.platform = request.param
    return seed(live)


def hold(live, word: str, order_no="SO-1001", request_id=1):
    assert f"REQ-{request_id}" in live.say("chenjing", f"变更 {order_no} {word} 原因 客户要求", chat=None)
    assert "同意" in live.say("zhouzong", f"同意 REQ-{request_id}", chat=None)


# -- paused and cancelled orders --------------------------------------------------------------

@pytest.mark.parametrize("word, state", [("暂停", "已暂停"), ("取消", "已取消")])
def test_reports_and_handoffs_on_a_held_order_are_refused(plant, word, state):
    plant.say("zhangwei", "报工 SO-1001 100")
    plant.say("zhangwei", "交接 SO-1001 50")
    hold(plant, word)
    before = snapshot(plant.relay)
    refused = [("zhangwei", "wr-stamping", "报工 SO-1001 100"), ("zhangwei", "wr-stamping", "交接 SO-1001 20"),
               ("zhangwei", "wr-stamping", "异常 SO-1001 设备 冲床故障")]
    if word == "取消":   # a paused order's batch on its way may still be received (the next test)
        refused[2:2] = [("lina", "wr-welding", "接收 SO-1001"), ("lina", "wr-welding", "接收 SO-1001 45")]
    for user, chat, text in refused:
        reply = plant.say(user, text, chat=chat)
        assert state in reply and "不能" in reply, (text, reply)
    settle(plant)
    assert same_data(before, snapshot(plant.relay))
    assert step(plant).good_qty == 100 and step(plant, seq=2).received_qty == 0


def test_a_batch_on_its_way_is_received_at_a_paused_order_and_reminded_until_then(plant):
    """50 and 30 handed over, then the order paused: welding is reminded of the batches and its
    接收 is booked; the work itself stays stopped."""
    from bot.jobs import run_job
    from datetime import datetime
    plant.relay.clock.set_local(datetime(2026, 11, 25, 9))   # a Wednesday: reminders count working time
    plant.say("zhangwei", "报工 SO-1001 100")
    plant.say("zhangwei", "交接 SO-1001 50")
    plant.say("zhangwei", "交接 SO-1001 30")
    hold(plant, "暂停")
    plant.relay.clock.advance(timedelta(hours=3))
    assert run_job(plant.relay, "reminders")["handoffs"] >= 1
    reply = plant.say("lina", "接收 SO-1001", chat="wr-welding")
    assert "80 件" in reply and "订单暂停中" in reply, reply
    assert step(plant, seq=2).received_qty == 80
    assert "已暂停" in plant.say("lina", "报工 SO-1001 10", chat="wr-welding")
    with plant.session() as s:
        assert s.scalar(select(Order.status).where(Order.order_no == "SO-1001")) == "paused"
        assert {h.status for h in s.scalars(select(Handoff))} == {"confirmed"}


def test_a_cancelled_order_cannot_be_resumed_and_a_held_one_not_paused_again(plant):
    hold(plant, "取消")
    assert "已取消" in plant.say("chenjing", "变更 SO-1001 继续", chat=None)
    assert "已取消" in plant.say("chenjing", "变更 SO-1001 暂停", chat=None)
    hold(plant, "暂停", "SO-1002", request_id=2)
    assert "已暂停" in plant.say("chenjing", "变更 SO-1002 暂停", chat=None)
    with plant.session() as s:
        assert s.scalar(select(func.count()).select_from(ChangeRequest)) == 2


def test_the_second_of_two_pending_pauses_is_refused_at_approval(plant):
    plant.say("chenjing", "变更 SO-1001 暂停", chat=None)
    plant.say("chenjing", "变更 SO-1001 暂停", chat=None)
    assert "同意" in plant.say("zhouzong", "同意 REQ-1", chat=None)
    reply = plant.say("zhouzong", "同意 REQ-2", chat=None)
    assert "已暂停" in reply and "驳回 REQ-2" in reply and "更正" not in reply, reply   # how to close it
    with plant.session() as s:
        assert s.scalar(select(ChangeRequest.status).where(ChangeRequest.id == 2)) == "pending"
    assert "驳回" in plant.say("zhouzong", "驳回 REQ-2 原因 重复", chat=None)


# -- separation of duties ---------------------------------------------------------------------

def test_a_manager_may_not_approve_their_own_request(plant):
    assert "REQ-1" in plant.say("zhouzong", "变更 SO-1001 暂停", chat=None)
    reply = plant.say("zhouzong", "同意 REQ-1", chat=None)
    assert "自己" in reply
    with plant.session() as s:
        assert s.scalars(select(ChangeRequest.status)).one() == "pending"
    assert "同意" in plant.say("wujingli", "同意 REQ-1", chat=None)
    with plant.session() as s:
        assert s.scalars(select(ChangeRequest.status)).one() == "approved"


def test_own_approval_allowed_when_configured(database_url):
    from tests.helpers import make_settings
    from storage.requests import Policy
    settings = make_settings(database_url, **{"approvals.allow_self": True})
    assert settings.approvals.allow_self is True
    assert make_settings(database_url).approvals.allow_self is False
    assert Policy(mode="any", approver_ids=(), allow_self=True).allow_self


# -- order numbers ----------------------------------------------------------------------------

def due(live, days=4):
    return (live.relay.clock.today() + timedelta(days=days)).strftime("%m-%d")


@pytest.mark.parametrize("number", ["SO-1001\u200b", "SO-\u202e1001", "\ufeffSO-1001", "ｓｏ－１００１"])
def test_rush_with_an_invisible_variant_of_an_existing_number_is_refused(plant, number):
    reply = plant.say("chenjing", f"插单 {number} 车门总成 10 交期 {due(plant)}", chat=None)
    assert "已经存在" in reply and "SO-1001" in reply
    with plant.session() as s:
        assert s.scalar(select(func.count()).select_from(ChangeRequest)) == 0


def test_rush_number_is_stored_normalised(plant):
    reply = plant.say("chenjing", f"插单 so-20\u200d01 车门总成 10 交期 {due(plant)}", chat=None)
    assert "REQ-1" in reply
    with plant.session() as s:
        assert s.scalars(select(ChangeRequest)).one().payload["order_no"] == "SO-2001"


@pytest.mark.parametrize("number", ["SO-" + "1" * 300, "SO-1001'x", "-SO1"])
def test_rush_with_a_bad_number_is_refused_like_an_import(plant, number):
    reply = plant.say("chenjing", f"插单 {number} 车门总成 10 交期 {due(plant)}", chat=None)
    assert "订单号" in reply and "64" in reply
    with plant.session() as s:
        assert s.scalar(select(func.count()).select_from(ChangeRequest)) == 0


def test_import_and_api_apply_the_same_number_rules():
    from bot.importer import BadRow, parse_row
    row = {"order_no": "so-1001\u200b", "product": "车门总成", "quantity": "5", "due_date": "2026-12-01"}
    assert parse_row(row, 1000).order_no == "SO-1001"
    with pytest.raises(BadRow):
        parse_row({**row, "order_no": "SO-" + "1" * 70}, 1000)


def test_two_pending_rush_requests_for_one_number(plant):
    assert "REQ-1" in plant.say("chenjing", f"插单 SO-2001 车门总成 10 交期 {due(plant)}", chat=None)
    reply = plant.say("chenjing", f"插单 SO-2001 座椅骨架 20 交期 {due(plant)}", chat=None)
    assert "REQ-1" in reply and "待审批" in reply
    with plant.session() as s:
        assert s.scalar(select(func.count()).select_from(ChangeRequest)) == 1


def test_rush_approved_after_the_number_was_taken_is_refused_clearly(plant):
    assert "REQ-1" in plant.say("chenjing", f"插单 SO-2001 座椅骨架 10 交期 {due(plant)}", chat=None)
    plant.add_order("SO-2001", quantity=50)  # imported meanwhile, another product
    reply = plant.say("zhouzong", "同意 REQ-1", chat=None)
    assert "SO-2001" in reply and "已经存在" in reply
    with plant.session() as s:
        assert s.scalars(select(ChangeRequest.status)).one() == "pending"
        assert s.scalars(select(Order.product).where(Order.order_no == "SO-2001")).one() == "车门总成"
    assert "驳回" in plant.say("zhouzong", "驳回 REQ-1 原因 订单号已占用", chat=None)


@pytest.mark.parametrize("text", ["报工 SO-1001 {q}", "交接 SO-1001 {q}", "报工 SO-1001 不良 {q}",
                                  "变更 SO-1001 数量 {q}", "插单 SO-2001 车门总成 {q} 交期 12-01"])
def test_a_quantity_of_5000_digits_is_refused_not_a_server_error(plant, text):
    reply = plant.say("chenjing" if text[:2] in ("变更", "插单") else "zhangwei",
                      text.format(q="9" * 5000), chat=None if text[:2] in ("变更", "插单") else "wr-stamping")
    assert "太大" in reply and len(reply) < 500


# -- quantity changes -------------------------------------------------------------------------

def test_a_quantity_cut_below_what_was_produced_is_refused_at_request_time(plant):
    plant.say("zhangwei", "报工 SO-1001 150")
    reply = plant.say("chenjing", "变更 SO-1001 数量 100", chat=None)
    assert "已生产 150" in reply
    with plant.session() as s:
        assert s.scalar(select(func.count()).select_from(ChangeRequest)) == 0
    assert step(plant).planned_qty == 200


def test_a_quantity_cut_to_what_was_produced_completes_the_step_and_hands_over(plant):
    plant.say("zhangwei", "报工 SO-1001 150")
    plant.say("chenjing", "变更 SO-1001 数量 150", chat=None)
    plant.say("zhouzong", "同意 REQ-1", chat=None)
    st = step(plant)
    assert (st.planned_qty, st.status, st.handed_qty) == (150, "done", 150)
    plant.twin.wait_for(lambda m: m.api == "webhook" and m.target == "key-welding" and "SO-1001" in m.text
                        and "150" in m.text and "交接" in m.text)
    assert "已确认接收" in plant.say("lina", "接收 SO-1001", chat="wr-welding")


def test_production_past_a_pending_cut_makes_its_approval_refused(plant):
    plant.say("zhangwei", "报工 SO-1001 90")
    assert "REQ-1" in plant.say("chenjing", "变更 SO-1001 数量 100", chat=None)
    plant.say("zhangwei", "报工 SO-1001 15")
    reply = plant.say("zhouzong", "同意 REQ-1", chat=None)
    assert "已生产 105" in reply
    assert step(plant).planned_qty == 200
    assert "最多还能报" in plant.say("zhangwei", "报工 SO-1001 500")  # not jammed: reports still count


def test_a_quantity_raised_after_the_first_step_finished_reopens_it(plant):
    plant.say("zhangwei", "报工 SO-1001 200")
    plant.say("chenjing", "变更 SO-1001 数量 250", chat=None)
    plant.say("zhouzong", "同意 REQ-1", chat=None)
    assert step(plant).status == "running"
    assert "已报工" in plant.say("zhangwei", "报工 SO-1001 50")
    with plant.session() as s:
        assert sorted(s.scalars(select(Handoff.quantity))) == [50, 200]


# -- undo -------------------------------------------------------------------------------------

def test_undo_of_the_completing_report_withdraws_only_its_own_handoff(plant):
    plant.say("zhangwei", "报工 SO-1001 100")
    plant.say("zhangwei", "交接 SO-1001 60")
    assert "是不是要报" in plant.say("zhangwei", "报工 SO-1001 100")   # the same report again: asked first
    assert "已报工" in plant.say("zhangwei", "是")
    assert "已撤销" in plant.say("zhangwei", "撤销")
    with plant.session() as s:
        assert sorted((h.quantity, h.status) for h in s.scalars(select(Handoff))) == [(60, "pending"), (140, "withdrawn")]
    st = step(plant)
    assert (st.good_qty, st.handed_qty, st.status) == (100, 60, "running")
    assert "已确认接收" in plant.say("lina", "接收 SO-1001", chat="wr-welding")
    assert step(plant, seq=2).received_qty == 60


def test_undo_of_a_report_whose_parts_left_in_a_batch_is_refused(plant):
    plant.say("zhangwei", "报工 SO-1001 100")
    plant.say("zhangwei", "交接 SO-1001 100")
    assert "交接" in plant.say("zhangwei", "撤销")
    assert step(plant).good_qty == 100


# -- disputes ---------------------------------------------------------------------------------

def dispute(live, received=196):
    live.say("zhangwei", "报工 SO-1001 200")
    assert "数量不符" in live.say("lina", f"接收 SO-1001 {received}", chat="wr-welding")


def open_counts(live):
    """What the board, the digest and 进度 each say is open for SO-1001's stamping step."""
    from bot.jobs.digest import workshop_digest
    from storage.board import board
    with live.session() as s:
        now = live.relay.clock.now()
        row = next(r for r in board(s, now)["rows"] if r["order"].order_no == "SO-1001")
        stamping = row["order"].steps[0]
        digest = workshop_digest(s, stamping.workshop_id, (now - timedelta(days=1), now, None), [])
    progress = live.say("zhouzong", "进度 SO-1001", chat=None)
    return row["cells"][stamping.workshop_id].incident, len(digest["incidents"]), "数量不符" in progress


def test_a_dispute_is_open_everywhere_until_settled(plant):
    dispute(plant)
    assert open_counts(plant) == (True, 1, True)
    assert "了结 SO-1001" in plant.say("zhangwei", "恢复 SO-1001")
    assert "只有上道" in plant.say("lina", "了结 SO-1001", chat="wr-welding")
    reply = plant.say("zhangwei", "了结 SO-1001")
    assert "已了结" in reply
    assert open_counts(plant) == (False, 0, False)
    with plant.session() as s:
        assert s.scalars(select(Handoff.status)).one() == "settled"
        assert s.scalars(select(Incident)).one().closed_at is not None
    for key in ("key-stamping", "key-welding"):
        plant.twin.wait_for(lambda m, k=key: m.api == "webhook" and m.target == k and "了结" in m.text)
    assert "没有待了结" in plant.say("zhangwei", "了结 SO-1001")


def test_a_manager_settles_a_dispute(plant):
    dispute(plant)
    assert "已了结" in plant.say("zhouzong", "了结 SO-1001", chat=None)


@pytest.mark.parametrize("text", ["了结 so1001", "了结 SO-1001 的争议", "了结 SO-1001 冲压"])
def test_a_settlement_as_people_write_it(plant, text):
    """The order number as 报工 reads it (`so1001` was not found), and words said with it."""
    dispute(plant)
    assert "已了结" in plant.say("zhangwei", text)
    with plant.session() as s:
        assert s.scalars(select(Handoff.status)).one() == "settled"


def test_the_dispute_card_has_a_settle_button(live):
    seed(live)
    dispute(live)
    card = live.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-stamping" and "数量不符" in str(m.payload))
    track = card.payload["body"]["outTrackId"]
    assert live.dingtalk.click(track, "dt-lina", "settle").status_code == 403
    resp = live.dingtalk.click(track, "dt-zhangwei", "settle")
    assert resp.status_code == 200 and "张伟" in resp.json()["cardData"]["cardParamMap"]["outcome"]
    with live.session() as s:
        assert s.scalars(select(Handoff.status)).one() == "settled"


def test_the_wecom_dispute_card_settles_by_click(live):
    seed(live)
    dispute(live)
    sent = live.twin.wait_for(lambda m: m.api == "message" and m.payload.get("msgtype") == "template_card"
                              and m.target == "zhangwei" and "数量不符" in str(m.payload))
    assert live.twin.card_click("zhangwei", sent.payload["template_card"]["task_id"], "settle").status == 200
    with live.session() as s:
        assert s.scalars(select(Incident)).one().closed_at is not None


# -- corrections ------------------------------------------------------------------------------

def received_downstream(live):
    live.say("zhangwei", "报工 SO-1001 200")
    live.say("lina", "接收 SO-1001", chat="wr-welding")
    with live.session() as s:
        return s.scalars(select(Report.id)).one()


def test_the_head_corrects_a_report_after_handoff_and_both_workshops_hear(plant):
    report_id = received_downstream(plant)
    assert "车间主任" in plant.say("zhangwei", "撤销")
    assert "车间主任或经理" in plant.say("zhangwei", f"更正 R-{report_id} 良品 195")
    reply = plant.say("qianzhuren", f"更正 R-{report_id} 良品 195 不良 5", chat=None)
    assert "已更正" in reply and "195" in reply
    st, down = step(plant), step(plant, seq=2)
    assert (st.good_qty, st.scrap_qty, st.handed_qty, st.status) == (195, 5, 195, "done")
    assert down.received_qty == 195
    with plant.session() as s:
        report = s.get(Report, report_id)
        assert (report.good, report.scrap) == (195, 5)
        assert [(h.quantity, h.received_qty) for h in s.scalars(select(Handoff))] == [(195, 195)]
    for key in ("key-stamping", "key-welding"):
        plant.twin.wait_for(lambda m, k=key: m.api == "webhook" and m.target == k and "更正" in m.text)


@pytest.mark.parametrize("text, good, scrap", [
    ("更正 R-{} 不良 5", 200, 5),                        # only the scrap: the good stays
    ("更正 R-{} 报废5", 200, 5),
    ("更正 R-{} 良品195件 不良5件 原因 漏报", 195, 5),       # units, and the reason kept with the event
    ("更正 R-{} 良品改成195 不良改为5", 195, 5),              # as 变更 reads its new number
    ("更正 R-{} 良品 从200改成195 不良 5", 195, 5),
])
def test_a_correction_as_heads_write_it(plant, text, good, scrap):
    from storage.models import Event
    report_id = received_downstream(plant)
    reply = plant.say("qianzhuren", text.format(report_id), chat=None)
    assert "已更正" in reply, reply
    with plant.session() as s:
        report = s.get(Report, report_id)
        assert (report.good, report.scrap) == (good, scrap)
        event = s.scalars(select(Event).where(Event.kind == "report_corrected")).one()
        assert event.data.get("reason") == ("漏报" if "原因" in text else None)
    assert step(plant, seq=2).received_qty == good


def test_a_manager_corrects_upwards_and_the_downstream_step_may_report_more(plant):
    report_id = received_downstream(plant)
    plant.say("zhangwei", "报工 SO-1001 0 不良 0")  # noise: refused, nothing changes
    assert "已更正" in plant.say("zhouzong", f"更正 R-{report_id} 良品 205", chat=None)
    assert step(plant, seq=2).received_qty == 205
    assert "已报工" in plant.say("lina", "报工 SO-1001 205", chat="wr-welding")


def test_a_correction_below_what_downstream_already_processed_is_refused(plant):
    report_id = received_downstream(plant)
    plant.say("lina", "报工 SO-1001 200", chat="wr-welding")
    before = snapshot(plant.relay)
    reply = plant.say("qianzhuren", f"更正 R-{report_id} 良品 150", chat=None)
    assert "焊接" in reply and "200" in reply
    settle(plant)
    assert same_data(before, snapshot(plant.relay))


@pytest.mark.parametrize("received", [True, False])
def test_a_cut_below_a_batch_takes_back_only_what_left_beyond_the_new_total(plant, received):
    """100 made, 60 handed over (received, or still pending), then the report is corrected to 50:
    only 10 of the batch come back (50 stay handed over), not the whole 50 of the cut."""
    plant.say("zhangwei", "报工 SO-1001 100")
    plant.say("zhangwei", "交接 SO-1001 60")
    if received:
        assert "60" in plant.say("lina", "接收 SO-1001", chat="wr-welding")
    with plant.session() as s:
        report_id = s.scalars(select(Report.id)).one()
    assert "已更正" in plant.say("qianzhuren", f"更正 R-{report_id} 良品 50", chat=None)
    st, down = step(plant), step(plant, seq=2)
    assert (st.good_qty, st.handed_qty) == (50, 50)
    with plant.session() as s:
        handoff = s.scalars(select(Handoff)).one()
        assert (handoff.quantity, handoff.received_qty) == ((50, 50) if received else (50, None))
    assert down.received_qty == (50 if received else 0)
    if not received:
        assert "50" in plant.say("lina", "接收 SO-1001", chat="wr-welding")
        assert step(plant, seq=2).received_qty == 50


def test_a_cut_deeper_than_the_last_batch_names_the_least_it_may_be(plant):
    plant.say("zhangwei", "报工 SO-1001 100")
    plant.say("zhangwei", "交接 SO-1001 60")
    plant.say("zhangwei", "交接 SO-1001 40")
    with plant.session() as s:
        report_id = s.scalars(select(Report.id)).one()
    before = snapshot(plant.relay)
    reply = plant.say("qianzhuren", f"更正 R-{report_id} 良品 30", chat=None)
    assert "40 件" in reply and "最少只能更正到 60" in reply, reply
    settle(plant)
    assert same_data(before, snapshot(plant.relay))
    assert "已更正" in plant.say("qianzhuren", f"更正 R-{report_id} 良品 60", chat=None)
    assert (step(plant).good_qty, step(plant).handed_qty) == (60, 60)


# -- card clicks ------------------------------------------------------------------------------

def test_two_clicks_by_one_person_in_one_second_both_count(live):
    seed(live)
    live.say("zhangwei", "报工 SO-1001 200")
    live.say("zhangwei", "报工 SO-1002 100")
    cards = []
    for no in ("SO-1001", "SO-1002"):
        sent = live.twin.wait_for(lambda m, n=no: m.api == "message" and m.target.startswith("lina")
                                  and m.payload.get("msgtype") == "template_card" and n in str(m.payload))
        cards.append(sent.payload["template_card"]["task_id"])
    settle(live)
    moment = live.relay.clock.epoch()
    for task in cards:
        assert live.twin.card_click("lina", task, "confirm", create_time=moment).status == 200
    assert step(live, "SO-1001", seq=2).received_qty == 200
    assert step(live, "SO-1002", seq=2).received_qty == 100


@pytest.mark.parametrize("number, path", [("SO/2026#7", "SO%2F2026%237"), ("SO/2026#7", "so/2026%237"),
                                          ("A.B_C-1", "A.B_C-1")])
def test_any_accepted_number_works_in_every_link_and_api_path(live, number, path):
    import re
    import requests
    key = {"Authorization": "Bearer demo-api-key-change-me-0123456789"}
    body = {"order_no": number, "product": "车门总成", "quantity": 10, "due_date": "2026-12-20"}
    assert requests.post(f"{live.url}/api/orders", json=body, headers=key).status_code == 201
    assert requests.get(f"{live.url}/api/orders/{path}", headers=key).json()["order_no"] == number
    assert requests.get(f"{live.url}/api/orders/{path}/events", headers=key).json()["order_no"] == number
    token = "demo-board-token-hall-1-0123"
    board = requests.get(f"{live.url}/board", params={"token": token}).text
    link = re.search(r'href="(/board/orders/[^"]+)"', board).group(1).replace("&amp;", "&")
    page = requests.get(f"{live.url}{link}")
    assert page.status_code == 200 and f"{number} 车门总成" in page.text.replace("&#35;", "#")
    assert number in live.say("zhouzong", f"进度 {number.lower()}", chat=None)


def test_the_lifecycle_table_refuses_a_move_it_does_not_list():
    from storage.lifecycle import IllegalMove, move
    from storage.models import Step
    handoff = Handoff(status="confirmed")
    with pytest.raises(IllegalMove):
        move("handoff", handoff, "pending")
    with pytest.raises(IllegalMove):
        move("step", Step(status="waiting"), "running")   # a step starts only with parts received
    settled = Handoff(status="disputed")
    move("handoff", settled, "settled")
    assert settled.status == "settled"


def test_under_the_all_policy_a_requester_approver_is_not_needed(live):
    from storage.directory import person_by_platform_id
    from storage.errors import SelfApproval
    from storage.requests import Policy, decide_request
    seed(live)
    assert "REQ-1" in live.say("zhouzong", "变更 SO-1001 暂停", chat=None)
    with live.relay.Session.begin() as s:
        zhou, wu = (person_by_platform_id(s, "wecom", u) for u in ("zhouzong", "wujingli"))
        policy = Policy(mode="all", approver_ids=(zhou.id, wu.id))
        now = live.relay.clock.now()
        with pytest.raises(SelfApproval):
            decide_request(s, now, request_id=1, person=zhou, approve=True, reason="", policy=policy,
                           source="test")
        assert decide_request(s, now, request_id=1, person=wu, approve=True, reason="", policy=policy,
                              source="test").status == "approved"


def test_a_correction_before_the_next_workshop_received_changes_the_pending_handoff(plant):
    plant.say("zhangwei", "报工 SO-1001 200")
    with plant.session() as s:
        report_id = s.scalars(select(Report.id)).one()
    reply = plant.say("qianzhuren", f"更正 R-{report_id} 190 不良 10", chat=None)
    assert "已更正" in reply and "190" in reply
    with plant.session() as s:
        assert [(h.quantity, h.status) for h in s.scalars(select(Handoff))] == [(190, "pending")]
    assert "190" in plant.say("lina", "接收 SO-1001", chat="wr-welding")
    assert step(plant, seq=2).received_qty == 190
