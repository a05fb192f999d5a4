"""Turning what a lead types on a phone into tokens: width folding, separators, numbers."""
from __future__ import annotations

import re
import unicodedata

from storage.errors import BadSyntax, QuantityOutOfRange

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
    """A whole, non-negative quantity within the configured maximum."""
    match = _QUANTITY.match(token)
    if not match:
        raise BadSyntax(command=command, problem="quantity", token=token)
    value = int(match.group(2))
    if match.group(1) or value > max_quantity:
        raise QuantityOutOfRange(quantity=-value if match.group(1) else value, limit=max_quantity,
                                 remaining=None, step=None)
    return value


def is_quantity(token: str) -> bool:
    return bool(_QUANTITY.match(token))


def looks_like_number(token: str) -> bool:
    """A token meant as a number (even a bad one: `1.5`, `-3`, `12x`)."""
    return bool(re.match(r"^[-+]?\d", token))
