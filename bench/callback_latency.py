"""An encrypted `报工` AI-bot callback through LineRelay against the floor, side by side in one run.

    .venv/bin/python bench/callback_latency.py [--requests 1500 --rounds 3 --loads 50,100,closed
                                                --clients 20 --workers 1 --threads 1 --database-url URL
                                                --bound]

Starts the WeCom twin (so the app's pushes have somewhere to go), a fresh database (SQLite file,
or a new database on the PostgreSQL server given) with 200 orders, and two gunicorn servers with
the same settings: LineRelay (`wsgi:app`) and the floor (`bench.floor:app`: signature, AES with
wechatpy, parse, an encrypted reply of the same size; no database). Every callback is
encrypted and signed as WeCom does before its batch starts; only the HTTP round trip is timed.

For each load (paced at N requests/s over all clients, or `closed`: each client sends its next
request when the last is answered) the two servers are driven alternately, `--rounds` times each,
`--requests` in all per server. A paced request's latency runs from when it was due, not from
when a free client got to send it, so waiting for a server that falls behind is counted.
CPU per request is what the kernel accounted to the server's processes (gunicorn master and
workers) during its batches. Afterwards every report must be in the database exactly once.

With `--bound` a third server joins the alternation: the least a 报工 can cost on LineRelay's
stack (`bench.floor:stack_app()`: the floor's work routed by Flask, and the report's rows written
in one transaction by SQLAlchemy Core on a database of its own, seeded the same), printed beside
the floor and LineRelay; it too must store every report it was sent.

Every process it starts is stopped at the end, on Ctrl-C, SIGTERM or SIGHUP, and dies with it
even on SIGKILL (bench/servers.py).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import Servers, fresh_database, free_port, group_cpu_seconds, pct  # noqa: E402,F401
from bot.clock import Clock  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.twins import wecom_crypto as wc  # noqa: E402
from bot.twins.wecom import WeComTwin  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.migrate import init_db  # noqa: E402
from storage.orders import OrderData, upsert_order  # noqa: E402

ORDERS = 200


def seed(settings) -> None:
    engine = make_engine(settings.app.database_url)
    clock = Clock(settings.app.timezone)
    with make_session_factory(engine).begin() as session:
        for i in range(ORDERS):
            upsert_order(session, clock.now(), OrderData(f"BENCH-{i:04d}", "车门总成", 90000,
                                                         clock.today() + timedelta(days=30)),
                         actor=None, source="bench")
    engine.dispose()


def seeded_offline(database: Path):
    """The example configuration on a new SQLite file at `database`, platforms pointed nowhere
    (in-process benches send nothing), migrated and seeded with the benchmark's orders."""
    settings = load_settings(ROOT / "config.example.toml", env={}, overrides={
        "app.database_url": f"sqlite:///{database}", "wecom.api_base_url": "http://127.0.0.1:9",
        "dingtalk.api_base_url": "http://127.0.0.1:9", "dingtalk.oapi_base_url": "http://127.0.0.1:9"})
    init_db(settings.app.database_url, settings)
    seed(settings)
    return settings


class Callbacks:
    """Distinct 报工 messages: the n-th goes to order n mod 200 with quantity 1 + n div 200, so
    no two of one person on one step are the same (which the reader would ask about)."""

    def __init__(self, settings):
        self.ai = settings.wecom.aibot
        self.sent = 0
        self.parts = 0

    def build(self, count: int, stored: bool = True) -> list[tuple[dict, bytes]]:
        """`count` callbacks, encrypted and signed now; `stored`: counted for the final check
        (the floor's are the same messages, stored nowhere)."""
        out = []
        for _ in range(count):
            n = self.sent
            qty = 1 + n // ORDERS
            if stored:
                self.sent, self.parts = self.sent + 1, self.parts + qty
            msg = {"msgid": f"bench-{n}-{secrets.token_hex(4)}", "aibotid": "b", "chattype": "group",
                   "chatid": "wr-stamping", "from": {"userid": "zhangwei"}, "msgtype": "text",
                   "text": {"content": f"@产线接力 报工 BENCH-{n % ORDERS:04d} {qty}"}}
            encrypt = wc.encrypt(self.ai.encoding_aes_key, json.dumps(msg, ensure_ascii=False), "")
            ts, nonce = str(int(time.time())), secrets.token_hex(5)
            out.append(({"msg_signature": wc.sign(self.ai.token, ts, nonce, encrypt), "timestamp": ts,
                         "nonce": nonce}, json.dumps({"encrypt": encrypt}).encode()))
        return out

    def reply_text(self, body: dict) -> str:
        """The markdown of a passive reply (to check it and to give the floor the same size)."""
        return json.loads(wc.decrypt(self.ai.encoding_aes_key, body["encrypt"], ""))["stream"]["content"]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    cpu: float = 0.0

    def line(self) -> str:
        n = len(self.latencies)
        return (f"p50 {pct(self.latencies, 50):6.1f}  p99 {pct(self.latencies, 99):6.1f} ms  "
                f"cpu {self.cpu / n * 1000:5.2f} ms/req  {n / self.wall:6.0f} req/s  errors {self.errors}")


