"""DingTalk Stream mode: the official SDK connects to the twin's gateway; the same handlers answer."""
import json

import pytest
from sqlalchemy import select

from bot.dingtalk.stream import StreamRunner
from storage.models import Handoff
from tests.conftest import running_plant
from tests.test_commands import seed, step


@pytest.fixture
def stream(database_url, tmp_path):
    """A plant with no public URL: commands and card clicks over Stream (`card_callbacks = "stream"`)."""
    with running_plant(database_url, tmp_path, **{"dingtalk.card_callbacks": "stream"}) as live:
        seed(live)
        runner = StreamRunner(live.relay).start()
        live.dingtalk.gateway.wait_connected()
        yield live
        runner.stop()


def test_command_over_stream_is_acked_after_it_is_stored(stream):
    ack, session = stream.dingtalk.stream_text("dt-zhangwei", "报工 SO-1001 40", conversation_id="cid-stamping",
                                               msg_id="stream-1")
    assert ack["code"] == 200
    assert step(stream).good_qty == 40  # stored before the ack came back
    reply = stream.dingtalk.wait_for(lambda m: m.api == "session" and m.target == session)
    assert "40/200" in reply.text


def test_redelivered_stream_message_counts_once(stream):
    for _ in range(3):
        ack, _ = stream.dingtalk.stream_text("dt-zhangwei", "报工 SO-1001 5", conversation_id="cid-stamping",
                                             msg_id="stream-dup")
        assert ack["code"] == 200
    assert step(stream).good_qty == 5


def test_unknown_robot_over_stream_is_refused(stream):
    ack, _ = stream.dingtalk.stream_text("dt-zhangwei", "报工 SO-1001 5", conversation_id="cid-stamping",
                                         robot_code="other")
    assert ack["code"] == 400 and step(stream).good_qty == 0


def test_a_sender_without_a_staff_id_over_stream_is_told(stream):
    """An external member (no senderStaffId): acked, answered as not registered, nothing applied."""
    body, session = stream.dingtalk.robot_body("dt-zhangwei", "报工 SO-1001 5", conversation_id="cid-stamping")
    del body["senderStaffId"]
    assert stream.dingtalk.gateway.push("/v1.0/im/bot/messages/get", body)["code"] == 200
    reply = stream.dingtalk.wait_for(lambda m: m.api == "session" and m.target == session)
    assert "只有本企业登记过的成员" in reply.text and step(stream).good_qty == 0


def test_card_click_over_stream(stream):
    stream.say("zhangwei", "报工 SO-1001 200", platform="dingtalk")
    card = stream.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-welding")
    # created for Stream: DingTalk sends its clicks over the connection, to no HTTP route
    assert card.payload["body"]["callbackType"] == "STREAM" and "callbackRouteKey" not in card.payload["body"]
    ack = stream.dingtalk.stream_click(card.payload["body"]["outTrackId"], "dt-wangqiang", "confirm")
    assert ack["code"] == 200
    response = json.loads(ack["data"])["response"]
    assert "王强 已确认接收" in response["cardData"]["cardParamMap"]["outcome"]
    with stream.session() as s:
        assert s.scalars(select(Handoff.status)).one() == "confirmed"
    assert step(stream, seq=2).status == "ready"


def test_cards_sent_for_http_clicks_never_come_over_stream(live):
    """The default (`card_callbacks = "http"`): a card is created with callbackType HTTP under the
    registered route key, so its clicks reach /dingtalk/card and never the Stream connection."""
    seed(live)
    live.say("zhangwei", "报工 SO-1001 200", platform="dingtalk")
    card = live.dingtalk.wait_for(lambda m: m.api == "card" and m.target == "cid-welding")
    body = card.payload["body"]
    route_key = live.relay.settings.platform("dingtalk").card_callback_route_key
    assert (body["callbackType"], body["callbackRouteKey"]) == ("HTTP", route_key)
    with pytest.raises(LookupError):
        live.dingtalk.stream_click(body["outTrackId"], "dt-wangqiang", "confirm")
    assert live.dingtalk.click(body["outTrackId"], "dt-wangqiang", "confirm").status_code == 200
    with live.session() as s:
        assert s.scalars(select(Handoff.status)).one() == "confirmed"
