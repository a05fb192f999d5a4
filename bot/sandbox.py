"""`linerelay sandbox`: the whole product on one machine, no platform accounts needed.

It starts a twin of each configured platform, the app on a fresh SQLite file with the demo plant, the
jobs, and the chat page `/sandbox`. Everything typed there (or at the terminal prompt) goes
through a twin, which encrypts and signs it as the platform does and posts it to the app's real
callback endpoints; what the app sends back arrives at the twins' send APIs.

The sandbox has its own clock, shared by the app and every twin (so signatures stay fresh when
it is moved): it starts on a working day at 09:30 factory time, and the page's clock control
moves it on and runs the jobs that would have run by then.
"""
from __future__ import annotations

import importlib
import shlex
import socket
import sys
import threading
import time
import tomllib
from dataclasses import dataclass
from datetime import datetime, time as dtime, timedelta
from pathlib import Path

from collections.abc import Callable
from typing import Any

from bot.app import build_relay, create_app
from storage.migrate import init_db
from bot.clock import Clock
from bot.config import Settings, parse_settings, set_dotted
from bot.demo.seed import DEMO_CONFIG, seed_demo
from bot.handlers.base import limits_for
from bot.platforms import registry
from bot.relay import Relay
from bot.sandbox_calendar import calendar_blueprint
from bot.sandbox_console import BadRequest, SandboxConsole, blueprint
from bot.twins.base import SandboxTwin
from bot.twins.server import ThreadedServer

START_TIME = dtime(9, 30)


@dataclass
class Sandbox:
    relay: Relay
    twins: dict[str, SandboxTwin]   # platform name -> its twin, serving on a port of its own
    server: ThreadedServer
    console: SandboxConsole
    jobs: Any = None

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
        for twin in self.twins.values():
            twin.stop()
        self.relay.engine.dispose()


def sandbox_start_time(relay) -> datetime:
    """09:30 factory time on today's date if it is a working day, else on the next working day."""
    from storage import planner
    day = relay.clock.today()
    with relay.Session() as session:
        cal = planner.calendar(session, relay.plan)
        session.rollback()
    while not cal.is_workday(day):
        day += timedelta(days=1)
    return datetime.combine(day, START_TIME)


def start_twins(settings: Settings, clock: Clock) -> tuple[dict[str, SandboxTwin], dict[str, str]]:
    """A twin for each configured platform that has one, and the settings that point the app at them."""
    twins: dict[str, SandboxTwin] = {}
    overrides: dict[str, str] = {}
    for spec in registry.specs():
        if spec.twin and spec.name in settings.platforms:
            module, _, function = spec.twin.partition(":")
            twins[spec.name], pointed = getattr(importlib.import_module(module), function)(settings, clock)
            overrides.update(pointed)
    return twins, overrides


def demo_settings(overrides: dict[str, Any], wecom_mode: str = "callback") -> Settings:
    """The demo plant; with `wecom_mode = "long_connection"` its WeCom groups are the AI bot's
    long connection's (`platform = "wecom-ws"`), as a plant that switches modes binds them."""
    data = tomllib.loads(DEMO_CONFIG.read_text(encoding="utf-8"))
    if wecom_mode == "long_connection":
        data["wecom"]["aibot"] = {"mode": "long_connection", "bot_id": "sandbox-aibot", "secret": "sandbox-secret",
                                  "ws_url": "ws://127.0.0.1:9"}
        data["groups"] = [dict(g, platform="wecom-ws") if g["platform"] == "wecom" else g for g in data["groups"]]
    for dotted, value in overrides.items():
        set_dotted(data, dotted.split("."), value)
    return parse_settings(data)


def start_sandbox(host: str = "127.0.0.1", port: int = 8000, database: str = "sandbox.db",
                  wecom_mode: str = "callback", switch_mode: Callable[[str], None] | None = None,
                  listener: int | None = None) -> Sandbox:
    """Start the twins and the app on a fresh demo database. Used by the CLI and by tests."""
    Path(database).unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)
    base = demo_settings({}, wecom_mode)
    clock = Clock(base.app.timezone)   # one clock for the app and every twin
    twins, overrides = start_twins(base, clock)
    settings = demo_settings({"app.database_url": f"sqlite:///{Path(database).resolve()}", **overrides}, wecom_mode)
    init_db(settings.app.database_url, settings)
    relay = build_relay(settings, clock=clock)
    clock.set_local(sandbox_start_time(relay))
    with relay.Session.begin() as session:
        seed_demo(session, relay.clock, limits_for(settings))
    console = SandboxConsole(relay, twins, switch_mode)
    app = create_app(relay=relay)
    app.register_blueprint(blueprint(console))
    app.register_blueprint(calendar_blueprint(relay))
    server = ThreadedServer(app, host, port, fd=listener).start()
    for twin in twins.values():
        twin.app_url = server.url
        if hasattr(twin, "on_app"):   # a twin of a long connection: the sandbox runs its process too
            twin.on_app(relay)
    relay.on_public_url(server.url)
    sandbox = Sandbox(relay, twins, server, console)
    _open_requests(sandbox)
    return sandbox


