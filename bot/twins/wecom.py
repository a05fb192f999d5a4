"""The WeCom twin: plays WeCom towards LineRelay, over real HTTP.

Server side, it answers `gettoken`, `message/send`, `message/update_template_card`,
`webhook/send` and AI bot `response_url`s, and records every accepted send.
Client side, it encrypts and signs AI bot (JSON) and self-built app (XML) callbacks as WeCom
does, posts them to the app, checks the reply's signature and decrypts it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import requests
import xmltodict
from flask import Flask, jsonify, request

from bot.twins import wecom_crypto as wc
from bot.twins.base import Answer, CardChange, Seen, Sent, TwinBase
from bot.twins.directory import TwinDirectory


@dataclass
class CallbackResult:
    status: int
    reply: Any             # decrypted reply (dict for the AI bot, dict of XML for the app), or None
    raw: str


class WeComTwin(TwinBase):
    name = "WeCom"

    def __init__(self, *, corp_id: str, secret: str, agent_id: int, app_token: str, app_aes_key: str,
                 aibot_token: str, aibot_aes_key: str, app_url: str | None = None,
                 clock: Callable[[], int] | None = None, robots: dict[str, str] | None = None):
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.app_token, self.app_aes_key = app_token, app_aes_key
        self.aibot_token, self.aibot_aes_key = aibot_token, aibot_aes_key
        self.response_codes: set[str] = set()      # issued with card clicks, each usable once
        self.click_codes: dict[str, str] = {}      # response code -> the card (task_id) it was issued for
        self.task_ids: set[str] = set()            # template cards are unique per task_id
        self.robots = dict(robots or {})           # group robot webhook key -> the group's chat id
        self._reply_convs: dict[str, str] = {}     # AI bot msgid -> the chat its response_url answers in
        self.media: dict[str, bytes] = {}          # files people sent the bot, encrypted, by name
        self._ids = itertools.count(1)
        self.directory = TwinDirectory()
        super().__init__(app_url, clock)

    # -- server: WeCom's APIs -------------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask("wecom-twin")

        def fault():
            injected = self.take_fault()
            if injected is None:
                return None
            kind, value = injected
            if kind == "http":
                return jsonify(errcode=-1, errmsg="twin: injected failure"), value
            return jsonify(errcode=value, errmsg="twin: injected errcode")

        def token_ok():
            return request.args.get("access_token") in self.tokens

        @app.get("/cgi-bin/gettoken")
        def gettoken():
            if request.args.get("corpid") != self.corp_id or request.args.get("corpsecret") != self.secret:
                return jsonify(errcode=40013, errmsg="invalid corpid or secret")
            token = secrets.token_hex(16)
            self.tokens.add(token)
            return jsonify(errcode=0, errmsg="ok", access_token=token, expires_in=7200)

        @app.post("/cgi-bin/message/send")
        def message_send():
            failed = fault()
            if failed:
                return failed
            if not token_ok():
                return jsonify(errcode=40014, errmsg="invalid access_token")
            body = request.get_json(force=True)
            if body.get("agentid") != self.agent_id:
                return jsonify(errcode=40056, errmsg="invalid agentid")
            task_id = body.get("template_card", {}).get("task_id")
            with self._lock:
                if task_id and task_id in self.task_ids:
                    return jsonify(errcode=40095, errmsg="task_id already exists")
                if task_id:
                    self.task_ids.add(task_id)
            self._record(Sent("message", body.get("touser", ""), body))
            return jsonify(errcode=0, errmsg="ok", msgid=f"m{next(self._ids)}",
                           response_code=secrets.token_hex(8) if body.get("msgtype") == "template_card" else None)

        @app.post("/cgi-bin/message/update_template_card")
        def update_card():
            failed = fault()
            if failed:
                return failed
            if not token_ok():
                return jsonify(errcode=40014, errmsg="invalid access_token")
            body = request.get_json(force=True)
            with self._lock:
                valid = body.get("response_code") in self.response_codes
                self.response_codes.discard(body.get("response_code"))
            if not valid:  # each response code works once
                return jsonify(errcode=40143, errmsg="invalid response_code")
            self._record(Sent("update_card", body.get("response_code", ""), body))
            return jsonify(errcode=0, errmsg="ok")

        @app.post("/cgi-bin/webhook/send")
        def webhook_send():
            failed = fault()
            if failed:
                return failed
            key = request.args.get("key", "")
            body = request.get_json(force=True)
            if not key:
                return jsonify(errcode=93000, errmsg="invalid webhook url")
            card_type = body.get("template_card", {}).get("card_type")
            if body.get("msgtype") == "template_card" and card_type not in ("text_notice", "news_notice"):
                return jsonify(errcode=40058, errmsg="webhook cards cannot carry buttons")
            if body.get("msgtype") == "image" and not valid_image(body.get("image") or {}):
                return jsonify(errcode=40009, errmsg="invalid image: base64, md5, ≤ 2 MB jpg/png")
            self._record(Sent("webhook", key, body))
            return jsonify(errcode=0, errmsg="ok")

        mount_directory(app, self, token_ok, fault)
        @app.get("/aibot/media/<name>")
        def media(name):
            """A file a person sent the bot: encrypted, as long as the twin keeps it (WeCom: 5 min)."""
            data = self.media.get(name)
            if data is None:
                return jsonify(errcode=40007, errmsg="invalid media"), 404
            return data, 200, {"Content-Type": "application/octet-stream"}

        @app.post("/aibot/response/<code>")
        def response_url(code):
            self._record(Sent("response_url", code, request.get_json(force=True)))
            return jsonify(errcode=0, errmsg="ok")

        return app

    # -- client: WeCom's callbacks --------------------------------------------------------------
    def _query(self, token: str, encrypt: str, timestamp: int | None, signature: str | None) -> dict:
        ts = str(self.clock() if timestamp is None else timestamp)
        nonce = secrets.token_hex(5)
        return {"msg_signature": signature or wc.sign(token, ts, nonce, encrypt), "timestamp": ts, "nonce": nonce}

    def aibot_message(self, msg: dict, *, timestamp: int | None = None, signature: str | None = None,
                      aes_key: str | None = None, receive_id: str = "") -> CallbackResult:
        """Post an AI bot callback carrying `msg` (a decrypted-message dict) to the app."""
        encrypt = wc.encrypt(aes_key or self.aibot_aes_key, json.dumps(msg, ensure_ascii=False), receive_id)
        params = self._query(self.aibot_token, encrypt, timestamp, signature)
        resp = self.http.post(f"{self.app_url}/wecom/aibot", params=params, json={"encrypt": encrypt}, timeout=30)
        return CallbackResult(resp.status_code, self._open_aibot_reply(resp), resp.text)

    def aibot_text(self, userid: str, text: str, *, chatid: str | None = None, msgid: str | None = None,
                   bot_name: str = "产线接力", **kwargs) -> CallbackResult:
        """A user @-mentions the bot in a group (chatid given) or writes to it 1:1."""
        msgid = msgid or f"aibot-{secrets.token_hex(8)}"
        self.remember(self._reply_convs, msgid, chatid or f"@{userid}")
        msg = {"msgid": msgid, "aibotid": "aib-twin", "chattype": "group" if chatid else "single",
               "from": {"userid": userid}, "response_url": f"{self.base_url}/aibot/response/{msgid}",
               "msgtype": "text", "text": {"content": f"@{bot_name} {text}" if chatid else text}}
        if chatid:
            msg["chatid"] = chatid
        return self.aibot_message(msg, **kwargs)

    def aibot_voice(self, userid: str, transcript: str, *, msgid: str | None = None, **kwargs) -> CallbackResult:
        """A user sends the bot a voice message 1:1; WeCom hands over its transcript (voice.content)."""
        msgid = msgid or f"aibot-{secrets.token_hex(8)}"
        self.remember(self._reply_convs, msgid, f"@{userid}")
        msg = {"msgid": msgid, "aibotid": "aib-twin", "chattype": "single", "from": {"userid": userid},
               "response_url": f"{self.base_url}/aibot/response/{msgid}", "msgtype": "voice",
               "voice": {"content": transcript}}
        return self.aibot_message(msg, **kwargs)

    def aibot_file(self, data: bytes) -> dict:
        """A picture a person sends, as the HTTP callback carries it (path/100719): only its `url`;
        the file is encrypted with the callback's own EncodingAESKey."""
        name = secrets.token_hex(8)
        self.media[name], _ = wc.encrypt_file(data, self.aibot_aes_key)
        return {"url": f"{self.base_url}/aibot/media/{name}"}

    def ws_file(self, data: bytes) -> dict:
        """A picture a person sends, as the long connection carries it: `{url, aeskey}`, the file
        encrypted with a key of its own."""
        name = secrets.token_hex(8)
        self.media[name], aeskey = wc.encrypt_file(data)
        return {"url": f"{self.base_url}/aibot/media/{name}", "aeskey": aeskey}

    def _open_aibot_reply(self, resp: requests.Response) -> Any:
        if resp.status_code != 200 or not resp.content:
            return None
        body = resp.json()
        expected = wc.sign(self.aibot_token, str(body["timestamp"]), body["nonce"], body["encrypt"])
        if expected != body["msgsignature"]:
            raise AssertionError("the app's reply has a bad signature")
        return json.loads(wc.decrypt(self.aibot_aes_key, body["encrypt"], ""))

    def app_text(self, userid: str, text: str, *, msgid: str | None = None, **kwargs) -> CallbackResult:
        """A user writes to the self-built app 1:1."""
        inner = xmltodict.unparse({"xml": {
            "ToUserName": self.corp_id, "FromUserName": userid, "CreateTime": str(self.clock()),
            "MsgType": "text", "Content": text, "MsgId": msgid or str(next(self._ids) + 10**12),
            "AgentID": str(self.agent_id)}}, full_document=False)
        return self.app_xml(inner, **kwargs)

    def app_xml(self, inner_xml: str, *, timestamp: int | None = None, signature: str | None = None) -> CallbackResult:
        encrypt = wc.encrypt(self.app_aes_key, inner_xml, self.corp_id)
        params = self._query(self.app_token, encrypt, timestamp, signature)
        outer = xmltodict.unparse({"xml": {"ToUserName": self.corp_id, "Encrypt": encrypt,
                                           "AgentID": str(self.agent_id)}}, full_document=False)
        resp = self.http.post(f"{self.app_url}/wecom/callback", params=params, data=outer.encode(),
                              headers={"Content-Type": "application/xml"}, timeout=30)
        reply = None
        if resp.status_code == 200 and resp.text.startswith("<xml>"):
            body = xmltodict.parse(resp.text)["xml"]
            if wc.sign(self.app_token, body["TimeStamp"], body["Nonce"], body["Encrypt"]) != body["MsgSignature"]:
                raise AssertionError("the app's reply has a bad signature")
            reply = xmltodict.parse(wc.decrypt(self.app_aes_key, body["Encrypt"], self.corp_id))["xml"]
        return CallbackResult(resp.status_code, reply, resp.text)

    def card_click(self, userid: str, task_id: str, key: str, *, create_time: int | None = None,
                   response_code: str | None = None) -> CallbackResult:
        """The user presses button `key` on template card `task_id` (event template_card_event).
        A WeCom retry of the same event carries the same `response_code`."""
        code = response_code or secrets.token_hex(10)
        with self._lock:
            self.response_codes.add(code)
            self.click_codes[code] = task_id
        inner = xmltodict.unparse({"xml": {
            "ToUserName": self.corp_id, "FromUserName": userid, "CreateTime": str(create_time or self.clock()),
            "MsgType": "event", "Event": "template_card_event", "EventKey": key, "TaskId": task_id,
            "CardType": "button_interaction", "ResponseCode": code, "AgentID": str(self.agent_id)}},
            full_document=False)
        return self.app_xml(inner)

    def contact_event(self, change_type: str, userid: str = "", **fields: str) -> CallbackResult:
        """WeCom tells the self-built app that its directory changed (event change_contact:
        create_user, update_user, delete_user, update_tag with TagId/AddUserItems/DelUserItems)."""
        body = {"ToUserName": self.corp_id, "FromUserName": "sys", "CreateTime": str(self.clock()),
                "MsgType": "event", "Event": "change_contact", "ChangeType": change_type}
        if userid:
            body["UserID"] = userid
        body.update(fields)
        return self.app_xml(xmltodict.unparse({"xml": body}, full_document=False))

    def verify_url(self, path: str, *, echo: str | None = None) -> requests.Response:
        """The console's URL check: GET with an encrypted echostr; the app must answer it in clear."""
        aibot = path.endswith("aibot")
        echo = echo or str(secrets.randbelow(10**18))
        encrypt = wc.encrypt(self.aibot_aes_key if aibot else self.app_aes_key, echo, "" if aibot else self.corp_id)
        params = self._query(self.aibot_token if aibot else self.app_token, encrypt, None, None)
        params["echostr"] = encrypt
        return self.http.get(f"{self.app_url}{path}", params=params, timeout=10)

    # -- what people see (the sandbox page) -------------------------------------------------------
    def shown(self, sent: Sent) -> list:
        if sent.api == "webhook" and sent.target in self.robots and sent.payload.get("msgtype") == "image":
            return [Seen(self.robots[sent.target], "webhook", image="data:image/png;base64,"
                         + sent.payload["image"]["base64"])]
        if sent.api == "webhook" and sent.target in self.robots:
            return [Seen(self.robots[sent.target], "webhook", sent.text)]
        if sent.api == "message":
            tc = sent.payload.get("template_card")
            return [Seen(f"@{user}", "app_card", card=template_card_view(tc)) if tc else Seen(f"@{user}", "app", sent.text)
                    for user in sent.target.split("|")]
        if sent.api == "update_card" and sent.target in self.click_codes:
            users = list(sent.payload.get("userids") or []) or None
            return [CardChange(self.click_codes[sent.target], users,
                               {"buttons": [], "outcome": sent.payload.get("button", {}).get("replace_name", "")})]
        if sent.api == "response_url" and sent.target in self._reply_convs:
            return [Seen(self._reply_convs[sent.target], "response_url", sent.text)]
        return []

    def say(self, user_id: str, text: str, chat_id: str | None) -> Answer:
        """A person types in a group (an @-mention of the AI bot) or in the app's chat with them."""
        if chat_id is not None:
            result = self.aibot_text(user_id, text, chatid=chat_id)
            reply = (result.reply or {}).get("stream", {}).get("content") if result.status == 200 else None
            return Answer(result.status, [Seen(chat_id, "aibot_reply", reply)] if reply else [])
        result = self.app_text(user_id, text)
        reply = (result.reply or {}).get("Content") if result.status == 200 else None
        return Answer(result.status, [Seen(f"@{user_id}", "app_reply", reply)] if reply else [])

    def press(self, user_id: str, card_id: str, action: str, chat_id: str | None) -> Answer:
        """A person presses a button on a template card in their app chat."""
        return Answer(self.card_click(user_id, card_id, action).status)

    @staticmethod
    def describe() -> dict:
        """How the sandbox page presents WeCom."""
        return {"title": "企业微信", "color": "#0082ef",
                "how": {"group": "企业微信群 · 发「@产线接力 命令」（智能机器人）",
                        "private": "企业微信 · 产线接力应用（带按钮的卡片发到这里）"},
                "via": {"aibot_reply": "智能机器人回复", "app_reply": "应用回复", "response_url": "智能机器人回复",
                        "webhook": "群机器人推送", "app": "应用消息", "app_card": "应用消息 · 模板卡片"},
                "toast": "企业微信提示"}


