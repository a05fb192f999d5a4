"""The bot's open questions live in the database, not in a process: a confirmation asked by
one gunicorn worker is applied after both workers were killed and replaced, and the real
quantity asked for by the 数量不符 button is understood after the web server restarted."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from bench.servers import free_port
from storage.db import make_engine, make_session_factory
from storage.migrate import init_db
from storage.models import Handoff, Order, Question, Report, Step
from tests.helpers import EXAMPLE_CONFIG, make_settings, make_twin, wait_until

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "demo-api-key-change-me-0123456789"   # config.example.toml [api] keys


def start_web(env: dict, port: int) -> subprocess.Popen:
    """gunicorn with two workers, as README's PostgreSQL deployment runs it."""
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "1", "-b", f"127.0.0.1:{port}",
                            "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: _ready(port), timeout=30)
    return web


def _ready(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def workers_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().split(")")[1].split()[1]) == pid:
                    found.add(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


@pytest.fixture
def plant(database_url):
    probe = make_settings(database_url)
    twin = make_twin(probe).start()
    env = {**os.environ, "LINERELAY_CONFIG": str(EXAMPLE_CONFIG), "LINERELAY__APP__DATABASE_URL": database_url,
           "LINERELAY__WECOM__API_BASE_URL": twin.base_url, "LINERELAY__DINGTALK__API_BASE_URL": twin.base_url,
           "LINERELAY__DINGTALK__OAPI_BASE_URL": twin.base_url}
    settings = make_settings(database_url, twin.base_url, twin.base_url)
    init_db(settings.app.database_url, settings)
    engine = make_engine(database_url)
    port = free_port()
    twin.app_url = f"http://127.0.0.1:{port}"
    state = {"env": env, "port": port, "twin": twin, "Session": make_session_factory(engine),
             "web": start_web(env, port)}
    due = (date.today() + timedelta(days=10)).isoformat()
    for no in ("SO-1001", "SO-1002"):   # through the API: the orders as an operator would add them
        resp = requests.post(f"http://127.0.0.1:{port}/api/orders", timeout=10, headers={"Authorization": f"Bearer {API_KEY}"},
                             json={"order_no": no, "product": "车门总成", "quantity": 200, "due_date": due})
        assert resp.status_code == 201, resp.text
    yield state
    state["web"].kill()
    state["web"].wait(10)
    twin.stop()
    engine.dispose()


def say(plant, user: str, text: str, chat: str = "wr-stamping") -> str:
    result = plant["twin"].aibot_text(user, text, chatid=chat)
    assert result.status == 200, result.raw
    return result.reply["stream"]["content"]


def test_a_confirmation_asked_by_one_worker_is_applied_by_a_new_one(plant):
    assert "是不是要报" in say(plant, "zhangwei", "SO-1002 5")
    web = plant["web"]
    old = workers_of(web.pid)
    assert len(old) == 2
    for pid in old:   # every worker that could have remembered the question is gone
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: len(workers_of(web.pid) - old) == 2, timeout=30)
    wait_until(lambda: _ready(plant["port"]), timeout=30)
    assert "已报工" in say(plant, "zhangwei", "是")
    with plant["Session"]() as s:
        reports = s.execute(select(Order.order_no, Report.good).join(Step, Report.step_id == Step.id)
                            .join(Order, Step.order_id == Order.id)).all()
        assert [tuple(r) for r in reports] == [("SO-1002", 5)]
        assert s.scalars(select(Question)).all() == []


def test_the_dispute_quantity_is_understood_after_a_restart(plant):
    twin = plant["twin"]
    assert "已报工" in say(plant, "zhangwei", "报工 SO-1001 200")
    card = twin.wait_for(lambda m: m.api == "message" and "lina" in m.target.split("|") and "template_card" in m.payload,
                         timeout=20)
    assert twin.card_click("lina", card.payload["template_card"]["task_id"], "dispute").status == 200
    web = plant["web"]
    web.send_signal(signal.SIGTERM)
    web.wait(30)
    plant["web"] = start_web(plant["env"], plant["port"])
    reply = say(plant, "lina", "196", chat="wr-welding")
    assert "数量不符" in reply and "196" in reply
    with plant["Session"]() as s:
        handoff = s.scalars(select(Handoff)).one()
        assert (handoff.status, handoff.received_qty) == ("disputed", 196)
