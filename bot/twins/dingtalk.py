"""The DingTalk twin: plays DingTalk towards LineRelay, over real HTTP.

Server side: `/v1.0/oauth2/accessToken`, `/v1.0/robot/groupMessages/send`,
`/v1.0/card/instances/createAndDeliver`, `PUT /v1.0/card/instances`, `/v1.0/card/callbacks/register`,
the custom robot webhook `/robot/send` (checks the `SEC…` signature, throttles past 20/min with
130101) and sessionWebhooks `/robot/sendBySession`. Client side: signed robot callbacks, and
clicks on the cards the app delivered, posted to the registered card callback URL.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Callable

import requests
from flask import Flask, jsonify, request

from bot.twins.base import Answer, CardChange, Seen, Sent, TwinBase
from bot.twins.dingtalk_directory import mount_directory, push_event
from bot.twins.directory import TwinDirectory
from bot.twins.dingtalk_stream import StreamGateway

TWIN_CORP = "ding-twin-corp"   # the corp the twin's robot and people belong to (corpId, senderCorpId)

def robot_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk's robot signature, written here from the protocol (PLATFORMS.md), not shared with
    the app: base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingTalkTwin(TwinBase):
    name = "DingTalk"

    def __init__(self, *, app_key: str, app_secret: str, robot_code: str,
                 custom_robots: dict[str, str] | None = None, app_url: str | None = None,
                 clock: Callable[[], float] | None = None, robot_chats: dict[str, str] | None = None,
                 event_token: str = "", event_aes_key: str = ""):
        self.app_key, self.app_secret, self.robot_code = app_key, app_secret, robot_code
        self.event_token, self.event_aes_key = event_token, event_aes_key   # the event subscription's
        self.directory = TwinDirectory()
        self.custom_robots = dict(custom_robots or {})    # access_token -> SEC secret
        self.robot_chats = dict(robot_chats or {})        # custom robot access_token -> its group's chat id
        self._sessions: dict[str, str] = {}               # sessionWebhook id -> the chat it answers in
        self.cards: dict[str, dict] = {}                   # outTrackId -> last createAndDeliver body
        self.callback_routes: dict[str, str] = {}          # routeKey -> callback URL
        self._custom_sent: dict[str, deque] = {}
        self.gateway = StreamGateway()
        self.files: dict[str, bytes] = {}                  # download code -> a file a person sent the robot
        self.file_urls: dict[str, bytes] = {}              # short-lived download URL name -> the file
        super().__init__(app_url, clock or time.time)

    def start(self) -> DingTalkTwin:
        super().start()
        self.gateway.start()
        return self

    def stop(self) -> None:
        super().stop()
        self.gateway.stop()

    # -- server ---------------------------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask("dingtalk-twin")

        def fault():
            injected = self.take_fault()
            if injected is None:
                return None
            kind, value = injected
            if kind == "http":
                return jsonify(code="ServiceUnavailable", message="twin: injected failure"), value
            return jsonify(errcode=value, errmsg="twin: injected errcode")

        def authorized():
            return request.headers.get("x-acs-dingtalk-access-token") in self.tokens

        def unauthorized():
            return jsonify(code="InvalidAuthentication", message="不合法的access_token"), 401

        @app.post("/v1.0/oauth2/accessToken")
        def access_token():
            body = request.get_json(force=True)
            if body.get("appKey") != self.app_key or body.get("appSecret") != self.app_secret:
                return jsonify(code="invalidClientIdOrSecret", message="无效的appKey或appSecret"), 400
            token = secrets.token_hex(16)
            self.tokens.add(token)
            return jsonify(accessToken=token, expireIn=7200)

        @app.post("/v1.0/gateway/connections/open")
        def open_stream_connection():
            body = request.get_json(force=True)
            if body.get("clientId") != self.app_key or body.get("clientSecret") != self.app_secret:
                return jsonify(code="invalidClient", message="bad clientId/clientSecret"), 401
            return jsonify(self.gateway.open_connection())

        @app.post("/v1.0/robot/groupMessages/send")
        def group_send():
            failed = fault()
            if failed:
                return failed
            if not authorized():
                return unauthorized()
            body = request.get_json(force=True)
            if body.get("robotCode") != self.robot_code:
                return jsonify(code="robot.notExist", message="robot not exist"), 400
            param = json.loads(body["msgParam"])
            self._record(Sent("group_message", body["openConversationId"],
                              {"msgKey": body["msgKey"], "markdown": {"content": param.get("text", "")}, "param": param}))
            return jsonify(processQueryKey=secrets.token_hex(8))

        @app.post("/v1.0/robot/oToMessages/batchSend")
        def oto_send():
            failed = fault()
            if failed:
                return failed
            if not authorized():
                return unauthorized()
            body = request.get_json(force=True)
            param = json.loads(body["msgParam"])
            for user in body["userIds"]:
                self._record(Sent("oto", user, {"msgKey": body["msgKey"], "markdown": {"content": param.get("text", "")}}))
            return jsonify(processQueryKey=secrets.token_hex(8))

        @app.post("/v1.0/card/instances/createAndDeliver")
        def create_and_deliver():
            failed = fault()
            if failed:
                return failed
            if not authorized():
                return unauthorized()
            body = request.get_json(force=True)
            space = body.get("openSpaceId", "")
            if not space.startswith("dtv1.card//IM_GROUP.") or not body.get("outTrackId"):
                return jsonify(code="param.invalid", message="openSpaceId/outTrackId"), 400
            if any(not isinstance(v, str) for v in body["cardData"]["cardParamMap"].values()):
                return jsonify(code="param.invalid", message="cardParamMap values must be strings"), 400
            if body.get("callbackType") not in ("HTTP", "STREAM") or \
                    (body["callbackType"] == "HTTP" and not body.get("callbackRouteKey")):
                return jsonify(code="param.invalid", message="callbackType HTTP (with callbackRouteKey) or STREAM"), 400
            with self._lock:
                if body["outTrackId"] in self.cards:
                    return jsonify(code="outTrackId.exists", message="card instance already exists"), 400
                self.cards[body["outTrackId"]] = body
            params = body["cardData"]["cardParamMap"]
            self._record(Sent("card", space.split(".", 2)[-1].split("IM_GROUP.")[-1],
                              {"markdown": {"content": params.get("markdown", "")}, "body": body}))
            return jsonify(success=True, result={"outTrackId": body["outTrackId"]})

        @app.put("/v1.0/card/instances")
        def update_card():
            if not authorized():
                return unauthorized()
            body = request.get_json(force=True)
            self._record(Sent("card_update", body.get("outTrackId", ""), body))
            return jsonify(success=True)

        @app.post("/v1.0/card/callbacks/register")
        def register_callback():
            if not authorized():
                return unauthorized()
            body = request.get_json(force=True)
            self.callback_routes[body["callbackRouteKey"]] = body["callbackUrl"]
            return jsonify(success=True)

        @app.post("/robot/send")
        def custom_webhook():
            failed = fault()
            if failed:
                return failed
            token = request.args.get("access_token", "")
            secret = self.custom_robots.get(token)
            if secret is None:
                return jsonify(errcode=300001, errmsg="token is not exist")
            ts, sign = request.args.get("timestamp", ""), request.args.get("sign", "")
            if not ts.isdigit() or abs(self.clock() * 1000 - int(ts)) > 3600_000 or sign != robot_sign(secret, ts):
                return jsonify(errcode=310000, errmsg="sign not match")
            window = self._custom_sent.setdefault(token, deque())
            now = time.monotonic()
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= 20:
                return jsonify(errcode=130101, errmsg="send too fast")
            window.append(now)
            body = request.get_json(force=True)
            self._record(Sent("custom_webhook", token, body))
            return jsonify(errcode=0, errmsg="ok")

        mount_directory(app, self)
        _mount_files(app, self, authorized, unauthorized)

        @app.post("/robot/sendBySession")
        def session_webhook():
            body = request.get_json(force=True)
            self._record(Sent("session", request.args.get("session", ""), body))
            return jsonify(errcode=0, errmsg="ok")

        return app

    # -- client: DingTalk's callbacks ------------------------------------------------------------
    def clock_ms(self) -> int:
        return int(self.clock() * 1000)

    def contact_event(self, event_type: str, user_ids: list[str] | None = None, **kwargs):
        """DingTalk's encrypted event subscription: a directory change reaches the app."""
        return push_event(self, event_type, user_ids, **kwargs)

    def robot_message(self, body: dict, *, timestamp: int | None = None, sign: str | None = None,
                      content_type: str = "application/json", raw: bytes | None = None) -> requests.Response:
        ts = str(int(self.clock() * 1000) if timestamp is None else timestamp)
        headers = {"timestamp": ts, "sign": sign if sign is not None else robot_sign(self.app_secret, ts),
                   "Content-Type": content_type}
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        return self.http.post(f"{self.app_url}/dingtalk/robot", data=data, headers=headers, timeout=30)

    def robot_body(self, staff_id: str, text: str, *, conversation_id: str | None = None, msg_id: str | None = None,
                   robot_code: str | None = None, bot_name: str = "产线接力") -> tuple[dict, str]:
        """The robot message DingTalk sends when a user @-mentions the robot in a group
        (conversation_id given) or writes 1:1; and the session id its reply will be posted to."""
        msg_id = msg_id or f"msg{secrets.token_hex(8)}"
        session = secrets.token_hex(6)
        group = conversation_id is not None
        self.remember(self._sessions, session, conversation_id or f"@{staff_id}")
        body = {"msgId": msg_id, "msgtype": "text", "text": {"content": f" @{bot_name} {text}" if group else text},
                "conversationId": conversation_id or f"cid-single-{staff_id}", "conversationType": "2" if group else "1",
                "conversationTitle": "twin group" if group else "", "senderStaffId": staff_id,
                "senderId": f"$:LWCP_v1:${hashlib.sha256(staff_id.encode()).hexdigest()[:24]}",
                "senderCorpId": TWIN_CORP, "chatbotCorpId": TWIN_CORP, "chatbotUserId": "$:LWCP_v1:$bot",
                "isInAtList": True, "createAt": int(self.clock() * 1000), "senderPlatform": "Android",
                "senderNick": staff_id, "isAdmin": False, "robotCode": robot_code or self.robot_code,
                "sessionWebhook": f"{self.base_url}/robot/sendBySession?session={session}",
                "sessionWebhookExpiredTime": int(self.clock() * 1000) + 90 * 60_000,
                "atUsers": [{"dingtalkId": "$:LWCP_v1:$bot"}] if group else []}
        return body, session

    def robot_text(self, staff_id: str, text: str, *, conversation_id: str | None = None, msg_id: str | None = None,
                   robot_code: str | None = None, **kwargs) -> tuple[requests.Response, str]:
        """Post a robot message over HTTP mode; returns (HTTP response, reply session id)."""
        body, session = self.robot_body(staff_id, text, conversation_id=conversation_id, msg_id=msg_id,
                                        robot_code=robot_code)
        return self.robot_message(body, **kwargs), session

    def robot_audio(self, staff_id: str, transcript: str | None, *, msg_id: str | None = None,
                    **kwargs) -> tuple[requests.Response, str]:
        """A user sends the robot a voice message 1:1 (DingTalk takes no voice in groups): msgtype
        audio, with DingTalk's speech recognition in content.recognition (None: nothing recognised,
        and no such field)."""
        body, session = self.robot_body(staff_id, "", msg_id=msg_id)
        del body["text"]
        body["msgtype"] = "audio"
        body["content"] = {"duration": 2000, "downloadCode": f"dc-{secrets.token_hex(6)}"}
        if transcript is not None:
            body["content"]["recognition"] = transcript
        return self.robot_message(body, **kwargs), session

    def picture_body(self, staff_id: str, data: bytes, *, text: str | None = None, conversation_id: str | None = None,
                     msg_id: str | None = None) -> tuple[dict, str]:
        """A picture a person sends the robot (msgtype picture), or text with it (richText), as
        DingTalk delivers it: the file stays here, the message carries its download code; and the
        session id its reply will be posted to."""
        body, session = self.robot_body(staff_id, "", conversation_id=conversation_id, msg_id=msg_id)
        del body["text"]
        code = f"dc{secrets.token_hex(12)}"
        self.files[code] = data
        picture = {"downloadCode": code, "pictureDownloadCode": f"p{code}"}
        if text is None:
            body["msgtype"], body["content"] = "picture", picture
        else:
            body["msgtype"], body["content"] = "richText", {"richText": [{"text": text}, {"type": "picture", **picture}]}
        return body, session

    def stream_text(self, staff_id: str, text: str, **kwargs) -> tuple[dict, str]:
        """Deliver a robot message over Stream mode; returns (the client's ack, reply session id)."""
        body, session = self.robot_body(staff_id, text, **kwargs)
        return self.gateway.push("/v1.0/im/bot/messages/get", body), session

    def stream_click(self, track_id: str, user_id: str, action: str) -> dict:
        """Press a button on a card created with callbackType STREAM: the click comes over the
        Stream connection (and only there); returns the client's ack."""
        if self.cards.get(track_id, {}).get("callbackType") != "STREAM":
            raise LookupError(f"card {track_id} was not created with callbackType STREAM: its clicks go over HTTP")
        content = {"cardPrivateData": {"actionIds": [action], "params": {"action": action}}}
        return self.gateway.push("/v1.0/card/instances/callback", {
            "outTrackId": track_id, "userId": user_id, "corpId": TWIN_CORP, "type": "actionCallback",
            "content": json.dumps(content), "extension": "{}"})

    def click(self, track_id: str, user_id: str, action: str, *, route_key: str | None = None,
              url: str | None = None) -> requests.Response:
        """Press a button on a delivered card: DingTalk posts to the registered callback URL
        (a card created with callbackType STREAM sends its clicks over Stream only)."""
        card = self.cards.get(track_id, {})
        if card.get("callbackType") == "STREAM" and url is None:
            raise LookupError(f"card {track_id} was created with callbackType STREAM: its clicks go over Stream")
        target = url or self.callback_routes[route_key or card.get("callbackRouteKey", "")]
        content = {"cardPrivateData": {"actionIds": [action], "params": {"action": action}}}
        body = {"outTrackId": track_id, "userId": user_id, "corpId": TWIN_CORP, "type": "actionCallback",
                "content": json.dumps(content), "extension": "{}"}
        return self.http.post(target, json=body, timeout=30)

    # -- what people see (the sandbox page) -------------------------------------------------------
    def shown(self, sent: Sent) -> list:
        return [self._with_picture(item) if isinstance(item, Seen) else item for item in self._shown(sent)]

    def _with_picture(self, seen: Seen) -> Seen:
        """DingTalk markdown shows `![title](url)` as the picture at that address: the page shows
        the ones the app serves itself (a twin fetches nothing from elsewhere)."""
        match = re.search(r"!\[[^\]]*\]\((\S+?)\)", seen.markdown)
        if match is None or not self.app_url or not match.group(1).startswith(self.app_url.rstrip("/") + "/"):
            return seen
        return Seen(seen.conv, seen.via, seen.markdown.replace(match.group(0), "").strip(), seen.card, seen.who,
                    image=match.group(1))

    def _shown(self, sent: Sent) -> list:
        if sent.api == "session" and sent.target in self._sessions:
            return [Seen(self._sessions[sent.target], "session", sent.text)]
        if sent.api == "group_message":
            return [Seen(sent.target, "group_message", sent.text)]
        if sent.api == "custom_webhook" and sent.target in self.robot_chats:
            return [Seen(self.robot_chats[sent.target], "custom_webhook", sent.text)]
        if sent.api == "oto":
            return [Seen(f"@{sent.target}", "oto", sent.text)]
        if sent.api == "card":
            body = sent.payload["body"]
            return [Seen(sent.target, "card", card=card_view(body["outTrackId"], body["cardData"]["cardParamMap"]))]
        if sent.api == "card_update" and sent.payload.get("cardData", {}).get("cardParamMap"):
            return [_changed(sent.target, sent.payload["cardData"]["cardParamMap"])]
        return []

    def say(self, user_id: str, text: str, chat_id: str | None) -> Answer:
        """A person @-mentions the robot in a group, or writes to it 1:1; the reply comes later,
        to the message's sessionWebhook."""
        resp, _session = self.robot_text(user_id, text, conversation_id=chat_id)
        return Answer(resp.status_code)

    def press(self, user_id: str, card_id: str, action: str, chat_id: str | None) -> Answer:
        """A person presses a button on an interactive card: DingTalk shows the card the callback
        answers with, and its message as a toast to the clicker only."""
        resp = self.click(card_id, user_id, action)
        try:
            payload = resp.json()
        except ValueError:
            payload = {}
        params = payload.get("cardData", {}).get("cardParamMap")
        seen = [Seen(chat_id or f"@{user_id}", "toast", str(payload["message"]), who="system")] \
            if payload.get("message") else []
        return Answer(resp.status_code, seen, [_changed(card_id, params)] if params else [])

    @staticmethod
    def describe() -> dict:
        """How the sandbox page presents DingTalk."""
        return {"title": "钉钉", "color": "#1677ff",
                "how": {"group": "钉钉群 · @产线接力 机器人，卡片直接发在群里",
                        "private": "钉钉 · 与产线接力机器人单聊"},
                "via": {"session": "机器人回复", "custom_webhook": "自定义机器人推送", "group_message": "机器人群消息",
                        "card": "互动卡片", "oto": "机器人单聊消息"},
                "toast": "钉钉提示"}


