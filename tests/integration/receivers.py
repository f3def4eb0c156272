"""Real receivers on 127.0.0.1 for transport and delivery tests: an HTTP(S) webhook receiver
that records every request and answers as told, a throwaway certificate authority for TLS, and
an SMTP server (aiosmtpd).

Each is a context manager, so a test module turns it into a fixture in two lines:

    @pytest.fixture
    def receiver():
        with http_receiver() as running:
            yield running
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from requests.structures import CaseInsensitiveDict

from webapp.notifications.transports import OutgoingMessage


@dataclass
class Reply:
    """How the receiver answers one request."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: CaseInsensitiveDict[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpReceiver:
    """Records requests; answers with queued replies in order, then with `default`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.requests: list[ReceivedRequest] = []
        self.default = Reply()
        self._replies: deque[Reply] = deque()
        self._arrived = threading.Condition()

    def reply_with(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        """The first `count` requests, once they have arrived (AssertionError after timeout)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} of {count} requests arrived")
            return self.requests[:count]

    def _handle(self, request: ReceivedRequest) -> Reply:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()
            return self._replies.popleft() if self._replies else self.default


def _handler_for(receiver: HttpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            reply = receiver._handle(ReceivedRequest(
                self.command, self.path, CaseInsensitiveDict(self.headers.items()), body))
            time.sleep(reply.delay)
            # A client that stopped waiting (a timeout test) needs no answer.
            with suppress(BrokenPipeError, ConnectionResetError):
                self._answer(reply)

        def _answer(self, reply: Reply) -> None:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_POST = do_PUT = do_GET = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads `receiver.requests`, not stderr."""

    return Handler


class _Server(ThreadingHTTPServer):
    """Room in the listen queue for a pool of senders connecting at once (the default, 5,
    resets connections when sixteen arrive together)."""

    request_queue_size = 128
    daemon_threads = True


@contextmanager
def http_receiver(tls: ssl.SSLContext | None = None, port: int = 0) -> Iterator[HttpReceiver]:
    """A threaded HTTP server on 127.0.0.1 (HTTPS with a server context), on a free port or
    on `port`, so a receiver can come back where its senders expect it after an outage."""
    server = _Server(("127.0.0.1", port), BaseHTTPRequestHandler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls else "http"
    receiver = HttpReceiver(f"{scheme}://127.0.0.1:{server.server_address[1]}/hook")
    server.RequestHandlerClass = _handler_for(receiver)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class TlsFiles:
    """A certificate authority and a server certificate it signed, for 127.0.0.1/localhost."""

    ca_pem: Path
    server_pem: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_pem, self.server_key)
        return context


_SERVER_EXTENSIONS = """\
subjectAltName=IP:127.0.0.1,DNS:localhost
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
"""


def make_tls_files(folder: Path) -> TlsFiles:
    """Mint the CA and server certificate with the openssl command (valid for two days)."""
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    ca_key, csr, extensions = folder / "ca.key", folder / "server.csr", folder / "server.ext"
    extensions.write_text(_SERVER_EXTENSIONS)
    ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec_key, "-keyout", ca_key, "-out", files.ca_pem, "-days", "2",
             "-subj", "/CN=Herald Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", *ec_key, "-keyout", files.server_key, "-out", csr, "-subj", "/CN=localhost")
    _openssl("x509", "-req", "-in", csr, "-CA", files.ca_pem, "-CAkey", ca_key,
             "-CAcreateserial", "-out", files.server_pem, "-days", "2", "-extfile", extensions)
    return files


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


class SmtpReceiver:
    """aiosmtpd's handler: keeps every message it accepts; refuses the addresses in `refuse`
    with the reply given there (e.g. "550 5.1.1 no such user")."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refuse: dict[str, str] = {}
        self.port = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued"

    @property
    def messages(self) -> list[EmailMessage]:
        """The messages as a mailbox stores them (lines end in \\n, not SMTP's \\r\\n)."""
        return [message_from_bytes(envelope.original_content.replace(b"\r\n", b"\n"),
                                   policy=policy.default)
                for envelope in self.envelopes]


@contextmanager
def smtp_receiver(**controller_options: Any) -> Iterator[SmtpReceiver]:
    """An SMTP server on a free port of 127.0.0.1; options go to aiosmtpd's Controller
    (authenticator=..., auth_require_tls=False to test logins)."""
    handler = SmtpReceiver()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port,
                            **controller_options)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outgoing(transport: Any, event: Any = None, recipient: Any = None, *,
             severity: str = "alert", body: str | None = None, hyperlink: str | None = None,
             attempt: int = 1,
             delivery_key: str = "0f8e5c1a-3b2d-4e6f-9a7b-1c2d3e4f5a6b") -> OutgoingMessage:
    """The OutgoingMessage the delivery queue would hand a transport for this event."""
    return OutgoingMessage(
        transport=transport, event=event, recipient=recipient, severity=severity,
        body=body if body is not None else (event.summary if event is not None else ""),
        hyperlink=hyperlink, delivery_key=delivery_key, attempt=attempt)
