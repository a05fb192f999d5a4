"""WeCom's send APIs: access token (cached, refreshed when WeCom says it is invalid), app
messages, template-card updates and group robot webhooks. Every URL starts at `api_base_url`.

Written on `requests` rather than wechatpy's client because wechatpy hard-codes the token URL
and knows neither template cards nor robot webhooks.
"""
from __future__ import annotations

import threading
import time

import requests

from bot.outbox import Limiter, RateLimiter, SendError

TOKEN_INVALID = {40001, 40014, 42001}
RETRYABLE = {-1, 45009, 45033}
TIMEOUT = 5
WEBHOOK_PER_MINUTE = 20     # per group robot
MEMBER_PER_MINUTE = 30      # app messages to one member; WeCom drops the excess silently
TASK_ID_EXISTS = 40095      # twin and WeCom: a template card with this task_id was already sent


class WeComApi:
    def __init__(self, base_url: str, corp_id: str, secret: str, agent_id: int,
                 http: requests.Session | None = None, timeout: float = TIMEOUT):
        self.timeout = timeout
        self.base_url, self.corp_id, self.secret, self.agent_id = base_url.rstrip("/"), corp_id, secret, agent_id
        self.http = http or requests.Session()
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.webhook_limiter: Limiter = RateLimiter(WEBHOOK_PER_MINUTE)
        self.member_limiter: Limiter = RateLimiter(MEMBER_PER_MINUTE)

    def _limited(self, limiter: Limiter, key: str) -> None:
        wait = limiter.acquire(key)
        if wait:
            raise SendError(f"rate limit for {key}", retry_after=wait)

    def access_token(self, force: bool = False) -> str:
        with self._lock:
            if force or not self._token or time.monotonic() >= self._expires:
                data = self._request("GET", "/cgi-bin/gettoken", params={"corpid": self.corp_id,
                                                                         "corpsecret": self.secret})
                self._token = data["access_token"]
                # Refresh five minutes early: WeCom may also invalidate it sooner (then 40014).
                self._expires = time.monotonic() + int(data.get("expires_in", 7200)) - 300
            return self._token

    def _request(self, method: str, path: str, **kwargs) -> dict:
        try:
            resp = self.http.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise SendError(f"{path}: {type(exc).__name__}") from exc
        if resp.status_code >= 500:
            raise SendError(f"{path}: HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError as exc:
            raise SendError(f"{path}: HTTP {resp.status_code}, not JSON", retryable=resp.status_code >= 500) from exc
        code = data.get("errcode", 0)
        if code and code not in TOKEN_INVALID:
            raise SendError(f"{path}: errcode {code} {data.get('errmsg', '')}", retryable=code in RETRYABLE)
        return data

    def call(self, path: str, payload: dict) -> dict:
        """POST with the access token, refreshing it once if WeCom says it is invalid."""
        for attempt in (0, 1):
            token = self.access_token(force=attempt == 1)
            data = self._request("POST", path, params={"access_token": token}, json=payload)
            if data.get("errcode", 0) not in TOKEN_INVALID:
                return data
        raise SendError(f"{path}: access token refused twice")

    def send_app_message(self, payload: dict) -> dict:
        """Paced at 30/min per member (WeCom drops the excess without an error). A template card
        whose task_id WeCom already has was delivered before a crash: that counts as sent."""
        for member in str(payload.get("touser", "")).split("|"):
            self._limited(self.member_limiter, f"member:{member}")
        try:
            return self.call("/cgi-bin/message/send", {"agentid": self.agent_id, **payload})
        except SendError as exc:
            if f"errcode {TASK_ID_EXISTS}" in str(exc) and payload.get("msgtype") == "template_card":
                return {"errcode": 0, "duplicate": True}
            raise

    def update_template_card(self, payload: dict) -> dict:
        return self.call("/cgi-bin/message/update_template_card", {"agentid": self.agent_id, **payload})

    def webhook_send(self, key: str, payload: dict) -> dict:
        self._limited(self.webhook_limiter, f"webhook:{key}")
        return self._request("POST", "/cgi-bin/webhook/send", params={"key": key}, json=payload)

    def response_url_send(self, url: str, payload: dict) -> dict:
        """Answer through an AI bot message's `response_url` (an absolute URL, once, within 1 h)."""
        try:
            resp = self.http.post(url, json=payload, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SendError(f"response_url: {type(exc).__name__}") from exc
        if resp.status_code >= 500:
            raise SendError(f"response_url: HTTP {resp.status_code}")
        return resp.json() if resp.content else {}
