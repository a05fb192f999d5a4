"""DingTalk's send APIs: OpenAPI v1.0 (token, group messages, interactive cards), custom robot
webhooks (signed), and a message's sessionWebhook. Every URL starts at a configured base URL.

Written on `requests`: dingtalk-sdk (2020) knows none of the v1.0 APIs, and the official
generated client adds a large dependency for four calls.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.parse

import requests

from bot.dingtalk.sign import robot_sign
from bot.downloads import read_capped
from bot.outbox import Limiter, RateLimiter, SendError

TIMEOUT = 5
THROTTLED = 130101          # custom robot: more than 20 messages a minute
THROTTLE_PAUSE = 600        # DingTalk throttles such a robot for ten minutes
PER_ROBOT_PER_MINUTE = 20


class DingTalkApi:
    def __init__(self, api_base_url: str, oapi_base_url: str, app_key: str, app_secret: str,
                 limiter: Limiter | None = None, wall_clock=time.time):
        self.api, self.oapi = api_base_url.rstrip("/"), oapi_base_url.rstrip("/")
        self.app_key, self.app_secret = app_key, app_secret
        self.limiter: Limiter = limiter or RateLimiter()
        self.wall_clock = wall_clock
        self.http = requests.Session()
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def access_token(self, force: bool = False) -> str:
        with self._lock:
            if force or not self._token or time.monotonic() >= self._expires:
                data = self._send("POST", f"{self.api}/v1.0/oauth2/accessToken",
                                  json={"appKey": self.app_key, "appSecret": self.app_secret})
                self._token = data["accessToken"]
                self._expires = time.monotonic() + int(data.get("expireIn", 7200)) - 300
            return self._token

    def _send(self, method: str, url: str, **kwargs) -> dict:
        try:
            resp = self.http.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise SendError(f"{_path(url)}: {type(exc).__name__}") from exc
        try:
            data = resp.json() if resp.content else {}
        except ValueError:
            data = {}
        if resp.status_code >= 500 or resp.status_code == 429:
            raise SendError(f"{_path(url)}: HTTP {resp.status_code}")
        if resp.status_code == 401:
            raise _TokenRefused()
        if resp.status_code >= 400:
            raise SendError(f"{_path(url)}: HTTP {resp.status_code} {data.get('code', '')} {data.get('message', '')}",
                            retryable=False)
        code = data.get("errcode", 0)
        if code == THROTTLED:
            raise SendError(f"{_path(url)}: throttled (130101)", retry_after=THROTTLE_PAUSE)
        if code:
            raise SendError(f"{_path(url)}: errcode {code} {data.get('errmsg', '')}", retryable=code == -1)
        return data

    def _with_token(self, method: str, path: str, body: dict) -> dict:
        for attempt in (0, 1):
            headers = {"x-acs-dingtalk-access-token": self.access_token(force=attempt == 1)}
            try:
                return self._send(method, f"{self.api}{path}", json=body, headers=headers)
            except _TokenRefused:
                continue
        raise SendError(f"{path}: access token refused twice")

    def _limited(self, robot: str) -> None:
        wait = self.limiter.acquire(robot)
        if wait:
            raise SendError(f"robot {robot}: {PER_ROBOT_PER_MINUTE}/min reached", retry_after=wait)

    def group_send(self, robot_code: str, conversation_id: str, msg_key: str, msg_param: dict) -> dict:
        self._limited(robot_code)
        return self._with_token("POST", "/v1.0/robot/groupMessages/send", {
            "robotCode": robot_code, "openConversationId": conversation_id, "msgKey": msg_key,
            "msgParam": json.dumps(msg_param, ensure_ascii=False)})

    def oto_send(self, robot_code: str, user_ids: list[str], msg_key: str, msg_param: dict) -> dict:
        self._limited(robot_code)
        return self._with_token("POST", "/v1.0/robot/oToMessages/batchSend", {
            "robotCode": robot_code, "userIds": user_ids, "msgKey": msg_key,
            "msgParam": json.dumps(msg_param, ensure_ascii=False)})

    def create_and_deliver_card(self, body: dict) -> dict:
        """outTrackId is the card's idempotency key: DingTalk refusing it as existing means an
        earlier try (before a crash) delivered it."""
        self._limited(body.get("imGroupOpenDeliverModel", {}).get("robotCode", "cards"))
        try:
            return self._with_token("POST", "/v1.0/card/instances/createAndDeliver", body)
        except SendError as exc:
            if "outTrackId.exists" in str(exc):
                return {"success": True, "duplicate": True}
            raise

    def update_card(self, body: dict) -> dict:
        return self._with_token("PUT", "/v1.0/card/instances", body)

    def register_card_callback(self, route_key: str, callback_url: str) -> dict:
        """Tell DingTalk where card clicks go (HTTP mode); run once per deployment URL."""
        return self._with_token("POST", "/v1.0/card/callbacks/register",
                                {"callbackRouteKey": route_key, "callbackUrl": callback_url, "forceUpdate": True})

    def message_file(self, robot_code: str, download_code: str, max_bytes: int) -> bytes:
        """A picture or file a person sent the robot: its download code exchanged for a short-lived
        URL (`/v1.0/robot/messageFiles/download`), then fetched, never more than `max_bytes`."""
        data = self._with_token("POST", "/v1.0/robot/messageFiles/download",
                                {"downloadCode": download_code, "robotCode": robot_code})
        url = data.get("downloadUrl")
        if not isinstance(url, str):
            raise SendError("/v1.0/robot/messageFiles/download: no downloadUrl", retryable=False)
        return read_capped(url, max_bytes)

    def custom_webhook_send(self, access_token: str, secret: str, payload: dict) -> dict:
        self._limited(f"custom:{access_token}")
        params = {"access_token": access_token}
        if secret:
            timestamp = str(int(self.wall_clock() * 1000))
            params.update(timestamp=timestamp, sign=robot_sign(secret, timestamp))
        return self._send("POST", f"{self.oapi}/robot/send?{urllib.parse.urlencode(params)}", json=payload)

    def session_webhook_send(self, url: str, payload: dict) -> dict:
        return self._send("POST", url, json=payload)


class _TokenRefused(Exception):
    pass


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path
