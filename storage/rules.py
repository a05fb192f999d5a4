"""Input rules shared by every entry point (chat, cards, import, API): order numbers and
quantities are normalised and checked here, once."""
from __future__ import annotations

import re
import unicodedata

from storage.errors import BadOrderNumber, QuantityOutOfRange

# One word of a chat command (no spaces or separators), as the orders table holds it (64).
# The API's OpenAPI document publishes the same pattern (for the number after normalisation).
ORDER_NO_MAX = 64
ORDER_NO_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._/#-]{0,63}"
ORDER_NO = re.compile(ORDER_NO_PATTERN)


def normalize_order_no(text: str) -> str:
    """Fold width and case, drop invisible format characters (zero-width spaces and joiners,
    byte-order marks, bidi controls: Unicode category Cf): `ｓｏ－１００１\u200b` → `SO-1001`."""
    folded = unicodedata.normalize("NFKC", text or "")
    return "".join(c for c in folded if unicodedata.category(c) != "Cf").strip().upper()


def order_no_problem(order_no: str) -> str | None:
    """Why a normalised order number cannot be used, or None."""
    if not order_no:
        return "empty"
    if len(order_no) > ORDER_NO_MAX:
        return "too_long"
    if not ORDER_NO.fullmatch(order_no):
        return "characters"
    return None


def checked_order_no(text: str) -> str:
    """The normalised order number, or `BadOrderNumber` saying what is wrong with it."""
    order_no = normalize_order_no(text)
    problem = order_no_problem(order_no)
    if problem:
        raise BadOrderNumber(order_no=order_no[:70], problem=problem, limit=ORDER_NO_MAX)
    return order_no


def bounded_int(digits: str, maximum: int) -> int | None:
    """`int(digits)` for a string of ASCII digits, or None when it exceeds `maximum`, decided
    before converting (Python refuses to convert more than 4300 digits, and a huge number is
    slow to convert anyway)."""
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):
        return None
    value = int(significant)
    return value if value <= maximum else None


def quantity(digits: str, maximum: int, *, negative: bool = False) -> int:
    """A non-negative whole quantity within `maximum`, or `QuantityOutOfRange` (which never
    carries more digits than the limit has, so a reply stays short)."""
    value = bounded_int(digits, maximum)
    if value is None:
        raise QuantityOutOfRange(quantity=-(maximum + 1) if negative else maximum + 1, limit=maximum,
                                 remaining=None, step=None, huge=True)
    if negative and value:
        raise QuantityOutOfRange(quantity=-value, limit=maximum, remaining=None, step=None)
    return value
