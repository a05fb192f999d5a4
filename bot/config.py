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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

ENV_PREFIX = "LINERELAY__"
ROLES = {"lead", "head", "planner", "manager", "admin"}


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
    public_url: str = ""                # how people's phones reach this server: links and images in messages
    team_hours: int = 12                # a lead's 班组 applies to their reports this long (one shift)
    photo_dir: str = "photos"           # where photos of exceptions are kept (a directory, or a mounted object store)
    max_photo_bytes: int = 5 * 1024 * 1024   # a larger photo is refused
    photo_minutes: int = 10             # a photo alone goes to the sender's exception opened this recently


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
    identities: tuple[tuple[str, str], ...] = ()   # (platform, user id), from each platform's user key

    def user_id(self, platform: str) -> str | None:
        return next((uid for name, uid in self.identities if name == platform), None)


@dataclass(frozen=True)
class RouteStepConfig:
    workshop: str
    units_per_hour: float


@dataclass(frozen=True)
class RouteConfig:
    product: str
    steps: tuple[RouteStepConfig, ...]


@dataclass(frozen=True)
class PieceRateConfig:
    product: str
    workshop: str          # the workshop's code: the product's step there
    rate: str              # pay per good piece, a decimal string (money is never a float)
    valid_from: str = ""   # ISO date; "" = always


@dataclass(frozen=True)
class WorkshopConfig:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    capacity: int = 1                      # parallel lines: how many orders it works on at once
    working_hours: tuple[str, ...] = ()    # its own shifts (two shifts, say); empty: the plant's
    departments: tuple[tuple[str, str], ...] = ()   # (platform, department id) whose people work here


@dataclass(frozen=True)
class PlanningSettings:
    assumed_outage_minutes: int = 120     # an exception without an expected recovery lasts this long
    replan_seconds: int = 60              # the jobs process re-plans this soon after changes
    refresh_minutes: int = 10             # and at least this often: forecasts slide as time passes


@dataclass(frozen=True)
class ApprovalSettings:
    policy: str = "any"                 # "any": one approver decides; "all": every approver must agree
    approvers: tuple[str, ...] = ()     # people's names; empty: everyone with the manager role
    allow_self: bool = False            # may requesters decide their own requests (separation of duties)


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
    platforms: dict[str, Any] = field(default_factory=dict)   # name -> that platform's settings
    api: ApiSettings = ApiSettings()
    approvals: ApprovalSettings = ApprovalSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    planning: PlanningSettings = PlanningSettings()
    workshops: tuple[WorkshopConfig, ...] = ()
    groups: tuple[GroupConfig, ...] = ()
    people: tuple[PersonConfig, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    piece_rates: tuple[PieceRateConfig, ...] = ()
    directory: Any = None                  # `[directory]`: bot.directory.settings.DirectorySettings
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def platform(self, name: str) -> Any:
        """A platform's settings (`[wecom]` → WeComSettings), None when it is not configured."""
        return self.platforms.get(name)

    if not TYPE_CHECKING:   # for the type checker, a platform's section is `platform(name)` only
        def __getattr__(self, name: str) -> Any:
            # `settings.wecom`: a configured platform's section, read like any other (None if absent).
            if not name.startswith("_") and name != "platforms":
                from bot.platforms import registry
                if name in registry.names():
                    return self.platforms.get(name)
            raise AttributeError(name)


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


def apply_env_overrides(data: dict[str, Any], env: Mapping[str, str]) -> None:
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


set_dotted = _set_dotted   # `a.b.c = value` in a configuration dictionary (the sandbox builds its own)


class Reader:
    """Typed access to one table, naming the full key in every error."""

    def __init__(self, table: Any, prefix: str):
        if not isinstance(table, dict):
            raise ConfigError(f"{prefix} must be a table")
        self.table, self.prefix = table, prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        if key not in self.table:
            if default is ...:
                raise ConfigError(f"missing key {self.name(key)}")
            return default
        value = self.table[key]
        if kind is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is str and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if kind is bool and isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            value = value.strip().lower() in ("true", "1")  # from an environment variable
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"{self.name(key)} must be {kind.__name__}, got {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value = self.get(key, str, default)
        if value is not None and default is ... and not value.strip():
            raise ConfigError(f"{self.name(key)} must not be empty")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, [])
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self.name(key)} must be a list of strings")
        return tuple(value)


