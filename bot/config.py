"""Configuration: a TOML file, overridable key by key from the environment.

`LINERELAY__SECTION__KEY=value` overrides `[section] key`; nested tables use more
segments (`LINERELAY__WECOM__AIBOT__TOKEN`). Values from the environment are parsed as
TOML literals when they look like one (numbers, booleans), else taken as strings.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "LINERELAY__"
ROLES = {"lead", "planner", "manager", "admin"}


class ConfigError(ValueError):
    """Raised at start when a key is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class AppSettings:
    database_url: str = "sqlite:///linerelay.db"
    timezone: str = "Asia/Shanghai"
    max_body_bytes: int = 64 * 1024
    timestamp_window_seconds: int = 300
    undo_window_minutes: int = 30
    report_tolerance_percent: int = 5
    max_report_quantity: int = 100_000
    outbox_lease_seconds: int = 60      # a sender that dies mid-send loses its rows to another after this
    log_format: str = "text"            # "text" or "json" (one JSON object per line)


@dataclass(frozen=True)
class AiBotSettings:
    token: str
    encoding_aes_key: str


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str
    agent_id: int
    secret: str
    token: str
    encoding_aes_key: str
    api_base_url: str
    aibot: AiBotSettings


@dataclass(frozen=True)
class DingTalkSettings:
    app_key: str
    app_secret: str
    robot_code: str
    api_base_url: str
    oapi_base_url: str
    card_template_id: str
    card_callback_route_key: str
    card_callback_secret: str


@dataclass(frozen=True)
class GroupConfig:
    platform: str
    chat_id: str
    workshop: str | None
    name: str
    webhook_key: str
    webhook_secret: str = ""
    role: str = ""          # "managers" / "planners" for a group that is not a workshop's
    digest_time: str = ""   # "" = schedule.digest_time


@dataclass(frozen=True)
class PersonConfig:
    name: str
    roles: tuple[str, ...]
    workshops: tuple[str, ...]
    wecom_userid: str | None
    dingtalk_userid: str | None


@dataclass(frozen=True)
class RouteStepConfig:
    workshop: str
    units_per_hour: float


@dataclass(frozen=True)
class RouteConfig:
    product: str
    steps: tuple[RouteStepConfig, ...]


@dataclass(frozen=True)
class WorkshopConfig:
    code: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApprovalSettings:
    policy: str = "any"                 # "any": one approver decides; "all": every approver must agree
    approvers: tuple[str, ...] = ()     # people's names; empty: everyone with the manager role


@dataclass(frozen=True)
class ScheduleSettings:
    working_hours: tuple[str, ...] = ("08:00-12:00", "13:00-17:30")  # shifts, factory time
    chinese_holidays: bool = True         # public holidays off, make-up working days on
    quiet_hours: str = "21:00-07:00"      # notices due then are held until it ends
    delay_scan_minutes: int = 10
    at_risk_tolerance_minutes: int = 60
    escalation_minutes: int = 60          # unacknowledged warnings go to the managers after this
    digest_time: str = "08:00"            # default; a group may set its own
    handoff_reminder_minutes: int = 120
    approval_reminder_minutes: int = 120
    scheduler_lease_seconds: int = 60     # a standby jobs process takes over this long after the first dies


@dataclass(frozen=True)
class ApiSettings:
    keys: tuple[str, ...] = ()
    board_tokens: tuple[str, ...] = ()   # per-screen tokens for /board?token=…


@dataclass(frozen=True)
class Settings:
    app: AppSettings
    wecom: WeComSettings | None
    dingtalk: DingTalkSettings | None = None
    api: ApiSettings = ApiSettings()
    approvals: ApprovalSettings = ApprovalSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    workshops: tuple[WorkshopConfig, ...] = ()
    groups: tuple[GroupConfig, ...] = ()
    people: tuple[PersonConfig, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def config_path() -> Path:
    """The configuration file: `$LINERELAY_CONFIG`, else `./config.toml`."""
    return Path(os.environ.get("LINERELAY_CONFIG", "config.toml"))


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None,
                  overrides: dict[str, Any] | None = None) -> Settings:
    """Read, override from the environment, and validate the configuration."""
    path = Path(path) if path is not None else config_path()
    if not path.exists():
        raise ConfigError(f"configuration file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    apply_env_overrides(data, os.environ if env is None else env)
    for dotted, value in (overrides or {}).items():
        _set_dotted(data, dotted.split("."), value)
    return parse_settings(data)


def apply_env_overrides(data: dict[str, Any], env: dict[str, str]) -> None:
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX):].split("__") if k]
        if keys:
            _set_dotted(data, keys, _parse_env_value(value))