def _open_requests(sandbox: Sandbox) -> None:
    """The planner files a rush order and a change, through a twin like anyone would,
    so the managers start with approval cards; then the delay scan marks what is at risk."""
    from bot.jobs import run_job
    due = (sandbox.relay.clock.today() + timedelta(days=4)).strftime("%m-%d")
    later = (sandbox.relay.clock.today() + timedelta(days=12)).strftime("%m-%d")
    planner = next(p for p in sandbox.relay.settings.people if "planner" in p.roles)
    platform, user_id = next((name, uid) for name in sandbox.twins if (uid := sandbox.console.user_id(planner, name)))
    for text in (f"插单 SO-2001 车门总成 300 交期 {due} 原因 主机厂急单", f"变更 SO-1008 交期 {later} 原因 客户推迟提货"):
        sandbox.console.say(f"{platform}:@{user_id}", user_id, text)
    run_job(sandbox.relay, "delay-scan")
    run_job(sandbox.relay, "outbox")


class SandboxHost:
    """The sandbox as `linerelay sandbox` runs it, on one address: the page header's switch
    starts the demo again (fresh data, the same clock start) with WeCom on the other mode, since
    a plant's mode decides which channels and processes exist."""

    def __init__(self, host: str, port: int, database: str, wecom_mode: str = "callback", jobs: bool = True):
        self.host, self.database, self.jobs = host, database, jobs
        self._lock = threading.Lock()
        # The address is held for the host's whole life: while one sandbox stops and the next
        # starts, its twins (port 0) or anyone else cannot take it, and requests wait in its queue.
        self.listener = socket.create_server((host, port))
        self.port = self.listener.getsockname()[1]
        self.current = self._start(wecom_mode)

    def _start(self, wecom_mode: str) -> Sandbox:
        sandbox = start_sandbox(self.host, self.port, self.database, wecom_mode, switch_mode=self.switch,
                                listener=self.listener.fileno())
        if self.jobs:
            sandbox.start_jobs()
        return sandbox

    def switch(self, wecom_mode: str) -> None:
        """Called from a page request: the restart runs after its answer has gone."""
        threading.Thread(target=self._restart, args=(wecom_mode,), name="sandbox-switch", daemon=True).start()

    def _restart(self, wecom_mode: str) -> None:
        time.sleep(0.3)
        with self._lock:
            self.current.stop()
            self.current = self._start(wecom_mode)

    def stop(self) -> None:
        with self._lock:
            self.current.stop()
            self.listener.close()


def run_sandbox(host: str, port: int, database: str, interactive: bool = True, wecom_mode: str = "callback") -> None:
    box = SandboxHost(host, port, database, wecom_mode)
    sandbox = box.current
    relay, url = sandbox.relay, sandbox.url
    tokens = relay.settings.api.board_tokens
    print(f"LineRelay sandbox on {url} · database {database}")
    print(f"  chat page: {url}/sandbox   (type commands as any person, in any group, press card buttons)")
    if tokens:
        print(f"  board:     {url}/board?token={tokens[0]}")
    print(f"  API:       {url}/api/openapi.json   (Authorization: Bearer {relay.settings.api.keys[0]})"
          if relay.settings.api.keys else "")
    print("  twins:     " + " · ".join(f"{t.describe()['title']} {t.base_url}" for t in sandbox.twins.values()))
    if interactive and sys.stdin.isatty():
        _prompt(lambda: box.current.console)
    else:
        print("serving; Ctrl-C to stop")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    box.stop()


def prompt_help(console: SandboxConsole) -> str:
    """How to use the terminal prompt, with this demo's people and groups."""
    lines = ["命令示例（以 张伟 在 冲压车间群 的身份）：报工 SO-1001 120",
             "切换身份：/as <用户> [群|私聊]   例：/as lina wr-welding    退出：/quit"]
    for name, twin in console.twins.items():
        users = " ".join(uid for p in console.people if (uid := console.user_id(p, name)))
        groups = " ".join(c.chat_id or "" for c in console.conversations.values()
                          if c.platform == name and c.kind == "group")
        lines.append(f"{twin.describe()['title']}：用户 {users}\n    群 {groups}")
    return "\n".join(lines)


def _prompt(current: Callable[[], SandboxConsole]) -> None:
    """The chat page at a terminal: the same conversations, through the same twins (those of the
    sandbox running now: the page may have switched the WeCom mode)."""
    console = current()
    print(prompt_help(console))
    first = next(iter(console.conversations.values()))
    user, chat = console.user_id(console.people[0], first.platform) or "", first.chat_id
    while True:
        console = current()
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
        platform = console.platform_of(user)
        if platform is None:
            print(f"({user}: 没有这个用户)")
            continue
        conv = f"{platform}:{chat}" if chat else f"{platform}:@{user}"
        seen = console.revision
        try:
            console.say(conv, user, line)
        except BadRequest as exc:
            print(f"({exc})")
            continue
        deadline = time.monotonic() + 5   # a reply may come through the outbox, a moment later
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
