"""What a user-written expression or template sees of an event.

Variables (all plain data, or functions that are safe to call):

- `event`: the event as the API serializes it: `pk`, `action`, `app`, `user` (`{pk, username,
  email, ...}`), `context` (a dict), `client_ip` (text or None), `created` and `expires`
  (ISO 8601 UTC text with `Z`), `brand`. A deep copy, so nothing the sandbox touches is live.
- `ip_address`, `ip_network`: Python's `ipaddress` constructors, e.g.
  `ip_address(event.client_ip) in ip_network("10.0.0.0/8")`.
- `ak_client_ip`: `ip_address(event.client_ip)`, or None without a (valid) client IP, as
  authentik's expression policies offer it.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from webapp.events.serialize import event_to_dict
from webapp.models import Event


def event_variables(event: Event) -> dict[str, Any]:
    return {
        "event": copy.deepcopy(event_to_dict(event)),
        "ip_address": ipaddress.ip_address,
        "ip_network": ipaddress.ip_network,
        "ak_client_ip": client_address(event.client_ip),
    }


def client_address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The event's client IP as an address object; None when absent or not an address."""
    try:
        return ipaddress.ip_address(text) if text else None
    except ValueError:
        return None