def mount_directory(app: Flask, twin: WeComTwin, token_ok: Callable[[], bool], fault: Callable[[], Any]) -> None:
    """WeCom's directory reads (path/90208 department/list, path/90201 user/list, path/90196
    user/get, path/90213 tag/get, path/90216 tag/list), served from `twin.directory`."""
    d = twin.directory

    def member(m) -> dict:
        return {"userid": m.userid, "name": m.name, "department": m.departments, "mobile": m.mobile,
                "email": m.email, "status": m.status}

    @app.get("/cgi-bin/department/list")
    def department_list():
        if not token_ok():
            return jsonify(errcode=40014, errmsg="invalid access_token")
        return jsonify(errcode=0, errmsg="ok", department=[
            {"id": i, "name": name, "parentid": parent, "order": i} for i, (name, parent) in sorted(d.departments.items())])

    @app.get("/cgi-bin/user/list")
    def user_list():
        if not token_ok():
            return jsonify(errcode=40014, errmsg="invalid access_token")
        dept = int(request.args.get("department_id", "0"))
        if dept not in d.departments:
            return jsonify(errcode=60123, errmsg="invalid party id")
        return jsonify(errcode=0, errmsg="ok", userlist=[member(m) for m in d.in_department(dept)])

    @app.get("/cgi-bin/user/get")
    def user_get():
        failed = fault()   # a contact event's read may fail like any call
        if failed:
            return failed
        if not token_ok():
            return jsonify(errcode=40014, errmsg="invalid access_token")
        m = d.members.get(request.args.get("userid", ""))
        if m is None:
            return jsonify(errcode=60111, errmsg="userid not found")
        return jsonify(errcode=0, errmsg="ok", **member(m))

    @app.get("/cgi-bin/tag/list")
    def tag_list():
        if not token_ok():
            return jsonify(errcode=40014, errmsg="invalid access_token")
        return jsonify(errcode=0, errmsg="ok", taglist=[{"tagid": d.tag_id(n), "tagname": n} for n in sorted(d.tags)])

    @app.get("/cgi-bin/tag/get")
    def tag_get():
        if not token_ok():
            return jsonify(errcode=40014, errmsg="invalid access_token")
        name = d.tag_name(int(request.args.get("tagid", "0")))
        if name is None:
            return jsonify(errcode=40068, errmsg="invalid tagid")
        users = [{"userid": u, "name": d.members[u].name} for u in sorted(d.tags[name]) if u in d.members]
        return jsonify(errcode=0, errmsg="ok", tagname=name, userlist=users,
                       partylist=sorted(d.tag_parties.get(name, set())))