def parse_settings(data: dict[str, Any]) -> Settings:
    """Validate a configuration dictionary into typed settings."""
    app_r = Reader(data.get("app", {}), "app")
    defaults = AppSettings()
    app = AppSettings(**{
        name: app_r.get(name, type(getattr(defaults, name)), getattr(defaults, name))
        for name in AppSettings.__dataclass_fields__
    })
    if app.log_format not in ("text", "json"):
        raise ConfigError("app.log_format must be 'text' or 'json'")
    if not 0 <= app.report_tolerance_percent <= 100:
        raise ConfigError("app.report_tolerance_percent must be between 0 and 100")
    from bot.platforms import registry
    specs = registry.specs()
    platforms = {}
    for spec in specs:
        section = spec.section or spec.name
        parsed = spec.parse_settings(data[section]) if section in data else None
        if parsed is not None:   # a channel read from another platform's table may be switched off
            platforms[spec.name] = parsed
    dept_keys = {spec.name: spec.department_key for spec in specs if spec.department_key}
    workshops = tuple(_parse_workshop(t, i, dept_keys) for i, t in enumerate(data.get("workshops", [])))
    codes = {w.code for w in workshops}
    names = {w.name: w.code for w in workshops}

    def workshop_ref(value: str, key: str) -> str:
        if value in codes:
            return value
        if value in names:
            return names[value]
        raise ConfigError(f"{key} names unknown workshop {value!r}")

    groups = tuple(_parse_group(t, i, workshop_ref, [s.name for s in specs]) for i, t in enumerate(data.get("groups", [])))
    user_keys = {spec.name: spec.user_key for spec in specs if spec.user_key and not spec.people_of}
    people = tuple(_parse_person(t, i, workshop_ref, user_keys) for i, t in enumerate(data.get("people", [])))
    routes = tuple(_parse_route(t, i, workshop_ref) for i, t in enumerate(data.get("routes", [])))
    api_r = Reader(data.get("api", {}), "api")
    keys = api_r.strings("keys")
    if any(len(k) < 16 for k in keys):
        raise ConfigError("api.keys must each be at least 16 characters")
    board_tokens = api_r.strings("board_tokens")
    if any(len(k) < 16 for k in board_tokens):
        raise ConfigError("api.board_tokens must each be at least 16 characters")
    appr = Reader(data.get("approvals", {}), "approvals")
    policy = appr.get("policy", str, "any")
    if policy not in ("any", "all"):
        raise ConfigError("approvals.policy must be 'any' or 'all'")
    approvers = appr.strings("approvers")
    unknown = set(approvers) - {p.name for p in people}
    if unknown:
        raise ConfigError(f"approvals.approvers names unknown person {sorted(unknown)[0]!r}")
    return Settings(app=app, platforms=platforms, api=ApiSettings(keys=keys, board_tokens=board_tokens),
                    schedule=_parse_schedule(data.get("schedule", {})), planning=_parse_planning(data.get("planning", {})),
                    approvals=ApprovalSettings(policy=policy, approvers=approvers,
                                               allow_self=appr.get("allow_self", bool, False)),
                    workshops=workshops, groups=groups, people=people,
                    routes=routes, piece_rates=_parse_piece_rates(data, workshop_ref),
                    directory=_parse_directory(data.get("directory", {}), people), raw=data)


def _parse_directory(table: Any, people) -> Any:
    from bot.directory.settings import parse_directory
    return parse_directory(table, people)


_HHMM = r"([01]\d|2[0-3]):[0-5]\d"


def _parse_schedule(table: Any) -> ScheduleSettings:
    import re
    r = Reader(table, "schedule")
    d = ScheduleSettings()
    values: dict[str, Any] = {}
    for name in ScheduleSettings.__dataclass_fields__:
        default = getattr(d, name)
        values[name] = r.strings(name) or default if isinstance(default, tuple) else r.get(name, type(default), default)
    from planning.calendar import CalendarError, parse_spans
    try:
        parse_spans(values["working_hours"])
    except CalendarError as exc:
        raise ConfigError(f"schedule.working_hours: {exc}") from None
    if not values["working_hours"]:
        raise ConfigError("schedule.working_hours must name at least one shift")
    if not re.fullmatch(f"{_HHMM}-{_HHMM}", values["quiet_hours"]):
        raise ConfigError(f"schedule: {values['quiet_hours']!r} must look like 21:00-07:00")
    if not re.fullmatch(_HHMM, values["digest_time"]):
        raise ConfigError("schedule.digest_time must look like 08:00")
    for name in ("delay_scan_minutes", "escalation_minutes", "handoff_reminder_minutes", "approval_reminder_minutes",
                 "scheduler_lease_seconds"):
        if values[name] <= 0:
            raise ConfigError(f"schedule.{name} must be positive")
    return ScheduleSettings(**values)


