"""The WeCom callback endpoints refuse what is not WeCom's, and change nothing when they do."""
import json

import pytest
from sqlalchemy import select
import requests

from bot.twins import wecom_crypto as wc
from tests.helpers import settle, snapshot


@pytest.fixture
def ready(live):
    live.add_order()
    before = snapshot(live.relay)
    yield live
    # Every test here ends with the database exactly as it was and nothing sent.
    assert snapshot(live.relay) == before
    assert live.twin.sent == []


@pytest.mark.parametrize("path", ["/wecom/aibot", "/wecom/callback"])
def test_url_verification_answers_the_decrypted_echostr(live, path):
    resp = live.twin.verify_url(path, echo="5927782489442352469")
    assert resp.status_code == 200
    assert resp.text == "5927782489442352469"


def test_url_verification_with_bad_signature_is_refused(live):
    encrypt = wc.encrypt(live.twin.aibot_aes_key, "123", "")
    resp = requests.get(f"{live.url}/wecom/aibot", params={"msg_signature": "0" * 40, "timestamp": str(live.relay.clock.epoch()),
                                                         "nonce": "1", "echostr": encrypt})
    assert resp.status_code == 403


def test_wrong_signature_is_refused(ready):
    result = ready.twin.aibot_text("zhangwei", "报工 SO-1001 120", chatid="wr-stamping", signature="f" * 40)
    assert result.status == 403


def test_missing_signature_is_refused(ready):
    resp = requests.post(f"{ready.url}/wecom/aibot", json={"encrypt": "abc"})
    assert resp.status_code == 400


@pytest.mark.parametrize("skew", [-3600, 3600, -301])
def test_stale_or_future_timestamp_is_refused(ready, skew):
    result = ready.twin.aibot_text("zhangwei", "报工 SO-1001 120", chatid="wr-stamping",
                                   timestamp=ready.relay.clock.epoch() + skew)
    assert result.status == 403


def test_wrong_aes_key_is_refused(ready):
    other_key = "Zbcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    result = ready.twin.aibot_text("zhangwei", "报工 SO-1001 120", chatid="wr-stamping", aes_key=other_key)
    assert result.status == 403


def test_wrong_receive_id_is_refused(ready):
    result = ready.twin.aibot_text("zhangwei", "报工 SO-1001 120", chatid="wr-stamping", receive_id="ww-other")
    assert result.status == 403


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"encrypt": 5}', b'{"encrypt": ""}', b"\xff\xfe\x00",
                                  b'{"other": "x"}', b"[" * 5000 + b"]" * 5000])
def test_broken_json_is_refused(ready, body):
    resp = requests.post(f"{ready.url}/wecom/aibot", data=body, params={"msg_signature": "a", "timestamp": "1", "nonce": "n"},
                         headers={"Content-Type": "application/json"})
    assert resp.status_code == 400


def test_decrypted_json_that_is_not_a_message_is_refused(ready):
    result = ready.twin.aibot_message({"msgtype": "text", "text": "no sender"})
    assert result.status == 400


def test_oversized_body_is_refused(ready):
    big = json.dumps({"encrypt": "A" * 70_000})
    resp = requests.post(f"{ready.url}/wecom/aibot", data=big, params={"msg_signature": "a", "timestamp": "1", "nonce": "n"},
                         headers={"Content-Type": "application/json"})
    assert resp.status_code == 413


@pytest.mark.parametrize("body", [
    b"<xml><Encrypt>abc",  # truncated
    b"not xml at all",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>',
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b"<xml><Encrypt>&b;</Encrypt></xml>",
    b"<other><Encrypt>abc</Encrypt></other>",
    b"<xml><ToUserName>x</ToUserName></xml>",
])
def test_broken_or_hostile_xml_is_refused(ready, body):
    resp = requests.post(f"{ready.url}/wecom/callback", data=body,
                         params={"msg_signature": "a", "timestamp": str(ready.relay.clock.epoch()), "nonce": "n"},
                         headers={"Content-Type": "application/xml"})
    assert resp.status_code == 400


def test_app_callback_with_wrong_signature_is_refused(ready):
    result = ready.twin.app_text("zhangwei", "报工 SO-1001 120", signature="0" * 40)
    assert result.status == 403


def test_app_callback_stale_timestamp_is_refused(ready):
    result = ready.twin.app_text("zhangwei", "报工 SO-1001 120", timestamp=ready.relay.clock.epoch() - 86400)
    assert result.status == 403


