"""Shared pieces of the X channel tests: real-shaped API fixtures served by `responses` on
tweepy's host (https://api.twitter.com), and X channels built through the real services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses

from tests.factories import make_channel

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "x"
API = "https://api.twitter.com/2"
OWN_ID = "1500000000000000001"
CREDENTIALS = {
    "consumer_key": "ck-acme",
    "consumer_secret": "cs-acme-secret",
    "access_token": f"{OWN_ID}-at-acme",
    "access_token_secret": "ats-acme",
}
MENTIONS = f"{API}/users/{OWN_ID}/mentions"
DM_EVENTS = f"{API}/dm_events"
SEARCH = f"{API}/tweets/search/recent"
TWEETS = f"{API}/tweets"
OWN_TWEETS = f"{API}/users/{OWN_ID}/tweets"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_x_channel(**kwargs):
    kwargs.setdefault("credentials", dict(CREDENTIALS))
    kwargs.setdefault("own_account_id", OWN_ID)
    kwargs.setdefault("own_handle", "acme_care")
    kwargs.setdefault("settings", {"fetch_dms": False})
    return make_channel("x", **kwargs)


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def eager_celery():
    from webcare.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
