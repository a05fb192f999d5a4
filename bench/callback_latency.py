"""Latency of an encrypted `报工` AI bot callback against gunicorn with SQLite.

    .venv/bin/python bench/callback_latency.py [--requests 2000 --clients 20 --workers 2 --threads 4]

Starts the WeCom twin (so the app's pushes have somewhere to go), a fresh SQLite database with
200 orders, and gunicorn serving wsgi:app; pre-encrypts every callback exactly as WeCom does,
then times only the HTTP round trip from `--clients` concurrent threads. Afterwards it checks
that every report was counted exactly once. Prints throughput and p50/p90/p99/max.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage.migrate import init_db  # noqa: E402
from bot.clock import Clock  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.twins import wecom_crypto as wc  # noqa: E402
from bot.twins.wecom import WeComTwin  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.orders import OrderData, upsert_order  # noqa: E402

ORDERS = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(settings) -> None:
    engine = make_engine(settings.app.database_url)
    clock = Clock(settings.app.timezone)
    with make_session_factory(engine).begin() as session:
        for i in range(ORDERS):
            upsert_order(session, clock.now(), OrderData(f"BENCH-{i:04d}", "车门总成", 90000,
                                                         clock.today() + timedelta(days=30)),
                         actor=None, source="bench")
    engine.dispose()


def build_requests(settings, count: int) -> list[tuple[dict, bytes]]:
    """(query, body) pairs for `count` distinct 报工 messages, encrypted and signed."""
    ai = settings.wecom.aibot
    out = []
    for i in range(count):
        msg = {"msgid": f"bench-{i}-{secrets.token_hex(4)}", "aibotid": "b", "chattype": "group",
               "chatid": "wr-stamping", "from": {"userid": "zhangwei"}, "msgtype": "text",
               "text": {"content": f"@产线接力 报工 BENCH-{i % ORDERS:04d} 1"}}
        encrypt = wc.encrypt(ai.encoding_aes_key, json.dumps(msg, ensure_ascii=False), "")
        ts, nonce = str(int(time.time())), secrets.token_hex(5)
        out.append(({"msg_signature": wc.sign(ai.token, ts, nonce, encrypt), "timestamp": ts, "nonce": nonce},
                    json.dumps({"encrypt": encrypt}).encode()))
    return out


def run_clients(url: str, work: list, clients: int, rate: float = 0) -> tuple[list[float], int, float]:
    """Closed loop (each client sends its next request when the last is answered), or paced at
    `rate` requests/s in all when given (each client keeps its own schedule)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = iter(work)

    def client():
        nonlocal errors
        http = requests.Session()
        interval = clients / rate if rate else 0
        next_at = time.perf_counter() + (secrets.randbelow(1000) / 1000 * interval)
        while True:
            if interval:
                time.sleep(max(0.0, next_at - time.perf_counter()))
                next_at += interval
            with lock:
                item = next(queue, None)
            if item is None:
                return
            start = time.perf_counter()
            resp = http.post(url, params=item[0], data=item[1], headers={"Content-Type": "application/json"})
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if resp.status_code != 200 or "encrypt" not in resp.json():
                    errors += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - began


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1,
                        help="SQLite serialises writers: one process with threads queues best")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0,
                        help="offered load in requests/s over all clients (default: closed loop, as fast as answered)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="linerelay-bench-"))
    base = load_settings(ROOT / "config.example.toml", env={})
    w = base.wecom
    twin = WeComTwin(corp_id=w.corp_id, secret=w.secret, agent_id=w.agent_id, app_token=w.token,
                     app_aes_key=w.encoding_aes_key, aibot_token=w.aibot.token,
                     aibot_aes_key=w.aibot.encoding_aes_key).start()
    env = {**os.environ, "LINERELAY_CONFIG": str(ROOT / "config.example.toml"),
           "LINERELAY__APP__DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
           "LINERELAY__WECOM__API_BASE_URL": twin.base_url, "LINERELAY__DINGTALK__API_BASE_URL": twin.base_url,
           "LINERELAY__DINGTALK__OAPI_BASE_URL": twin.base_url}
    settings = load_settings(ROOT / "config.example.toml", env=env)
    init_db(settings.app.database_url, settings)
    seed(settings)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads", str(args.threads),
                               "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base_url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if requests.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        url = f"{base_url}/wecom/aibot"
        run_clients(url, build_requests(settings, args.warmup), args.clients)
        latencies, errors, wall = run_clients(url, build_requests(settings, args.requests), args.clients, args.rate)
    finally:
        server.terminate()
        server.wait(10)
        twin.stop()

    engine = make_engine(settings.app.database_url)
    with engine.connect() as conn:
        from sqlalchemy import text
        good = conn.execute(text("SELECT COALESCE(SUM(good_qty), 0) FROM steps")).scalar()
        reports = conn.execute(text("SELECT COUNT(*) FROM reports")).scalar()
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    expected = args.requests + args.warmup
    p99 = pct(latencies, 99)
    mode = f"paced at {args.rate:.0f} req/s" if args.rate else "closed loop"
    print(f"requests {args.requests} (+{args.warmup} warm-up), clients {args.clients} ({mode}), "
          f"gunicorn {args.workers} workers x {args.threads} threads, SQLite")
    print(f"throughput {len(latencies) / wall:.0f} req/s, errors {errors}")
    print(f"latency ms: p50 {pct(latencies, 50):.1f}  p90 {pct(latencies, 90):.1f}  p99 {p99:.1f}  "
          f"max {max(latencies) * 1000:.1f}  mean {statistics.mean(latencies) * 1000:.1f}")
    once = good == expected and reports == expected
    print(f"counted exactly once: {'yes' if once else 'no'} ({reports} reports, {good} parts, {expected} sent)")
    print(f"target p99 < 50 ms: {'met' if p99 < 50 else 'missed'}")
    return 0 if errors == 0 and once else 1


if __name__ == "__main__":
    sys.exit(main())
