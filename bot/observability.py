"""Request ids and structured logs: every log line of a request carries its id, and the id is
returned in `X-Request-Id` (taken from the proxy's header when it sends a sane one)."""
from __future__ import annotations

import json
import logging
import re
import secrets
import time

from flask import Flask, g, has_request_context, request

_SANE_ID = re.compile(r"^[A-Za-z0-9_.\-]{8,64}$")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                 "logger": record.name, "msg": record.getMessage(),
                 "request_id": getattr(record, "request_id", "-")}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(fmt: str) -> None:
    """`text` (default) or `json` lines on stderr, each with the request id."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_linerelay", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._linerelay = True
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root.setLevel(logging.INFO)


def install_request_ids(app: Flask) -> None:
    log = logging.getLogger("linerelay.http")

    @app.before_request
    def _start():
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _SANE_ID.match(given) else secrets.token_hex(8)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        log.info("%s %s %s %.1fms", request.method, request.path, response.status_code,
                 (time.perf_counter() - g.get("started", time.perf_counter())) * 1000)
        return response
