"""DingTalk: a picture sent to the robot (msgtype picture, or richText with the `异常 …` text)
is fetched through its download code (`/v1.0/robot/messageFiles/download`), checked, kept and
attached to the sender's exception, in HTTP and Stream mode, through the DingTalk twin."""
import re

from sqlalchemy import select

from storage.models import IncidentPhoto
from tests.helpers import dingtalk_chat, dingtalk_user, settle
from tests.test_commands import seed
from tests.test_wecom_ws import JPEG, PNG


def photos(live) -> list[IncidentPhoto]:
    with live.relay.Session() as s:
        return list(s.scalars(select(IncidentPhoto).order_by(IncidentPhoto.id)))


def send_picture(live, user: str, data: bytes, *, text: str | None = None, chat: str | None = None,
                 code: str | None = None) -> str:
    """`user` sends the robot a picture (1:1 unless `chat`); the reply on its session webhook."""
    body, session = live.dingtalk.picture_body(dingtalk_user(user), data, text=text, conversation_id=dingtalk_chat(chat))
    if code is not None:   # a download code DingTalk never issued (or one that has expired)
        body["content"]["downloadCode"] = code
    resp = live.dingtalk.robot_message(body)
    assert resp.status_code == 200, resp.text
    return live.dingtalk.wait_for(lambda s: s.api == "session" and s.target == session).text


def test_a_picture_after_an_exception_is_fetched_by_its_download_code_and_attached(live):
    live.platform = "dingtalk"
    seed(live)
    assert "已登记异常" in live.say("zhangwei", "异常 SO-1001 设备 冲床液压故障")
    reply = send_picture(live, "zhangwei", PNG)
    assert "已附到" in reply and "SO-1001" in reply and "1 张照片" in reply
    [row] = photos(live)
    assert (row.content_type, row.size) == ("image/png", len(PNG))
    # the exception's audience gets the link, on whatever platform its groups use
    link = re.search(r"\((http://[^)]+/board/photos/\d+\?token=[^)]+)\)", reply)
    assert link is not None
    settle(live)
    assert any("现场照片" in s.text or "/board/photos/" in s.text for s in live.dingtalk.sent
               if s.api in ("group_message", "card", "custom_webhook") and s.target != "cid-stamping")


def test_a_picture_with_the_exception_text_opens_it_with_the_photo(live):
    live.platform = "dingtalk"
    seed(live)
    reply = send_picture(live, "zhangwei", JPEG, text="异常 SO-1001 设备 模具裂了", chat="wr-stamping")
    assert "已登记异常" in reply and "已附 1 张现场照片" in reply
    assert [p.content_type for p in photos(live)] == ["image/jpeg"]


def test_pictures_refused_change_nothing(live):
    live.platform = "dingtalk"
    seed(live)
    # no exception of one's own: said, nothing fetched into storage
    assert "没有附上" in send_picture(live, "lina", PNG)
    assert "已登记异常" in live.say("zhangwei", "异常 SO-1001 设备 冲床液压故障")
    # not a picture, whatever DingTalk calls it: refused by its content
    assert "不是 JPG/PNG/WebP 图片" in send_picture(live, "zhangwei", b"%PDF-1.4 not a photo")
    # a download code DingTalk does not know: the person is asked to send it again
    assert "下载失败" in send_picture(live, "zhangwei", PNG, code="dc-expired")
    # larger than the cap: refused while downloading
    big = PNG + bytes(live.relay.settings.app.max_photo_bytes)
    assert "太大" in send_picture(live, "zhangwei", big)
    assert photos(live) == []


def test_malformed_picture_messages_are_refused(live):
    live.platform = "dingtalk"
    seed(live)
    body, _ = live.dingtalk.picture_body(dingtalk_user("zhangwei"), PNG)
    for content in ({}, {"downloadCode": ""}, {"downloadCode": 7}, "not an object"):
        resp = live.dingtalk.robot_message({**body, "content": content})
        assert resp.status_code == 400 and "not a robot message" in resp.json()["error"]
    rich, _ = live.dingtalk.picture_body(dingtalk_user("zhangwei"), PNG, text="异常 SO-1001 设备 坏了")
    resp = live.dingtalk.robot_message({**rich, "content": {"richText": "异常 SO-1001"}})
    assert resp.status_code == 400
    with live.relay.Session() as s:
        from storage.models import Incident, InboundMessage
        assert s.scalars(select(Incident)).all() == [] and s.scalars(select(InboundMessage)).all() == []


def test_a_picture_over_the_stream_is_attached_too(live):
    live.platform = "dingtalk"
    seed(live)
    assert "已登记异常" in live.say("zhangwei", "异常 SO-1001 质量 漆面起泡")
    from bot.dingtalk.stream import StreamRunner
    stream = StreamRunner(live.relay).start()
    try:
        live.dingtalk.gateway.wait_connected()
        body, session = live.dingtalk.picture_body(dingtalk_user("zhangwei"), PNG)
        live.dingtalk.gateway.push("/v1.0/im/bot/messages/get", body)
        reply = live.dingtalk.wait_for(lambda s: s.api == "session" and s.target == session).text
    finally:
        stream.stop()
    assert "已附到" in reply and [p.content_type for p in photos(live)] == ["image/png"]


def test_a_file_or_a_video_is_answered_with_what_is_read_instead(live):
    """DingTalk's published file and video robot messages (content with a downloadCode): not
    read, but never silence — the sender is told to send a picture or type; nothing changes and
    a redelivery is answered from the record."""
    from storage.models import InboundMessage
    live.platform = "dingtalk"
    seed(live)
    for kind, content in (("file", {"downloadCode": "dc-file", "fileName": "故障记录.pdf"}),
                          ("video", {"downloadCode": "dc-video", "duration": "12", "videoType": "mp4"})):
        body, session = live.dingtalk.robot_body(dingtalk_user("zhangwei"), "", msg_id=f"dt-{kind}")
        body["msgtype"], body["content"] = kind, content
        del body["text"]
        assert live.dingtalk.robot_message(body).status_code == 200
        reply = live.dingtalk.wait_for(lambda s, session=session: s.api == "session" and s.target == session).text
        assert ("文件" if kind == "file" else "视频") in reply and "我还看不了" in reply and "图片" in reply, reply
        sent = len(live.dingtalk.sent)
        assert live.dingtalk.robot_message(body).status_code == 200   # redelivered: answered from the record
        settle(live)
        assert [m.text for m in live.dingtalk.sent[sent:] if m.api == "session"] == []
    assert photos(live) == []
    with live.relay.Session() as s:
        assert len(s.scalars(select(InboundMessage).where(InboundMessage.platform == "dingtalk")).all()) == 2
