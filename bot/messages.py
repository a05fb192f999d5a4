"""User-facing text: Jinja2 templates under bot/templates/, markdown that both platforms show."""
from __future__ import annotations

import re
from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.clock import Clock

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~>])")


def _md(value) -> str:
    """Escape free text (notes, names) so it cannot restyle a message or inject a link."""
    return _MD_SPECIAL.sub(r"\\\1", str(value))


class Messages:
    def __init__(self, clock: Clock):
        self.clock = clock
        self.env = Environment(loader=PackageLoader("bot", "templates"), undefined=StrictUndefined,
                               autoescape=False, trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=False)
        self.env.filters["md"] = _md
        self.env.filters["hm"] = self._fmt("%m-%d %H:%M")
        self.env.filters["md_date"] = self._fmt("%m-%d")
        self.env.filters["hm_iso"] = lambda v: self._fmt("%m-%d %H:%M")(datetime.fromisoformat(v) if v else None)

    def _fmt(self, pattern: str):
        def fmt(value: datetime | None) -> str:
            return "—" if value is None else self.clock.local(value).strftime(pattern)
        return fmt

    def render(self, name: str, context: dict) -> str:
        """Render `templates/<name>.md.j2`."""
        return self.env.get_template(f"{name}.md.j2").render(**context).strip()
