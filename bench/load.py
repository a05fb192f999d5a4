"""A shift-end burst: N leads report within a window, with WeCom's retries mixed in.

    .venv/bin/python bench/load.py --database-url postgresql+psycopg://… [--leads 200 --seconds 60]

Runs the deployment shape: gunicorn with several workers and one `linerelay jobs` process on the
database given (SQLite when omitted: then one worker), the WeCom twin for pushes. Each lead sends
one encrypted `报工` at a random moment of the window; a share of them is delivered again with the
same msgid, as WeCom does after a slow answer. Prints throughput, p50/p99 and errors, and checks
the database afterwards: every report counted exactly once.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import fresh_database, free_port, pct  # noqa: E402
from storage.migrate import init_db  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.twins import wecom_crypto as wc  # noqa: E402
from bot.twins.wecom import WeComTwin  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.models import Person, PersonIdentity, Workshop  # noqa: E402


def seed(settings, leads: int) -> None:
    from bench.callback_latency import seed as seed_orders
    seed_orders(settings)
    engine = make_engine(settings.app.database_url)
    with make_session_factory(engine).begin() as s:
        stamping = s.query(Workshop).filter_by(code="stamping").one()
        s.add_all(Person(name=f"班长{i:03d}", roles="lead", workshops=[stamping],
                         identities=[PersonIdentity(platform="wecom", user_id=f"lead{i:03d}")])
                  for i in range(leads))
    engine.dispose()


def callback(settings, userid: str, msgid: str, order: int) -> tuple[dict, bytes]:
    ai = settings.wecom.aibot
    msg = {"msgid": msgid, "aibotid": "b", "chattype": "group", "chatid": "wr-stamping", "from": {"userid": userid},
           "msgtype": "text", "text": {"content": f"@产线接力 报工 BENCH-{order:04d} 3"}}
    encrypt = wc.encrypt(ai.encoding_aes_key, json.dumps(msg, ensure_ascii=False), "")
    t, nonce = str(int(time.time())), secrets.token_hex(5)
    return ({"msg_signature": wc.sign(ai.token, t, nonce, encrypt), "timestamp": t, "nonce": nonce},
            json.dumps({"encrypt": encrypt}).encode())


def deliver(url: str, item, attempts: int = 4) -> tuple[float, int]:
    """Like WeCom: no answer (or 5xx) → the same message again, up to three retries."""
    params, body = item
    started = time.perf_counter()
    status = 0
    for _ in range(attempts):
        try:
            status = requests.post(url, params=params, data=body, timeout=5,
                                   headers={"Content-Type": "application/json"}).status_code
        except requests.RequestException:
            status = 0
        if status == 200:
            break
        time.sleep(0.5)
    return time.perf_counter() - started, status


def burst(settings, url: str, leads: int, seconds: float, retry_share: float, rnd: random.Random):
    plan = []
    for i in range(leads):
        item = callback(settings, f"lead{i:03d}", f"load-{i}-{secrets.token_hex(4)}", i % 200)
        at = rnd.uniform(0, seconds)
        plan.append((at, item))
        if rnd.random() < retry_share:  # WeCom's retry of the same message a moment later
            plan.append((at + rnd.uniform(0.05, 1.0), item))
    plan.sort(key=lambda p: p[0])
    results, lock = [], threading.Lock()
    began = time.perf_counter()

    def one(at, item):
        time.sleep(max(0.0, at - (time.perf_counter() - began)))
        outcome = deliver(url, item)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=one, args=p) for p in plan]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - began


def start_deployment(settings_env: dict, workers: int, threads: int, port: int):
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
                            "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                           cwd=ROOT, env=settings_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    jobs = subprocess.Popen([sys.executable, "-m", "bot.cli", "jobs"], cwd=ROOT, env=settings_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return web, jobs
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError("the deployment did not become ready")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("LINERELAY_BENCH_DATABASE_URL"))
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--retries", type=float, default=0.2, help="share of messages WeCom delivers twice")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="linerelay-load-"))
    url, drop = fresh_database(args.database_url, tmp)
    workers = args.workers or (1 if url.startswith("sqlite") else 2)
    base = load_settings(ROOT / "config.example.toml", env={})
    w = base.wecom
    twin = WeComTwin(corp_id=w.corp_id, secret=w.secret, agent_id=w.agent_id, app_token=w.token,
                     app_aes_key=w.encoding_aes_key, aibot_token=w.aibot.token,
                     aibot_aes_key=w.aibot.encoding_aes_key).start()
    env = {**os.environ, "LINERELAY_CONFIG": str(ROOT / "config.example.toml"), "LINERELAY__APP__DATABASE_URL": url,
           "LINERELAY__WECOM__API_BASE_URL": twin.base_url, "LINERELAY__DINGTALK__API_BASE_URL": twin.base_url,
           "LINERELAY__DINGTALK__OAPI_BASE_URL": twin.base_url}
    settings = load_settings(ROOT / "config.example.toml", env=env)
    init_db(settings.app.database_url, settings)
    seed(settings, args.leads)
    port = free_port()
    web, jobs = start_deployment(env, workers, args.threads, port)
    try:
        results, wall = burst(settings, f"http://127.0.0.1:{port}/wecom/aibot", args.leads, args.seconds,
                              args.retries, random.Random(11))
    finally:
        for proc in (web, jobs):
            proc.terminate()
            proc.wait(10)
        twin.stop()
    engine = make_engine(url)
    with engine.connect() as conn:
        from sqlalchemy import text
        reports = conn.execute(text("SELECT COUNT(*) FROM reports WHERE source LIKE 'wecom:msg:load-%'")).scalar()
    engine.dispose()
    drop()
    shutil.rmtree(tmp, ignore_errors=True)
    latencies = [lat for lat, status in results if status == 200]
    errors = sum(1 for _, status in results if status != 200)
    print(f"burst: {args.leads} leads in {args.seconds:.0f} s, {len(results) - args.leads} platform retries, "
          f"gunicorn {workers}x{args.threads} + jobs, {'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}")
    print(f"throughput {len(results) / wall:.1f} req/s, errors {errors}")
    if latencies:
        print(f"latency ms: p50 {pct(latencies, 50):.1f}  p99 {pct(latencies, 99):.1f}  max {max(latencies) * 1000:.1f}")
    once = reports == args.leads
    print(f"every report counted exactly once: {'yes' if once else 'no'} ({reports} stored, {args.leads} sent)")
    print(f"target p99 < 100 ms: {'met' if latencies and pct(latencies, 99) < 100 else 'missed'}")
    return 0 if once and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