def test_a_photo_on_the_http_callback_is_fetched_and_answered(live):
    """Images arrive on the callback as on the long connection (tests/test_wecom_ws.py attaches
    them): downloaded from WeCom and decrypted; with no exception of the sender's, nothing is kept."""
    from storage.models import IncidentPhoto
    result = live.twin.aibot_message({"msgid": "img-1", "aibotid": "b", "chattype": "single",
                                      "from": {"userid": "zhangwei"}, "msgtype": "image",
                                      "image": live.twin.aibot_file(b"\x89PNG\r\n\x1a\n" + bytes(64))})
    assert result.status == 200 and "照片没有附上" in result.reply["stream"]["content"]
    with live.session() as s:
        assert s.scalars(select(IncidentPhoto)).all() == []


def test_a_group_photo_on_the_http_callback_as_wecom_sends_it(live):
    """A group's mixed message as path/100719 prints it: the text @-mentions the bot and the
    image carries only its `url`, the file encrypted with the callback's EncodingAESKey. The
    exception is registered, the photo decrypted and attached, and the audience told; a file
    encrypted with any other key is not taken for a photo."""
    from storage.models import Incident, IncidentPhoto
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    live.add_order("SO-1001", quantity=200, days=5, priority=2)
    items = [{"msgtype": "text", "text": {"content": "@产线接力 异常 SO-1001 设备 模具裂了"}},
             {"msgtype": "image", "image": live.twin.aibot_file(png)}]
    assert "aeskey" not in items[1]["image"]
    result = live.twin.aibot_message({"msgid": "mixed-1", "aibotid": "b", "chatid": "wr-stamping", "chattype": "group",
                                      "from": {"userid": "zhangwei"}, "response_url": "https://example.invalid/r",
                                      "msgtype": "mixed", "mixed": {"msg_item": items}})
    assert result.status == 200
    reply = result.reply["stream"]["content"]
    assert "已登记异常" in reply and "已附 1 张现场照片" in reply
    with live.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        [photo] = s.scalars(select(IncidentPhoto)).all()
        assert (photo.incident_id, photo.content_type, photo.size) == (incident.id, "image/png", len(png))
    settle(live)
    assert any("模具裂了" in m.text and "现场照片" in m.text for m in live.twin.sent)
    # a file under another key (as if meant for another bot) decrypts to nothing: no photo kept
    name = "other-key"
    live.twin.media[name], _ = wc.encrypt_file(png)
    other = live.twin.aibot_message({"msgid": "img-2", "aibotid": "b", "chattype": "single",
                                     "from": {"userid": "zhangwei"}, "msgtype": "image",
                                     "image": {"url": f"{live.twin.base_url}/aibot/media/{name}"}})
    assert other.status == 200 and "照片" in other.reply["stream"]["content"]
    with live.session() as s:
        assert len(s.scalars(select(IncidentPhoto)).all()) == 1


def test_a_group_photo_with_only_the_mention_goes_to_the_senders_exception(live):
    """In a group a picture arrives only @-mentioning the bot (a mixed message whose text is just
    `@产线接力 `): sent after the 异常, it is that exception's photo, not a message read for a
    command (which answered with help and dropped the photo)."""
    from storage.models import Incident, IncidentPhoto
    png = b"\x89PNG\r\n\x1a\n" + bytes(32)
    live.add_order("SO-1001", quantity=200, days=5, priority=2)
    assert "已登记异常" in live.say("zhangwei", "异常 SO-1001 设备 模具裂了")
    items = [{"msgtype": "text", "text": {"content": "@产线接力\u2005"}},
             {"msgtype": "image", "image": live.twin.aibot_file(png)}]
    result = live.twin.aibot_message({"msgid": "mixed-alone", "aibotid": "b", "chatid": "wr-stamping",
                                      "chattype": "group", "from": {"userid": "zhangwei"},
                                      "msgtype": "mixed", "mixed": {"msg_item": items}})
    assert result.status == 200
    reply = result.reply["stream"]["content"]
    assert "照片" in reply and "SO-1001" in reply, reply
    with live.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        [photo] = s.scalars(select(IncidentPhoto)).all()
        assert (photo.incident_id, photo.size) == (incident.id, len(png))


def test_a_file_sent_to_the_bot_is_answered_not_ignored(live):
    """WeCom's published 1:1 file message (`file.url`): not read, but the sender is told to send a
    picture or type, instead of an empty acknowledgement nobody sees; nothing is applied."""
    from storage.models import IncidentPhoto
    result = live.twin.aibot_message({"msgid": "file-1", "aibotid": "b", "chattype": "single",
                                      "from": {"userid": "zhangwei"}, "msgtype": "file",
                                      "file": {"url": f"{live.twin.base_url}/aibot/media/nothing"}})
    assert result.status == 200
    reply = result.reply["stream"]["content"]
    assert "文件我还看不了" in reply and "图片" in reply, reply
    with live.session() as s:
        assert s.scalars(select(IncidentPhoto)).all() == []


def test_healthz(live):
    assert requests.get(f"{live.url}/healthz").json() == {"status": "ok"}
