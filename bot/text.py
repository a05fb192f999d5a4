"""Turning what a lead types on a phone into tokens: width folding, separators, numbers."""
from __future__ import annotations

import re
import unicodedata

from bot.errors import BadSyntax
from storage import rules

# `：`, `，`, `、` and their half-width forms separate words like spaces do.
_SEPARATORS = re.compile(r"[\s,:;、，：；]+")
_MENTION = re.compile(r"^(?:@\S+\s*)+")
_QUANTITY = re.compile(r"^(-?)(\d+)(?:件|个|個|只|pcs|PCS)?$")
_TRAD = str.maketrans({"報": "报", "銷": "销", "進": "进", "辦": "办", "幫": "帮", "綁": "绑",
                       "單": "单", "變": "变", "異": "异", "恢": "恢", "復": "复", "備": "备",
                       "註": "注", "號": "号", "數": "数", "頭": "头", "廠": "厂", "間": "间"})


def normalize(text: str) -> str:
    """Fold full-width forms (NFKC), drop a leading @-mention, trim."""
    folded = unicodedata.normalize("NFKC", text or "").replace("\u3000", " ").strip()
    return _MENTION.sub("", folded).strip()


def tokenize(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(normalize(text)) if t]


def simplify(word: str) -> str:
    """Traditional to Simplified for the command words and keywords we know."""
    return word.translate(_TRAD)


def parse_quantity(token: str, command: str, max_quantity: int) -> int:
    """A whole, non-negative quantity within the configured maximum (bounded before conversion)."""
    match = _QUANTITY.match(token)
    if not match:
        raise BadSyntax(command=command, problem="quantity", token=token[:20])
    return rules.quantity(match.group(2), max_quantity, negative=bool(match.group(1)))


def is_quantity(token: str) -> bool:
    return bool(_QUANTITY.match(token))


def looks_like_number(token: str) -> bool:
    """A token meant as a number (even a bad one: `1.5`, `-3`, `12x`)."""
    return bool(re.match(r"^[-+]?\d", token))


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(小时|个小时|h|H|分钟|分|min|天|d)$")
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_recovery(words: list[str], now_local):
    """`4小时`, `30分钟`, `2天`, `14:00`, `11-25 14:00` → an aware local datetime, or None."""
    from datetime import timedelta
    if not words:
        return None
    match = _DURATION.match(words[0])
    if match:
        value, unit = float(match.group(1)), match.group(2)
        hours = value * 24 if unit in ("天", "d") else value / 60 if unit in ("分钟", "分", "min") else value
        if hours <= 0 or hours > 24 * 60:
            raise BadSyntax(command="异常", problem="recovery", token=words[0])
        return now_local + timedelta(hours=hours)
    day = now_local
    rest = list(words)
    md = _MONTH_DAY.match(rest[0])
    if md:
        try:
            day = now_local.replace(month=int(md.group(1)), day=int(md.group(2)))
        except ValueError:
            raise BadSyntax(command="异常", problem="recovery", token=rest[0]) from None
        if day.date() < now_local.date():
            day = day.replace(year=day.year + 1)
        rest = rest[1:] or ["18:00"]
    clock = _CLOCK.match(rest[0])
    if not clock or int(clock.group(1)) > 23 or int(clock.group(2)) > 59:
        raise BadSyntax(command="异常", problem="recovery", token=" ".join(words))
    result = day.replace(hour=int(clock.group(1)), minute=int(clock.group(2)), second=0, microsecond=0)
    if result <= now_local:
        result += timedelta(days=1) if not md else timedelta(0)
    return result
