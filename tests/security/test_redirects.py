"""No view sends the browser off the site, whatever target the request names.

Every view that redirects to a target taken from the request (``webcare.redirects``): bulk
actions' ``next``, log-in and log-out's ``next``, the language switch's ``next`` and referring
page. Each gets the forms browsers read as another host; the redirect must land on our site,
while a path of ours is kept as it was.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import reverse

from inbox.models import Team, Ticket, TicketStatus
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db

HOSTILE = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "http://127.0.0.1.evil.example/",
    "http://testserver.evil.example/",
    "http://testserver@evil.example/",
    "//testserver@evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "https:evil.example",
    "https:/evil.example",
    "http:///evil.example",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "\x00//evil.example",
    "\x1f//evil.example",
    "javascript:alert(1)",
    " javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://evil.example/",
]
HERE = "/?view=closed&tag=vip"


def browser_destination(location: str, base: str):
    """Where a browser goes for ``location`` (WHATWG URL parsing, which Python's does not do):
    leading and trailing controls and spaces dropped, tabs and newlines removed anywhere, and a
    backslash read as a slash in http(s) URLs."""
    location = location.strip("".join(chr(c) for c in range(0x21)))
    location = re.sub(r"[\t\n\r]", "", location)
    location = location.replace("\\", "/")
    return urlsplit(urljoin(base, location))


def assert_stays_on_site(response, base: str = "http://testserver/") -> None:
    assert response.status_code == 302, response.status_code
    where = browser_destination(response["Location"], base)
    assert where.scheme in ("http", "https") and where.hostname == "testserver", response[
        "Location"
    ]


@pytest.fixture
def anna():
    return person("anna", team=Team.objects.create(name="Support"))


def bulk_close(client, anna, target: str, **extra):
    ticket = tickets(1, team=anna.teams.first())[0]
    client.force_login(anna)
    response = client.post(
        reverse("inbox:bulk"),
        {"action": "close", "ticket": [ticket.pk], "next": target},
        **extra,
    )
    # The action itself happened: only where it goes next is in question.
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED
    return response


@pytest.mark.parametrize("target", HOSTILE)
def test_bulk_actions_never_send_the_browser_off_the_site(client, anna, target):
    response = bulk_close(client, anna, target)
    assert_stays_on_site(response, "http://testserver/inbox/bulk/")
    assert response["Location"] == reverse("inbox:index")


def test_bulk_actions_go_back_to_the_list_they_came_from(client, anna):
    assert bulk_close(client, anna, HERE)["Location"] == HERE


def test_bulk_actions_over_https_do_not_go_back_over_plain_http(client, anna):
    response = bulk_close(client, anna, "http://testserver/?view=closed", secure=True)
    assert response["Location"] == reverse("inbox:index")


@pytest.mark.parametrize("target", HOSTILE)
def test_logging_in_never_sends_the_browser_off_the_site(client, anna, target):
    response = client.post(
        reverse("login"), {"username": "anna", "password": "pw-anna", "next": target}
    )
    assert_stays_on_site(response, "http://testserver/login/")


def test_logging_in_goes_on_to_the_page_asked_for(client, anna):
    response = client.post(
        reverse("login"), {"username": "anna", "password": "pw-anna", "next": HERE}
    )
    assert response["Location"] == HERE


@pytest.mark.parametrize("target", HOSTILE)
def test_logging_out_never_sends_the_browser_off_the_site(client, anna, target):
    client.force_login(anna)
    response = client.post(reverse("logout"), {"next": target})
    if response.status_code == 200:  # no target of ours: the "logged out" page
        return
    assert_stays_on_site(response, "http://testserver/logout/")


@pytest.mark.parametrize("target", HOSTILE)
def test_switching_language_never_sends_the_browser_off_the_site(client, target):
    response = client.post(reverse("set_language"), {"language": "nl", "next": target})
    assert_stays_on_site(response, "http://testserver/i18n/setlang/")


@pytest.mark.parametrize("target", HOSTILE)
def test_switching_language_never_follows_a_hostile_referring_page(client, target):
    response = client.post(reverse("set_language"), {"language": "nl"}, HTTP_REFERER=target)
    assert_stays_on_site(response, "http://testserver/i18n/setlang/")


def test_switching_language_goes_back_to_the_page(client):
    response = client.post(reverse("set_language"), {"language": "nl", "next": HERE})
    assert response["Location"] == HERE
