"""A WebSocket server on a free loopback port, on an event loop of its own thread: what the
twins' gateways (DingTalk Stream, WeCom's AI-bot long connection) stand on."""
from __future__ import annotations

import asyncio
import threading
from typing import Any


class WebSocketServerThread:
    """Subclasses define `async _handle(self, ws)`; `start()` returns once the port is known."""

    def __init__(self, host: str = "127.0.0.1", name: str = "ws-twin"):
        self.host = host
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self._server: Any = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self):
        self._thread.start()
        self._ready.wait(10)
        return self

    async def _handle(self, ws) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        from websockets.asyncio.server import serve
        asyncio.set_event_loop(self.loop)

        async def main():
            async with serve(self._handle, self.host, 0) as server:
                self.port = server.sockets[0].getsockname()[1]
                self._server = server
                self._ready.set()
                await server.serve_forever()
        try:
            self.loop.run_until_complete(main())
        except (asyncio.CancelledError, RuntimeError):
            pass

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(lambda: self._server.close())
        self._thread.join(timeout=5)
