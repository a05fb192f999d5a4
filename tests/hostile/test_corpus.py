"""The bad-input corpus: requests that are not the platforms', and commands no one should be able
to apply. Each is refused with 4xx or answered with a clear reply; never a 5xx; the database is
as it was (a full dump compared, replies aside); nothing is sent but the reply itself."""
import base64
import json

import pytest
import requests

from bot.twins import wecom_crypto as wc
from tests.helpers import settle, snapshot
from tests.test_commands import seed

API_KEY = "demo-api-key-change-me-0123456789"
REPLY_TABLES = ("inbound_messages", "outbox")


@pytest.fixture
def world(live):
    seed(live)
    live.say("zhangwei", "报工 SO-1001 50")  # some state to protect
    settle(live)
    live.twin.sent.clear()
    live.dingtalk.sent.clear()
    before = snapshot(live.relay)
    yield live
    settle(live)
    after = snapshot(live.relay)
    for table in before:
        if table not in REPLY_TABLES:
            assert after[table] == before[table], f"{table} changed"
    # nothing but replies went out
    assert not [m for m in live.twin.sent if m.api not in ("response_url",)]
    assert not [m for m in live.dingtalk.sent if m.api != "session"]


def ts(live, skew=0):
    return str(live.relay.clock.epoch() + skew)


def post_aibot(live, body: bytes, params=None, content_type="application/json"):
    params = params or {"msg_signature": "0" * 40, "timestamp": ts(live), "nonce": "n"}
    return requests.post(f"{live.url}/wecom/aibot", params=params, data=body, headers={"Content-Type": content_type})


def signed_aibot(live, plaintext: str, *, key=None, receive_id="", mangle=None, skew=0):
    encrypt = wc.encrypt(key or live.twin.aibot_aes_key, plaintext, receive_id)
    if mangle:
        encrypt = mangle(encrypt)
    t = ts(live, skew)
    sig = wc.sign(live.twin.aibot_token, t, "nonce1", encrypt)
    return post_aibot(live, json.dumps({"encrypt": encrypt}).encode(), {"msg_signature": sig, "timestamp": t, "nonce": "nonce1"})


MSG = json.dumps({"msgid": "h1", "aibotid": "b", "chattype": "group", "chatid": "wr-stamping",
                  "from": {"userid": "zhangwei"}, "msgtype": "text", "text": {"content": "@bot 报工 SO-1001 1"}})

