"""`linerelay sandbox`: the app, the WeCom twin and a demo plant on SQLite, no accounts needed.

Every command typed at the prompt goes through the twin, which encrypts and signs it as WeCom
does and posts it to the app's real `/wecom/aibot` endpoint; group notices the app pushes
arrive at the twin's webhook API and are printed as the group would see them.
"""
from __future__ import annotations

import shlex
import sys
import threading
import time
from pathlib import Path

from bot.app import build_relay, create_app
from bot.cli import init_db
from bot.config import load_settings
from bot.demo.seed import DEMO_CONFIG, seed_demo
from bot.handlers.base import limits_for
from bot.twins.dingtalk import DingTalkTwin
from bot.twins.server import ThreadedServer
from bot.twins.wecom import WeComTwin

PROMPT_HELP = """命令示例（以 张伟 在 冲压车间群 的身份）：报工 SO-1001 120
切换身份：/as <userid> [群chat_id|私聊]   例：/as lina wr-welding
用户：zhangwei(冲压) lina wangqiang(焊接) zhaomin(涂装) liuyang(总装) chenjing(计划) zhouzong(经理) sungong(管理员)
群：wr-stamping wr-welding wr-painting wr-assembly wr-managers    私聊：/as zhouzong 私聊
钉钉：/as dt-zhangwei cid-stamping（钉钉用户 dt-<userid>，钉钉群 cid-<车间>）    退出：/quit"""


def start_sandbox(host: str = "127.0.0.1", port: int = 8000, database: str = "sandbox.db"):
    """Start twin and app; returns (relay, twin, server). Used by the CLI and by tests."""
    Path(database).unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)
    base = load_settings(DEMO_CONFIG, env={})
    w, d = base.wecom, base.dingtalk
    twin = WeComTwin(corp_id=w.corp_id, secret=w.secret, agent_id=w.agent_id, app_token=w.token,
                     app_aes_key=w.encoding_aes_key, aibot_token=w.aibot.token,
                     aibot_aes_key=w.aibot.encoding_aes_key).start()
    ding = DingTalkTwin(app_key=d.app_key, app_secret=d.app_secret, robot_code=d.robot_code,
                        custom_robots={g.webhook_key: g.webhook_secret for g in base.groups
                                       if g.platform == "dingtalk" and g.webhook_key}).start()
    settings = load_settings(DEMO_CONFIG, env={}, overrides={
        "app.database_url": f"sqlite:///{Path(database).resolve()}", "wecom.api_base_url": twin.base_url,
        "dingtalk.api_base_url": ding.base_url, "dingtalk.oapi_base_url": ding.base_url})
    init_db(settings)
    relay = build_relay(settings)
    with relay.Session.begin() as session:
        seed_demo(session, relay.clock, limits_for(settings))
    server = ThreadedServer(create_app(relay=relay), host, port).start()
    twin.app_url = ding.app_url = server.url
    relay.platforms["dingtalk"].register_card_callback(server.url)
    twin.dingtalk = ding  # the prompt and tests reach the DingTalk twin through the WeCom one
    return relay, twin, server


def start_jobs(relay):
    """The scheduler, as `linerelay jobs` runs it (the sandbox is its own only jobs process)."""
    from bot.jobs.runner import JobsProcess
    return JobsProcess(relay, "sandbox").start()


def run_sandbox(host: str, port: int, database: str, interactive: bool = True) -> None:
    relay, twin, server = start_sandbox(host, port, database)
    jobs = start_jobs(relay)
    print(f"LineRelay sandbox: app {server.url} · WeCom twin {twin.base_url} · database {database}")
    print(f"  AI bot callback: {server.url}/wecom/aibot   health: {server.url}/healthz")
    print(f"  board: {server.url}/board?token={relay.settings.api.board_tokens[0]}" if relay.settings.api.board_tokens else "")
    if interactive and sys.stdin.isatty():
        _prompt(twin)
    else:
        print("serving; Ctrl-C to stop")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    jobs.stop()
    server.stop()
    twin.stop()
    twin.dingtalk.stop()


def _prompt(twin: WeComTwin) -> None:
    print(PROMPT_HELP)
    user, chat = "zhangwei", "wr-stamping"
    seen = len(twin.sent)
    while True:
        try:
            line = input(f"{user}@{chat or '私聊'}> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return
        if line.startswith("/as"):
            parts = shlex.split(line)[1:]
            if parts:
                user = parts[0]
                chat = None if len(parts) > 1 and parts[1] in ("私聊", "-") else (parts[1] if len(parts) > 1 else chat)
            continue
        if user.startswith("dt-"):  # a DingTalk user: the robot callback, the reply via sessionWebhook
            resp, session = twin.dingtalk.robot_text(user, line, conversation_id=chat)
            print(twin.dingtalk.wait_for(lambda m: m.api == "session" and m.target == session).text
                  if resp.status_code == 200 else f"(HTTP {resp.status_code})")
        else:
            result = twin.aibot_text(user, line, chatid=chat)
            print(result.reply["stream"]["content"] if result.reply else f"(HTTP {result.status})")
        time.sleep(0.3)  # let the outbox push group notices
        for sent in twin.sent[seen:]:
            print(f"\n[WeCom {sent.api} → {sent.target}]\n{sent.text}")
        seen = len(twin.sent)
