"""What the commands share when reading a message: the words leads really use (synonyms, units,
fillers), order numbers as they are really typed, and quantities with their words and units.

Anything read by a rule that could be wrong (an order number that does not exist but is one
keystroke from one that does, a number without its prefix, an order guessed from the workshop)
is noted on the context as a doubt: the reader then asks before anything is applied."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.errors import Ask, BadSyntax
from bot.handlers.base import Context
from bot.text import UNITS, Word, is_quantity, join_words, looks_like_number, parse_quantity
from storage.directory_cache import cached
from storage.errors import UnknownOrder
from storage.rules import checked_order_no
from storage.models import Order, Step, Workshop
from storage.orders import find_order, normalize_order_no

GOOD_WORDS = {"良品", "合格", "合格品", "好品", "正品", "良件", "好件", "完成", "完成了", "做了", "做", "生产", "生产了",
              "产出", "做完", "做完了", "干了", "good"}
SCRAP_WORDS = {"不良", "不良品", "次品", "废品", "废件", "坏件", "坏的", "损耗", "报损", "报废", "不合格", "不合格品", "废",
               "scrap"}
NOTE_WORDS = {"备注", "原因", "说明", "理由", "note", "reason"}
# defects named with their count (`50 毛刺2`): read as that much scrap, the defect its note, confirmed first
DEFECT_WORDS = {"毛刺", "划伤", "划痕", "刮伤", "压伤", "碰伤", "变形", "凹陷", "起皱", "开裂", "裂纹", "砂眼", "气孔",
                "夹渣", "虚焊", "漏焊", "焊穿", "焊偏", "色差", "流挂", "漏底", "脱漆", "起泡", "橘皮", "缺料", "错装",
                "漏装", "超差", "尺寸超差", "返修", "返工"}
# said with a receipt (`接收 SO-1001 100 齐了`, `数量无误`): nothing more than that it is right
FINE_WORDS = {"没问题", "谢谢", "谢了", "好的", "ok", "对的", "无误", "数量无误", "齐了", "收齐", "收齐了", "到齐了", "正确",
              "数量正确", "数量对", "数量没问题", "没毛病"}
# the ones the lexicon cuts at (`100件齐了`, `数量无误`); not words that end other words (`是好的`, `尺寸ok`), and
# `数量对不上` is the opposite of `数量对`
MISMATCH_WORDS = {"数量不对", "对不上", "数量对不上"}   # said around the real count (`数量对不上 只有96`)
_RECEIPT_PHRASES = (FINE_WORDS - {"谢谢", "谢了", "好的", "ok", "对的", "正确"}) | MISMATCH_WORDS
COUNT_WORDS = {"共", "一共", "总共", "合计", "共计", "数量", "数", "件数", "个数", "实收", "实际", "实到", "到了", "收了", "来了"}
FILLERS = {"今天", "今日", "刚才", "刚刚", "已经", "已", "了", "我", "我们", "这边", "麻烦", "请", "帮我", "一下",
           "这批", "本批", "批", "总数", "改成", "改为", "改到", "为", "是", "嗯", "呃", "哦", "啊",
           "没有不良", "无不良", "零不良"}
CATEGORIES = ("设备", "物料", "质量", "人员", "其他")
NONE_WORDS = {"无", "没有", "没"}
WITHIN_WORDS = {"其中", "包括", "包含", "含"}   # `共5 其中不良1`: 4 good and 1 scrap
RECOVERY_WORDS = {"预计", "预计恢复", "预计恢复时间", "恢复时间", "预计时间", "预计修好", "预估", "估计", "大概", "大约",
                  "eta"}
# what is said before a command, cut off it (`上报一下异常`: not 上 + 报一下)
_LEAD_PHRASES = {"上报", "登记", "查查", "看看", "设置", "问下", "查下", "提交"}
KEYWORDS = (GOOD_WORDS | SCRAP_WORDS | DEFECT_WORDS | NOTE_WORDS | COUNT_WORDS | FILLERS | RECOVERY_WORDS | set(CATEGORIES)
            | set(UNITS) | _RECEIPT_PHRASES | WITHIN_WORDS | _LEAD_PHRASES
            | {"交期", "暂停", "继续", "取消", "实收数量", "延期到", "推迟到", "提前到", "延期", "推迟", "产品", "暂停生产",
               "取消订单", "只有"})
_ORDER_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./#-]*$")


def lexicon(ctx: Context) -> list[str]:
    """The words a message is cut at: command words, keywords, the workshops' names."""
    return [*ctx.commands.words(), *KEYWORDS, *workshop_words(ctx)]


