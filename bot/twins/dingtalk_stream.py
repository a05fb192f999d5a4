"""The DingTalk twin's Stream gateway: `connections/open` hands out a ticket, a WebSocket server
takes the client's connection, pushes CALLBACK frames to it and collects the acks."""
from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from concurrent.futures import Future

from bot.twins.wsserver import WebSocketServerThread


class StreamGateway(WebSocketServerThread):
    def __init__(self, host: str = "127.0.0.1"):
        super().__init__(host, name="dingtalk-stream-twin")
        self.tickets: set[str] = set()
        self._connections: list = []
        self._acks: dict[str, Future] = {}
        self._connected = threading.Event()

    def open_connection(self) -> dict:
        ticket = secrets.token_hex(12)
        self.tickets.add(ticket)
        return {"endpoint": f"ws://{self.host}:{self.port}/connect", "ticket": ticket}

    async def _handle(self, ws):
        ticket = ws.request.path.partition("ticket=")[2]
        if ticket not in self.tickets:
            await ws.close(code=4001, reason="bad ticket")
            return
        self.tickets.discard(ticket)
        self._connections.append(ws)
        self._connected.set()
        try:
            async for raw in ws:
                ack = json.loads(raw)
                future = self._acks.pop(ack.get("headers", {}).get("messageId", ""), None)
                if future is not None:
                    future.set_result(ack)
        finally:
            self._connections.remove(ws)
            if not self._connections:
                self._connected.clear()

    def wait_connected(self, timeout: float = 15.0) -> None:
        if not self._connected.wait(timeout):
            raise AssertionError("no stream client connected")

    def push(self, topic: str, data: dict, timeout: float = 15.0) -> dict:
        """Send one CALLBACK frame to the connected client and wait for its ack."""
        self.wait_connected()
        message_id = secrets.token_hex(8)
        future: Future = Future()
        self._acks[message_id] = future
        frame = {"specVersion": "1.0", "type": "CALLBACK",
                 "headers": {"appId": "twin", "connectionId": "c1", "contentType": "application/json",
                             "messageId": message_id, "time": str(int(time.time() * 1000)), "topic": topic},
                 "data": json.dumps(data, ensure_ascii=False)}
        asyncio.run_coroutine_threadsafe(self._connections[0].send(json.dumps(frame, ensure_ascii=False)), self.loop)
        return future.result(timeout)
