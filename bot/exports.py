"""The monthly piece-rate export as an Excel file (openpyxl): 计件明细 (per worker per day), 工人汇总
(per worker for the month) and 车间产出 (per workshop per day against the stored plan). Every text
cell is formula-safe: nothing a spreadsheet would run starts a cell (= + - @, tab, return get a
leading apostrophe). Also the month words people type, and the signed link a chat reply carries."""
from __future__ import annotations

import hmac
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from bot.links import _key, _sign
from planning.model import to_ts
from storage import planner
from storage.exports import BASIS, month_bounds, work_lines, worker_totals, workshop_days

UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")
LINK_HOURS = 24
DETAIL = ("日期", "工人", "订单号", "产品", "工序", "良品", "不良", "计件单价", "金额", "分配方式", "报工单")
TOTALS = ("工人", "良品", "不良", "金额")
SHOP = ("日期", "车间", "良品", "不良", "计划", "完成率")


def safe(value):
    """A cell value a spreadsheet shows and never runs."""
    if isinstance(value, str) and value.startswith(UNSAFE_START):
        return "'" + value
    return value


def parse_month(text: str, today: date) -> str | None:
    """`2026-11`, `2026年11月`, `11月`, `十一月` → `2026-11` (a month without its year is the latest
    such month that has begun); None when it is no month."""
    from bot.text import number_value
    text = text.strip().replace("份", "")
    match = re.fullmatch(r"(20\d{2})[-/年.](\d{1,2})月?", text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    else:
        match = re.fullmatch(r"(.{1,3})月", text)
        value = number_value(match.group(1)) if match else None
        if value is None:
            return None
        year, month = today.year, value
        if month > today.month:
            year -= 1
    return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None


def build_workbook(relay, month: str) -> bytes:
    """The month's export (`2026-11`) as .xlsx bytes."""
    first, end = month_bounds(month)
    tz = relay.clock.tz
    with relay.ReadSession() as session:
        lines = work_lines(session, tz, first, end)
        shop = workshop_days(session, planner.calendar(session), first, end)
    book = Workbook()
    detail = book.active
    detail.title = "计件明细"
    _rows(detail, DETAIL, ([w.day.isoformat(), w.worker, w.order_no, w.product, w.step, w.good, w.scrap,
                            _money(w.rate, 4), _money(w.amount, 2), BASIS[w.basis],
                            " ".join(f"R-{r}" for r in w.reports)] for w in lines))
    _rows(book.create_sheet("工人汇总"), TOTALS,
          ([t.worker, t.good, t.scrap, _money(t.amount, 2)] for t in worker_totals(lines)))
    _rows(book.create_sheet("车间产出"), SHOP,
          ([d.day.isoformat(), d.workshop, d.good, d.scrap, d.planned,
            round(d.good / d.planned, 4) if d.planned else None] for d in shop))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _money(value: Decimal | None, places: int) -> float | None:
    return None if value is None else float(round(value, places))


def _rows(sheet, header, rows) -> None:
    sheet.append(list(header))
    for row in rows:
        sheet.append([safe(v) for v in row])
    for i, title in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(10, len(title) * 3)
    sheet.freeze_panes = "A2"


def file_name(month: str) -> str:
    return f"计件-{month}.xlsx"


# -- the link a chat reply carries ----------------------------------------------------------------

def export_token(board_tokens: tuple[str, ...], month: str, now: datetime) -> str | None:
    """`x1.<month>.<expiry>.<signature>`: opens this month's export until a day from `now`."""
    key = _key(board_tokens, "export")
    if key is None:
        return None
    body = f"x1.{month}.{int(to_ts(now + timedelta(hours=LINK_HOURS)))}"
    return f"{body}.{_sign(key, body)}"


def token_month(board_tokens: tuple[str, ...], token: str, now: datetime) -> str | None:
    """The month a token we signed opens, None if it is not ours or has expired."""
    key = _key(board_tokens, "export")
    parts = token.split(".")
    if key is None or len(parts) != 4 or parts[0] != "x1" or not (parts[2].isascii() and parts[2].isdigit()):
        return None
    body = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3].encode(), _sign(key, body).encode()):
        return None
    return parts[1] if int(parts[2]) >= to_ts(now) else None
