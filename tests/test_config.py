"""Configuration: every key validated at start with an error naming it; env overrides."""
import pytest

from bot.config import ConfigError, load_settings, parse_settings
from tests.helpers import EXAMPLE_CONFIG


def test_example_config_loads_completely():
    settings = load_settings(EXAMPLE_CONFIG, env={})
    assert settings.wecom.agent_id == 1000002
    assert [w.code for w in settings.workshops] == ["stamping", "welding", "painting", "assembly"]
    assert settings.routes[0].steps[1].workshop == "welding"
    assert any("admin" in p.roles for p in settings.people)


def test_environment_overrides_secrets_and_numbers():
    env = {"LINERELAY__WECOM__SECRET": "from-env", "LINERELAY__WECOM__AIBOT__TOKEN": "tok-env",
           "LINERELAY__APP__UNDO_WINDOW_MINUTES": "15", "OTHER": "ignored"}
    settings = load_settings(EXAMPLE_CONFIG, env=env)
    assert settings.wecom.secret == "from-env"
    assert settings.wecom.aibot.token == "tok-env"
    assert settings.app.undo_window_minutes == 15


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", env={})


@pytest.mark.parametrize("override, key", [
    ({"wecom.encoding_aes_key": "short"}, "wecom.encoding_aes_key"),
    ({"wecom.agent_id": "abc"}, "wecom.agent_id"),
    ({"wecom.aibot.token": ""}, "wecom.aibot.token"),
    ({"app.report_tolerance_percent": 500}, "app.report_tolerance_percent"),
    ({"app.undo_window_minutes": "soon"}, "app.undo_window_minutes"),
    ({"dingtalk.card_callbacks": "websocket"}, "dingtalk.card_callbacks"),
])
def test_invalid_values_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(EXAMPLE_CONFIG, env={}, overrides=override)


def test_missing_key_is_named():
    with pytest.raises(ConfigError, match=r"missing key wecom\.corp_id"):
        parse_settings({"wecom": {"agent_id": 1, "aibot": {"token": "t", "encoding_aes_key": "k" * 43}}})


def test_unknown_workshop_and_role_are_named():
    base = {"workshops": [{"code": "a", "name": "甲"}]}
    with pytest.raises(ConfigError, match=r"people\[0\]\.workshops names unknown workshop 'b'"):
        parse_settings({**base, "people": [{"name": "x", "roles": ["lead"], "workshops": ["b"]}]})
    with pytest.raises(ConfigError, match=r"people\[0\]\.roles has unknown role 'boss'"):
        parse_settings({**base, "people": [{"name": "x", "roles": ["boss"]}]})
    with pytest.raises(ConfigError, match=r"routes\[0\]\.steps\[0\]\.units_per_hour must be positive"):
        parse_settings({**base, "routes": [{"product": "p", "steps": [{"workshop": "甲", "units_per_hour": 0}]}]})


def test_bad_toml_is_reported(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[app\nx=1", encoding="utf-8")
    with pytest.raises(ConfigError, match="c.toml"):
        load_settings(path, env={})


def test_the_sandbox_demo_config_is_the_example_config():
    """The demo plant ships inside the package (a wheel has no repository root); it is the
    documented example, byte for byte, so the README's walkthrough and the sandbox agree."""
    from bot.demo.seed import DEMO_CONFIG
    assert not DEMO_CONFIG.is_symlink()
    assert DEMO_CONFIG.read_bytes() == EXAMPLE_CONFIG.read_bytes()
