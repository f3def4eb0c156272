"""GET /metrics for Prometheus, and the request latency it reports.

/metrics is answered in front of Flask (a WSGI wrapper), not by a view: a scrape is no user
request, and Flask's hooks would treat it as one. In particular the API's bearer-token check
would take the metrics token for an unknown API token and record a suspicious_request event
on every scrape. The wrapper sits inside ProxyFix, so with HERALD_TRUSTED_PROXIES the address
it checks is the client's, not the proxy's.

Access: the client's address must be in HERALD_METRICS_ALLOW (default: loopback only) and,
when HERALD_METRICS_TOKEN is set, it must also send `Authorization: Bearer <token>`.
Anything else gets 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Iterable
from typing import Any

from flask import Flask, g, request
from prometheus_client import CONTENT_TYPE_LATEST
from werkzeug import Request, Response

from webapp.core.config import ConfigurationError
from webapp.system.metrics import REQUEST_SECONDS, scrape

PATH = "/metrics"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def init_metrics(app: Flask) -> None:
    """Serve /metrics and time every request. Call before the other hooks are registered, so
    the timing covers them too."""
    app.wsgi_app = MetricsEndpoint(app, app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(_start_timer)
    app.after_request(_observe_latency)


class MetricsEndpoint:
    """WSGI wrapper answering /metrics and passing every other request to the app."""

    def __init__(self, app: Flask, wsgi_app: Any) -> None:
        self.app, self.wsgi_app = app, wsgi_app
        self.allowed = allowed_networks(app.config["METRICS_ALLOW"])
        self.token = app.config["METRICS_TOKEN"]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self.wsgi_app(environ, start_response)
        return self.answer(Request(environ))(environ, start_response)

    def answer(self, req: Request) -> Response:
        if not self.permits(req):
            return Response("Forbidden\n", status=403, mimetype="text/plain")
        with self.app.app_context():
            return Response(scrape(), content_type=CONTENT_TYPE_LATEST)

    def permits(self, req: Request) -> bool:
        try:
            address = ipaddress.ip_address(req.remote_addr or "")
        except ValueError:
            return False
        if not any(address in network for network in self.allowed):
            return False
        if not self.token:
            return True
        scheme, _, presented = req.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), str(self.token).encode())


def allowed_networks(value: str | Iterable[str]) -> list[Network]:
    """HERALD_METRICS_ALLOW as a JSON list or a comma-separated string of addresses/CIDRs."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        return [ipaddress.ip_network(item.strip(), strict=False) for item in items]
    except ValueError as error:
        raise ConfigurationError(f"HERALD_METRICS_ALLOW: {error}") from error


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe_latency(response: Response) -> Response:
    """Labelled by endpoint name, never by URL, so the number of series stays bounded."""
    started = g.pop("metrics_started", None)
    if started is not None:
        REQUEST_SECONDS.labels(endpoint=request.endpoint or "unmatched").observe(
            time.perf_counter() - started)
    return response
