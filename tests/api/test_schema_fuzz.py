"""schemathesis against /api/v3/schema/: generated requests for every operation never get a
5xx, and every response conforms to the schema (status, content type, body).

The operations are walked inside one test (schemathesis' pytest fixture loader does not run
on this pytest), each with a small, derandomized budget so `make test` stays quick."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import bearer

CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance,
          content_type_conformance, response_schema_conformance]
BUDGET = settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))


def test_api_conforms_to_its_schema(app, admin_key):
    schema = schemathesis.openapi.from_wsgi("/api/v3/schema/", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        @BUDGET
        @given(case=operation.as_strategy())
        def exercise(case):
            case.call_and_validate(headers=bearer(admin_key), checks=CHECKS)

        exercise()
