"""The shared HTTP JSON call: every failure becomes the connector error its policy expects."""

import datetime as dt

import pytest
import requests
import responses
from django.utils import timezone

from channels.base import (
    AuthError,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TemporaryError,
)
from channels.http import json_call

URL = "https://api.example.test/v1/things"


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


def test_a_json_answer_is_returned_and_an_empty_one_is_an_empty_dict(rsps):
    rsps.get(URL, json={"ok": True})
    rsps.post(URL, status=201, body="")
    assert json_call("GET", URL, platform="Example") == {"ok": True}
    assert json_call("POST", URL, platform="Example", write=True) == {}


def test_every_call_has_a_timeout(rsps):
    rsps.get(URL, json={})
    json_call("GET", URL, platform="Example")
    assert rsps.calls[0].request.req_kwargs["timeout"] == (5.0, 30.0)


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthError), (403, AuthError), (404, PermanentError), (400, PermanentError)],
)
def test_client_errors_carry_the_platforms_message(rsps, status, error):
    rsps.get(URL, status=status, json={"error": {"code": status, "message": "Nope, not you"}})
    with pytest.raises(error, match="Example: .* Nope, not you") as caught:
        json_call("GET", URL, platform="Example")
    assert caught.value.code == status


def test_a_rate_limit_honours_retry_after_as_seconds_or_a_date(rsps):
    later = timezone.now() + dt.timedelta(minutes=10)
    rsps.get(URL, status=429, headers={"Retry-After": "30"})
    rsps.get(URL, status=429, headers={"Retry-After": later.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    with pytest.raises(RateLimited) as first:
        json_call("GET", URL, platform="Example")
    with pytest.raises(RateLimited) as second:
        json_call("GET", URL, platform="Example")
    assert first.value.until - timezone.now() <= dt.timedelta(seconds=31)
    assert abs(second.value.until - later) < dt.timedelta(seconds=2)


def test_server_errors_and_html_pages_are_temporary(rsps):
    rsps.get(URL, status=502, body="<html>Bad gateway</html>", content_type="text/html")
    rsps.get(URL, status=200, body="<html>Login</html>", content_type="text/html")
    with pytest.raises(TemporaryError, match="502"):
        json_call("GET", URL, platform="Example")
    with pytest.raises(TemporaryError, match="not JSON"):
        json_call("GET", URL, platform="Example")


def test_a_lost_answer_is_temporary_for_a_read_and_unknown_for_a_write(rsps):
    rsps.get(URL, body=requests.exceptions.ReadTimeout("read timed out"))
    rsps.put(URL, body=requests.exceptions.ReadTimeout("read timed out"))
    rsps.post(URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(TemporaryError):
        json_call("GET", URL, platform="Example")
    with pytest.raises(OutcomeUnknown):
        json_call("PUT", URL, platform="Example", write=True)
    with pytest.raises(TemporaryError):  # never connected: nothing was posted
        json_call("POST", URL, platform="Example", write=True)
