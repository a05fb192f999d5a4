"""The floor: only what WeCom forces on an AI-bot callback, as a bare WSGI app (`bench.floor:app`).

Verify the signature, AES-decrypt with wechatpy, parse the JSON message, and answer with an
encrypted, signed passive reply whose markdown is $LINERELAY_FLOOR_REPLY (the benchmark passes a
real LineRelay reply, so both encrypt the same number of bytes). No framework, no database.
`bench/callback_latency.py` runs it beside LineRelay under the same gunicorn settings.

`stack_app()` is the least a 报工 can cost on LineRelay's own stack (`--bound`): the floor's
work, routed by Flask, and the rows a report must leave in one transaction on LineRelay's engine
(its SQLite pragmas and `BEGIN IMMEDIATE`, or PostgreSQL with the step's row locked), written
by SQLAlchemy Core statements built once: the message claimed with its answer, the step locked
by order number, the report, the step's count, the event, the reply in the outbox. No ORM, no
plan, no question, no doubt, no team, no card; the sender known in advance. Whatever a 报工
really does costs more than this.
"""
from __future__ import annotations

import json
import os
import secrets
import time
from urllib.parse import parse_qs

from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto

from bot.wecom.crypto import signature

TOKEN = os.environ["LINERELAY_FLOOR_TOKEN"]
CRYPTO = WeChatCrypto(TOKEN, os.environ["LINERELAY_FLOOR_AES_KEY"], "")
REPLY = os.environ.get("LINERELAY_FLOOR_REPLY", "已记录")


def _answer(start_response, status: str, body: bytes, kind: str = "application/json"):
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]


def _opened(query: dict, body: bytes) -> dict:
    """The verified, decrypted message (raises on anything that is not WeCom's)."""
    encrypt = json.loads(body)["encrypt"]
    return json.loads(CRYPTO.decrypt_message({"Encrypt": encrypt}, query["msg_signature"], query["timestamp"],
                                             query["nonce"]))


def _sealed(msg: dict) -> bytes:
    """The encrypted, signed passive reply to `msg`."""
    reply = {"msgtype": "stream", "stream": {"id": f"r{msg['msgid']}"[:64], "finish": True, "content": REPLY}}
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    encrypted = PrpCrypto(CRYPTO.key).encrypt(json.dumps(reply, ensure_ascii=False), "")
    encrypted = encrypted.decode() if isinstance(encrypted, bytes) else encrypted
    body = {"encrypt": encrypted, "msgsignature": signature(TOKEN, timestamp, nonce, encrypted),
            "timestamp": int(timestamp), "nonce": nonce}
    return json.dumps(body).encode()


def app(environ, start_response):
    if environ["PATH_INFO"] == "/healthz":
        return _answer(start_response, "200 OK", b"ok", "text/plain")
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        msg = _opened(query, environ["wsgi.input"].read(length))
    except Exception:   # any failure is the sender's: WeCom's own apps answer 403 and move on
        return _answer(start_response, "403 Forbidden", b'{"error": "not from WeCom"}')
    return _answer(start_response, "200 OK", _sealed(msg))


def stack_app():
    """The least a 报工 costs on LineRelay's stack (see the module's docstring), for gunicorn
    (`bench.floor:stack_app()`); its database is $LINERELAY_FLOOR_DATABASE_URL, seeded as
    LineRelay's, and the sender is $LINERELAY_FLOOR_SENDER (a WeCom user id)."""
    from datetime import datetime

    from flask import Flask, Response, request
    from sqlalchemy import bindparam, insert, select, update

    from storage.db import make_engine
    from storage.models import Event, InboundMessage, Order, OutboxMessage, Person, PersonIdentity, Report, Step

    engine = make_engine(os.environ["LINERELAY_FLOOR_DATABASE_URL"])
    inbound, steps, orders = InboundMessage.__table__, Step.__table__, Order.__table__
    claim = insert(inbound).values(platform="wecom", msg_id=bindparam("msg"), received_at=bindparam("now"),
                                   reply=bindparam("reply"))
    lock = (select(steps.c.id, steps.c.order_id).join(orders, orders.c.id == steps.c.order_id)
            .where(orders.c.order_no == bindparam("no"), steps.c.seq == 1).with_for_update(of=steps))
    report = insert(Report.__table__).values(step_id=bindparam("step"), person_id=bindparam("person"),
                                             good=bindparam("good"), scrap=0, note="", source=bindparam("source"),
                                             created_at=bindparam("now")).returning(Report.__table__.c.id)
    count = (update(steps).where(steps.c.id == bindparam("step"))
             .values(good_qty=steps.c.good_qty + bindparam("good"), last_report_at=bindparam("now")))
    event = insert(Event.__table__).values(order_id=bindparam("order"), kind="report", actor_id=bindparam("person"),
                                           actor="", source=bindparam("source"), data=bindparam("data"),
                                           created_at=bindparam("now"))
    outbox = insert(OutboxMessage.__table__).values(
        idempotency_key=bindparam("key"), platform="wecom", channel="passive", target=bindparam("sender"),
        payload=bindparam("payload"), status="sent", attempts=0, next_attempt_at=bindparam("now"), last_error="",
        created_at=bindparam("now"), sent_at=bindparam("now"))
    sender = os.environ.get("LINERELAY_FLOOR_SENDER", "zhangwei")
    with engine.connect() as conn:   # the sender, known in advance (LineRelay caches people per process)
        person = conn.execute(select(Person.__table__.c.id).join(PersonIdentity.__table__)
                              .where(PersonIdentity.__table__.c.platform == "wecom",
                                     PersonIdentity.__table__.c.user_id == sender)).scalar_one()
    flask = Flask("linerelay-bound")

    @flask.get("/healthz")
    def healthz():
        return "ok"

    @flask.post("/wecom/aibot")
    def callback():
        try:
            msg = _opened(request.args, request.get_data(cache=False))
            _, _, order_no, good = msg["text"]["content"].split()   # `@产线接力 报工 BENCH-0001 2`
        except Exception:
            return Response('{"error": "not from WeCom"}', 403, content_type="application/json")
        now, source = datetime.now(), f"wecom:msg:{msg['msgid']}"
        with engine.begin() as conn:
            conn.execute(claim, {"msg": msg["msgid"], "now": now, "reply": {"markdown": REPLY}})
            step_id, order_id = conn.execute(lock, {"no": order_no}).one()
            report_id = conn.execute(report, {"step": step_id, "person": person, "good": int(good), "source": source,
                                              "now": now}).scalar_one()
            conn.execute(count, {"step": step_id, "good": int(good), "now": now})
            conn.execute(event, {"order": order_id, "person": person, "source": source, "now": now,
                                 "data": {"report_id": report_id, "good": int(good), "scrap": 0}})
            conn.execute(outbox, {"key": f"wecom:reply:{msg['msgid']}", "sender": sender, "now": now,
                                  "payload": {"markdown": REPLY}})
        return Response(_sealed(msg), 200, content_type="application/json")

    return flask
