"""Links people open from a chat message: the board and order pages through a signed read-only
token that expires, and chart images at unguessable addresses.

A screen's board token (`[api] board_tokens`) never goes into a chat: a message is kept, forwarded
and read by everyone in the group. A digest carries `l1.<expiry>.<signature>` instead, an HMAC
keyed by a hash of the first board token; it opens the same read-only pages until it expires
(`LINK_DAYS`), and rotating that board token revokes every link ever sent.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, datetime, timedelta
from urllib.parse import quote

from planning.model import to_ts

LINK_DAYS = 7


def _key(board_tokens: tuple[str, ...], purpose: str) -> bytes | None:
    if not board_tokens:
        return None
    return hashlib.sha256(f"linerelay:{purpose}\0{board_tokens[0]}".encode()).digest()


def _sign(key: bytes, text: str) -> str:
    digest = hmac.new(key, text.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def link_token(board_tokens: tuple[str, ...], now: datetime, days: int = LINK_DAYS) -> str | None:
    """A read-only token for the board and order pages, valid `days` from `now` (naive UTC)."""
    key = _key(board_tokens, "link")
    if key is None:
        return None
    expires = int(to_ts(now + timedelta(days=days)))
    body = f"l1.{expires}"
    return f"{body}.{_sign(key, body)}"


def link_valid(board_tokens: tuple[str, ...], token: str, now: datetime) -> bool:
    """`token` is a link token we signed and it has not expired."""
    key = _key(board_tokens, "link")
    parts = token.split(".")
    if key is None or len(parts) != 3 or parts[0] != "l1" or not (parts[1].isascii() and parts[1].isdigit()):
        return False
    if not hmac.compare_digest(parts[2].encode(), _sign(key, f"l1.{parts[1]}").encode()):
        return False
    return int(parts[1]) >= to_ts(now)


def board_url(base: str, token: str, workshop: str | None = None) -> str:
    url = f"{base.rstrip('/')}/board?token={quote(token, safe='')}"
    return f"{url}&workshop={quote(workshop, safe='')}" if workshop else url


def order_url(base: str, order_no: str, token: str) -> str:
    return f"{base.rstrip('/')}/board/orders/{quote(order_no, safe='')}?token={quote(token, safe='')}"


def chart_name(board_tokens: tuple[str, ...], day: date) -> str | None:
    """The chart of `day` at an address nobody can guess: `20261125-<signature>`."""
    key = _key(board_tokens, "chart")
    if key is None:
        return None
    stamp = day.strftime("%Y%m%d")
    return f"{stamp}-{_sign(key, stamp)}"


def chart_day(board_tokens: tuple[str, ...], name: str) -> date | None:
    """The day of a chart address we made (None: not one of ours)."""
    stamp, _, _sig = name.partition("-")
    if len(stamp) != 8 or not (stamp.isascii() and stamp.isdigit()):
        return None
    try:
        day = datetime.strptime(stamp, "%Y%m%d").date()
    except ValueError:
        return None
    expected = chart_name(board_tokens, day)
    return day if expected is not None and hmac.compare_digest(expected.encode(), name.encode()) else None


def photo_url(base: str, photo_id: int, token: str) -> str:
    return f"{base.rstrip('/')}/board/photos/{photo_id}?token={quote(token, safe='')}"