def workshop_words(ctx: Context) -> frozenset[str]:
    """Every workshop's name and aliases (kept per process until the directory changes)."""
    def load() -> frozenset[str]:
        words: set[str] = set()
        for name, aliases in ctx.session.execute(select(Workshop.name, Workshop.aliases)):
            words.add(name)
            words.update(aliases.split())
        return frozenset(words)
    return cached(ctx.session, ("workshop_words",), load)


def key_of(word: str) -> str:
    return word.lower()


def skip_fillers(words: list[Word]) -> list[Word]:
    return [w for w in words if key_of(w) not in FILLERS]


# -- order numbers ---------------------------------------------------------------------------------

def is_order_text(word: str) -> bool:
    """Could be an order number as typed: letters and digits (and - _ . / #), with a digit."""
    if word.isdigit():
        return True
    return bool(_ORDER_TEXT.match(word)) and any(c.isdigit() for c in word) and any(c.isalpha() for c in word) \
        and not is_quantity(word)


def is_order_attempt(word: str) -> bool:
    """Meant as an order number though no order can have it (`SSSS…`, `SOX`): letters, no keyword."""
    return bool(_ORDER_TEXT.match(word)) and len(word) >= 3 and key_of(word) not in KEYWORDS and not is_quantity(word)


def take_order(ctx: Context, words: list[Word], *, digits_may_be_quantity: bool = True) -> tuple[Order | None, list[Word]]:
    """The order named among the first words (`SO-1013`, `so1013`, `SO 1013`, `1013`) and the words
    left; None when they name none. Digits alone name an order only when one ends in them."""
    i = 0
    while i < len(words) and key_of(words[i]) in FILLERS:
        i += 1
    if i >= len(words):
        return None, words
    text, used = str(words[i]), 1
    if text.isascii() and text.isalpha() and len(text) <= 6 and i + 1 < len(words) and words[i + 1][:1].isdigit():
        text, used = text + "-" + words[i + 1], 2   # `SO 1013`: one number typed with a space
    if not is_order_text(text) and not is_order_attempt(text):
        return None, words
    if text.isdigit():
        exact = ctx.session.scalar(select(Order.id).where(Order.order_no == text))
        if not exact and not _ending_in(ctx, text):
            if digits_may_be_quantity:
                return None, words
            raise UnknownOrder(order_no=text, suggestions=[])
    return resolve_order(ctx, text), words[:i] + words[i + used:]


def compact(order_no: str) -> str:
    return "".join(c for c in order_no.upper() if c.isalnum())


_DASHES = str.maketrans({c: "-" for c in "—–―‐‑‒−"})
_LETTERS_DIGITS = re.compile(r"([A-Z]+)[-_. /]?([0-9][0-9A-Z]*)")


