"""Webhooks over HTTPS to a receiver whose certificate a private CA signed: trusted through the
transport's CA bundle, refused (with a clear error) without it, accepted with verification off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.receivers import (
    HttpReceiver,
    TlsFiles,
    http_receiver,
    make_tls_files,
    outgoing,
)
from webapp.models import NotificationTransport, TransportMode
from webapp.notifications.transports import TransportError, send


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def receiver(tls_files: TlsFiles) -> Iterator[HttpReceiver]:
    with http_receiver(tls_files.server_context()) as running:
        yield running


def https_webhook(url: str, *, verify_tls: bool = True, ca_bundle: str = ""):
    return NotificationTransport(name="tls-hook", mode=TransportMode.WEBHOOK.value,
                                 webhook_url=url, verify_tls=verify_tls, ca_bundle=ca_bundle)


def test_a_ca_bundle_makes_the_private_certificate_trusted(ctx, receiver, tls_files):
    transport = https_webhook(receiver.url, ca_bundle=Path(tls_files.ca_pem).read_text())

    result = send(outgoing(transport, None, body="over TLS"))

    assert result.status_code == 200
    assert receiver.requests[0].json()["body"] == "over TLS"


def test_without_the_bundle_verification_fails_clearly(ctx, receiver):
    port = receiver.url.split(":")[2].split("/")[0]

    with pytest.raises(TransportError) as caught:
        send(outgoing(https_webhook(receiver.url), None, body="over TLS"))

    error = caught.value
    assert error.message.startswith(f"TLS verification of https://127.0.0.1:{port} failed: ")
    assert "certificate verify failed" in error.message
    assert (error.status_code, error.permanent) == (None, False)
    assert receiver.requests == []


def test_verification_can_be_turned_off(ctx, receiver):
    result = send(outgoing(https_webhook(receiver.url, verify_tls=False), None, body="trust me"))

    assert result.status_code == 200