def drive(url: str, work: list, clients: int, rate: float, tally: Tally) -> None:
    """Send `work` from `clients` threads: closed loop, or paced at `rate` requests/s in all
    (request k due at start + k/rate; its latency counted from then)."""
    lock = threading.Lock()
    next_index = iter(range(len(work)))
    began = time.perf_counter() + 0.05

    def client():
        http = requests.Session()
        while True:
            with lock:
                k = next(next_index, None)
            if k is None:
                return
            due = began + k / rate if rate else 0.0
            if rate:
                time.sleep(max(0.0, due - time.perf_counter()))
            start = due if rate else time.perf_counter()
            try:
                resp = http.post(url, params=work[k][0], data=work[k][1], timeout=30,
                                 headers={"Content-Type": "application/json"})
                ok = resp.status_code == 200 and "encrypt" in resp.json()
            except (requests.RequestException, ValueError):
                ok = False
            elapsed = time.perf_counter() - start
            with lock:
                tally.latencies.append(elapsed)
                tally.errors += not ok

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tally.wall += time.perf_counter() - began


def compare(servers: dict, callbacks: Callbacks, args, rate: float) -> dict[str, Tally]:
    """Both servers under one load, alternately (which goes first alternates too)."""
    tallies = {name: Tally() for name in servers}
    per_round = max(1, args.requests // args.rounds)
    for r in range(args.rounds):
        for name in (list(servers) if r % 2 == 0 else list(servers)[::-1]):
            proc, url = servers[name]
            work = callbacks.build(per_round, stored=name == "LineRelay")
            cpu = group_cpu_seconds(proc.pid)
            drive(url, work, args.clients, rate, tallies[name])
            tallies[name].cpu += group_cpu_seconds(proc.pid) - cpu
    return tallies


def counted(settings) -> tuple[int, int]:
    from sqlalchemy import text
    engine = make_engine(settings.app.database_url)
    with engine.connect() as conn:
        parts = conn.execute(text("SELECT COALESCE(SUM(good_qty), 0) FROM steps")).scalar()
        reports = conn.execute(text("SELECT COUNT(*) FROM reports")).scalar()
    engine.dispose()
    return int(reports or 0), int(parts or 0)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="per server and load, over all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="alternations per load")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1,
                        help="SQLite: 1 (writers queue on one process's lock); PostgreSQL: one per core")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--loads", default="50,100,closed", help="comma-separated: requests/s offered, or closed")
    parser.add_argument("--database-url", default=os.environ.get("LINERELAY_BENCH_DATABASE_URL"),
                        help="a PostgreSQL server to create a fresh database on (default: a SQLite file)")
    parser.add_argument("--only-relay", action="store_true", help="do not start the floor")
    parser.add_argument("--bound", action="store_true",
                        help="also run the least a 报工 costs on this stack (bench.floor:stack_app(): Flask, "
                             "SQLAlchemy Core, the report's rows in one transaction), on a database of its own")
    return parser.parse_args(argv)


def run(args, tmp: Path, servers: Servers) -> int:
    base = load_settings(ROOT / "config.example.toml", env={}).wecom
    twin = WeComTwin(corp_id=base.corp_id, secret=base.secret, agent_id=base.agent_id, app_token=base.token,
                     app_aes_key=base.encoding_aes_key, aibot_token=base.aibot.token,
                     aibot_aes_key=base.aibot.encoding_aes_key).start()
    url, drop = fresh_database(args.database_url, tmp)
    bound_url, drop_bound = fresh_database(args.database_url, tmp, "bound") if args.bound else (None, lambda: None)
    try:
        env = {**os.environ, "LINERELAY_CONFIG": str(ROOT / "config.example.toml"),
               "LINERELAY__APP__DATABASE_URL": url, "LINERELAY__WECOM__API_BASE_URL": twin.base_url,
               "LINERELAY__DINGTALK__API_BASE_URL": twin.base_url, "LINERELAY__DINGTALK__OAPI_BASE_URL": twin.base_url}
        settings = load_settings(ROOT / "config.example.toml", env=env)
        for database in filter(None, (url, bound_url)):   # the bound's rows beside the same plant
            each = load_settings(ROOT / "config.example.toml", env={**env, "LINERELAY__APP__DATABASE_URL": database})
            init_db(each.app.database_url, each)
            seed(each)
        if bound_url:
            env["LINERELAY_FLOOR_DATABASE_URL"] = bound_url
        return measure(args, settings, env, servers)
    finally:
        drop()
        drop_bound()
        twin.stop()


