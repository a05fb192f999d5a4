"""WeCom send APIs against the twin: token cached and refreshed, errors classified."""
import pytest

from bot.outbox import SendError
from bot.wecom.api import WeComApi
from tests.helpers import make_settings, make_twin


@pytest.fixture
def twin(tmp_path):
    twin = make_twin(make_settings(f"sqlite:///{tmp_path}/x.db")).start()
    yield twin
    twin.stop()


def api_for(twin, secret=None):
    return WeComApi(twin.base_url, twin.corp_id, secret or twin.secret, twin.agent_id)


def test_token_is_cached_and_refreshed_when_wecom_invalidates_it(twin):
    api = api_for(twin)
    api.send_app_message({"touser": "lina", "msgtype": "text", "text": {"content": "1"}})
    first = api.access_token()
    api.send_app_message({"touser": "lina", "msgtype": "text", "text": {"content": "2"}})
    assert api.access_token() == first  # cached: one token for both sends
    twin.expire_tokens()
    api.send_app_message({"touser": "lina", "msgtype": "text", "text": {"content": "3"}})
    assert api.access_token() != first
    assert [s.payload["text"]["content"] for s in twin.sends_to("message", "lina")] == ["1", "2", "3"]
    assert all(s.payload["agentid"] == twin.agent_id for s in twin.sent)


def test_wrong_secret_is_a_permanent_error(twin):
    with pytest.raises(SendError) as info:
        api_for(twin, secret="wrong").send_app_message({"touser": "x", "msgtype": "text", "text": {"content": "1"}})
    assert not info.value.retryable


@pytest.mark.parametrize("fault, retryable", [(("http", 500), True), (("errcode", 45009), True),
                                              (("errcode", 40058), False)])
def test_failures_are_classified(twin, fault, retryable):
    twin.fail_next(fault)
    with pytest.raises(SendError) as info:
        api_for(twin).webhook_send("key-welding", {"msgtype": "text", "text": {"content": "x"}})
    assert info.value.retryable is retryable
    assert twin.sent == []


def test_webhook_refuses_button_cards(twin):
    with pytest.raises(SendError):
        api_for(twin).webhook_send("k", {"msgtype": "template_card",
                                         "template_card": {"card_type": "button_interaction"}})