def new_order_number(ctx: Context, typed: str) -> str:
    """A new order's number as the plant writes its numbers: any dash is `-`, and letters and
    digits typed without their separator or with a space (`so2001`, `SO 2001`) take the one the
    plant's numbers with those letters all have (`SO-2001`); `BadOrderNumber` when it cannot be one."""
    written = normalize_order_no(typed).translate(_DASHES)
    order_no = checked_order_no(written.replace(" ", "-"))
    match = _LETTERS_DIGITS.fullmatch(order_no)
    if match is None or re.search(r"[A-Z][-_./][0-9]", written):   # a separator typed: as typed
        return order_no
    letters, digits = match.groups()
    shapes = {m.group(1) for n in ctx.session.scalars(select(Order.order_no).where(Order.order_no.like(f"{letters}%")))
              if (m := re.fullmatch(f"{letters}([-_./]?)[0-9][0-9A-Z]*", n))}
    return f"{letters}{shapes.pop()}{digits}" if len(shapes) == 1 else order_no


def same_number(ctx: Context, order_no: str) -> str | None:
    """An order whose number is this one but for its separators (`SO2001` for `SO-2001`)."""
    key = compact(order_no)
    numbers = ctx.session.scalars(select(Order.order_no).where(Order.order_no.like(f"{key[:1]}%")))
    return next((n for n in numbers if compact(n) == key), None)


def _digits(order_no: str) -> str:
    return compact(order_no).lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _open_numbers(ctx: Context) -> list[str]:
    return list(ctx.session.scalars(select(Order.order_no).where(Order.hold.is_(None) | (Order.hold != "cancelled"))))


def _ending_in(ctx: Context, digits: str) -> list[str]:
    return [n for n in _open_numbers(ctx) if _digits(n) == digits]


def resolve_order(ctx: Context, text: str) -> Order:
    """The order a typed number means. Width, case and dash kind never matter; the same letters
    and digits with other separators (`SO1013`, `SO_1013`) are the same number when only one
    order has them. A missing prefix (`1013`) or a number one keystroke from exactly one order
    is read as that order and doubted; anything else is `UnknownOrder` with the closest numbers."""
    order_no = normalize_order_no(text)
    try:
        return find_order(ctx.session, order_no, lock=ctx.lock_orders)
    except UnknownOrder as missing:
        numbers = _open_numbers(ctx)
        same = [n for n in numbers if compact(n) == compact(order_no)]
        if len(same) == 1:
            return find_order(ctx.session, same[0], lock=ctx.lock_orders)
        if compact(order_no).isdigit():
            ending = [n for n in numbers if _digits(n) == compact(order_no)]
            if len(ending) == 1:
                ctx.doubt("order_prefix", typed=order_no, order_no=ending[0])
                return find_order(ctx.session, ending[0], lock=ctx.lock_orders)
        near = nearest(order_no, numbers)
        if near is None:
            raise missing
        ctx.doubt("near_order", typed=order_no, order_no=near)
        return find_order(ctx.session, near, lock=ctx.lock_orders)


def nearest(order_no: str, numbers: list[str]) -> str | None:
    """The one number a single keystroke away (a wrong, missing, extra or swapped character)."""
    key = compact(order_no)
    close = [n for n in numbers if abs(len(compact(n)) - len(key)) <= 1 and _one_edit(compact(n), key)]
    return close[0] if len(close) == 1 else None


def _one_edit(a: str, b: str) -> bool:
    """Optimal string alignment distance is exactly one."""
    if a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


# -- steps -----------------------------------------------------------------------------------------

def step_word(ctx: Context, words: list[Word]) -> tuple[str | None, list[Word]]:
    """A workshop's name among the words (its step of the order), and the words left."""
    names = workshop_words(ctx)
    for i, word in enumerate(words):
        if word in names:
            return str(word), words[:i] + words[i + 1:]
    return None, words


def guess_order(ctx: Context, step_name: str | None, *, reading: str, command: str) -> Order:
    """No order named: the one order running at this workshop, doubted; else ask which
    (`command` has `{}` where the order goes)."""
    workshop_id = _workshop_named(ctx, step_name) if step_name else ctx.workshop_id()
    if workshop_id is None:
        raise BadSyntax(command=command.split()[0], problem="missing_order")
    steps = ctx.session.scalars(select(Step).join(Order).where(
        Step.workshop_id == workshop_id, Step.status.in_(("running", "ready")),
        Order.hold.is_(None)).order_by(Step.status.desc(), Step.planned_start)).all()
    running = [s for s in steps if s.status == "running"]
    pick = running if running else steps
    if len(pick) == 1:
        ctx.doubt("guessed_order", order_no=pick[0].order.order_no)
        return pick[0].order
    raise Ask(kind="order", reading=reading, command=command, choices=[s.order.order_no for s in steps[:5]])