def _parse_env_value(value: str) -> Any:
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def _set_dotted(data: dict[str, Any], keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        data = data.setdefault(key, {})
        if not isinstance(data, dict):
            raise ConfigError(f"cannot override {'.'.join(keys)}: {key} is not a table")
    data[keys[-1]] = value


class _Reader:
    """Typed access to one table, naming the full key in every error."""

    def __init__(self, table: Any, prefix: str):
        if not isinstance(table, dict):
            raise ConfigError(f"{prefix} must be a table")
        self.table, self.prefix = table, prefix

    def _name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        if key not in self.table:
            if default is ...:
                raise ConfigError(f"missing key {self._name(key)}")
            return default
        value = self.table[key]
        if kind is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is str and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"{self._name(key)} must be {kind.__name__}, got {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value = self.get(key, str, default)
        if value is not None and default is ... and not value.strip():
            raise ConfigError(f"{self._name(key)} must not be empty")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, [])
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self._name(key)} must be a list of strings")
        return tuple(value)


def _aes_key(reader: _Reader, key: str) -> str:
    value = reader.text(key)
    if len(value) != 43:
        raise ConfigError(f"{reader._name(key)} must be 43 characters (WeCom EncodingAESKey)")
    return value


def parse_settings(data: dict[str, Any]) -> Settings:
    """Validate a configuration dictionary into typed settings."""
    app_r = _Reader(data.get("app", {}), "app")
    defaults = AppSettings()
    app = AppSettings(**{
        name: app_r.get(name, type(getattr(defaults, name)), getattr(defaults, name))
        for name in AppSettings.__dataclass_fields__
    })
    if app.log_format not in ("text", "json"):
        raise ConfigError("app.log_format must be 'text' or 'json'")
    if not 0 <= app.report_tolerance_percent <= 100:
        raise ConfigError("app.report_tolerance_percent must be between 0 and 100")
    wecom = _parse_wecom(data["wecom"]) if "wecom" in data else None
    dingtalk = _parse_dingtalk(data["dingtalk"]) if "dingtalk" in data else None
    workshops = tuple(_parse_workshop(t, i) for i, t in enumerate(data.get("workshops", [])))
    codes = {w.code for w in workshops}
    names = {w.name: w.code for w in workshops}

    def workshop_ref(value: str, key: str) -> str:
        if value in codes:
            return value
        if value in names:
            return names[value]
        raise ConfigError(f"{key} names unknown workshop {value!r}")

    groups = tuple(_parse_group(t, i, workshop_ref) for i, t in enumerate(data.get("groups", [])))
    people = tuple(_parse_person(t, i, workshop_ref) for i, t in enumerate(data.get("people", [])))
    routes = tuple(_parse_route(t, i, workshop_ref) for i, t in enumerate(data.get("routes", [])))
    api_r = _Reader(data.get("api", {}), "api")
    keys = api_r.strings("keys")
    if any(len(k) < 16 for k in keys):
        raise ConfigError("api.keys must each be at least 16 characters")
    board_tokens = api_r.strings("board_tokens")
    if any(len(k) < 16 for k in board_tokens):
        raise ConfigError("api.board_tokens must each be at least 16 characters")
    appr = _Reader(data.get("approvals", {}), "approvals")
    policy = appr.get("policy", str, "any")
    if policy not in ("any", "all"):
        raise ConfigError("approvals.policy must be 'any' or 'all'")
    approvers = appr.strings("approvers")
    unknown = set(approvers) - {p.name for p in people}
    if unknown:
        raise ConfigError(f"approvals.approvers names unknown person {sorted(unknown)[0]!r}")
    return Settings(app=app, wecom=wecom, dingtalk=dingtalk, api=ApiSettings(keys=keys, board_tokens=board_tokens),
                    schedule=_parse_schedule(data.get("schedule", {})),
                    approvals=ApprovalSettings(policy=policy, approvers=approvers), workshops=workshops, groups=groups, people=people,
                    routes=routes, raw=data)


def _parse_wecom(table: Any) -> WeComSettings:
    r = _Reader(table, "wecom")
    ai = _Reader(r.get("aibot", dict), "wecom.aibot")
    return WeComSettings(
        corp_id=r.text("corp_id"), agent_id=r.get("agent_id", int), secret=r.text("secret"),
        token=r.text("token"), encoding_aes_key=_aes_key(r, "encoding_aes_key"),
        api_base_url=r.text("api_base_url", "https://qyapi.weixin.qq.com").rstrip("/"),
        aibot=AiBotSettings(token=ai.text("token"), encoding_aes_key=_aes_key(ai, "encoding_aes_key")),
    )


