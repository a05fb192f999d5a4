"""A Flask app served by werkzeug on a free loopback port, in a background thread."""
from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import make_server


class ThreadedServer:
    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, fd: int | None = None):
        """`fd`: a socket already bound and listening (kept by the caller) instead of binding anew."""
        self._server = make_server(host, port, app, threaded=True, fd=fd)
        self.host, self.port = host, self._server.port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"http-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ThreadedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
