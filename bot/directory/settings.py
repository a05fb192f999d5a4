"""`[directory]`: how people from the platforms' directories become LineRelay people."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.config import ROLES, ConfigError, Reader

MATCH_FIELDS = ("mobile", "email", "job_number", "userid")


@dataclass(frozen=True)
class DirectorySettings:
    match_by: str = "mobile"               # the field that says two platforms' users are one person
    roles: dict[str, str] = field(default_factory=dict)   # tag (WeCom) or role (DingTalk) name → role
    daily_at: str = "06:00"                # the daily sync, factory time; "" = no daily sync
    max_leavers_percent: int = 20          # more leavers than this in one run: a wrong scope, not a wave
    platforms: tuple[str, ...] = ()        # which directories to read; empty: every configured one
    enabled: bool = False                  # a `[directory]` table exists: the jobs process syncs daily


def parse_directory(table: Any, people=()) -> DirectorySettings:
    r = Reader(table, "directory")
    match_by = r.get("match_by", str, "mobile")
    if match_by not in MATCH_FIELDS:
        raise ConfigError(f"directory.match_by must be one of {', '.join(MATCH_FIELDS)}")
    roles = r.get("roles", dict, {})
    for name, role in roles.items():
        if role not in ROLES:
            raise ConfigError(f"directory.roles.{name} must be one of {', '.join(sorted(ROLES))}, got {role!r}")
    daily_at = r.get("daily_at", str, "06:00")
    if daily_at and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", daily_at):
        raise ConfigError("directory.daily_at must look like 06:00 (or be empty)")
    percent = r.get("max_leavers_percent", int, 20)
    if not 0 <= percent <= 100:
        raise ConfigError("directory.max_leavers_percent must be between 0 and 100")
    return DirectorySettings(match_by=match_by, roles=dict(roles), daily_at=daily_at,
                             max_leavers_percent=percent, platforms=r.strings("platforms"),
                             enabled=bool(table))
