"""The Graph API version: a current default, and a warning before Meta retires the configured one.

Dates come from the version table in ``channels.facebook.client`` (Meta's changelog, source in
the code and in docs/channels/facebook.md); the clock is moved relative to them, so these tests
pass on any date.
"""

import datetime as dt

import pytest
import time_machine
from django.conf import settings as django_settings
from django.urls import reverse

from channels.facebook import client as graph
from tests.channels.facebook.support import messenger_channel, page_channel
from tests.personas import person

pytestmark = pytest.mark.django_db

V21_ENDS = graph.GRAPH_VERSIONS["v21.0"][1]


def at_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def health_page(client) -> str:
    client.force_login(person("ada", "admin"))
    return client.get(reverse("channels:list")).content.decode()


def test_the_default_version_is_one_meta_publishes_and_no_older_than_v23():
    assert django_settings.GRAPH_API_VERSION in graph.GRAPH_VERSIONS
    assert graph.api_version_number() >= 23.0


def test_the_health_page_warns_within_90_days_of_the_configured_versions_end(client, settings):
    settings.GRAPH_API_VERSION = "v21.0"
    page_channel()
    with time_machine.travel(at_noon(V21_ENDS - dt.timedelta(days=45)), tick=False):
        page = health_page(client)
    assert f"Graph API v21.0 ends on {V21_ENDS:%Y-%m-%d} (45 days)" in page


def test_the_health_page_is_quiet_more_than_90_days_before_the_end(client, settings):
    settings.GRAPH_API_VERSION = "v21.0"
    messenger_channel()
    with time_machine.travel(at_noon(V21_ENDS - dt.timedelta(days=91)), tick=False):
        page = health_page(client)
    assert "Graph API v21.0" not in page


def test_a_version_past_its_end_says_so_and_names_the_newest(client, settings):
    settings.GRAPH_API_VERSION = "v21.0"
    page_channel()
    with time_machine.travel(at_noon(V21_ENDS + dt.timedelta(days=1)), tick=False):
        page = health_page(client)
    newest = max(graph.GRAPH_VERSIONS, key=lambda v: graph.GRAPH_VERSIONS[v][0])
    assert "Graph API v21.0 reached its end of life" in page
    assert f"Set GRAPH_API_VERSION to {newest}" in page


def test_a_version_missing_from_the_table_is_flagged():
    assert "not in Webcare's table" in graph.version_warning("v99.0", dt.date(2026, 1, 1))
