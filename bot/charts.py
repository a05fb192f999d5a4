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
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.digest import ShopDay

CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
             "PingFang SC", "DejaVu Sans"]
KEEP_DAYS = 8

Days = list[tuple[date, list["ShopDay"]]]

_cache: OrderedDict[tuple[str, date, int], bytes] = OrderedDict()
_lock = threading.Lock()


Words = Callable[[str, dict], str]   # renders templates/<name>.md.j2 (Messages.render)


def cached(plant: str, day: date, days: Days, words: Words) -> bytes:
    """The chart of `day`'s digest for `plant` (its database) showing `days`: drawn the first time
    it is asked for, then kept (a few), and drawn again only if the figures have changed."""
    key = (plant, day, hash(tuple((d, tuple(shops)) for d, shops in days)))
    with _lock:
        png = _cache.get(key)
        if png is not None:
            _cache.move_to_end(key)
            return png
    png = render(days, words)
    with _lock:
        _cache[key] = png
        while len(_cache) > KEEP_DAYS:
            _cache.popitem(last=False)
    return png


def drawn(plant: str, day: date) -> bool:
    """Whether a chart of `day`'s digest for `plant` is kept (on any figures)."""
    with _lock:
        return any(key[:2] == (plant, day) for key in _cache)


def render(days: Days, words: Words) -> bytes:
    """The chart's PNG: one panel per workshop, each working day's output as a bar against its
    plan as a line, and the week's totals in the panel's title; its words from the templates
    (`templates/charts/`), drawn by a child process."""
    panels = []
    for shop in days[0][1] if days else []:
        good = [next((s.good for s in shops if s.workshop_id == shop.workshop_id), 0) for _, shops in days]
        plan = [next((s.planned for s in shops if s.workshop_id == shop.workshop_id), 0) for _, shops in days]
        total, planned = sum(good), sum(plan)
        panels.append({"title": words("charts/panel", {"name": shop.name, "good": total, "planned": planned,
                                                       "percent": round(100 * total / planned) if planned else None}),
                       "good": good, "plan": plan})
    chart = {"title": words("charts/title", {"count": len(days), "first": days[0][0] if days else None,
                                              "last": days[-1][0] if days else None}),
             "good": words("charts/good", {}), "plan": words("charts/plan", {}),
             "days": [f"{d:%m-%d}" for d, _ in days], "panels": panels}
    root = str(Path(__file__).resolve().parents[1])   # where this `bot` package is, installed or not
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run([sys.executable, "-m", "bot.charts"], input=json.dumps(chart).encode(),
                          capture_output=True, timeout=120, env=env)
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        raise RuntimeError(f"the chart was not drawn: {done.stderr.decode(errors='replace')[-500:]}")
    return done.stdout


def _draw(chart: dict) -> bytes:
    """The PNG of `chart` (render's JSON): matplotlib, Agg, a CJK font."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.figure import Figure

    cols = 2
    rows = max(1, (len(chart["panels"]) + cols - 1) // cols)
    with plt.rc_context({"font.family": "sans-serif", "font.sans-serif": CJK_FONTS, "font.size": 13,
                         "axes.unicode_minus": False}):
        fig = Figure(figsize=(9, 2.6 * rows + 0.8), dpi=100)
        fig.suptitle(chart["title"], fontsize=16, fontweight="bold")
        x = list(range(len(chart["days"])))
        for i, panel in enumerate(chart["panels"]):
            ax = fig.add_subplot(rows, cols, i + 1)
            colors = ["#16a34a" if g >= p else "#dc2626" for g, p in zip(panel["good"], panel["plan"], strict=True)]
            ax.bar(x, panel["good"], color=colors, label=chart["good"])
            ax.plot(x, panel["plan"], color="#1e293b", marker="o", linewidth=2, label=chart["plan"])
            ax.set_xticks(x, chart["days"])
            ax.set_title(panel["title"], fontsize=14)
            ax.tick_params(axis="x", labelsize=10)
            ax.spines[["top", "right"]].set_visible(False)
            if i == 0:
                ax.legend(loc="upper left", fontsize=10, frameon=False)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


if __name__ == "__main__":   # the child: the chart (JSON) on stdin, the PNG on stdout
    sys.stdout.buffer.write(_draw(json.load(sys.stdin)))
