"""The console script and the sandbox, as an operator runs them."""
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bot.sandbox import start_sandbox
from storage.models import Order, Person, PersonIdentity, Workshop
from tests.helpers import EXAMPLE_CONFIG

LINERELAY = Path(sys.executable).parent / "linerelay"


def run(*args, env=None, cwd=None):
    return subprocess.run([str(LINERELAY), *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          cwd=cwd, timeout=120)


def test_init_db_creates_schema_and_loads_the_plant(tmp_path, database_url):
    result = run("--config", str(EXAMPLE_CONFIG), "init-db", env={"LINERELAY__APP__DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    from storage.db import make_engine, make_session_factory
    engine = make_engine(database_url)
    with make_session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(Workshop)) == 4
        assert s.scalars(select(Person).join(PersonIdentity).where(PersonIdentity.platform == "wecom",
                                                             PersonIdentity.user_id == "sungong")).one().has_role("admin")
    engine.dispose()


def test_init_db_again_upgrades_in_place(tmp_path, database_url):
    """`init-db` is create *or upgrade*: run again on a plant that works (orders made on its routes),
    with a route's rate changed and a step dropped, it updates the routes in place (it failed on
    the routes' unique step numbers, before anything else)."""
    from storage.db import make_engine, make_session_factory
    from storage.models import Route
    env = {"LINERELAY__APP__DATABASE_URL": database_url}
    assert run("--config", str(EXAMPLE_CONFIG), "init-db", env=env).returncode == 0
    engine = make_engine(database_url)
    with make_session_factory(engine)() as s:
        route = s.scalars(select(Route).order_by(Route.id)).first()
        product, before = route.product, [(st.id, st.seq, st.units_per_hour) for st in route.steps]
    assert len(before) >= 2
    changed = tmp_path / "changed.toml"
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    assert run("--config", str(EXAMPLE_CONFIG), "init-db", env=env).returncode == 0   # as it was: nothing moves
    with make_session_factory(engine)() as s:
        route = s.scalars(select(Route).where(Route.product == product)).one()
        assert [(st.id, st.seq, st.units_per_hour) for st in route.steps] == before
    assert product == "车门总成"   # its four steps: the stamping rate changed, assembly dropped
    old = ('  { workshop = "stamping", units_per_hour = 120 },\n  { workshop = "welding", units_per_hour = 60 },\n'
           '  { workshop = "painting", units_per_hour = 80 },\n  { workshop = "assembly", units_per_hour = 50 },\n')
    assert old in text
    changed.write_text(text.replace(old, old.replace("= 120", "= 77").rsplit("  {", 1)[0]), encoding="utf-8")
    result = run("--config", str(changed), "init-db", env=env)
    assert result.returncode == 0, result.stderr
    with make_session_factory(engine)() as s:
        route = s.scalars(select(Route).where(Route.product == product)).one()
        after = [(st.id, st.seq, st.units_per_hour) for st in route.steps]
    engine.dispose()
    assert after == [(before[0][0], 1, 77.0), *before[1:-1]]


def test_bad_configuration_stops_with_the_key_named(tmp_path):
    result = run("--config", str(EXAMPLE_CONFIG), "init-db", env={"LINERELAY__WECOM__AGENT_ID": "x"})
    assert result.returncode != 0 and "wecom.agent_id" in result.stderr


def test_sandbox_serves_commands_through_the_twin(tmp_path):
    sandbox = start_sandbox(port=0, database=str(tmp_path / "sandbox.db"))
    relay, twin = sandbox.relay, sandbox.twins["wecom"]
    jobs = sandbox.start_jobs()
    try:
        assert jobs.leader  # the sandbox runs the jobs too
        with relay.Session() as s:
            assert s.scalar(select(func.count()).select_from(Order)) >= 30
        result = twin.aibot_text("zhangwei", "进度 SO-1002", chatid="wr-stamping")
        assert result.status == 200 and "SO-1002" in result.reply["stream"]["content"]
        resp, session = sandbox.twins["dingtalk"].robot_text("dt-zhouzong", "进度 SO-1002")
        assert resp.status_code == 200
        assert "SO-1002" in sandbox.twins["dingtalk"].wait_for(lambda m: m.api == "session" and m.target == session).text
    finally:
        sandbox.stop()


def test_dingtalk_register_with_stream_card_callbacks_has_nothing_to_register(tmp_path):
    """With `dingtalk.card_callbacks = "stream"` cards are created for Stream: registering an HTTP
    route for their clicks would mislead, so the command says why it does nothing."""
    result = run("--config", str(EXAMPLE_CONFIG), "dingtalk-register", "--public-url", "https://plant.example",
                 env={"LINERELAY__DINGTALK__CARD_CALLBACKS": "stream",
                      "LINERELAY__DINGTALK__API_BASE_URL": "http://127.0.0.1:9",
                      "LINERELAY__APP__DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}, cwd=tmp_path)
    assert result.returncode != 0 and "nothing to register" in result.stderr, result.stderr
