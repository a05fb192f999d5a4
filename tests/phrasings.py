"""How line leads really type (and say) their commands, each with the one result expected.

The plant (tests/test_phrasings.py `world`): 冲压 lead 张伟 in wr-stamping, 焊接 lead 李娜 in
wr-welding, planner 陈静 1:1. Orders: SO-1012 车门总成 (stamping ready, an open delay warning),
SO-1013 座椅骨架 (stamping ready, capacity 210), SO-1014 车门总成 ×1000 (stamping running: 20 and 30
reported, 50 good), SO-1015 车门总成 (stamping done: 100 waiting for welding), SO-1016 座椅骨架
(stamping running), SO-1017 车门总成 (stamping stopped by an open 设备 incident). Wednesday 09:41.

A text starting with 🎤 is sent as a voice message (WeCom voice.content, DingTalk audio
recognition) in the person's direct chat. Setups run first: R = 张伟 reports SO-1013 5;
T = 张伟 reports SO-1014 10; D = 李娜 presses 数量不符 on the SO-1015 handoff card.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Applied:
    """What the database must show afterwards, exactly: `kind` and its fields."""
    kind: str               # report | receive | dispute | handoff | undo | incident | resume | request | ack
    fields: tuple = ()


def rep(order: str, good: int, scrap: int = 0, note: str | None = None, ws: str = "冲压") -> Applied:
    return Applied("report", (order, ws, good, scrap, note))


def recv(order: str) -> Applied:
    return Applied("receive", (order,))


def disp(order: str, qty: int) -> Applied:
    return Applied("dispute", (order, qty))


def hand(order: str, qty: int) -> Applied:
    return Applied("handoff", (order, qty))


UNDO = Applied("undo", ("SO-1013", 5))


def inc(order: str, category: str, description: str, recovery: str | None = None) -> Applied:
    return Applied("incident", (order, category, description, recovery))


def res(order: str) -> Applied:
    return Applied("resume", (order,))


def req(kind: str, **payload: Any) -> Applied:
    return Applied("request", (kind, tuple(sorted(payload.items()))))


def ack(count: int) -> Applied:
    return Applied("ack", (count,))


@dataclass(frozen=True)
class Confirm:
    """A confirmation is asked with this reading; `是` then applies `then`."""
    reading: str
    then: Applied


@dataclass(frozen=True)
class Question:
    """A question is asked (how many, which order); `answer` then applies `then`."""
    asked: str
    answer: str
    then: Applied


@dataclass(frozen=True)
class Refused:
    """Refused with a reply naming this; nothing changes."""
    says: str


@dataclass(frozen=True)
class Answered:
    """A reading command: answered with this, nothing changes."""
    says: str


@dataclass(frozen=True)
class Case:
    user: str
    chat: str | None
    text: str
    expect: Any
    setup: str = ""
    extra: dict = field(default_factory=dict)


S, W = "wr-stamping", "wr-welding"
ZW, LN, CJ = "zhangwei", "lina", "chenjing"
READ13 = "SO-1013 座椅骨架 冲压 良品 5"
R120 = "SO-1013 座椅骨架 冲压 良品 120"

CASES = [
    # -- 报工: typed as it comes -------------------------------------------------------------------
    Case(ZW, S, "报工 SO-1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工SO-1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "SO-1013 报工 5", rep("SO-1013", 5)),
    Case(ZW, S, "SO-1013报工5", rep("SO-1013", 5)),
    Case(ZW, S, "报工，SO-1013，5。", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 5。", rep("SO-1013", 5)),
    Case(ZW, S, "报工 @产线接力 SO-1013 5", rep("SO-1013", 5)),          # the bot mentioned mid-text
    Case(ZW, S, "报工 SO-1013 @产线接力 5 @产线接力", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 5！", rep("SO-1013", 5)),
    Case(ZW, S, "报工：SO-1013：5 不良：1", rep("SO-1013", 5, 1)),
    Case(ZW, S, "报工 SO-1013 5、不良 1", rep("SO-1013", 5, 1)),
    # thanks and emoticons at the end are no part of it (`[强]` is WeChat's 👍 as text)
    Case(ZW, S, "报工 SO-1013 5 谢谢", rep("SO-1013", 5, 0, "")),
    Case(ZW, S, "报工 SO-1013，5个，不良1个，谢谢。", rep("SO-1013", 5, 1, "")),
    Case(ZW, S, "帮我报工 SO-1013 5 辛苦了", rep("SO-1013", 5, 0, "")),
    Case(ZW, S, "报工 SO-1013 5 [强]", rep("SO-1013", 5, 0, "")),
    Case(ZW, S, "报工 SO-1013 5 备注 谢谢", rep("SO-1013", 5, 0, "谢谢")),   # written as the note: kept
    Case(ZW, S, "交接 SO-1014 三十件，谢谢", hand("SO-1014", 30)),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 谢谢[抱拳]", inc("SO-1016", "设备", "冲床坏了")),
    Case(ZW, S, "查询 SO-1013 谢谢", Answered("SO-1013")),
    Case(ZW, S, "帮我查下 SO-1013", Answered("SO-1013")),
    # two commands in one message: neither is guessed at, the reply says why
    Case(ZW, S, "报工 SO-1013 5\n报工 SO-1016 3", Refused("一条消息只能办一件事")),
    Case(ZW, S, "报工 SO-1013 5；交接 SO-1014 3", Refused("一条消息只能办一件事")),
    Case(ZW, S, "报工\nSO-1013\n5", rep("SO-1013", 5)),                  # one command over three lines
    Case(ZW, S, "报工 SO-1013 5；不良 1", rep("SO-1013", 5, 1)),
    Case(ZW, S, "异常 SO-1016 设备 液压漏油；停线", inc("SO-1016", "设备", "液压漏油;停线")),   # said of it
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了\n故障代码E05", inc("SO-1016", "设备", "冲床坏了\n故障代码E05")),
    Case(ZW, S, "上报一下异常 SO-1016 设备 冲床坏了", inc("SO-1016", "设备", "冲床坏了")),
    Case(ZW, S, "报工 SO-1013 5 备注 这批料是好的", rep("SO-1013", 5, 0, "这批料是好的")),
    Case(ZW, S, "报工 SO-1013 5 备注 首件检验 ok", rep("SO-1013", 5, 0, "首件检验 ok")),
    Case(ZW, S, "异常 SO-1016 质量 首件检验不ok", inc("SO-1016", "质量", "首件检验不ok")),
    Case(ZW, S, "报工 SO-1013 5 备注 尺寸对 谢谢", rep("SO-1013", 5, 0, "尺寸对 谢谢")),    # after the note word: the note
    Case(ZW, S, "SO-1013 做到哪了", Answered("SO-1013")),
    Case(ZW, S, "SO-1013", Answered("SO-1013")),                        # an order number alone: where it stands
    Case(ZW, S, "报一下 SO-1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "帮我报一下 SO-1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "报异常 SO-1016 设备 冲床坏了", inc("SO-1016", "设备", "冲床坏了")),
    Case(ZW, S, "报工 SO-1013 做完了 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 干了5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 5；不良 2", rep("SO-1013", 5, 2)),
    Case(ZW, S, "报工 SO-1013 5 不良2", rep("SO-1013", 5, 2)),
    Case(ZW, S, "报工 SO-1013 良品5 废品1", rep("SO-1013", 5, 1)),
    Case(ZW, S, "报工 SO-1013 合格5 不合格1", rep("SO-1013", 5, 1)),
    Case(ZW, S, "报工 SO-1013 5个，不良1个", rep("SO-1013", 5, 1)),
    Case(ZW, S, "报工 SO-1013 5 个", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 5 件 不良 1 件", rep("SO-1013", 5, 1)),
    Case(ZW, S, "报工 SO-1013 共5件", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 一共5件", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 做了5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 五十", rep("SO-1013", 50)),
    Case(ZW, S, "报工 SO-1013 一百二十", rep("SO-1013", 120)),
    Case(ZW, S, "报工 SO-1013 两百", rep("SO-1013", 200)),
    Case(ZW, S, "报工 SO-1013 十五", rep("SO-1013", 15)),
    Case(ZW, S, "报工 SO-1013 五十个 不良两个", rep("SO-1013", 50, 2)),
    Case(ZW, S, "报工 SO-1013 做了五十 不良一", rep("SO-1013", 50, 1)),
    Case(ZW, S, "报工 SO-1013 5 次品 1", rep("SO-1013", 5, 1)),
    Case(ZW, S, "报工 SO-1013 正品5 次品1", rep("SO-1013", 5, 1)),      # 正品 was asked about as a worker
    Case(ZW, S, "报工 SO-1013 5 损耗1", rep("SO-1013", 5, 1)),
    Case(ZW, S, "报工 SO-1013 好件5 坏件1", rep("SO-1013", 5, 1)),
    Case(ZW, S, "报工 SO-1013 5 不良品 2", rep("SO-1013", 5, 2)),
    Case(ZW, S, "报工 SO-1013 5 报废 1", rep("SO-1013", 5, 1)),
    Case(ZW, S, "报工 SO-1013 5 不合格品 1", rep("SO-1013", 5, 1)),
    Case(ZW, S, "报工 SO-1013 5pcs", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 5PCS 不良 1PCS", rep("SO-1013", 5, 1)),
    Case(ZW, S, "报工 SO-1013 5只", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 5套", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 数量 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 完成 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 生产 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 不良 2", rep("SO-1013", 0, 2)),
    Case(ZW, S, "报工 SO-1013 良品 5 不良 0", rep("SO-1013", 5, 0)),
    Case(ZW, S, "报工 SO-1013 5 原因 毛刺", rep("SO-1013", 5, 0, "毛刺")),
    Case(ZW, S, "报工 SO-1013 5 说明 模具磨损", rep("SO-1013", 5, 0, "模具磨损")),
    Case(ZW, S, "报工 SO-1013 5 不良 2 备注 毛刺，已返修", rep("SO-1013", 5, 2, "毛刺,已返修")),
    Case(ZW, S, "报工 SO-1013 冲压 良品 118 不良 2 备注 焊点虚焊", rep("SO-1013", 118, 2, "焊点虚焊")),
    Case(ZW, S, "报工 so-1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO—1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO 1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 so1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 ＳＯ－１０１３ ５", rep("SO-1013", 5)),
    Case(ZW, S, "报工　SO-1013　5", rep("SO-1013", 5)),
    Case(ZW, S, "報工 SO-1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "report SO-1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 冲压 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 冲压车间 5", rep("SO-1013", 5)),
    Case(ZW, S, "今天 报工 SO-1013 5", rep("SO-1013", 5)),
    Case(ZW, None, "报工 SO-1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1012 20", rep("SO-1012", 20, ws="冲压"), extra={"reply": "SO-1012** 车门总成 冲压"}),
    # a count word after 不良/良品 counts for it; 不良原因 names the note; digits with Chinese units
    Case(ZW, S, "报工 SO-1013 不良数量 2", rep("SO-1013", 0, 2)),
    Case(ZW, S, "报工 SO-1013 不良一共2个", rep("SO-1013", 0, 2)),
    Case(ZW, S, "报工 SO-1013 报废数量 2", rep("SO-1013", 0, 2)),
    Case(ZW, S, "报工 SO-1013 良品数量 4 不良数量 1", rep("SO-1013", 4, 1)),
    Case(ZW, S, "报工 SO-1013 合格数 4 不合格数 1", rep("SO-1013", 4, 1)),
    Case(ZW, S, "报工 SO-1013 5 不良 1 不良原因 毛刺", rep("SO-1013", 5, 1, "毛刺")),
    Case(ZW, S, "报工 SO-1013 5 不良 原因 毛刺", Refused("「不良」后面要写数字")),
    Case(ZW, S, "报工 SO-1013 5 毛刺2", Confirm(READ13 + " 不良 2 备注 毛刺", rep("SO-1013", 5, 2, "毛刺"))),
    Case(ZW, S, "报工 SO-1013 5 返修 1", Confirm(READ13 + " 不良 1 备注 返修", rep("SO-1013", 5, 1, "返修"))),
    Case(ZW, S, "报工 SO-1013 1百2", rep("SO-1013", 120)),
    Case(ZW, S, "报工 SO-1013 2百 不良 3个", rep("SO-1013", 200, 3)),
    # the bot @-mentioned after the command (WeCom keeps the mention where it was typed)
    Case(ZW, S, "报工 SO-1013 5 @产线接力", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 五十 @产线接力", rep("SO-1013", 50)),
    Case(ZW, S, "交接 SO-1014 30 @产线接力", hand("SO-1014", 30)),
    # -- 报工 with who did the work (issue 18): names must be people's; the shares add up --------------
    Case(ZW, S, "报工 SO-1013 5 王五3 赵六2", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 王五3 赵六2", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 王五 3 赵六 2", rep("SO-1013", 5)),   # names and numbers in pairs: shares
    Case(ZW, S, "报工 SO-1013 王五做了3 赵六做了2", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 5 2号机", Confirm("备注 2号机", rep("SO-1013", 5, 0, "2号机"))),   # a machine: a note
    Case(ZW, S, "报工 SO-1013 王五 30 赵六 20 孙七 10", rep("SO-1013", 60)),
    Case(ZW, S, "报工 SO-1013 5 王五、赵六", rep("SO-1013", 5)),
    Case(ZW, S, "报工SO-1013 5 王五赵六", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 5 不良 1 王五 3 赵六 2 备注 毛刺", rep("SO-1013", 5, 1, "毛刺")),
    Case(ZW, S, "SO-1013 5 王五3 赵六2", Confirm(READ13 + "（分给 王五 3、赵六 2）", rep("SO-1013", 5))),
    Case(ZW, S, "报工 SO-1013 5 王五3 赵陆2", Question("没有「赵陆」", "赵六", rep("SO-1013", 5))),
    Case(ZW, S, "报工 SO-1013 5 王五3 赵六3", Refused("对不上")),
    Case(ZW, S, "报工 SO-1013 5 王五6", Refused("对不上")),
    # -- 报工: guesses are asked about first ------------------------------------------------------------
    Case(ZW, S, "SO-1013 5", Confirm(READ13, rep("SO-1013", 5))),
    Case(ZW, S, "SO-1013 5 不良1", Confirm(READ13 + " 不良 1", rep("SO-1013", 5, 1))),
    Case(ZW, S, "so1013 良品5", Confirm(READ13, rep("SO-1013", 5))),
    Case(ZW, S, "报工 1013 5", Confirm(READ13, rep("SO-1013", 5))),
    Case(ZW, S, "报工 SO-1031 5", Confirm(READ13, rep("SO-1013", 5))),
    Case(ZW, S, "报工 SO-1O13 5", Confirm(READ13, rep("SO-1013", 5))),
    Case(ZW, S, "报工 SO-10133 5", Confirm(READ13, rep("SO-1013", 5))),
    Case(ZW, S, "报工 SO-1014 300", Confirm("SO-1014 车门总成 冲压 良品 300", rep("SO-1014", 300))),
    Case(ZW, S, "报工 SO-1014 10", Confirm("SO-1014 车门总成 冲压 良品 10", rep("SO-1014", 10)), setup="T"),
    Case(ZW, S, "报工 SO-1013 5 毛刺", Confirm(READ13 + " 备注 毛刺", rep("SO-1013", 5, 0, "毛刺"))),
    Case(ZW, S, "报工 SO-1013 5 好像有毛刺", Confirm(READ13 + " 备注 好像有毛刺", rep("SO-1013", 5, 0, "好像有毛刺"))),
    # a rate, "about", a count per part of the day: never a worker to ask about, nor a step
    Case(ZW, S, "报工 SO-1013 120 良率97%", Confirm(R120 + " 备注 良率97%", rep("SO-1013", 120, 0, "良率97%"))),
    Case(ZW, S, "报工 SO-1013 120 合格率 98.5%", Confirm(R120 + " 备注 合格率98.5%", rep("SO-1013", 120, 0, "合格率98.5%"))),
    Case(ZW, S, "报工 SO-1013 120 良品率97％", Confirm(R120 + " 备注 良品率97%", rep("SO-1013", 120, 0, "良品率97%"))),
    Case(ZW, S, "报工 SO-1013 上午60 下午60", Confirm(R120 + " 备注 上午60 下午60", rep("SO-1013", 120, 0, "上午60 下午60"))),
    Case(ZW, S, "报工 SO-1013 上午六十 下午六十 不良2",
         Confirm(R120 + " 不良 2 备注 上午60 下午60", rep("SO-1013", 120, 2, "上午60 下午60"))),
    Case(ZW, S, "报工 SO-1013 约120", Confirm(R120, rep("SO-1013", 120))),
    Case(ZW, S, "报工 SO-1013 大概一百二", Confirm(R120, rep("SO-1013", 120))),
    Case(ZW, S, "报工 SO-1013 120左右", Confirm(R120, rep("SO-1013", 120))),
    Case(ZW, S, "报工 SO-1013 白班60", rep("SO-1013", 60, 0, "白班60")),
    Case(ZW, S, "报工 SO-1013 120 备注 上午停机半小时", rep("SO-1013", 120, 0, "上午停机半小时")),
    Case(ZW, S, "今天冲压做了40", Question("是哪个订单", "SO-1016", rep("SO-1016", 40))),
    Case(ZW, S, "良品5 不良1", Question("是哪个订单", "SO-1013", rep("SO-1013", 5, 1))),
    Case(ZW, S, "报工 SO 1013", Question("报多少", "5", rep("SO-1013", 5))),
    Case(ZW, S, "报工 SO-1013", Question("报多少", "五十个", rep("SO-1013", 50))),
    Case(ZW, S, "报工 SO-1013 冲压", Question("报多少", "48 不良 2", rep("SO-1013", 48, 2))),
    Case(ZW, None, "🎤报工 SO-1013 5", Confirm(READ13, rep("SO-1013", 5))),
    Case(ZW, None, "🎤报工，SO-1013，五十。", Confirm("SO-1013 座椅骨架 冲压 良品 50", rep("SO-1013", 50))),
    Case(ZW, None, "🎤SO-1013 报工 五 不良 一", Confirm(READ13 + " 不良 1", rep("SO-1013", 5, 1))),
    Case(ZW, None, "🎤报工 SO-1013 五 个", Confirm(READ13, rep("SO-1013", 5))),
    # -- 报工: refused, naming the word that broke it ---------------------------------------------------
    Case(ZW, S, "报工 SO-1013 abc", Refused("看不懂「abc」")),
    Case(ZW, S, "报工 SO-1013 1.5", Refused("数量「1.5」不对")),
    Case(ZW, S, "报工 SO-1013 1e3", Refused("数量「1e3」不对")),
    Case(ZW, S, "报工 SO-1013 -5", Refused("不能是负数")),
    Case(ZW, S, "报工 SO-1013 0", Refused("不能为 0")),
    Case(ZW, S, "报工 SO-1013 999999999", Refused("太大")),
    Case(ZW, S, "报工 SO-1013 300", Refused("最多还能报 210")),
    Case(ZW, S, "报工 SO-1013 喷漆 10", Refused("没有「喷漆」工序")),
    Case(ZW, S, "报工 XX-1 10", Refused("找不到订单")),
    Case(ZW, S, "报工 SO-1099 5", Refused("找不到订单")),
    Case(ZW, S, "报工 SO-101 5", Refused("你是不是要找")),
    Case(ZW, S, "打卡 SO-1013", Refused("看不懂「打卡」")),
    Case(ZW, S, "报工", Refused("缺少订单号")),
    Case(ZW, S, "报工 SO-1013 5 6", Refused("看不懂「6」")),
    Case(ZW, S, "报工 SO-1013 5 不良", Refused("「不良」后面要写数字")),
    Case(ZW, S, "报工 SO-1013 5 不良 1 不良 2", Refused("看不懂「2」")),
    Case(ZW, S, "报工 SO-1013 abc 5 xyz", Refused("看不懂「abc」")),
    Case(ZW, S, "报工 SO-1012 焊接 10", Refused("没有权限")),
    Case(ZW, S, "报工 SO-1017 5", Refused("有未解决的异常")),
    Case(ZW, S, "报工 SO-1015 5", Refused("已经完成")),
    Case(LN, W, "报工 SO-1015 10", Refused("还没有确认收料")),
    Case("stranger", S, "报工 SO-1013 5", Refused("还没有登记")),
    Case(ZW, S, "是", Refused("没有等你确认的事")),
    Case(ZW, S, "进度 SO-1013", Answered("SO-1013")),
    Case(ZW, S, "查一下 SO-1013 进度", Answered("SO-1013")),     # what is said before the command
    Case(ZW, None, "🎤进度 SO-1013", Answered("SO-1013")),
    # -- 接收 ------------------------------------------------------------------------------------------
    Case(LN, W, "接收 SO-1015", recv("SO-1015")),
    Case(LN, W, "确认接收 SO-1015", recv("SO-1015")),
    Case(LN, W, "收到 SO-1015", recv("SO-1015")),
    Case(LN, W, "接收SO-1015", recv("SO-1015")),
    Case(LN, W, "接收 so1015", recv("SO-1015")),
    Case(LN, W, "SO-1015 接收", recv("SO-1015")),
    Case(LN, W, "接收，SO-1015。", recv("SO-1015")),
    Case(LN, W, "接收 SO-1015 100", recv("SO-1015")),
    Case(LN, W, "接收 SO-1015 100 齐了", recv("SO-1015")),
    Case(LN, W, "接收 SO-1015 100件齐了", recv("SO-1015")),
    Case(LN, W, "接收 SO-1015 数量无误", recv("SO-1015")),
    Case(LN, W, "接收SO-1015 数量对", recv("SO-1015")),
    Case(LN, W, "接收 SO-1015 数量对不上 只有96", disp("SO-1015", 96)),
    Case(LN, W, "接收 SO-1015 120", Confirm("SO-1015 车门总成 实收 120（交接单 100）", disp("SO-1015", 120))),  # more than sent
    Case(LN, W, "接收 SO-1015 焊接", recv("SO-1015")),
    Case(LN, W, "接收 SO-1015 96", disp("SO-1015", 96)),
    Case(LN, W, "实收 SO-1015 96", disp("SO-1015", 96)),
    Case(LN, W, "SO-1015 实收 96个", disp("SO-1015", 96)),
    Case(LN, W, "接收 SO-1015 实收96", disp("SO-1015", 96)),
    Case(LN, W, "接收 SO-1015 96个", disp("SO-1015", 96)),
    Case(LN, W, "接收 SO-1015 九十六", disp("SO-1015", 96)),
    Case(LN, W, "接收 1015", Confirm("SO-1015 车门总成 来料 100 件", recv("SO-1015"))),
    Case(LN, W, "接收 SO-1051", Confirm("SO-1015 车门总成 来料 100 件", recv("SO-1015"))),
    Case(LN, W, "接收 SO-1015 实收数量", Question("实际收到多少件", "96", disp("SO-1015", 96))),
    Case(LN, W, "96", Question("", "", disp("SO-1015", 96)), setup="D"),
    Case(LN, W, "实收 九十六 件", Question("", "", disp("SO-1015", 96)), setup="D"),
    Case(LN, None, "96个", Question("", "", disp("SO-1015", 96)), setup="D"),
    Case(LN, W, "就96个", Question("", "", disp("SO-1015", 96)), setup="D"),
    Case(LN, W, "只有96", Question("", "", disp("SO-1015", 96)), setup="D"),
    Case(LN, W, "实际收到96", Question("", "", disp("SO-1015", 96)), setup="D"),
    Case(LN, W, "少4个", Question("", "", disp("SO-1015", 96)), setup="D"),
    Case(LN, W, "96 原因 磕碰", Question("", "", disp("SO-1015", 96)), setup="D"),   # was read as a 报工
    Case(LN, W, "进度 SO-1015", Answered("SO-1015"), setup="D"),
    Case(LN, W, "接收 SO-1013", Refused("没有待确认的交接")),
    Case(ZW, S, "接收 SO-1015", Refused("没有待确认的交接")),
    Case(LN, W, "接收 SO-1015 96 不良 2", Refused("看不懂「不良」")),
    Case(LN, W, "接收", Refused("格式不对")),
    Case(LN, W, "接收 SO-1015 1.5", Refused("数量「1.5」不对")),
    # -- 交接 ------------------------------------------------------------------------------------------
    Case(ZW, S, "交接 SO-1014 30", hand("SO-1014", 30)),
    Case(ZW, S, "交接SO-1014 30件", hand("SO-1014", 30)),
    Case(ZW, S, "SO-1014 交接 30", hand("SO-1014", 30)),
    Case(ZW, S, "交接 SO-1014 三十", hand("SO-1014", 30)),
    Case(ZW, S, "交接 SO-1014 冲压 30", hand("SO-1014", 30)),
    Case(ZW, S, "交接，SO-1014，30。", hand("SO-1014", 30)),
    Case(ZW, S, "交接 SO-1041 30", Confirm("SO-1014 车门总成 冲压 30 件交给下道", hand("SO-1014", 30))),
    Case(ZW, None, "🎤交接 SO-1014 三十件", Confirm("SO-1014 车门总成 冲压 30 件交给下道", hand("SO-1014", 30))),
    Case(ZW, S, "交接 SO-1014 60", Refused("最多能交接 50")),
    Case(ZW, S, "交接 SO-1014", Refused("缺少数量")),
    Case(ZW, S, "交接 SO-1014 全部", hand("SO-1014", 50)),          # every good part not handed over yet
    Case(ZW, S, "交接 SO-1014 剩下的", hand("SO-1014", 50)),
    Case(ZW, S, "交接SO-1014 全部 备注 外观已检", hand("SO-1014", 50)),
    Case(ZW, S, "交接 SO-1014 全部 30", hand("SO-1014", 30)),        # a number said beside it wins
    Case(ZW, None, "🎤交接 SO-1014 全部", Confirm("SO-1014 车门总成 冲压 全部 50 件交给下道", hand("SO-1014", 50))),
    Case(ZW, S, "交接 SO-1013 全部", Refused("最多能交接 0")),
    Case(ZW, S, "交接 SO-1014 30 40", Refused("看不懂「40」")),
    Case(ZW, S, "SO-1014 全部交给焊接", hand("SO-1014", 50)),          # 交给: the order first, as said
    Case(ZW, S, "SO-1014 交给焊接 30", hand("SO-1014", 30)),
    Case(ZW, S, "交给焊接 SO-1014 30个", hand("SO-1014", 30)),         # where it goes, before the order
    Case(ZW, S, "交接 SO-1014 30 交给焊接", hand("SO-1014", 30)),
    # -- 撤销 ------------------------------------------------------------------------------------------
    Case(ZW, S, "撤销", UNDO, setup="R"),
    Case(ZW, S, "撤回", UNDO, setup="R"),
    Case(ZW, S, "undo", UNDO, setup="R"),
    Case(ZW, S, "撤销 R-{report}", UNDO, setup="R"),
    Case(ZW, S, "撤销R{report}", UNDO, setup="R"),
    Case(ZW, S, "撤销 {report}", UNDO, setup="R"),
    Case(ZW, S, "撤销，R-{report}。", UNDO, setup="R"),
    Case(ZW, None, "🎤撤销", Confirm("R-", UNDO), setup="R"),
    Case(ZW, S, "撤销 R-999999", Refused("只能撤销自己的"), setup="R"),
    Case(ZW, S, "撤销刚才的报工", UNDO, setup="R"),
    Case(ZW, S, "撤销 SO-1013", UNDO, setup="R"),                 # my last report on that order
    Case(ZW, S, "撤销 SO-1013 的报工", UNDO, setup="R"),
    Case(ZW, S, "撤销 R-{report} 数量报错了", UNDO, setup="R"),
    Case(ZW, S, "撤销 SO-1012", Refused("你在 SO-1012 上没有可以撤销的报工"), setup="R"),
    Case(ZW, S, "撤销 abc", Refused("报工单号「abc」不对"), setup="R"),
    # -- 异常 ------------------------------------------------------------------------------------------
    # 4 working hours from 09:41: the lunch break (12:00-13:00) is not working time
    Case(ZW, S, "异常 SO-1016 设备 冲床液压故障 预计 4小时", inc("SO-1016", "设备", "冲床液压故障", "11-25 14:41")),
    Case(ZW, S, "异常 SO-1016 物料 钢板没到 预计下午3点", inc("SO-1016", "物料", "钢板没到", "11-25 15:00")),
    Case(ZW, S, "异常 SO-1016 焊机坏了", inc("SO-1016", "设备", "焊机坏了")),
    Case(ZW, S, "异常 SO-1016 物料 钢板没到，预计明天到", inc("SO-1016", "物料", "钢板没到", "11-26 17:30")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 大概3点好", inc("SO-1016", "设备", "冲床坏了", "11-25 15:00")),
    Case(ZW, S, "异常 SO-1016 物料 钢板没到 预计到", Refused("预计恢复时间「到」看不懂")),
    Case(ZW, S, "停线 SO-1016 缺料", inc("SO-1016", "物料", "缺料")),
    Case(ZW, S, "故障 SO-1016 模具裂了 预计 2 小时", inc("SO-1016", "设备", "模具裂了", "11-25 11:41")),
    # recovery as leads say it; a day's end is the workshop's 下班 (17:30 here), not a fixed 17:00
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 下午三点前", inc("SO-1016", "设备", "冲床坏了", "11-25 15:00")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 两小时内能修好", inc("SO-1016", "设备", "冲床坏了", "11-25 11:41")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 修好要两个小时", inc("SO-1016", "设备", "冲床坏了", "11-25 11:41")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 预计今天下班前", inc("SO-1016", "设备", "冲床坏了", "11-25 17:30")),
    Case(ZW, S, "停线 SO-1016 缺料 预计明天", inc("SO-1016", "物料", "缺料", "11-26 17:30")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 预计中午前", inc("SO-1016", "设备", "冲床坏了", "11-25 12:00")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 预计周五", inc("SO-1016", "设备", "冲床坏了", "11-27 17:30")),
    Case(ZW, S, "异常 SO-1016 操作工受伤了", inc("SO-1016", "人员", "操作工受伤了")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 预计1小时30分钟", inc("SO-1016", "设备", "冲床坏了", "11-25 11:11")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 预计一个钟", inc("SO-1016", "设备", "冲床坏了", "11-25 10:41")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 预计下周一", inc("SO-1016", "设备", "冲床坏了", "11-30 17:30")),
    Case(ZW, S, "异常SO-1016 设备 坏了 预计明天上午", inc("SO-1016", "设备", "坏了", "11-26 12:00")),
    Case(ZW, S, "异常 SO-1016 质量 毛刺太多 预计 14:00", inc("SO-1016", "质量", "毛刺太多", "11-25 14:00")),
    Case(ZW, S, "异常 SO-1016 人员 缺人 预计 11-26 14:00", inc("SO-1016", "人员", "缺人", "11-26 14:00")),
    Case(ZW, S, "异常 SO-1016 冲压 设备 液压故障", inc("SO-1016", "设备", "液压故障")),
    Case(ZW, S, "异常 SO-1016 其他 停电", inc("SO-1016", "其他", "停电")),
    Case(ZW, S, "异常 SO-1016 天气下雨", inc("SO-1016", "其他", "天气下雨")),
    Case(ZW, S, "异常 SO-1016 来料不良", inc("SO-1016", "物料", "来料不良")),
    Case(ZW, S, "SO-1016 异常 设备 冲床坏了", inc("SO-1016", "设备", "冲床坏了")),
    Case(ZW, S, "异常，SO-1016，设备，冲床坏了，预计两个小时。", inc("SO-1016", "设备", "冲床坏了", "11-25 11:41")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 预计 半小时", inc("SO-1016", "设备", "冲床坏了", "11-25 10:11")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 预计下午3点能好", inc("SO-1016", "设备", "冲床坏了", "11-25 15:00")),
    Case(ZW, None, "🎤异常 SO-1016 焊机坏了 预计下午3点",
         Confirm("SO-1016 座椅骨架 冲压 设备 焊机坏了 预计 11-25 15:00", inc("SO-1016", "设备", "焊机坏了", "11-25 15:00"))),
    Case(ZW, S, "异常 SO-1061 设备 坏了", Confirm("SO-1016 座椅骨架 冲压 设备 坏了", inc("SO-1016", "设备", "坏了"))),
    Case(ZW, S, "异常 SO-1016 设备 坏了 预计 明年", Refused("预计恢复时间「明年」看不懂")),
    Case(ZW, S, "麻烦登记一下异常 SO-1016 设备 冲床坏了", inc("SO-1016", "设备", "冲床坏了")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 预计晚上12点", inc("SO-1016", "设备", "冲床坏了", "11-26 00:00")),   # midnight
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 预计今晚12点", inc("SO-1016", "设备", "冲床坏了", "11-26 00:00")),
    Case(ZW, S, "异常 SO-1016", Refused("格式不对")),
    Case(ZW, S, "异常 SO-1017 设备 坏了", Refused("已有未恢复的异常")),
    Case(CJ, None, "异常 SO-1016 设备 坏了", Refused("请说明是哪道工序")),
    # -- 恢复 ------------------------------------------------------------------------------------------
    Case(ZW, S, "恢复 SO-1017", res("SO-1017")),
    Case(ZW, S, "恢复SO-1017", res("SO-1017")),
    Case(ZW, S, "麻烦帮我恢复一下 SO-1017", res("SO-1017")),
    Case(ZW, S, "恢复 so-1017 冲压", res("SO-1017")),
    Case(ZW, S, "SO-1017 恢复", res("SO-1017")),
    Case(ZW, S, "恢复 SO-1017 生产", res("SO-1017")),
    Case(ZW, S, "恢复，SO-1017。", res("SO-1017")),
    Case(ZW, S, "恢复 SO-1071", Confirm("SO-1017 车门总成 冲压 恢复生产", res("SO-1017"))),
    Case(ZW, None, "🎤恢复 SO-1017", Confirm("SO-1017 车门总成 冲压 恢复生产", res("SO-1017"))),
    Case(ZW, S, "恢复 SO-1016", Refused("没有未恢复的异常")),
    Case(ZW, S, "恢复 SO-1017 马上", Refused("看不懂「马上」")),
    # -- 插单 / 变更 (planner, 1:1) ------------------------------------------------------------------------
    Case(CJ, None, "插单 SO-2001 车门总成 500 交期 12-20 原因 主机厂急单",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单SO-2001 车门总成500件 交期12月20日 原因 急单",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 车门总成 五百 交期 12/20",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 车门总成 数量 500 交期 12-20",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单，SO-2001，车门总成，500，交期，12-20。",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 车门总成 1,500 交期 12-20",   # a thousands separator
         req("rush", order_no="SO-2001", product="车门总成", quantity=1500, due_date="2026-12-20")),
    Case(CJ, None, "插单,SO-2001,车门总成,500,交期,12-20",   # ASCII commas between words still separate
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "变更 SO-1012 数量 1,200", req("quantity", order_no="SO-1012", quantity=1200)),
    Case(CJ, None, "插单 SO-2001 车门总成 500", Refused("格式不对")),
    Case(CJ, None, "插单 SO-2001 后门内板 500 交期 12-20", Refused("没有产品「后门内板」")),
    Case(CJ, None, "插单 SO-2001 车门总成 500 交期 13-45", Refused("交期「13-45」不对")),
    Case(CJ, None, "变更 SO-1012 数量 1200", req("quantity", order_no="SO-1012", quantity=1200)),
    Case(CJ, None, "变更SO-1012 数量1200", req("quantity", order_no="SO-1012", quantity=1200)),
    Case(CJ, None, "变更 SO-1012 数量 改成 1200", req("quantity", order_no="SO-1012", quantity=1200)),
    Case(CJ, None, "变更 SO-1012 数量 一千二", req("quantity", order_no="SO-1012", quantity=1200)),
    Case(CJ, None, "变更 SO-1012 交期 12-05", req("due_date", order_no="SO-1012", due_date="2026-12-05")),
    Case(CJ, None, "变更 SO-1012 交期 11-24", Refused("交期「11-24」不对")),    # yesterday: not next year's
    Case(CJ, None, "变更 SO-1012 交期 10-01", req("due_date", order_no="SO-1012", due_date="2027-10-01")),
    Case(CJ, None, "变更 SO-1012 交期 12月5日", req("due_date", order_no="SO-1012", due_date="2026-12-05")),
    Case(CJ, None, "变更 SO-1012 交期 改到 12-05", req("due_date", order_no="SO-1012", due_date="2026-12-05")),
    Case(CJ, None, "变更 SO-1012 暂停 原因 客户要求", req("pause", order_no="SO-1012")),
    Case(CJ, None, "变更 SO-1012 取消", req("cancel", order_no="SO-1012")),
    Case(CJ, None, "SO-1012 变更 数量 1200", req("quantity", order_no="SO-1012", quantity=1200)),
    Case(CJ, None, "变更 SO-1021 数量 1200",
         Confirm("SO-1012 车门总成 数量 1200", req("quantity", order_no="SO-1012", quantity=1200))),
    Case(CJ, None, "🎤变更 SO-1012 暂停", Confirm("SO-1012 车门总成 暂停", req("pause", order_no="SO-1012"))),
    Case(CJ, None, "变更 SO-1012 数量", Refused("格式不对")),
    Case(CJ, None, "变更 SO-1012 颜色 红", Refused("格式不对")),
    # -- 知悉 (a delay warning is open on SO-1012 at 冲压) --------------------------------------------------
    Case(ZW, S, "知悉 SO-1012", ack(1)),
    Case(ZW, S, "知悉SO-1012", ack(1)),
    Case(ZW, S, "知悉 so1012 冲压", ack(1)),
    Case(ZW, S, "收到", ack(1)),
    Case(ZW, S, "收到，马上安排", ack(1)),
    Case(ZW, S, "收到收到", ack(1)),
    Case(ZW, S, "收到了", ack(1)),
    Case(ZW, S, "好的 知道了", ack(1)),
    Case(ZW, S, "好的，知道了。", ack(1)),
    Case(ZW, S, "知道了", ack(1)),
    Case(ZW, S, "好的", ack(1)),
    Case(ZW, S, "知悉", ack(1)),
    Case(ZW, S, "已知悉", ack(1)),
    Case(ZW, S, "收到 SO-1012", ack(1)),
    Case(ZW, None, "🎤收到", Confirm("本车间 1 条延期预警", ack(1))),
    Case(LN, W, "收到", Refused("没有要知悉的延期预警")),
    Case(LN, W, "知悉 SO-1012 焊接 马上", Refused("看不懂「马上」")),
    # -- as leads and planners wrote them to a probe (each refused or misread before) ------------------------
    Case(LN, W, "接收 SO-1015 只有96", disp("SO-1015", 96)),
    Case(LN, W, "接收 SO-1015 少4个", disp("SO-1015", 96)),
    Case(LN, W, "接收 SO-1015 差4个", disp("SO-1015", 96)),
    Case(LN, W, "接收 SO-1015 数量不对 96", disp("SO-1015", 96)),
    Case(LN, W, "接收 SO-1015 96 原因 运输磕碰", disp("SO-1015", 96)),
    Case(LN, W, "SO-1015 只收到96个", disp("SO-1015", 96)),
    Case(LN, W, "收到 SO-1015 100个，没问题", recv("SO-1015")),
    Case(LN, W, "收到 SO-1015 100 谢谢", recv("SO-1015")),
    Case(LN, W, "收到 SO-1015 实收 96 少了4个", disp("SO-1015", 96)),   # both said, and they agree
    Case(LN, W, "收到 SO-1015 实收 95 少了4个", Refused("看不懂「少」")),  # both said, and they do not
    Case(LN, W, "收到 SO-1015 96/100", disp("SO-1015", 96)),
    Case(LN, W, "收到 SO-1015 96/" + "9" * 5000, Refused("❌")),      # hostile: a clear refusal, not a 500
    Case(LN, W, "收到 SO-1015 96件 其中2件磕碰", disp("SO-1015", 96)),     # what follows 其中: the reason
    Case(ZW, S, "恢复 SO-1017 设备已修好", res("SO-1017")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 预计恢复时间 下午3点", inc("SO-1016", "设备", "冲床坏了", "11-25 15:00")),
    Case(ZW, S, "异常 SO-1016 设备 冲床坏了 下午3点能修好", inc("SO-1016", "设备", "冲床坏了", "11-25 15:00")),
    Case(ZW, S, "异常 SO-1016 设备 冲床 3点坏的", inc("SO-1016", "设备", "冲床 3点坏的")),   # a bare time: not when
    Case(CJ, None, "变更 SO-1012 数量 从200改成1200", req("quantity", order_no="SO-1012", quantity=1200)),
    Case(CJ, None, "变更 SO-1012 数量由200改为1200", req("quantity", order_no="SO-1012", quantity=1200)),
    Case(CJ, None, "插单 SO-2001 产品 车门总成 数量 500 交期 12-20",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "变更 SO-1012 恢复生产", Refused("不需要「继续」")),     # understood: SO-1012 is not paused
    Case(CJ, None, "变更 SO-1012 暂停生产", req("pause", order_no="SO-1012")),
    Case(CJ, None, "变更 SO-1012 取消订单", req("cancel", order_no="SO-1012")),
    Case(CJ, None, "变更 SO-1012 改交期 12-05", req("due_date", order_no="SO-1012", due_date="2026-12-05")),
    Case(CJ, None, "变更 SO-1012 交期 12.5", req("due_date", order_no="SO-1012", due_date="2026-12-05")),
    Case(CJ, None, "变更 SO-1012 延期到 12-30", req("due_date", order_no="SO-1012", due_date="2026-12-30")),
    # due dates as planners write them: no 交期 word, 前/交货 after, a day alone, a weekday, 月底, 急 (the reason)
    Case(CJ, None, "插单 SO-2001 车门总成 500个 12月20号交",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 车门总成 500 12-20",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 车门总成 500件 20号前要",     # the 20th has passed this month: December's
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 车门总成 500 交期 20号",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 车门总成 500 交期 12-20 急",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 急 SO-2001 车门总成 500 交期 12-20 前 交货",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 车门总成 500 下周五前交",     # Wednesday 11-25: next week's Friday
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-04")),
    Case(CJ, None, "插单 SO-2001 车门总成 500 月底交货",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-11-30")),
    Case(CJ, None, "插单 SO-2001 车门总成 500 交期 32号", Refused("交期「32号」不对")),
    Case(CJ, None, "插单 SO-2001 车门总成 500 12-20 交货",          # 交货 after the date: not its label
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 车门总成 500 12-20 前 交货",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 车门总成 500 下周五 交货",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-04")),
    # a new order's number written as the plant writes its numbers (SO-…), not as typed
    Case(CJ, None, "插单 so2001 车门总成 500 交期 12-20",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO 2001 车门总成 500 交期 12-20",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO—2001 车门总成 500 交期 12-20",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 so1013 座椅骨架 500 交期 12-20", Refused("SO-1013 已经存在")),
    Case(CJ, None, "插单 SO-2001 车门总成 500 交期 12-20 马上", Refused("看不懂「马上」")),
    Case(CJ, None, "变更 SO-1012 交期 5号", req("due_date", order_no="SO-1012", due_date="2026-12-05")),
    Case(CJ, None, "变更 SO-1012 交期 周五", req("due_date", order_no="SO-1012", due_date="2026-11-27")),
    Case(CJ, None, "变更 SO-1012 交期 下周五", req("due_date", order_no="SO-1012", due_date="2026-12-04")),
    Case(CJ, None, "变更 SO-1012 交期 下月底", req("due_date", order_no="SO-1012", due_date="2026-12-31")),
    Case(CJ, None, "变更 SO-1012 交期 12-05 前交货 加急", req("due_date", order_no="SO-1012", due_date="2026-12-05")),
    Case(CJ, None, "变更 SO-1012 交期 本周一", Refused("交期「本周一」不对")),   # Monday has passed
    Case(CJ, None, "改交期 SO-1012 12-05", req("due_date", order_no="SO-1012", due_date="2026-12-05")),
    Case(CJ, None, "延期 SO-1012 12-30", req("due_date", order_no="SO-1012", due_date="2026-12-30")),
    Case(CJ, None, "改数量 SO-1012 1200", req("quantity", order_no="SO-1012", quantity=1200)),
    Case(CJ, None, "变更 交期 SO-1012 12-05", req("due_date", order_no="SO-1012", due_date="2026-12-05")),
    Case(CJ, None, "变更 SO-1012 交期 提前到 12-01", req("due_date", order_no="SO-1012", due_date="2026-12-01")),
    Case(CJ, None, "变更 SO-1012 交期 从12-15改到12-20", req("due_date", order_no="SO-1012", due_date="2026-12-20")),
    Case(CJ, None, "变更 SO-1012 交期 12-05 数量不变", req("due_date", order_no="SO-1012", due_date="2026-12-05")),
    Case(CJ, None, "变更 SO-1012 交期 十二月五号", req("due_date", order_no="SO-1012", due_date="2026-12-05")),
    Case(CJ, None, "变更 SO-1012 数量 1200台", req("quantity", order_no="SO-1012", quantity=1200)),
    Case(CJ, None, "变更 SO-1012 数量 增加100", req("quantity", order_no="SO-1012", quantity=300)),   # 200 + 100
    Case(CJ, None, "变更 SO-1012 数量 减少50", req("quantity", order_no="SO-1012", quantity=150)),
    Case(CJ, None, "插单 SO-2001 车门总成 交期 12-20 数量 500",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 交期 12-20 车门总成 500",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "插单 SO-2001 车门总成 五百台 交期 12-20",
         req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20")),
    Case(CJ, None, "🎤插单 SO-2001 车门总成 五百件 交期十二月二十号",
         Confirm("SO-2001 车门总成 500 件 交期 12-20",
                 req("rush", order_no="SO-2001", product="车门总成", quantity=500, due_date="2026-12-20"))),
    Case(ZW, S, "恢复 SO-1017 已修好", res("SO-1017")),
    Case(ZW, S, "恢复 SO-1017 修好了", res("SO-1017")),
    Case(ZW, S, "SO-1017 修好了", res("SO-1017")),
    Case(ZW, S, "恢复生产 SO-1017", res("SO-1017")),
    Case(ZW, S, "交接 SO-1014 30 焊接", hand("SO-1014", 30)),       # where it goes, said from stamping
    Case(ZW, S, "交接 SO-1014 30 给焊接", hand("SO-1014", 30)),
    Case(ZW, S, "移交 SO-1014 30", hand("SO-1014", 30)),
    Case(ZW, S, "交接 SO-1014 30 备注 外观已检", hand("SO-1014", 30)),       # the batch's note
    Case(ZW, S, "交接 SO-1014 30件 原因 焊接急用", hand("SO-1014", 30)),
    Case(ZW, S, "交接：SO-1014，数量30", hand("SO-1014", 30)),
    Case(ZW, S, "交接 SO-1014 30 给焊接 急用",                              # unlabeled: asked first
         Confirm("SO-1014 车门总成 冲压 30 件交给下道 备注 急用", hand("SO-1014", 30))),
    Case(ZW, S, "交接 SO-1014 三十个，已全检", Confirm("30 件交给下道 备注 全检", hand("SO-1014", 30))),
    Case(ZW, S, "交接 SO-1014 30 40", Refused("看不懂「40」")),
    Case(ZW, S, "报工 SO-1013 共5 其中不良1", rep("SO-1013", 4, 1)),
    Case(ZW, S, "报工 SO-1013 共5 其中", Refused("看不懂「其中」")),
    Case(ZW, S, "SO-1013 到哪了", Answered("SO-1013")),
    Case(ZW, S, "SO-1013 什么时候能好", Answered("SO-1013")),      # a question about the order, without 进度
    Case(LN, W, "焊接还有多少没做", Answered("焊接")),               # a workshop's queue, asked
    Case(LN, W, "焊接待办", Answered("焊接")),
    Case(ZW, S, "今天冲压还有啥活", Answered("冲压")),
    Case(ZW, S, "我们车间还有哪些单", Answered("冲压")),
    Case(ZW, S, "上报异常 SO-1016 设备 冲床坏了", inc("SO-1016", "设备", "冲床坏了")),
    Case(ZW, S, "SO-1014 还差多少", Answered("SO-1014")),
    Case(ZW, S, "SO-1014 做了多少了", Answered("SO-1014")),
    Case(ZW, S, "SO-1013 能按时交吗", Answered("SO-1013")),
    Case(ZW, S, "SO-1014 进度怎么样", Answered("SO-1014")),
    Case(ZW, S, "进度 SO-1014 焊接", Answered("SO-1014")),
    Case(ZW, S, "SO-1017 已恢复", res("SO-1017")),
    Case(ZW, S, "SO-1017 设备故障已修好", res("SO-1017")),          # 故障 said of what is mended: not a new one
    Case(ZW, S, "SO-1017 故障已排除", res("SO-1017")),
    Case(ZW, S, "SO-1017 修复了", res("SO-1017")),
    Case(ZW, S, "SO-1017 设备修好了 恢复生产", res("SO-1017")),
    Case(ZW, S, "恢复 SO-1017 冲床修好了", res("SO-1017")),
    Case(ZW, S, "恢复 SO-1017 故障已排除", res("SO-1017")),
    Case(ZW, S, "恢复 SO-1017 马上修好了", Refused("看不懂")),      # not yet
    Case(ZW, S, "查进度 SO-1013", Answered("SO-1013")),
    Case(ZW, S, "报个工 SO-1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "嗯 报工 SO-1013 5", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 5 不良 无", rep("SO-1013", 5, 0)),
    Case(ZW, S, "报工 SO-1013 5 没有不良", rep("SO-1013", 5)),
    Case(ZW, S, "报工 SO-1013 5 👍", rep("SO-1013", 5)),
    Case(ZW, S, "交接 SO-1014 30👌", hand("SO-1014", 30)),
]
