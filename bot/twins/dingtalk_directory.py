"""The DingTalk twin's directory: the oapi reads (department listsub, user list and get, role
list and members) served from `twin.directory`, and contact-change events pushed to the app
encrypted as DingTalk's event subscription does (WeCom's scheme; receive id = the app key)."""
from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Flask, jsonify, request

from bot.twins import wecom_crypto as wc


def mount_directory(app: Flask, twin: Any) -> None:
    d = twin.directory

    def token_ok() -> bool:
        return request.args.get("access_token") in twin.tokens

    def refused():
        return jsonify(errcode=40014, errmsg="不合法的access_token")

    def body() -> dict:
        return request.get_json(force=True) or {}

    def user(m) -> dict:
        roles = [{"id": d.tag_id(n), "name": n, "group_name": "默认"} for n in sorted(d.tags) if m.userid in d.tags[n]]
        return {"userid": m.userid, "name": m.name, "mobile": m.mobile, "email": m.email, "job_number": m.job_number,
                "dept_id_list": m.departments, "active": True, "role_list": roles}

    @app.post("/topapi/v2/department/listsub")
    def listsub():
        if not token_ok():
            return refused()
        parent = int(body().get("dept_id", 1))
        return jsonify(errcode=0, errmsg="ok", result=[
            {"dept_id": i, "name": name, "parent_id": p} for i, (name, p) in sorted(d.departments.items()) if p == parent])

    @app.post("/topapi/v2/user/list")
    def user_list():
        if not token_ok():
            return refused()
        b = body()
        cursor, size = int(b.get("cursor", 0)), min(int(b.get("size", 100)), 100)
        members = sorted(d.in_department(int(b.get("dept_id", 1))), key=lambda m: m.userid)
        page = members[cursor:cursor + size]
        more = cursor + size < len(members)
        return jsonify(errcode=0, errmsg="ok", result={"has_more": more, "next_cursor": cursor + size if more else None,
                                                        "list": [user(m) for m in page]})

    @app.post("/topapi/v2/user/get")
    def user_get():
        if not token_ok():
            return refused()
        m = d.members.get(str(body().get("userid", "")))
        if m is None:
            return jsonify(errcode=60121, errmsg="找不到该用户")
        return jsonify(errcode=0, errmsg="ok", result=user(m))

    @app.post("/topapi/role/list")
    def role_list():
        if not token_ok():
            return refused()
        roles = [{"id": d.tag_id(n), "name": n} for n in sorted(d.tags)]
        return jsonify(errcode=0, errmsg="ok", result={"hasMore": False, "list": [
            {"groupId": 1, "name": "默认", "roles": roles}]})

    @app.post("/topapi/role/simplelist")
    def role_members():
        if not token_ok():
            return refused()
        name = d.tag_name(int(body().get("role_id", 0)))
        if name is None:
            return jsonify(errcode=40001, errmsg="角色不存在")
        users = [{"userid": u, "name": d.members[u].name} for u in sorted(d.tags[name]) if u in d.members]
        return jsonify(errcode=0, errmsg="ok", result={"hasMore": False, "list": users})


def push_event(twin: Any, event_type: str, user_ids: list[str] | None = None, *, signature: str | None = None,
               **fields: Any):
    """Post an encrypted event (user_add_org, user_modify_org, user_leave_org, label_user_change,
    check_url …) to the app's event URL; returns (HTTP response, the decrypted answer or None)."""
    plain: dict[str, Any] = {"EventType": event_type, "CorpId": "ding-twin-corp", "TimeStamp": str(twin.clock_ms())}
    if user_ids is not None:
        plain["UserId"] = user_ids
    plain.update(fields)
    encrypt = wc.encrypt(twin.event_aes_key, json.dumps(plain, ensure_ascii=False), twin.app_key)
    ts, nonce = str(twin.clock_ms()), secrets.token_hex(4)
    params = {"signature": signature or wc.sign(twin.event_token, ts, nonce, encrypt), "timestamp": ts, "nonce": nonce}
    resp = twin.http.post(f"{twin.app_url}/dingtalk/events", params=params, json={"encrypt": encrypt}, timeout=30)
    answer = None
    if resp.status_code == 200:
        b = resp.json()
        if wc.sign(twin.event_token, str(b["timeStamp"]), b["nonce"], b["encrypt"]) != b["msg_signature"]:
            raise AssertionError("the app's event answer has a bad signature")
        answer = wc.decrypt(twin.event_aes_key, b["encrypt"], twin.app_key)
    return resp, answer
