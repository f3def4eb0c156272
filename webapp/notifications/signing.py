"""X-Herald-Signature: lets a receiver prove a webhook came from Herald and is fresh.

The format follows Stripe's: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The time
is inside the signed text, so a captured request cannot be replayed later with a new time;
the HMAC covers the exact bytes sent, so a receiver verifies before parsing JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Herald-Signature"


def signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body` signed with `secret` at `timestamp` (default: now)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"
