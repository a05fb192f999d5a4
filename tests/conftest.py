"""Fixtures: a fresh database per test (SQLite file, or PostgreSQL when
LINERELAY_TEST_DATABASE_URL is set), the platform twins, and the app served over real HTTP.
The helpers the tests share are in tests/helpers.py."""
from __future__ import annotations

import contextlib
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot.app import build_relay, create_app
from bot.config import Settings
from bot.twins.server import ThreadedServer
from storage.migrate import init_db
from tests.helpers import PG_URL, Live, make_dingtalk_twin, make_settings, make_twin


@pytest.fixture
def database_url(tmp_path) -> str:
    """An empty database: a new SQLite file, or a new PostgreSQL database dropped afterwards."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    name = f"lr_test_{uuid.uuid4().hex[:12]}"
    # No pool: a fault test may restart the server between creating and dropping the database.
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = PG_URL.rpartition("/")
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(database_url) -> Settings:
    return make_settings(database_url)


@contextlib.contextmanager
def running_plant(database_url: str, tmp_path, **overrides):
    """The app on a real port with both twins, the configuration changed by `overrides`."""
    probe = make_settings(database_url)
    twin, dingtalk = make_twin(probe).start(), make_dingtalk_twin(probe).start()
    settings = make_settings(database_url, twin.base_url, dingtalk.base_url,
                             **{"app.photo_dir": str(tmp_path / "photos"), **overrides})
    init_db(settings.app.database_url, settings)
    relay = build_relay(settings)
    server = ThreadedServer(create_app(relay=relay)).start()
    twin.app_url = dingtalk.app_url = server.url
    twin.clock = relay.clock.epoch   # callbacks are signed at the app's (injectable) time
    dingtalk.clock = lambda: relay.clock.epoch()
    relay.on_public_url(server.url)
    try:
        yield Live(relay=relay, twin=twin, dingtalk=dingtalk, url=server.url)
    finally:
        server.stop()
        relay.dispatcher.stop()
        twin.stop()
        dingtalk.stop()
        relay.engine.dispose()


@pytest.fixture
def live(database_url, tmp_path):
    with running_plant(database_url, tmp_path) as plant:
        yield plant


@pytest.fixture
def live_api(live) -> str:
    """The app's base URL, with a few orders for the API tests to find."""
    for no, qty in (("SO-1001", 200), ("SO-1002", 80)):
        live.add_order(no, quantity=qty)
    return live.url