def _workshop_named(ctx: Context, name: str) -> int | None:
    for workshop in ctx.session.scalars(select(Workshop)):
        if name in (workshop.name, workshop.code, *workshop.aliases.split()):
            return workshop.id
    return None


# -- quantities ------------------------------------------------------------------------------------

@dataclass
class Counted:
    """Numbers read from a message: each with the word that said what it counts."""
    good: int | None = None
    scrap: int | None = None
    extra: list[Word] = field(default_factory=list)     # numbers with no place (a second bare number)
    unknown: list[Word] = field(default_factory=list)   # words that are none of ours
    trailing: int = 0                                    # how many of them came after the last number
    note: str = ""
    dangling: str | None = None                          # a keyword whose number is missing
    defect: str = ""                                     # the defect the scrap was counted by (`毛刺2`)
    within: bool = False                                 # `共5 其中不良1`: the scrap is part of the total


def count(words: list[Word], command: str, max_quantity: int) -> Counted:
    """Good and scrap quantities in any order, with their words (良品 5, 不良2, 共5件, 做了五十),
    units and fillers skipped; what follows 备注/原因/说明 is the note."""
    out = Counted()
    pending: str | None = None
    for i, word in enumerate(words):
        key = key_of(word)
        if key in NOTE_WORDS:
            if out.dangling is not None and pending is not None and getattr(out, pending) is not None \
                    and i and key_of(words[i - 1]) in SCRAP_WORDS | GOOD_WORDS:
                out.dangling = None   # `不良 1 不良原因 毛刺`: the word says whose reason it is
            out.note = join_words(words[i + 1:])[:200]
            break
        if key in FILLERS or word in UNITS or key == "实收数量":
            continue
        if key in NONE_WORDS and pending == "scrap" and out.scrap is None:   # `不良 无`: no scrap
            out.scrap, pending, out.dangling = 0, None, None
            continue
        if key in WITHIN_WORDS and out.good is not None and out.scrap is None:
            out.within = True
            continue
        if key in DEFECT_WORDS and out.scrap is None and pending is None and not out.defect \
                and i + 1 < len(words) and looks_like_number(words[i + 1]):
            out.defect, pending, out.dangling = str(word), "scrap", str(word)
            continue
        if key in COUNT_WORDS and pending is not None and out.dangling is not None:
            continue   # `不良数量 2`, `不良一共2个`: the count of the word before it
        if key in SCRAP_WORDS or key in GOOD_WORDS or key in COUNT_WORDS:
            pending = "scrap" if key in SCRAP_WORDS else "good"
            out.dangling = str(word)
        elif looks_like_number(word):
            kind = pending or ("good" if out.good is None else None)
            value = parse_quantity(word, command, max_quantity)
            if kind is None or getattr(out, kind) is not None:
                out.extra.append(word)
            else:
                setattr(out, kind, value)
            pending, out.dangling, out.trailing = None, None, 0
        else:
            out.unknown.append(word)
            out.trailing += 1
    if out.within and out.good is not None:
        if out.scrap is not None and out.scrap <= out.good:
            out.good -= out.scrap
        else:   # `其中` with no scrap after it, or more scrap than the total: refused, naming it
            out.unknown.append(Word("其中"))
    return out


