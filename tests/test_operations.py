"""What an operator relies on: readiness, request ids in logs, upgrades from every migration."""
import json
import logging

import requests
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.observability import JsonFormatter, RequestIdFilter
from storage.db import make_engine
from storage.migrate import alembic_config, schema_is_current, upgrade_to_head


def test_ready_when_the_schema_is_current(live):
    ready = requests.get(f"{live.url}/readyz").json()
    assert ready["status"] == "ready" and ready["calendar"]["status"] in ("ok", "provisional")
    with live.relay.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    resp = requests.get(f"{live.url}/readyz")
    assert resp.status_code == 503 and "init-db" in resp.json()["reason"]


def test_every_response_carries_a_request_id(live):
    mine = requests.get(f"{live.url}/healthz", headers={"X-Request-Id": "proxy-req-12345"})
    assert mine.headers["X-Request-Id"] == "proxy-req-12345"
    fresh = requests.get(f"{live.url}/healthz", headers={"X-Request-Id": "<script>"})
    assert fresh.headers["X-Request-Id"] != "<script>" and len(fresh.headers["X-Request-Id"]) == 16


def test_json_log_lines_carry_the_request_id(live):
    records = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(JsonFormatter().format(record))
    handler = Capture()
    handler.addFilter(RequestIdFilter())
    logging.getLogger("linerelay.http").addHandler(handler)
    try:
        requests.get(f"{live.url}/healthz", headers={"X-Request-Id": "trace-abcdef12"})
    finally:
        logging.getLogger("linerelay.http").removeHandler(handler)
    lines = [json.loads(r) for r in records]
    assert any(line["request_id"] == "trace-abcdef12" and "/healthz 200" in line["msg"] for line in lines)


def test_upgrade_from_every_earlier_migration(database_url):
    cfg = alembic_config(database_url)
    revisions = [r.revision for r in ScriptDirectory.from_config(cfg).walk_revisions()][::-1]
    assert revisions[0] == "0001" and len(revisions) >= 5
    for revision in revisions:
        command.upgrade(cfg, revision)
    engine = make_engine(database_url)
    for revision in revisions[:-1]:
        command.downgrade(cfg, revision)
        assert not schema_is_current(engine)
        upgrade_to_head(database_url)
        assert schema_is_current(engine)
    engine.dispose()