def measure(args, settings, env: dict, servers: Servers) -> int:
    callbacks = Callbacks(settings)
    relay, relay_url = servers.gunicorn("linerelay", "wsgi:app", env, args.workers, args.threads)
    targets = {"LineRelay": (relay, f"{relay_url}/wecom/aibot")}
    warm = Tally()
    drive(targets["LineRelay"][1], callbacks.build(args.warmup), args.clients, 0, warm)
    sample = requests.post(targets["LineRelay"][1], params=(one := callbacks.build(1)[0])[0], data=one[1],
                           headers={"Content-Type": "application/json"}).json()
    reply = callbacks.reply_text(sample)
    print(f"LineRelay's reply ({len(reply.encode())} bytes): {reply.splitlines()[0]}")
    if not args.only_relay:
        floor_env = {**env, "LINERELAY_FLOOR_TOKEN": settings.wecom.aibot.token,
                     "LINERELAY_FLOOR_AES_KEY": settings.wecom.aibot.encoding_aes_key, "LINERELAY_FLOOR_REPLY": reply}
        floor, floor_url = servers.gunicorn("floor", "bench.floor:app", floor_env, args.workers, args.threads)
        targets["floor"] = (floor, f"{floor_url}/wecom/aibot")
        drive(targets["floor"][1], callbacks.build(args.warmup, stored=False), args.clients, 0, Tally())
        if args.bound:
            bound, bound_url = servers.gunicorn("bound", "bench.floor:stack_app()", floor_env, args.workers,
                                                args.threads)
            targets["bound"] = (bound, f"{bound_url}/wecom/aibot")
            drive(targets["bound"][1], callbacks.build(args.warmup, stored=False), args.clients, 0, Tally())
    db = "SQLite" if settings.app.database_url.startswith("sqlite") else "PostgreSQL"
    print(f"gunicorn {args.workers} worker(s) x {args.threads} threads, {db}, {args.clients} clients, "
          f"{args.requests} requests per server and load in {args.rounds} alternating rounds; "
          f"load average before: {os.getloadavg()[0]:.1f}")
    rows = []
    for load in args.loads.split(","):
        rate = 0.0 if load.strip() == "closed" else float(load)
        tallies = compare(targets, callbacks, args, rate)
        name = "closed loop" if not rate else f"paced {rate:.0f}/s"
        for who, tally in tallies.items():
            print(f"{name:>12}  {who:<9} {tally.line()}")
        rows.append((name, tallies))
    print_table(rows)
    if args.bound:
        print_bound(rows)
    return check(settings, callbacks, rows, env.get("LINERELAY_FLOOR_DATABASE_URL"), args.warmup)


def print_table(rows) -> None:
    print("\n| load | LineRelay p50 / p99 | floor p50 / p99 | server CPU per request | ratio | throughput |")
    print("|---|---|---|---|---|---|")
    for name, t in rows:
        r, f = t["LineRelay"], t.get("floor")
        rc = r.cpu / len(r.latencies) * 1000
        if f is None:
            print(f"| {name} | {pct(r.latencies, 50):.1f} / {pct(r.latencies, 99):.1f} ms | - | {rc:.2f} ms | - | "
                  f"{len(r.latencies) / r.wall:.0f} req/s |")
            continue
        fc = f.cpu / len(f.latencies) * 1000
        print(f"| {name} | {pct(r.latencies, 50):.1f} / {pct(r.latencies, 99):.1f} ms "
              f"| {pct(f.latencies, 50):.1f} / {pct(f.latencies, 99):.1f} ms | {rc:.2f} vs {fc:.2f} ms "
              f"| {rc / max(fc, 1e-9):.1f}x | {len(r.latencies) / r.wall:.0f} vs {len(f.latencies) / f.wall:.0f} req/s |")


def print_bound(rows) -> None:
    """The bound beside the floor and LineRelay: what the stack itself costs, and what is left."""
    print("\n| load | bound p50 / p99 | bound CPU per request | bound ÷ floor | LineRelay ÷ bound | bound throughput |")
    print("|---|---|---|---|---|---|")
    for name, t in rows:
        r, f, b = t["LineRelay"], t.get("floor"), t["bound"]
        rc, bc = (x.cpu / len(x.latencies) * 1000 for x in (r, b))
        fc = f.cpu / len(f.latencies) * 1000 if f is not None else float("nan")
        print(f"| {name} | {pct(b.latencies, 50):.1f} / {pct(b.latencies, 99):.1f} ms | {bc:.2f} ms "
              f"| {bc / max(fc, 1e-9):.1f}x | {rc / max(bc, 1e-9):.1f}x | {len(b.latencies) / b.wall:.0f} req/s |")


def check(settings, callbacks: Callbacks, rows, bound_url: str | None = None, warmup: int = 0) -> int:
    reports, parts = counted(settings)
    errors = sum(t.errors for _, tallies in rows for t in tallies.values())
    once = reports == callbacks.sent and parts == callbacks.parts
    print(f"\nerrors {errors}; every report counted exactly once: {'yes' if once else 'NO'} "
          f"({reports} reports of {callbacks.sent} sent, {parts} parts of {callbacks.parts})")
    if bound_url:   # the bound stores what it is sent, too: its warm-up and every batch
        sent = warmup + sum(len(tallies["bound"].latencies) for _, tallies in rows)
        stored, _ = counted(load_settings(ROOT / "config.example.toml", env={}, overrides={"app.database_url": bound_url}))
        once = once and stored == sent
        print(f"the bound stored {stored} reports of {sent} sent")
    return 0 if errors == 0 and once else 1


def main(argv=None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="linerelay-bench-"))
    try:
        with Servers(tmp) as servers:
            return run(args, tmp, servers)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