# What a lead says beside a count that is not one (`良率97%`, `约120`, `上午60 下午60`): read, never
# taken for a worker's name or a step, and confirmed before it counts.
APPROX_BEFORE = ("差不多", "大概", "大约", "将近", "接近", "估计", "约")
APPROX_AFTER = {"左右", "上下"}
PART_WORDS = ("上午", "下午", "早上", "中午", "晚上", "夜里", "凌晨", "白班", "夜班", "早班", "中班", "晚班",
              "一班", "二班", "三班", "甲班", "乙班", "丙班")
PERCENT = {"%", "％"}


@dataclass
class Aside:
    rates: list[str] = field(default_factory=list)       # `良率97%`: a rate, kept as the note
    approximate: str = ""                                  # the word that said "about" (`约`, `左右`)
    parts: list[tuple[str, int]] = field(default_factory=list)   # (part of the day, its count): added up


def set_aside(words: list[Word], command: str, max_quantity: int) -> tuple[list[Word], Aside]:
    """The words before the note with rates, "about" and counts per part of the day taken out
    (`报工 SO-1001 120 良率97%`, `约120`, `120左右`, `上午60 下午60`, `白班六十`)."""
    cut = next((i for i, w in enumerate(words) if key_of(w) in NOTE_WORDS), len(words))
    head = [piece for w in words[:cut] for piece in _split_prefix(w)]
    out: list[Word] = []
    aside = Aside()
    i = 0
    while i < len(head):
        word, nxt = head[i], (head[i + 1] if i + 1 < len(head) else None)
        if looks_like_number(word) and nxt is not None and str(nxt) in PERCENT:
            label = str(out.pop()) if out and str(out[-1]).endswith("率") else ""
            if label == "率" and out and not looks_like_number(out[-1]):   # `良品率` cut at 良品
                label = str(out.pop()) + label
            aside.rates.append(f"{label}{word}%")
            i += 2
        elif str(word) in APPROX_BEFORE and nxt is not None and looks_like_number(nxt):
            aside.approximate = str(word)
            i += 1
        elif str(word) in APPROX_AFTER and out and looks_like_number(out[-1]):
            aside.approximate = str(word)
            i += 1
        elif str(word) in PART_WORDS and nxt is not None and looks_like_number(nxt):
            aside.parts.append((str(word), parse_quantity(nxt, command, max_quantity)))
            i += 2
        else:
            out.append(word)
            i += 1
    return out + words[cut:], aside


def _split_prefix(word: Word) -> list[Word]:
    """`上午六十` → 上午, 六十; `约一百二` → 约, 一百二 (a Chinese count is written against its word)."""
    for prefix in (*PART_WORDS, *APPROX_BEFORE):
        rest = word[len(prefix):]
        if word.startswith(prefix) and rest and looks_like_number(rest):
            return [Word(prefix, word.glued, word.source, word.start),
                    Word(rest, True, word.source, word.start + len(prefix) if word.start >= 0 else -1)]
    return [word]


def split_reason(args: list) -> tuple[list, str]:
    """The words before a reason word (原因, 备注 …), and the reason after it (up to 200 characters)."""
    for i, word in enumerate(args):
        if word in ("原因", "理由", "说明", "备注", "reason"):
            return args[:i], join_words(args[i + 1:])[:200]
    return args, ""


def one_quantity(words: list[Word], command: str, max_quantity: int) -> int | None:
    """The one quantity in these words (`60`, `实收58个`, `共六十`), None if there is none;
    a scrap word, a second number or a word of no meaning here is refused, naming it."""
    numbers = count(words, command, max_quantity)
    wrong = numbers.extra or numbers.unknown
    if wrong:
        raise BadSyntax(command=command, problem="unexpected", token=wrong[0])
    if numbers.scrap is not None or numbers.note:
        wrong = [w for w in words if key_of(w) in SCRAP_WORDS | NOTE_WORDS]
        raise BadSyntax(command=command, problem="unexpected", token=wrong[0])
    if numbers.dangling:
        raise BadSyntax(command=command, problem="missing_quantity", token=numbers.dangling)
    return numbers.good
