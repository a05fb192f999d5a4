"""The floor: only what WeCom forces on an AI-bot callback, as a bare WSGI app (`bench.floor:app`).

Verify the signature, AES-decrypt with wechatpy, parse the JSON message, and answer with an
encrypted, signed passive reply whose markdown is $LINERELAY_FLOOR_REPLY (the benchmark passes a
real LineRelay reply, so both encrypt the same number of bytes). No framework, no database.
`bench/callback_latency.py` runs it beside LineRelay under the same gunicorn settings.
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


def app(environ, start_response):
    if environ["PATH_INFO"] == "/healthz":
        return _answer(start_response, "200 OK", b"ok", "text/plain")
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        encrypt = json.loads(environ["wsgi.input"].read(length))["encrypt"]
        plain = CRYPTO.decrypt_message({"Encrypt": encrypt}, query["msg_signature"], query["timestamp"],
                                       query["nonce"])
        msg = json.loads(plain)
    except Exception:   # any failure is the sender's: WeCom's own apps answer 403 and move on
        return _answer(start_response, "403 Forbidden", b'{"error": "not from WeCom"}')
    reply = {"msgtype": "stream", "stream": {"id": f"r{msg['msgid']}"[:64], "finish": True, "content": REPLY}}
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    encrypted = PrpCrypto(CRYPTO.key).encrypt(json.dumps(reply, ensure_ascii=False), "")
    encrypted = encrypted.decode() if isinstance(encrypted, bytes) else encrypted
    body = {"encrypt": encrypted, "msgsignature": signature(TOKEN, timestamp, nonce, encrypted),
            "timestamp": int(timestamp), "nonce": nonce}
    return _answer(start_response, "200 OK", json.dumps(body).encode())
