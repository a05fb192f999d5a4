"""`linerelay sandbox`: the whole product on one machine, no platform accounts needed.

It starts the WeCom and DingTalk twins, the app on a fresh SQLite file with the demo plant, the
jobs, and the chat page `/sandbox`. Everything typed there (or at the terminal prompt) goes
through a twin, which encrypts and signs it as the platform does and posts it to the app's real
callback endpoints; what the app sends back arrives at the twins' send APIs.

The sandbox has its own clock, shared by the app and both twins (so signatures stay fresh when
it is moved): it starts on a working day at 09:30 factory time, and the page's clock control
moves it on and runs the jobs that would have run by then.
"""
from __future__ import annotations

import shlex
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, time as dtime, timedelta
from pathlib import Path

from bot.app import build_relay, create_app
from bot.cli import init_db
from bot.clock import Clock
from bot.config import load_settings
from bot.demo.seed import DEMO_CONFIG, seed_demo
from bot.handlers.base import limits_for
from bot.jobs import calendar
from bot.sandbox_console import BadRequest, SandboxConsole, blueprint
from bot.twins.dingtalk import DingTalkTwin
from bot.twins.server import ThreadedServer
from bot.twins.wecom import WeComTwin

PROMPT_HELP = """命令示例（以 张伟 在 冲压车间群 的身份）：报工 SO-1001 120
切换身份：/as <userid> [群chat_id|私聊]   例：/as lina wr-welding
用户：zhangwei(冲压) lina wangqiang(焊接) zhaomin(涂装) liuyang(总装) chenjing(计划) zhouzong(经理) sungong(管理员)
群：wr-stamping wr-welding wr-painting wr-assembly wr-managers    私聊：/as zhouzong 私聊
钉钉：/as dt-zhangwei cid-stamping（钉钉用户 dt-<userid>，钉钉群 cid-<车间>）    退出：/quit"""

START_TIME = dtime(9, 30)


@dataclass
class Sandbox:
    relay: object
    twin: WeComTwin
    dingtalk: DingTalkTwin
    server: ThreadedServer
    console: SandboxConsole
    jobs: object = None

    @property
    def url(self) -> str:
        return self.server.url

    def start_jobs(self):
        """The scheduler, as `linerelay jobs` runs it (the sandbox is its own only jobs process)."""
        from bot.jobs.runner import JobsProcess
        self.jobs = JobsProcess(self.relay, "sandbox").start()
        return self.jobs

    def stop(self) -> None:
        if self.jobs is not None:
            self.jobs.stop()
        self.server.stop()
        self.relay.dispatcher.stop()
        self.twin.stop()
        self.dingtalk.stop()
        self.relay.engine.dispose()


def sandbox_start_time(relay) -> datetime:
    """09:30 factory time on today's date if it is a working day, else on the next working day."""
    day = relay.clock.today()
    while not calendar(relay).is_workday(day):
        day += timedelta(days=1)
    return datetime.combine(day, START_TIME)


def start_sandbox(host: str = "127.0.0.1", port: int = 8000, database: str = "sandbox.db") -> Sandbox:
    """Start the twins and the app on a fresh demo database. Used by the CLI and by tests."""
    Path(database).unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)
    base = load_settings(DEMO_CONFIG, env={})
    clock = Clock(base.app.timezone)   # one clock for the app and both twins
    w, d = base.wecom, base.dingtalk
    twin = WeComTwin(corp_id=w.corp_id, secret=w.secret, agent_id=w.agent_id, app_token=w.token,
                     app_aes_key=w.encoding_aes_key, aibot_token=w.aibot.token,
                     aibot_aes_key=w.aibot.encoding_aes_key, clock=clock.epoch).start()
    ding = DingTalkTwin(app_key=d.app_key, app_secret=d.app_secret, robot_code=d.robot_code,
                        custom_robots={g.webhook_key: g.webhook_secret for g in base.groups
                                       if g.platform == "dingtalk" and g.webhook_key},
                        clock=clock.epoch).start()
    settings = load_settings(DEMO_CONFIG, env={}, overrides={
        "app.database_url": f"sqlite:///{Path(database).resolve()}", "wecom.api_base_url": twin.base_url,
        "dingtalk.api_base_url": ding.base_url, "dingtalk.oapi_base_url": ding.base_url})
    init_db(settings)
    relay = build_relay(settings, clock=clock)
    clock.set_local(sandbox_start_time(relay))
    with relay.Session.begin() as session:
        seed_demo(session, relay.clock, limits_for(settings))
    console = SandboxConsole(relay, twin, ding)
    app = create_app(relay=relay)
    app.register_blueprint(blueprint(console))
    server = ThreadedServer(app, host, port).start()
    twin.app_url = ding.app_url = server.url
    relay.on_public_url(server.url)
    sandbox = Sandbox(relay, twin, ding, server, console)
    _open_requests(sandbox)
    return sandbox


