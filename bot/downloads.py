"""Fetching a file a person sent the bot from the platform's short-lived URL, never reading
more than the photo size cap (WeCom's AI-bot media, DingTalk's robot message files)."""
from __future__ import annotations

import requests

from storage.photos import PhotoRefused

TIMEOUT = 10


def read_capped(url: str, max_bytes: int) -> bytes:
    """The body at `url`; PhotoRefused("too_large") as soon as it passes `max_bytes`."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("not a download URL")
    with requests.get(url, timeout=TIMEOUT, stream=True) as resp:
        resp.raise_for_status()
        chunks, size = [], 0
        for chunk in resp.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise PhotoRefused("too_large")
            chunks.append(chunk)
    return b"".join(chunks)
