"""Round trips on WeCom's AI-bot long connection: `报工` typed in a group through the twin's
gateway, through `linerelay wecom-ws`'s ConnectionProcess, to the reply frame; SQLite.

    .venv/bin/python bench/wecom_ws.py [--messages 300 --burst 60]

First one message at a time (latency: p50/p90/p99/max), then `--burst` messages sent at once
(how long until all are answered). Afterwards it checks every report counted exactly once.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
import tomllib
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.app import build_relay  # noqa: E402
from bot.config import parse_settings  # noqa: E402
from bot.twins.wecom_ws import AiBotGateway  # noqa: E402
from bot.wecom_ws.runner import ConnectionProcess  # noqa: E402
from storage.migrate import init_db  # noqa: E402
from storage.models import Report  # noqa: E402
from storage.orders import OrderData, upsert_order  # noqa: E402

ORDERS = 200


def settings_for(database_url: str, ws_url: str):
    data = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    data["app"]["database_url"] = database_url
    data["wecom"]["api_base_url"] = "http://127.0.0.1:9"
    data["wecom"]["aibot"] = {"mode": "long_connection", "bot_id": "bench", "secret": "bench", "ws_url": ws_url}
    data.pop("dingtalk")
    data["groups"] = [dict(g, platform="wecom-ws") for g in data["groups"] if g["platform"] == "wecom"]
    return parse_settings(data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--burst", type=int, default=60)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lr-bench-ws-"))
    gateway = AiBotGateway("bench", "bench").start()
    settings = settings_for(f"sqlite:///{tmp / 'bench.db'}", gateway.url)
    init_db(settings.app.database_url, settings)
    relay = build_relay(settings)
    with relay.Session.begin() as s:
        for i in range(ORDERS):
            upsert_order(s, relay.clock.now(), OrderData(f"BENCH-{i:04d}", "车门总成", 90000,
                                                         relay.clock.today() + timedelta(days=30)),
                         actor=None, source="bench")
    process = ConnectionProcess(relay)
    thread = threading.Thread(target=lambda: asyncio.run(process.run()), daemon=True)
    thread.start()
    gateway.wait_subscribed()
    n = 0

    def text() -> str:
        nonlocal n
        n += 1
        return f"报工 BENCH-{n % ORDERS:04d} {1 + n // ORDERS}"   # never the same report twice in a row

    times = []
    for _ in range(args.messages):
        started = time.perf_counter()
        gateway.answer(gateway.text("zhangwei", text(), chatid="wr-stamping"), timeout=60)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    q = statistics.quantiles(times, n=100)
    print(f"one at a time: {args.messages} messages, p50 {q[49]:.1f} ms, p90 {q[89]:.1f} ms, "
          f"p99 {q[98]:.1f} ms, max {times[-1]:.1f} ms")
    started = time.perf_counter()
    ids = [gateway.text("zhangwei", text(), chatid="wr-stamping") for _ in range(args.burst)]
    for req_id in ids:
        gateway.answer(req_id, timeout=120)
    burst = time.perf_counter() - started
    print(f"burst: {args.burst} messages at once answered in {burst:.2f} s ({args.burst / burst:.0f}/s)")
    with relay.Session() as s:
        counted = s.scalar(select(func.count()).select_from(Report))
    print(f"reports stored: {counted} of {args.messages + args.burst} sent")
    process.stop()
    thread.join(10)
    relay.dispatcher.stop()
    gateway.stop()


if __name__ == "__main__":
    main()
