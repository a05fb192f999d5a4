"""The platforms LineRelay knows: one line each. App wiring, configuration, the CLI and the
sandbox iterate over this list; nothing else asks which platform it is talking to."""
from __future__ import annotations

import importlib

from bot.platforms.spec import PlatformSpec

# Each entry is a package whose `SPEC` describes one platform (see bot/platforms/spec.py).
INSTALLED = (
    "bot.wecom",
    "bot.dingtalk",
    "bot.wecom_ws",
)

_extra: dict[str, PlatformSpec] = {}


def register(spec: PlatformSpec) -> None:
    """Add a platform that is not in INSTALLED (a plugin, or a test's fake platform)."""
    _extra[spec.name] = spec


def unregister(name: str) -> None:
    _extra.pop(name, None)


def specs() -> list[PlatformSpec]:
    """Every known platform, installed ones first, in a fixed order."""
    installed = [importlib.import_module(path).SPEC for path in INSTALLED]
    return installed + [s for s in _extra.values() if s.name not in {i.name for i in installed}]


def spec(name: str) -> PlatformSpec | None:
    return next((s for s in specs() if s.name == name), None)


def names() -> list[str]:
    return [s.name for s in specs()]