def _open_requests(sandbox: Sandbox) -> None:
    """The planner files a rush order and a change, through the WeCom twin like anyone would,
    so the managers start with approval cards; then the delay scan marks what is at risk."""
    from bot.jobs import run_job
    due = (sandbox.relay.clock.today() + timedelta(days=4)).strftime("%m-%d")
    later = (sandbox.relay.clock.today() + timedelta(days=12)).strftime("%m-%d")
    for text in (f"插单 SO-2001 车门总成 300 交期 {due} 原因 主机厂急单", f"变更 SO-1008 交期 {later} 原因 客户推迟提货"):
        sandbox.console.say("wecom:@chenjing", "chenjing", text)
    run_job(sandbox.relay, "delay-scan")
    run_job(sandbox.relay, "outbox")


def run_sandbox(host: str, port: int, database: str, interactive: bool = True) -> None:
    sandbox = start_sandbox(host, port, database)
    sandbox.start_jobs()
    relay, url = sandbox.relay, sandbox.url
    tokens = relay.settings.api.board_tokens
    print(f"LineRelay sandbox on {url} · database {database}")
    print(f"  chat page: {url}/sandbox   (type commands as any person, in any group, press card buttons)")
    if tokens:
        print(f"  board:     {url}/board?token={tokens[0]}")
    print(f"  API:       {url}/api/openapi.json   (Authorization: Bearer {relay.settings.api.keys[0]})"
          if relay.settings.api.keys else "")
    print(f"  twins:     WeCom {sandbox.twin.base_url} · DingTalk {sandbox.dingtalk.base_url}")
    if interactive and sys.stdin.isatty():
        _prompt(sandbox.console)
    else:
        print("serving; Ctrl-C to stop")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    sandbox.stop()


def _prompt(console: SandboxConsole) -> None:
    """The chat page at a terminal: the same conversations, through the same twins."""
    print(PROMPT_HELP)
    user, chat = "zhangwei", "wr-stamping"
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
        platform = "dingtalk" if user.startswith("dt-") else "wecom"
        conv = f"{platform}:{chat}" if chat else f"{platform}:@{user}"
        seen = console.revision
        try:
            console.say(conv, user, line)
        except BadRequest as exc:
            print(f"({exc})")
            continue
        deadline = time.monotonic() + 5   # a DingTalk reply comes through the outbox, a moment later
        while time.monotonic() < deadline and not any(e.conv == conv and e.who != "me" for e in console.since(seen)):
            time.sleep(0.05)
        time.sleep(0.3)  # and let the outbox push the notices to other groups
        for entry in console.since(seen):
            if entry.who != "me":
                print(f"\n[{entry.conv} · {entry.via}]\n{entry.markdown or _card_text(entry.card)}")


def _card_text(card: dict | None) -> str:
    if not card:
        return ""
    buttons = " ".join(f"[{b['label']}]" for b in card["buttons"]) or card["outcome"]
    return f"{card['title']}\n{card['body']}\n{buttons}"