def _mount_files(app: Flask, twin: DingTalkTwin, authorized, unauthorized) -> None:
    """`/v1.0/robot/messageFiles/download`: a download code (with the robot's code) for a
    short-lived URL to the file a person sent the robot."""
    @app.post("/v1.0/robot/messageFiles/download")
    def message_file():
        if not authorized():
            return unauthorized()
        body = request.get_json(force=True)
        data = twin.files.get(str(body.get("downloadCode")))
        if body.get("robotCode") != twin.robot_code or data is None:
            return jsonify(code="invalidParameter.downloadCode", message="downloadCode 无效"), 400
        name = secrets.token_hex(10)
        twin.file_urls[name] = data
        return jsonify(downloadUrl=f"{twin.base_url}/files/{name}")

    @app.get("/files/<name>")
    def file_content(name):
        data = twin.file_urls.get(name)
        if data is None:
            return "expired", 404
        return data, 200, {"Content-Type": "application/octet-stream"}


def card_view(track_id: str, params: dict) -> dict:
    """An interactive card as the group sees it, from the variables of its template."""
    buttons = json.loads(params.get("buttons") or "[]")
    return {"id": track_id, "title": params.get("title", ""), "body": params.get("markdown", ""),
            "buttons": [{"key": b["action"], "label": b["text"], "style": b.get("style", "normal")} for b in buttons],
            "outcome": params.get("outcome", "")}


def _changed(track_id: str, params: dict) -> CardChange:
    card = card_view(track_id, params)
    return CardChange(track_id, None, {"buttons": card["buttons"], "outcome": card["outcome"], "body": card["body"]})


def sandbox_twin(settings, clock) -> tuple[DingTalkTwin, dict[str, str]]:
    """A started twin for the sandbox, and the settings that point the app at it."""
    d = settings.platform("dingtalk")
    robots = [g for g in settings.groups if g.platform == "dingtalk" and g.webhook_key]
    twin = DingTalkTwin(app_key=d.app_key, app_secret=d.app_secret, robot_code=d.robot_code, clock=clock.epoch,
                        event_token=d.event_token, event_aes_key=d.event_aes_key,
                        custom_robots={g.webhook_key: g.webhook_secret for g in robots},
                        robot_chats={g.webhook_key: g.chat_id for g in robots}).start()
    return twin, {"dingtalk.api_base_url": twin.base_url, "dingtalk.oapi_base_url": twin.base_url}