_HHMM = r"([01]\d|2[0-3]):[0-5]\d"


def _parse_schedule(table: Any) -> ScheduleSettings:
    import re
    r = _Reader(table, "schedule")
    d = ScheduleSettings()
    values = {}
    for name in ScheduleSettings.__dataclass_fields__:
        default = getattr(d, name)
        values[name] = r.strings(name) or default if isinstance(default, tuple) else r.get(name, type(default), default)
    for span in values["working_hours"] + (values["quiet_hours"],):
        if not re.fullmatch(f"{_HHMM}-{_HHMM}", span):
            raise ConfigError(f"schedule: {span!r} must look like 08:00-12:00")
    if not re.fullmatch(_HHMM, values["digest_time"]):
        raise ConfigError("schedule.digest_time must look like 08:00")
    for name in ("delay_scan_minutes", "escalation_minutes", "handoff_reminder_minutes", "approval_reminder_minutes",
                 "scheduler_lease_seconds"):
        if values[name] <= 0:
            raise ConfigError(f"schedule.{name} must be positive")
    return ScheduleSettings(**values)


def _parse_dingtalk(table: Any) -> DingTalkSettings:
    r = _Reader(table, "dingtalk")
    app_key = r.text("app_key")
    secret = r.text("card_callback_secret")
    if len(secret) < 16:
        raise ConfigError("dingtalk.card_callback_secret must be at least 16 characters")
    return DingTalkSettings(
        app_key=app_key, app_secret=r.text("app_secret"), robot_code=r.get("robot_code", str, app_key) or app_key,
        api_base_url=r.text("api_base_url", "https://api.dingtalk.com").rstrip("/"),
        oapi_base_url=r.text("oapi_base_url", "https://oapi.dingtalk.com").rstrip("/"),
        card_template_id=r.text("card_template_id"),
        card_callback_route_key=r.text("card_callback_route_key", "linerelay"),
        card_callback_secret=secret,
    )


def _parse_workshop(table: Any, i: int) -> WorkshopConfig:
    r = _Reader(table, f"workshops[{i}]")
    return WorkshopConfig(code=r.text("code"), name=r.text("name"), aliases=r.strings("aliases"))


def _parse_group(table: Any, i: int, workshop_ref) -> GroupConfig:
    r = _Reader(table, f"groups[{i}]")
    platform = r.text("platform")
    if platform not in {"wecom", "dingtalk"}:
        raise ConfigError(f"groups[{i}].platform must be 'wecom' or 'dingtalk'")
    workshop = r.get("workshop", str, None)
    return GroupConfig(
        platform=platform, chat_id=r.text("chat_id"), name=r.get("name", str, ""),
        workshop=workshop_ref(workshop, f"groups[{i}].workshop") if workshop else None,
        webhook_key=r.get("webhook_key", str, ""), webhook_secret=r.get("webhook_secret", str, ""),
        role=_group_role(r, i), digest_time=r.get("digest_time", str, ""),
    )


def _group_role(r: _Reader, i: int) -> str:
    role = r.get("role", str, "")
    if role not in ("", "managers", "planners"):
        raise ConfigError(f"groups[{i}].role must be 'managers' or 'planners'")
    return role


def _parse_person(table: Any, i: int, workshop_ref) -> PersonConfig:
    r = _Reader(table, f"people[{i}]")
    roles = r.strings("roles")
    bad = set(roles) - ROLES
    if bad:
        raise ConfigError(f"people[{i}].roles has unknown role {sorted(bad)[0]!r}")
    return PersonConfig(
        name=r.text("name"), roles=roles,
        workshops=tuple(workshop_ref(w, f"people[{i}].workshops") for w in r.strings("workshops")),
        wecom_userid=r.get("wecom_userid", str, None),
        dingtalk_userid=r.get("dingtalk_userid", str, None),
    )


def _parse_route(table: Any, i: int, workshop_ref) -> RouteConfig:
    r = _Reader(table, f"routes[{i}]")
    steps = []
    for j, st in enumerate(r.get("steps", list)):
        sr = _Reader(st, f"routes[{i}].steps[{j}]")
        rate = sr.get("units_per_hour", float)
        if rate <= 0:
            raise ConfigError(f"routes[{i}].steps[{j}].units_per_hour must be positive")
        steps.append(RouteStepConfig(workshop_ref(sr.text("workshop"), f"routes[{i}].steps[{j}].workshop"), rate))
    if not steps:
        raise ConfigError(f"routes[{i}].steps must not be empty")
    return RouteConfig(product=r.text("product"), steps=tuple(steps))
