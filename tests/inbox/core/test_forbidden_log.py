"""A 403 is an answer, not a crash: the console shows one line for it, no traceback."""

import logging

import pytest
from django.urls import reverse

from tests.personas import person

pytestmark = pytest.mark.django_db


def test_a_forbidden_page_is_logged_as_one_line_without_a_traceback(client, caplog):
    client.force_login(person("anna", "agent"))

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("pages:dashboard"))

    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage().startswith("Forbidden")
    assert record.exc_info is None
    assert "Traceback" not in caplog.text


def test_a_server_error_keeps_its_traceback():
    from webcare.log_filters import ForbiddenWithoutTraceback

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord("django.request", logging.ERROR, "", 0, "x", (), sys.exc_info())
    record.status_code = 500

    assert ForbiddenWithoutTraceback().filter(record)
    assert record.exc_info is not None
