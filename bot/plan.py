"""How the plan is made here: the factory's shifts and public holidays from the configuration,
the assumed length of an outage nobody estimated, and the clock."""
from __future__ import annotations

from bot.clock import Clock
from bot.config import Settings
from storage.calendar import CalendarConfig
from storage.planner import PlanConfig


def plan_config(settings: Settings, clock: Clock) -> PlanConfig:
    s = settings.schedule
    return PlanConfig(calendar=CalendarConfig(settings.app.timezone, s.working_hours, s.chinese_holidays),
                      outage_minutes=settings.planning.assumed_outage_minutes, now=clock.now)
