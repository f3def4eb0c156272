"""Fixtures of the fault tests: a webhook receiver and a private PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.fault.private_postgres import PrivatePostgres, Unavailable, private_postgres
from tests.integration.receivers import HttpReceiver, http_receiver


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server this module's tests may stop and start; skipped where none can
    run."""
    with ExitStack() as stack:
        try:
            server = stack.enter_context(private_postgres())
        except Unavailable as reason:
            pytest.skip(str(reason))
        yield server
