"""Turning what a lead types (or says) on a phone into words: width folding, separators, words
glued together, numbers in digits or in Chinese."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable

import cn2an

from bot.errors import BadSyntax
from storage import rules

# Spaces and punctuation that separate words, typed or put in by voice input. `:` and `.`
# separate too, except between digits (14:00, 1.5); dashes between letters or digits are a
# hyphen (SO—1013), elsewhere a separator.
_DASHES = re.compile(r"(?<=[0-9A-Za-z])[—–―‐‑‒−](?=[0-9A-Za-z-])|(?<=-)[—–―‐‑‒−](?=[0-9A-Za-z])")
_LONE_DASHES = re.compile(r"[—–―‐‑‒−]")
_TIME = re.compile(r"(?<![0-9A-Za-z])\d{1,2}:\d{2}(?!\d)")
_DOT = re.compile(r"(?<![0-9A-Za-z])\.|\.(?![0-9A-Za-z])")
_WORD_CHARS = re.compile(r"[^\s,;、，；。！!？?“”‘’「」『』【】()（）《》~～…]")
_MENTION = re.compile(r"^(?:@\S+\s*)+")
# `1,500`: a thousands separator (an ASCII comma between digit groups of three; the Chinese
# comma `，` always separates words)
_THOUSANDS = re.compile(r"(?<![0-9０-９,])[0-9０-９]{1,3}(?:,[0-9０-９]{3})+(?![0-9０-９,])")
# emoji and pictographs people end a message with (`30👌`, `收到✅`, `🙏`): no word of a command
# a machine, line or station by its number (`2号机`, `3号线`): a name, never a quantity and a word
_MACHINE = re.compile(r"号(?:机|线|台|床|位|炉|模|工位|设备|冲床|焊机|机台|产线|班组|压机)")
_MACHINE_NAME = re.compile(r"\d+" + _MACHINE.pattern)
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")
# WeChat's and WeCom's own emoticons arrive as their names in brackets (`[强]`, `[OK]`, `[抱拳]`); only
# those names: other bracketed words (`[点我]`, `[A线]`) are what someone wrote
_EMOTICON_NAMES = (
    "微笑 撇嘴 色 发呆 得意 流泪 害羞 闭嘴 睡 大哭 尴尬 发怒 调皮 呲牙 惊讶 难过 酷 冷汗 抓狂 吐 偷笑 愉快 白眼 傲慢 "
    "困 惊恐 流汗 憨笑 悠闲 奋斗 咒骂 疑问 嘘 晕 衰 骷髅 敲打 再见 擦汗 抠鼻 鼓掌 坏笑 左哼哼 右哼哼 哈欠 鄙视 委屈 "
    "快哭了 阴险 亲亲 可怜 菜刀 西瓜 啤酒 咖啡 猪头 玫瑰 凋谢 嘴唇 爱心 心碎 蛋糕 炸弹 便便 月亮 太阳 礼物 拥抱 强 弱 "
    "握手 胜利 抱拳 勾引 拳头 OK 跳跳 发抖 怄火 转圈 嘿哈 捂脸 奸笑 机智 皱眉 耶 吃瓜 加油 汗 天啊 社会社会 旺柴 好的 "
    "打脸 哇 翻白眼 666 让我看看 叹气 苦涩 裂开 合十 烟花 爆竹 红包 福 庆祝 点赞 赞 笑脸 OK手势").split()
_EMOTICON = re.compile(r"\[(?:" + "|".join(map(re.escape, sorted(_EMOTICON_NAMES, key=len, reverse=True))) + r")\]",
                       re.IGNORECASE)
# an @-mention after the command (WeCom and DingTalk keep it where typed): the bot again, or a worker
_MENTION_AT = re.compile(r"(?<!\S)@([^\s,;、，；。！!？?]+)")
# One run of one script: ASCII letters/digits (order numbers, quantities, times) or anything else.
# Invisible format characters (bidi isolates, zero-width spaces) go with the Latin run they touch:
# order-number rules drop them there, and alone they are a word nobody can mean.
_LATIN = r"0-9A-Za-z_#/:.+\-\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
# digits with Chinese units (`1百2`, `1千2`, `2百`) are one number, not three words
_MIXED_NUMBER = r"\d+(?:[十百千万]\d*)+(?![0-9A-Za-z])"
_RUNS = re.compile(f"({_MIXED_NUMBER}|[{_LATIN}]+)|[^{_LATIN}]+")
_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万幺"
UNITS = ("件", "个", "個", "只", "套", "片", "根", "支", "台", "pcs", "PCS", "Pcs")
_QUANTITY = re.compile(r"^(-?)(\d+)(?:件|个|個|只|套|片|根|支|台|pcs|PCS|Pcs)?$")
_CN_QUANTITY = re.compile(f"^([{_NUMERAL_CHARS}]+|{_MIXED_NUMBER})(?:件|个|個|只|套|片|根|支|台)?$")
_TRAD = str.maketrans({"報": "报", "銷": "销", "進": "进", "辦": "办", "幫": "帮", "綁": "绑",
                       "單": "单", "變": "变", "異": "异", "復": "复", "備": "备", "註": "注",
                       "號": "号", "數": "数", "頭": "头", "廠": "厂", "間": "间", "結": "结",
                       "無": "无", "廢": "废", "說": "说", "時": "时", "個": "个", "預": "预",
                       "計": "计", "設": "设", "質": "质", "員": "员", "線": "线",
                       "認": "认", "確": "确", "撥": "拨", "識": "识", "貨": "货", "壞": "坏", "導": "导",
                       "產": "产", "後": "后", "門": "门",
                       "這": "这", "點": "点", "鐘": "钟", "兩": "两", "萬": "万", "長": "长"})
MAX_DIGITS = 12   # longer digit strings are refused before they are converted


class Word(str):
    """A word of a message; `glued` when it was written against the word before it (`不良2`,
    `报工SO-1013`), and where it stands in the message, so that free text (a note, a product,
    a description) is taken as it was typed, punctuation and all."""
    glued: bool
    source: str
    start: int

    def __new__(cls, text: str, glued: bool = False, source: str = "", start: int = -1) -> Word:
        word = super().__new__(cls, text)
        word.glued, word.source, word.start = glued, source, start
        return word


def normalize(text: str, *, leading_mentions: bool = False) -> str:
    """Fold full-width forms (NFKC) and Traditional characters, join a number's thousands, drop
    the @-mentions before the command (the bot's, and anyone addressed with it), trim; with
    `leading_mentions` they stay, for `resolve_mentions` (an answer that taps a worker:
    `@产线接力 @王五`). Mentions after the command: `resolve_mentions`."""
    text = _THOUSANDS.sub(lambda m: m.group().replace(",", ""), text or "")
    folded = _EMOJI.sub(" ", _EMOTICON.sub(" ", unicodedata.normalize("NFKC", text).replace("\u3000", " "))).strip()
    return (folded if leading_mentions else _MENTION.sub("", folded)).strip().translate(_TRAD)


def resolve_mentions(text: str, people: Collection[str] = ()) -> str:
    """The @-mentions in a normalized message: one that names a person (`@王五`, `@王五60`: a
    worker the lead named by tapping) is that name; any other (the bot @-mentioned again, in
    the middle or at the end, someone unknown) is dropped. Word places stay where they were."""
    def one(match: re.Match) -> str:
        name = match.group(1)
        if name in people or any(name.startswith(p) for p in people if p):
            return " " + name
        return " " * len(match.group())
    return _MENTION_AT.sub(one, text).strip() if "@" in text else text


def _prepared(text: str) -> str:
    """Dashes, colons and dots that separate words become spaces (one character for one, so
    that a word's place is the same in the message as typed)."""
    text = _DASHES.sub("-", text)
    text = _LONE_DASHES.sub(" ", text)
    times = {m.start() + m.group().index(":") for m in _TIME.finditer(text)}
    text = "".join(" " if c == ":" and i not in times else c for i, c in enumerate(text))
    return _DOT.sub(" ", text)


def tokenize(text: str, lexicon: Iterable[str] = (), people: Collection[str] = (), *,
             leading_mentions: bool = False) -> list[Word]:
    """The words of a message. Each space- or punctuation-separated chunk is cut where the
    script changes (`报工SO-1013` → 报工 SO-1013, `不良2` → 不良 2) and, given a lexicon, where
    a known word starts inside Chinese text (`今天冲压做了` → 今天 冲压 做了). An @-mention of one
    of `people` is their name; other mentions are dropped, and so are all before the first word
    unless `leading_mentions` (see `normalize`)."""
    known = sorted({w for w in lexicon if w}, key=len, reverse=True)
    source = resolve_mentions(normalize(text, leading_mentions=leading_mentions), people)
    prepared = _prepared(source)
    words: list[Word] = []
    for chunk in re.finditer(_WORD_CHARS.pattern + "+", prepared):
        first = True
        for run in _RUNS.finditer(chunk.group()):
            at = chunk.start() + run.start()
            for piece in ([run.group()] if run.group(1) else _segment(run.group(), known)):
                if words and not first and _MACHINE.match(piece) and words[-1].isdigit():   # `2号机`: one word
                    words[-1] = Word(words[-1] + piece, glued=words[-1].glued, source=source, start=words[-1].start)
                else:
                    words.append(Word(piece, glued=not first, source=source, start=at))
                at += len(piece)
                first = False
    return words


def _segment(run: str, known: list[str]) -> list[str]:
    """Cut Chinese text at the known words (longest first); what lies between two known words
    (`五十` in `做了五十个`) is a word of its own."""
    out: list[str] = []
    unknown = ""
    i = 0
    while i < len(run):
        match = next((w for w in known if run.startswith(w, i)), None)
        if match is None:
            unknown += run[i]
            i += 1
            continue
        if unknown:
            out.append(unknown)
        unknown = ""
        out.append(match)
        i += len(match)
    if unknown:
        out.append(unknown)
    return out


def join_words(words: Iterable[str]) -> str:
    """Words back into text: as typed when they come from one message (from the first word's
    start to the last word's end), else a space between words typed apart, none between glued ones."""
    words = list(words)
    if words and _contiguous(words):
        first, last = words[0], words[-1]
        assert isinstance(first, Word) and isinstance(last, Word)
        return first.source[first.start:last.start + len(last)]
    out = ""
    for word in words:
        out += word if (not out or getattr(word, "glued", False)) else " " + word
    return out


def _contiguous(words: list) -> bool:
    """The words stand next to each other in one message, only separators between them."""
    for a, b in zip(words, words[1:], strict=False):
        if not (isinstance(a, Word) and isinstance(b, Word) and a.source and a.source is b.source
                and a.start >= 0 and b.start >= a.start + len(a)):
            return False
        if _WORD_CHARS.search(_prepared(a.source[a.start + len(a):b.start])):
            return False
    return isinstance(words[0], Word) and words[0].source != "" and words[0].start >= 0


def simplify(word: str) -> str:
    """Traditional to Simplified for the command words and keywords we know."""
    return word.translate(_TRAD)


def number_value(token: str) -> int | None:
    """The whole number a word means: `120`, `120件`, `五十`, `两百个`; None if it is none."""
    match = _QUANTITY.match(token)
    if match:
        if match.group(1):
            return None
        return int(match.group(2)) if len(match.group(2)) <= MAX_DIGITS else 10 ** MAX_DIGITS
    match = _CN_QUANTITY.match(token)
    if match and len(match.group(1)) <= MAX_DIGITS:
        try:
            value = cn2an.cn2an(match.group(1), "smart")
        except (ValueError, KeyError, IndexError):
            return None
        return int(value) if float(value).is_integer() and value >= 0 else None
    return None


def parse_quantity(token: str, command: str, max_quantity: int) -> int:
    """A whole, non-negative quantity within the configured maximum, in digits (bounded before
    conversion) or in Chinese (`五十`, `两百`)."""
    match = _QUANTITY.match(token)
    if match:
        return rules.quantity(match.group(2), max_quantity, negative=bool(match.group(1)))
    value = number_value(token)
    if value is None:
        raise BadSyntax(command=command, problem="quantity", token=token[:20])
    return rules.quantity(str(value), max_quantity)


def is_quantity(token: str) -> bool:
    return number_value(token) is not None


def is_unit(token: str) -> bool:
    return token in UNITS


def looks_like_number(token: str) -> bool:
    """A word meant as a number (even a bad one: `1.5`, `-3`, `12x`, `五十`); not a machine's name (`2号机`)."""
    return (bool(re.match(r"^[-+]?\d", token)) and not _MACHINE_NAME.match(token)) or bool(_CN_QUANTITY.match(token))