def _parse_workshop(table: Any, i: int, dept_keys: dict[str, str]) -> WorkshopConfig:
    from planning.calendar import CalendarError, parse_spans
    r = Reader(table, f"workshops[{i}]")
    capacity = r.get("capacity", int, 1)
    if not 1 <= capacity <= 100:
        raise ConfigError(f"workshops[{i}].capacity must be between 1 and 100")
    hours = r.strings("working_hours")
    try:
        parse_spans(hours)
    except CalendarError as exc:
        raise ConfigError(f"workshops[{i}].working_hours: {exc}") from None
    departments = []
    for platform, key in dept_keys.items():
        ids = r.get(key, list, [])
        if not all(isinstance(d, (int, str)) and not isinstance(d, bool) for d in ids):
            raise ConfigError(f"workshops[{i}].{key} must be a list of department ids")
        departments += [(platform, str(d)) for d in ids]
    return WorkshopConfig(code=r.text("code"), name=r.text("name"), aliases=r.strings("aliases"),
                          capacity=capacity, working_hours=hours, departments=tuple(departments))


def _parse_planning(table: Any) -> PlanningSettings:
    r = Reader(table, "planning")
    d = PlanningSettings()
    values = {name: r.get(name, int, getattr(d, name)) for name in PlanningSettings.__dataclass_fields__}
    for name, value in values.items():
        if value <= 0:
            raise ConfigError(f"planning.{name} must be positive")
    return PlanningSettings(**values)


def _parse_group(table: Any, i: int, workshop_ref, platforms: list[str]) -> GroupConfig:
    r = Reader(table, f"groups[{i}]")
    platform = r.text("platform")
    if platform not in platforms:
        raise ConfigError(f"groups[{i}].platform must be one of {', '.join(map(repr, platforms))}")
    workshop = r.get("workshop", str, None)
    return GroupConfig(
        platform=platform, chat_id=r.text("chat_id"), name=r.get("name", str, ""),
        workshop=workshop_ref(workshop, f"groups[{i}].workshop") if workshop else None,
        webhook_key=r.get("webhook_key", str, ""), webhook_secret=r.get("webhook_secret", str, ""),
        role=_group_role(r, i), digest_time=r.get("digest_time", str, ""),
    )


def _group_role(r: Reader, i: int) -> str:
    role = r.get("role", str, "")
    if role not in ("", "managers", "planners"):
        raise ConfigError(f"groups[{i}].role must be 'managers' or 'planners'")
    return role


def _parse_person(table: Any, i: int, workshop_ref, user_keys: dict[str, str]) -> PersonConfig:
    r = Reader(table, f"people[{i}]")
    roles = r.strings("roles")
    bad = set(roles) - ROLES
    if bad:
        raise ConfigError(f"people[{i}].roles has unknown role {sorted(bad)[0]!r}")
    return PersonConfig(
        name=r.text("name"), roles=roles,
        workshops=tuple(workshop_ref(w, f"people[{i}].workshops") for w in r.strings("workshops")),
        identities=tuple((platform, uid) for platform, key in user_keys.items() if (uid := r.get(key, str, "").strip())),
    )


def _parse_route(table: Any, i: int, workshop_ref) -> RouteConfig:
    r = Reader(table, f"routes[{i}]")
    steps = []
    for j, st in enumerate(r.get("steps", list)):
        sr = Reader(st, f"routes[{i}].steps[{j}]")
        rate = sr.get("units_per_hour", float)
        if rate <= 0:
            raise ConfigError(f"routes[{i}].steps[{j}].units_per_hour must be positive")
        steps.append(RouteStepConfig(workshop_ref(sr.text("workshop"), f"routes[{i}].steps[{j}].workshop"), rate))
    if not steps:
        raise ConfigError(f"routes[{i}].steps must not be empty")
    return RouteConfig(product=r.text("product"), steps=tuple(steps))


def _parse_piece_rates(data: dict[str, Any], workshop_ref) -> tuple[PieceRateConfig, ...]:
    from datetime import date
    from decimal import Decimal, InvalidOperation
    rates = []
    for i, table in enumerate(data.get("piece_rates", [])):
        r = Reader(table, f"piece_rates[{i}]")
        raw = r.table.get("rate")
        try:
            rate = Decimal(str(raw)) if isinstance(raw, (int, float, str)) and not isinstance(raw, bool) else None
        except InvalidOperation:
            rate = None
        if rate is None or not rate.is_finite() or rate < 0 or rate >= 10 ** 8:
            raise ConfigError(f"piece_rates[{i}].rate must be a non-negative number, got {raw!r}")
        valid_from = r.table.get("valid_from", "")
        valid_from = valid_from.isoformat() if isinstance(valid_from, date) else valid_from
        try:
            if not isinstance(valid_from, str):
                raise ValueError(valid_from)
            if valid_from:
                date.fromisoformat(valid_from)
        except ValueError:
            raise ConfigError(f"piece_rates[{i}].valid_from must be a date like 2026-11-01") from None
        rates.append(PieceRateConfig(product=r.text("product"), rate=str(rate.quantize(Decimal("0.0001"))),
                                     workshop=workshop_ref(r.text("workshop"), f"piece_rates[{i}].workshop"),
                                     valid_from=valid_from))
    return tuple(rates)
