"""DingTalk's robot signature: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")).

The same scheme signs robot callbacks (with the app secret) and custom robot webhooks (with the
robot's `SEC…` secret).
"""
from __future__ import annotations

import base64
import hashlib
import hmac


def robot_sign(secret: str, timestamp_ms: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_robot_sign(secret: str, timestamp_ms: str, sign: str) -> bool:
    return hmac.compare_digest(robot_sign(secret, timestamp_ms).encode(), (sign or "").encode())