def template_card_view(tc: dict) -> dict:
    styles = {1: "primary", 2: "danger"}
    return {"id": tc["task_id"], "title": tc["main_title"]["title"], "body": tc.get("sub_title_text", ""),
            "buttons": [{"key": b["key"], "label": b["text"], "style": styles.get(b.get("style"), "normal")}
                        for b in tc.get("button_list", [])], "outcome": ""}


def sandbox_twin(settings, clock) -> tuple[WeComTwin, dict[str, str]]:
    """A started twin for the sandbox, and the settings that point the app at it."""
    w = settings.platform("wecom")
    twin = WeComTwin(corp_id=w.corp_id, secret=w.secret, agent_id=w.agent_id, app_token=w.token,
                     app_aes_key=w.encoding_aes_key, aibot_token=w.aibot.token,
                     aibot_aes_key=w.aibot.encoding_aes_key, clock=clock.epoch,
                     robots={g.webhook_key: g.chat_id for g in settings.groups
                             if g.platform == "wecom" and g.webhook_key}).start()
    return twin, {"wecom.api_base_url": twin.base_url}


def valid_image(image: dict) -> bool:
    """A group robot `image`: base64 of a JPG or PNG of at most 2 MB, and its MD5 (path/91770)."""
    try:
        data = base64.b64decode(image.get("base64", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return (0 < len(data) <= 2 * 1024 * 1024 and data[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1")
            and hashlib.md5(data).hexdigest() == image.get("md5"))
