"""Local stand-ins for the far side of the outbox: an SMTP server and a group-bot HTTP receiver.

Both listen on 127.0.0.1 only, on a free port, so the tests never touch the network.
"""

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from kuaixiang.complaints.services import complaint_transition
from tests.personas import register


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def accepted_complaint(org, **fields):
    """A complaint registered and accepted by the agent, ready to be dispatched."""
    complaint = register(org.agent, **fields)
    return complaint_transition(complaint_id=complaint.pk, action="accept", actor=org.agent)


def dispatch(complaint, *, actor, department):
    return complaint_transition(
        complaint_id=complaint.pk, action="dispatch", actor=actor, data={"department_id": department.pk}
    )


# ---------------------------------------------------------------- HTTP receiver


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message  # case-insensitive: urllib sends "X-kuaixiang-message-id"
    body: dict

    @property
    def message_id(self) -> str:
        return self.headers["X-Kuaixiang-Message-Id"]


def answer_ok(request: Received) -> tuple[int, dict]:
    return 200, {"errcode": 0, "errmsg": "ok"}


@dataclass
class Receiver:
    """A group-bot stand-in; ``respond`` decides each answer as (HTTP status, JSON body)."""

    respond: Callable[[Received], tuple[int, dict]] = answer_ok
    requests: list[Received] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def record(self, request: Received) -> tuple[int, dict]:
        with self._arrived:
            self.requests.append(request)
            answer = self.respond(request)
            self._arrived.notify_all()
        return answer

    def wait_for(self, count: int, timeout: float) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout)

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server calls do_<METHOD>
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                request = Received(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers=self.headers,
                    body=json.loads(raw or b"{}"),
                )
                status, answer = receiver.record(request)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args):  # keep the test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="bot-receiver", daemon=True)
        serve.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# ---------------------------------------------------------------- SMTP server


class SmtpServer:
    """aiosmtpd on 127.0.0.1 that keeps every message it accepts; it can be stopped and restarted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self._controller = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls handle_<COMMAND>
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        deadline = time.monotonic() + 5
        while True:
            controller = Controller(self, hostname="127.0.0.1", port=self.port)
            try:
                controller.start()
            except OSError:
                # The port of a server stopped a moment ago can linger briefly.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
                continue
            self._controller = controller
            return

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def by_message_id(self) -> dict[str, EmailMessage]:
        return {m["X-Kuaixiang-Message-Id"]: m for m in self.messages}
