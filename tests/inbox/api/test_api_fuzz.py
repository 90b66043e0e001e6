"""Contract tests from the schema: schemathesis generates requests for every operation of
/api/v1/openapi.json (valid and invalid input) and sends them to the live WSGI app with an
admin's read-write token; no answer may be a 5xx, and every answer must match its schema.

The run is derandomized, so every run (and CI) sends the same generated requests and a red build
always means a change of ours; ``WEBCARE_FUZZ_RANDOM=1`` explores new ones (which is how a NUL in
a query and a 30-digit ticket number were found: both are now tests of their own)."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from webcare.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def _the_test_keeps_its_connection():
    """The WSGI app is called directly, not through Django's test client, so nothing stops
    ``request_finished`` from closing the database connection after each request, and with it
    the test's transaction (on PostgreSQL every later query then fails, and rows written
    outside the transaction outlive the test). Django's test client disconnects the same
    receivers for the same reason."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_headers(world, settings):
    from inbox.api.services import token_create

    settings.API_THROTTLE = "100000/min"
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    admin = world["users"]["admin"]
    raw = token_create(user=admin, owner=admin, name="fuzz", scope="write")[1]
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=not os.environ.get("WEBCARE_FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_gets_a_server_error(case, admin_headers):
    case.call_and_validate(
        headers=admin_headers,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