# -- WeCom AI bot transport ----------------------------------------------------------------------
AIBOT_CASES = {
    "bad signature": lambda l: post_aibot(l, json.dumps({"encrypt": wc.encrypt(l.twin.aibot_aes_key, MSG, "")}).encode()),
    "missing signature": lambda l: post_aibot(l, b'{"encrypt":"abc"}', params={}),
    "stale timestamp": lambda l: signed_aibot(l, MSG, skew=-3600),
    "future timestamp": lambda l: signed_aibot(l, MSG, skew=3600),
    "wrong aes key": lambda l: signed_aibot(l, MSG, key="Zbcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
    "wrong receive id": lambda l: signed_aibot(l, MSG, receive_id="ww-someone"),
    "truncated ciphertext": lambda l: signed_aibot(l, MSG, mangle=lambda e: e[:-12]),
    "ciphertext one block short": lambda l: signed_aibot(
        l, MSG, mangle=lambda e: base64.b64encode(base64.b64decode(e)[:-16]).decode()),
    "ciphertext padded": lambda l: signed_aibot(
        l, MSG, mangle=lambda e: base64.b64encode(base64.b64decode(e) + bytes(32)).decode()),
    "not base64": lambda l: signed_aibot(l, MSG, mangle=lambda e: "%%%" + e[3:]),
    "empty encrypt": lambda l: post_aibot(l, b'{"encrypt": ""}'),
    "json array": lambda l: post_aibot(l, b"[1, 2, 3]"),
    "deep json": lambda l: post_aibot(l, b"[" * 20000 + b"]" * 20000),
    "huge json": lambda l: post_aibot(l, json.dumps({"encrypt": "A" * 200_000}).encode()),
    "wrong content type junk": lambda l: post_aibot(l, b"encrypt=abc", content_type="application/x-www-form-urlencoded"),
    "non utf-8 body": lambda l: post_aibot(l, "{\"encrypt\": \"é\"}".encode("latin-1")),
    "decrypted not json": lambda l: signed_aibot(l, "<xml>nope</xml>"),
    "decrypted without sender": lambda l: signed_aibot(l, json.dumps({"msgid": "x", "msgtype": "text",
                                                                      "text": {"content": "报工 SO-1001 1"}})),
    "timestamp in other digits": lambda l: post_aibot(l, b'{"encrypt":"abc"}',
                                                      {"msg_signature": "a", "timestamp": "\u00b2", "nonce": "n"}),
    "timestamp not a number": lambda l: post_aibot(l, b'{"encrypt":"abc"}',
                                                   {"msg_signature": "a", "timestamp": "1e9", "nonce": "n"}),
}


@pytest.mark.parametrize("case", sorted(AIBOT_CASES))
def test_wecom_aibot_transport(world, case):
    resp = AIBOT_CASES[case](world)
    assert 400 <= resp.status_code < 500, (case, resp.status_code, resp.text[:200])


# -- WeCom self-built app (XML) ------------------------------------------------------------------
def post_app(live, body: bytes, sign=True):
    t = ts(live)
    params = {"msg_signature": "0" * 40, "timestamp": t, "nonce": "n"}
    return requests.post(f"{live.url}/wecom/callback", params=params, data=body, headers={"Content-Type": "application/xml"})


APP_CASES = {
    "xxe": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>',
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                      b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><xml><Encrypt>&c;</Encrypt></xml>',
    "external dtd": b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:1/x.dtd"><xml><Encrypt>a</Encrypt></xml>',
    "truncated xml": b"<xml><Encrypt>abc",
    "not xml": b"hello",
    "wrong root": b"<other><Encrypt>abc</Encrypt></other>",
    "no encrypt": b"<xml><ToUserName>x</ToUserName></xml>",
    "non utf-8": "<xml><Encrypt>é</Encrypt></xml>".encode("latin-1"),
    "bad signature": b"<xml><Encrypt>YWJjZGVmZ2hpamtsbW5vcA==</Encrypt></xml>",
}


@pytest.mark.parametrize("case", sorted(APP_CASES))
def test_wecom_app_transport(world, case):
    resp = post_app(world, APP_CASES[case])
    assert 400 <= resp.status_code < 500, (case, resp.status_code)


def test_wecom_app_decrypted_not_xml(world):
    assert world.twin.app_xml("not xml at all").status == 400


# -- DingTalk robot and card ---------------------------------------------------------------------
def dt_body(**over):
    body = {"msgId": "hx1", "msgtype": "text", "text": {"content": "报工 SO-1001 1"}, "conversationId": "cid-stamping",
            "conversationType": "2", "senderStaffId": "dt-zhangwei", "robotCode": "dingdemoappkey",
            "sessionWebhook": "http://127.0.0.1:1/robot/sendBySession?session=x"}
    body.update(over)
    return body


DT_CASES = {
    "bad sign": lambda l: l.dingtalk.robot_message(dt_body(), sign="AAAA"),
    "empty sign": lambda l: l.dingtalk.robot_message(dt_body(), sign=""),
    "stale timestamp": lambda l: l.dingtalk.robot_message(dt_body(), timestamp=(l.relay.clock.epoch() - 7200) * 1000),
    "future timestamp": lambda l: l.dingtalk.robot_message(dt_body(), timestamp=(l.relay.clock.epoch() + 7200) * 1000),
    "timestamp in other digits": lambda l: l.dingtalk.robot_message(dt_body(), timestamp="\u00b2"),
    "event timestamp in other digits": lambda l: requests.post(
        f"{l.url}/dingtalk/events", params={"signature": "a", "timestamp": "\u00b2", "nonce": "n"}, json={"encrypt": "x"}),
    "seconds not ms": lambda l: l.dingtalk.robot_message(dt_body(), timestamp=l.relay.clock.epoch()),
    "unknown robot": lambda l: l.dingtalk.robot_message(dt_body(robotCode="evil")),
    "malformed json": lambda l: l.dingtalk.robot_message({}, raw=b"{oops"),
    "json array": lambda l: l.dingtalk.robot_message({}, raw=b"[]"),
    "non utf-8": lambda l: l.dingtalk.robot_message({}, raw="{\"a\": \"é\"}".encode("latin-1")),
    "foreign session webhook": lambda l: l.dingtalk.robot_message(dt_body(
        sessionWebhook="http://169.254.169.254/latest/meta-data")),
    "missing msgId": lambda l: l.dingtalk.robot_message(dt_body(msgId="")),
    "missing headers": lambda l: requests.post(f"{l.url}/dingtalk/robot", json=dt_body()),
    "card without token": lambda l: requests.post(f"{l.url}/dingtalk/card", json={"outTrackId": "x", "userId": "u"}),
    "card wrong token": lambda l: requests.post(f"{l.url}/dingtalk/card?token=guess-guess-guess", json={}),
    "card never sent": lambda l: l.dingtalk.click("lr_nope", "dt-lina", "confirm", url=l.dingtalk.callback_routes["linerelay"]),
    "card malformed": lambda l: requests.post(l.dingtalk.callback_routes["linerelay"], data=b"{"),
    "card missing fields": lambda l: requests.post(l.dingtalk.callback_routes["linerelay"], json={"content": "{}"}),
}


@pytest.mark.parametrize("case", sorted(DT_CASES))
def test_dingtalk_transport(world, case):
    resp = DT_CASES[case](world)
    assert 400 <= resp.status_code < 500, (case, resp.status_code, resp.text[:200])


# -- REST API ------------------------------------------------------------------------------------
API_CASES = {
    "no key": ("/api/orders/SO-1001", {}),
    "wrong key": ("/api/orders/SO-1001", {"Authorization": "Bearer wrong-wrong-wrong-1"}),
    "basic auth": ("/api/orders/SO-1001", {"Authorization": "Basic YTpi"}),
    "sql in order no": ("/api/orders/SO-1001' OR '1'='1", {"Authorization": f"Bearer {API_KEY}"}),
    "unknown order events": ("/api/orders/NOPE/events", {"Authorization": f"Bearer {API_KEY}"}),
    "path traversal": ("/api/orders/..%2F..%2Fetc%2Fpasswd", {"Authorization": f"Bearer {API_KEY}"}),
}


@pytest.mark.parametrize("case", sorted(API_CASES))
def test_api(world, case):
    path, headers = API_CASES[case]
    resp = requests.get(f"{world.url}{path}", headers=headers)
    assert 400 <= resp.status_code < 500 and resp.headers["Content-Type"].startswith("application/json"), case


# -- commands: clear reply, nothing applied ------------------------------------------------------
COMMAND_CASES = [
    ("zhangwei", "wr-stamping", "报工 SO-1001'; DROP TABLE orders;-- 5", "看不懂"),
    ("zhangwei", "wr-stamping", "进度 <script>alert(1)</script>", "找不到订单"),
    ("zhangwei", "wr-stamping", "报工 SO-1001 99999999999999999999", "太大"),
    ("zhangwei", "wr-stamping", "报工 SO-1001 1e9", "请填写整数"),
    ("zhangwei", "wr-stamping", "报工 SO-1001 0x10", "请填写整数"),
    ("zhangwei", "wr-stamping", "报工 SO-1001 -0", "不能为 0"),
    ("zhangwei", "wr-stamping", "报工 SO-1001 1000", "最多还能报"),
    ("zhangwei", "wr-stamping", "报工 SO-1001 不良 -3", "不能是负数"),
    ("chenjing", None, "插单 SO-9001 车门总成 10 交期 02-30", "交期「02-30」不对"),
    ("chenjing", None, "插单 SO-9001 车门总成 10 交期 1999-01-01", "不对"),
    ("chenjing", None, "插单 SO-9001 车门总成 10 交期 9999-12-31", "不对"),
    ("chenjing", None, "变更 SO-1001 交期 13-01", "不对"),
    ("zhangwei", "wr-stamping", "异常 SO-1001 设备 故障 预计 99999天", "看不懂"),
    ("zhangwei", "wr-stamping", "异常 SO-1001 设备 故障 预计 25:61", "看不懂"),
    ("nobody", "wr-stamping", "报工 SO-1001 5", "还没有登记"),
    ("lina", "wr-stamping", "报工 SO-1001 冲压 5", "没有权限"),
    ("zhangwei", "wr-stamping", "绑定 焊接", "只有管理员"),
    ("zhangwei", "wr-stamping", "同意 REQ-1", "找不到申请"),
    ("sungong", None, "变更 SO-1001 暂停", "只有计划员"),
    ("lina", "wr-welding", "恢复 SO-1001", "没有未恢复的异常"),
    ("lina", "wr-welding", "接收 SO-1001", "没有待确认的交接"),
    ("zhaomin", "wr-painting", "交接 SO-1001 涂装 5", "最多能交接 0"),
    ("zhangwei", "wr-stamping", "撤销 R-999999", "只能撤销自己的"),
    ("zhangwei", "wr-stamping", "报工 " + "S" * 5000, "找不到订单"),
    ("zhangwei", "wr-stamping", "\u202e报工 SO-1001 5", "看不懂"),
    # quantities of any length are bounded before conversion, in every command that reads one
    ("zhangwei", "wr-stamping", "交接 SO-1001 " + "9" * 5000, "太大"),
    ("lina", "wr-welding", "接收 SO-1001 " + "9" * 5000, "太大"),
    ("chenjing", None, "变更 SO-1001 数量 " + "9" * 5000, "太大"),
    ("chenjing", None, "插单 SO-9001 车门总成 -" + "9" * 5000 + " 交期 12-01", "不能是负数"),
    ("qianzhuren", None, "更正 R-1 良品 " + "9" * 5000, "太大"),
    # order numbers: one rule everywhere (invisible characters dropped, at most 64 characters)
    ("chenjing", None, "插单 SO-1001\u200b 车门总成 10 交期 12-01", "已经存在"),
    ("chenjing", None, "插单 \u2066SO-1001\u2069 车门总成 10 交期 12-01", "已经存在"),
    ("chenjing", None, "插单 " + "S" * 300 + " 车门总成 10 交期 12-01", "太长"),
    ("chenjing", None, "插单 SO-9001<b> 车门总成 10 交期 12-01", "只能用字母"),
    # the lifecycle: a quantity below what was made, resuming what is not paused
    ("chenjing", None, "变更 SO-1001 数量 10", "已生产 50"),
    ("chenjing", None, "变更 SO-1001 继续", "没有暂停"),
    # 更正: heads and managers only, a real report, a real change, within the step's input
    ("zhangwei", "wr-stamping", "更正 R-1 良品 40", "车间主任或经理"),
    ("lina", "wr-welding", "更正 R-1 良品 40", "车间主任或经理"),
    ("qianzhuren", None, "更正 R-999999 良品 5", "找不到报工单"),
    ("qianzhuren", None, "更正 R-1 良品 50", "没有改动"),
    ("qianzhuren", None, "更正 R-1 良品 9999", "最多还能报"),
    ("qianzhuren", None, "更正 R-1 良品 -3", "不能是负数"),
    ("qianzhuren", None, "更正 R-1", "格式不对"),
    ("qianzhuren", None, "更正 X-1 良品 5", "格式不对"),
    ("qianzhuren", None, "更正 R-1 良品 5 颜色 红", "格式不对"),
    ("nobody", None, "更正 R-1 良品 5", "还没有登记"),
    # 了结: only a real dispute, only by its upstream lead, head or a manager
    ("zhouzong", None, "了结 SO-1001", "没有待了结"),
    ("lina", "wr-welding", "了结 SO-9999", "找不到订单"),
    ("zhangwei", "wr-stamping", "了结", "格式不对"),
    ("zhangwei", "wr-stamping", "了结 SO-1001 喷漆", "没有「喷漆」工序"),
]


@pytest.mark.parametrize("user, chat, text, expected", COMMAND_CASES, ids=[c[2][:24] for c in COMMAND_CASES])
@pytest.mark.parametrize("platform", ["wecom", "dingtalk"])
def test_commands_refused_with_a_clear_reply(world, platform, user, chat, text, expected):
    world.platform = platform
    reply = world.say(user, text, chat=chat)
    assert expected in reply, reply


def test_free_text_cannot_restyle_a_card_or_inject_a_link(live):
    seed(live)
    live.say("zhangwei", "报工 SO-1001 200")
    reply = live.say("lina", "接收 SO-1001 190", chat="wr-welding")
    assert "数量不符" in reply
    assert "已登记异常" in live.say("zhangwei", "异常 SO-1002 其他 **红字**[点我](http://evil.example)<font color=red>x</font>")
    notice = live.twin.wait_for(lambda m: m.api == "webhook" and m.target == "key-managers" and "异常通知" in m.text)
    assert "\\*\\*红字\\*\\*" in notice.text and "\\[点我\\]" in notice.text and "\\<font" in notice.text
