"""One injectable clock. The database stores naive UTC; people see factory time."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import overload
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, tz: str = "Asia/Shanghai", fixed: datetime | None = None):
        self.tz = ZoneInfo(tz)
        self._fixed = fixed
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """Now, naive UTC (what the database stores)."""
        base = self._fixed if self._fixed is not None else datetime.now(UTC).replace(tzinfo=None)
        return base + self._offset

    def epoch(self) -> int:
        """Now as Unix seconds (platform signatures carry these)."""
        return int((self.now() - datetime(1970, 1, 1)).total_seconds())

    def set_local(self, local: datetime) -> None:
        """Jump to a factory-local wall time (tests and the sandbox's clock control)."""
        target = local.replace(tzinfo=self.tz).astimezone(UTC).replace(tzinfo=None)
        base = self._fixed if self._fixed is not None else datetime.now(UTC).replace(tzinfo=None)
        self._offset = target - base

    def advance(self, delta: timedelta) -> None:
        """Move time forward (tests and the sandbox's clock control)."""
        self._offset += delta

    @overload
    def local(self, utc_naive: datetime) -> datetime: ...

    @overload
    def local(self, utc_naive: None) -> None: ...

    def local(self, utc_naive: datetime | None) -> datetime | None:
        if utc_naive is None:
            return None
        return utc_naive.replace(tzinfo=UTC).astimezone(self.tz)

    def utc_offset(self) -> timedelta:
        offset = self.local(self.now()).utcoffset()
        assert offset is not None  # a zone-aware local time always has one
        return offset

    def today(self):
        return self.local(self.now()).date()
