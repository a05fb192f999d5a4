"""User-facing text: Jinja2 templates under bot/templates/, markdown that both platforms show."""
from __future__ import annotations

import functools
import re
from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.clock import Clock

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~>])")


def _md(value) -> str:
    """Escape free text (notes, names) so it cannot restyle a message or inject a link."""
    return _MD_SPECIAL.sub(r"\\\1", str(value))


def _at(person) -> str:
    """An @-mention of a person ({"id", "name"} or a Person): each platform shows it its own way."""
    from bot.platforms.mentions import mark
    if isinstance(person, dict):
        return mark(person["id"], person["name"])
    return mark(person.id, person.name)


def working_duration(minutes: int | float | None, day_minutes: float) -> str:
    """Working time for people: `40 分钟`, `2.5 小时`, `1 天 3 小时` (a day is a normal working day)."""
    minutes = max(int(round(minutes or 0)), 0)
    if minutes < 60:
        return f"{minutes} 分钟"
    if minutes < day_minutes:
        half_hours = round(minutes / 30) / 2
        return f"{half_hours:g} 小时"
    days, rest = divmod(minutes, day_minutes)
    hours = round(rest / 60)
    if hours >= day_minutes / 60:
        days, hours = days + 1, 0
    return f"{int(days)} 天" + (f" {hours} 小时" if hours else "")


class Messages:
    def __init__(self, clock: Clock, settings=None):
        from planning.calendar import parse_spans, span_hours
        self.clock = clock
        shifts = settings.schedule.working_hours if settings is not None else ("08:00-12:00", "13:00-17:30")
        self.day_minutes = span_hours(parse_spans(shifts)) * 60
        self.env = Environment(loader=PackageLoader("bot", "templates"), undefined=StrictUndefined,
                               autoescape=False, trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=False)
        self.env.filters["md"] = _md
        self.env.filters["hm"] = self._fmt("%m-%d %H:%M")
        self.env.filters["md_date"] = self._fmt("%m-%d")
        self.env.filters["hm_iso"] = lambda v: self._fmt("%m-%d %H:%M")(datetime.fromisoformat(v) if v else None)
        self.env.filters["md_iso"] = lambda v: self._fmt("%m-%d")(datetime.fromisoformat(v) if v else None)
        self.env.filters["worktime"] = lambda m: working_duration(m, self.day_minutes)
        self.env.filters["at"] = _at

    @functools.cached_property
    def html(self) -> Environment:
        """The same templates and filters, everything escaped (web pages). Made once: an overlay
        has a template cache of its own, so one per request compiled the page every time."""
        return self.env.overlay(autoescape=True)

    def warm(self) -> int:
        """Compile every template now (a long-running process's start): the first reply, notice or
        page of each kind would otherwise pay its compilation (a digest run ~50 ms, a page ~10 ms).
        Web pages go to the escaped environment, which has a cache of its own. Returns how many."""
        names = self.env.list_templates(extensions=["j2"])
        for name in names:
            (self.html if name.startswith("web/") else self.env).get_template(name)
        return len(names)

    def _fmt(self, pattern: str):
        def fmt(value: datetime | None) -> str:
            return "—" if value is None else self.clock.local(value).strftime(pattern)
        return fmt

    def render(self, name: str, context: dict) -> str:
        """Render `templates/<name>.md.j2`."""
        return self.env.get_template(f"{name}.md.j2").render(**context).strip()
