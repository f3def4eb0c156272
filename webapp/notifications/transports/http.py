"""POSTing JSON to a receiver: the part the generic and the Slack webhook share.

Every request carries X-Herald-Delivery (the idempotency key, the same on every attempt) and,
with a signing secret, X-Herald-Signature over the exact bytes sent. Error messages name the
receiver by scheme, host and port only: webhook URLs often hold a token in their path (Slack's
do), and the message is stored and shown on the delivery.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from webapp.notifications.signing import SIGNATURE_HEADER, signature
from webapp.notifications.transports.base import OutgoingMessage, SendResult, TransportError
from webapp.notifications.transports.content import HERALD_VERSION

TIMEOUT = (5.0, 15.0)  # seconds: connect, read
EXCERPT_CHARS = 1000
RETRY_AFTER_STATUSES = frozenset({429, 503})
DELIVERY_HEADER = "X-Herald-Delivery"
USER_AGENT = f"Herald/{HERALD_VERSION}"
#: urllib3's wrapping: "<... object at 0x...>: " and "HTTPConnection(host=..., port=...): ".
_NOISE = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>:?\s*|\w+\(host='[^']*', port=\d+\):\s*")
#: A malformed URL or header fails the same way on every attempt. The messages name neither,
#: since either may hold a secret.
_PERMANENT: dict[type[requests.RequestException], str] = {
    requests.exceptions.MissingSchema: "the webhook URL must start with http:// or https://",
    requests.exceptions.InvalidSchema: "the webhook URL must start with http:// or https://",
    requests.exceptions.InvalidURL: "the webhook URL is not a valid URL",
    requests.exceptions.InvalidHeader: "a header value is not valid (line break or bad type)",
}


def post_json(message: OutgoingMessage, payload: Any,
              extra_headers: Mapping[str, str] | None = None) -> SendResult:
    """POST `payload` as JSON to the transport's URL; raise TransportError unless it is < 400."""
    url = message.transport.webhook_url.strip()
    if not url:
        raise TransportError(f"transport {message.transport.name!r} has no webhook URL",
                             permanent=True)
    body = json.dumps(payload).encode()
    headers = _headers(message, body, extra_headers or {})
    started = time.monotonic()
    with _verify(message) as verify:
        try:
            response = requests.post(url, data=body, headers=headers, verify=verify,
                                     timeout=TIMEOUT, stream=True)
        except requests.RequestException as exc:
            raise _request_error(exc, url, started) from exc
        with response:
            excerpt = _excerpt(response)
    latency = _elapsed_ms(started)
    if response.status_code >= 400:
        raise TransportError(
            f"{_origin(url)} answered HTTP {response.status_code}",
            status_code=response.status_code, latency_ms=latency, response_excerpt=excerpt,
            retry_after=_retry_after(response))
    return SendResult(status_code=response.status_code, latency_ms=latency,
                      response_excerpt=excerpt)


def _headers(message: OutgoingMessage, body: bytes,
             extra: Mapping[str, str]) -> CaseInsensitiveDict[str]:
    """A mapping's headers first, then Herald's, so a mapping cannot forge or drop them."""
    headers = CaseInsensitiveDict(extra)
    headers.update({"Content-Type": "application/json", "User-Agent": USER_AGENT,
                    DELIVERY_HEADER: str(message.delivery_key)})
    if message.transport.signing_secret:
        headers[SIGNATURE_HEADER] = signature(message.transport.signing_secret, body)
    return headers


@contextmanager
def _verify(message: OutgoingMessage) -> Iterator[bool | str]:
    """requests' `verify`: off, the system store, or the transport's CA bundle (requests wants
    a file, so the PEM text lives in a temporary file for the duration of the request)."""
    transport = message.transport
    if not transport.verify_tls:
        # The operator turned verification off for this receiver; urllib3 would warn on every
        # attempt (and pytest's filterwarnings=error would turn that warning into a failure).
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        yield False
    elif transport.ca_bundle.strip():
        with tempfile.NamedTemporaryFile("w", suffix=".pem", encoding="utf-8") as bundle:
            bundle.write(transport.ca_bundle)
            bundle.flush()
            yield bundle.name
    else:
        yield True


def _excerpt(response: requests.Response) -> str:
    """The start of the answer; reading stops there, whatever the receiver sends. The status
    line has arrived by now, so a body that breaks off mid-way only shortens the excerpt."""
    try:
        raw = response.raw.read(EXCERPT_CHARS * 4, decode_content=True) or b""
    except (urllib3.exceptions.HTTPError, OSError):
        return ""
    return raw.decode(response.encoding or "utf-8", errors="replace")[:EXCERPT_CHARS]


def _retry_after(response: requests.Response) -> float | None:
    if response.status_code not in RETRY_AFTER_STATUSES:
        return None
    return parse_retry_after(response.headers.get("Retry-After"))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _request_error(exc: requests.RequestException, url: str, started: float) -> TransportError:
    latency = _elapsed_ms(started)
    for kind, text in _PERMANENT.items():
        if isinstance(exc, kind):
            return TransportError(text, latency_ms=latency, permanent=True)
    if isinstance(exc, requests.exceptions.SSLError):
        what = f"TLS verification of {_origin(url)} failed"
    elif isinstance(exc, requests.exceptions.Timeout):
        what = f"{_origin(url)} did not answer within {TIMEOUT[0]:g}s/{TIMEOUT[1]:g}s"
    else:
        what = f"could not send to {_origin(url)}"
    return TransportError(f"{what}: {_reason(exc)}", latency_ms=latency)


def _reason(exc: BaseException) -> str:
    """The innermost cause (requests wraps urllib3's MaxRetryError, which repeats the URL's
    path, around the error that says what went wrong)."""
    while True:
        inner = exc.args[0] if exc.args else None
        if not isinstance(inner, BaseException):
            inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            return _NOISE.sub("", str(exc)) or type(exc).__name__
        exc = inner


def _origin(url: str) -> str:
    """scheme://host:port of `url`, without credentials or path."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the receiver"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else "the receiver"


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
