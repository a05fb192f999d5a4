"""The managers' chart: output against plan per workshop over the last 7 working days, drawn on
the server with matplotlib (Agg, no display) in a CJK font, once per digest day and figures per process.

Drawn in a child process (`python -m bot.charts`, the figures in as JSON, the PNG out): matplotlib
takes ~40 MB that a long-running jobs process or web worker would otherwise keep for a picture a day."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections import OrderedDict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from storage.digest import ShopDay

CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
             "PingFang SC", "DejaVu Sans"]
KEEP_DAYS = 8

Days = list[tuple[date, list["ShopDay"]]]

_cache: OrderedDict[tuple[str, date, int], bytes] = OrderedDict()
_lock = threading.Lock()


def cached(plant: str, day: date, days: Days) -> bytes:
    """The chart of `day`'s digest for `plant` (its database) showing `days`: drawn the first time
    it is asked for, then kept (a few), and drawn again only if the figures have changed."""
    key = (plant, day, hash(tuple((d, tuple(shops)) for d, shops in days)))
    with _lock:
        png = _cache.get(key)
        if png is not None:
            _cache.move_to_end(key)
            return png
    png = render(days)
    with _lock:
        _cache[key] = png
        while len(_cache) > KEEP_DAYS:
            _cache.popitem(last=False)
    return png


def drawn(plant: str, day: date) -> bool:
    """Whether a chart of `day`'s digest for `plant` is kept (on any figures)."""
    with _lock:
        return any(key[:2] == (plant, day) for key in _cache)


class _Shop(NamedTuple):
    """A workshop's day as the child process reads it (ShopDay's fields the chart shows)."""
    workshop_id: int
    name: str
    good: int
    planned: int


def render(days: Days) -> bytes:
    """The chart's PNG, drawn by a child process."""
    figures = [[d.isoformat(), [[s.workshop_id, s.name, s.good, s.planned] for s in shops]] for d, shops in days]
    root = str(Path(__file__).resolve().parents[1])   # where this `bot` package is, installed or not
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run([sys.executable, "-m", "bot.charts"], input=json.dumps(figures).encode(),
                          capture_output=True, timeout=120, env=env)
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        raise RuntimeError(f"the chart was not drawn: {done.stderr.decode(errors='replace')[-500:]}")
    return done.stdout


def _draw(days: list[tuple[date, list[_Shop]]]) -> bytes:
    """A PNG: one panel per workshop, each working day's output as a bar against its plan as a
    line, and the week's totals in the panel's title."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.figure import Figure

    shops = days[0][1] if days else []
    cols = 2
    rows = max(1, (len(shops) + cols - 1) // cols)
    with plt.rc_context({"font.family": "sans-serif", "font.sans-serif": CJK_FONTS, "font.size": 13,
                         "axes.unicode_minus": False}):
        fig = Figure(figsize=(9, 2.6 * rows + 0.8), dpi=100)
        fig.suptitle(_title(days), fontsize=16, fontweight="bold")
        labels = [f"{d:%m-%d}" for d, _ in days]
        for i, shop in enumerate(shops):
            ax = fig.add_subplot(rows, cols, i + 1)
            good = [next((s.good for s in day_shops if s.workshop_id == shop.workshop_id), 0) for _, day_shops in days]
            plan = [next((s.planned for s in day_shops if s.workshop_id == shop.workshop_id), 0) for _, day_shops in days]
            colors = ["#16a34a" if g >= p else "#dc2626" for g, p in zip(good, plan, strict=True)]
            x = list(range(len(labels)))
            ax.bar(x, good, color=colors, label="产出")
            ax.plot(x, plan, color="#1e293b", marker="o", linewidth=2, label="计划")
            ax.set_xticks(x, labels)
            week_good, week_plan = sum(good), sum(plan)
            ratio = f"（{round(100 * week_good / week_plan)}%）" if week_plan else ""
            ax.set_title(f"{shop.name}  {week_good}/{week_plan}{ratio}", fontsize=14)
            ax.tick_params(axis="x", labelsize=10)
            ax.spines[["top", "right"]].set_visible(False)
            if i == 0:
                ax.legend(loc="upper left", fontsize=10, frameon=False)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _title(days: list[tuple[date, list[_Shop]]]) -> str:
    if not days:
        return "近 7 个工作日 产出/计划"
    return f"近 {len(days)} 个工作日 产出/计划（{days[0][0]:%m-%d} 至 {days[-1][0]:%m-%d}）"


if __name__ == "__main__":   # the child: figures (JSON) on stdin, the PNG on stdout
    read = [(date.fromisoformat(d), [_Shop(*shop) for shop in shops]) for d, shops in json.load(sys.stdin)]
    sys.stdout.buffer.write(_draw(read))
