"""What the application holds and shares: settings, database, clock, templates and outbox."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm import Session as OrmSession   # the name Session is the factory's in the class

from bot.clock import Clock
from bot.config import Settings
from bot.messages import Messages
from bot.outbox import Dispatcher
from bot.plan import plan_config
from storage import planner
from storage.db import make_engine, make_read_session_factory, make_session_factory
from storage.planner import PlanConfig


@dataclass
class Services:
    """Held once per process and passed to whatever needs one of them; nothing here acts."""
    settings: Settings
    clock: Clock
    engine: Engine
    Session: sessionmaker[Session]
    ReadSession: sessionmaker[OrmSession]   # reads only: pages, the API's GETs, exports (never waits for a writer)
    messages: Messages     # the Jinja2 templates: every word a person reads
    outbox: Dispatcher     # delivers what the transactions queued
    plan: PlanConfig       # how the plan is made (every transaction of `Session` keeps it current)
    public_url: str = ""   # where people reach the server (links, images); `app.public_url`, else the serving URL


def make_services(settings: Settings, clock: Clock | None = None, engine: Engine | None = None) -> Services:
    clock = clock or Clock(settings.app.timezone)
    engine = engine or make_engine(settings.app.database_url)
    Session = make_session_factory(engine)
    plan = plan_config(settings, clock)
    planner.install(Session, plan)   # every transaction re-plans what it changed before it commits
    ReadSession = make_read_session_factory(engine)
    planner.install(ReadSession, plan)   # its pages read the plan's calendar
    outbox = Dispatcher(Session, clock, {}, lease=timedelta(seconds=settings.app.outbox_lease_seconds))
    return Services(settings=settings, clock=clock, engine=engine, Session=Session,
                    ReadSession=ReadSession, messages=Messages(clock, settings),
                    outbox=outbox, plan=plan, public_url=settings.app.public_url)
