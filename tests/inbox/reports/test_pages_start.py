"""The settings start page: channel health with what needs attention on top, links to every area."""

import re

import pytest
from django.urls import reverse

from channels import health
from channels.base import AuthError, TemporaryError
from channels.models import Channel
from inbox.reports import start_views as start
from tests.factories import make_channel
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(person("ada", "admin"))
    return client


@pytest.fixture
def lead_client(client):
    client.force_login(person("lotte", "lead"))
    return client


def _rows(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-channel="(\d+)"', html)]


def test_channels_needing_attention_come_first_with_the_reason(admin_client):
    fine = make_channel(name="A fine")
    broken = make_channel(name="Z broken")
    off = make_channel(name="B off", enabled=False)
    health.record_success(fine.pk)
    health.record_failure(broken.pk, AuthError("Invalid or expired token (code 89)"))

    html = admin_client.get(reverse("pages:start")).content.decode()

    assert _rows(html) == [broken.pk, fine.pk, off.pk]
    assert "1 channel needs attention" in html
    assert "Needs reconnecting: enter new credentials and test the connection." in html
    assert "Invalid or expired token (code 89)" in html


def test_the_table_shows_last_poll_ingest_lag_and_errors(admin_client):
    channel = make_channel(name="Shop")
    health.record_failure(channel.pk, TemporaryError("boom"))
    Channel.objects.filter(pk=channel.pk).update(last_ingest_lag_seconds=185)
    html = admin_client.get(reverse("pages:start")).content.decode()
    row = html[html.index(f'data-channel="{channel.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "3 min" in row  # the ingest lag
    assert "ago" in row  # last poll
    assert re.search(r"<td>1</td>", row)  # errors in 24 h


def test_a_lead_sees_health_but_no_channel_controls(lead_client):
    channel = make_channel(name="Shop")
    html = lead_client.get(reverse("pages:start")).content.decode()
    assert "Shop" in html
    assert reverse("channels:edit", args=[channel.pk]) not in html
    assert reverse("channels:toggle", args=[channel.pk]) not in html
    assert reverse("channels:list") not in html


def test_the_links_lead_to_every_area_that_exists(admin_client):
    html = admin_client.get(reverse("pages:start")).content.decode()
    for name in ("channels:list", "pages:people", "pages:audit"):
        assert f'href="{reverse(name)}"' in html


def test_an_area_whose_page_does_not_exist_is_left_out(admin_client, monkeypatch):
    monkeypatch.setattr(
        start,
        "AREAS",
        (*start.AREAS, start.Area("pages:not_built_yet", "Not yet", "Later.")),
    )
    response = admin_client.get(reverse("pages:start"))
    assert response.status_code == 200
    assert "Not yet" not in response.content.decode()


def test_the_nav_shows_settings_to_leads_and_admins_only(client):
    client.force_login(person("anna"))
    assert reverse("pages:start") not in client.get(reverse("inbox:index")).content.decode()
    client.force_login(person("lotte", "lead"))
    assert reverse("pages:start") in client.get(reverse("inbox:index")).content.decode()


def test_platform_error_text_is_escaped(admin_client):
    channel = make_channel(name="<b>Shop</b>")
    health.record_failure(channel.pk, TemporaryError("<script>alert(1)</script>"))
    html = admin_client.get(reverse("pages:start")).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert "<b>Shop</b>" not in html


# --- the top bar ------------------------------------------------------------------------------
def _nav(html: str) -> str:
    return html[html.index('<nav class="mainnav"') : html.index("</nav>")]


def test_the_top_bar_takes_a_lead_to_every_lead_area_and_marks_the_current_one(lead_client):
    nav = _nav(lead_client.get(reverse("pages:incidents")).content.decode())
    for name in (
        "inbox:index",
        "pages:review",
        "pages:incidents",
        "pages:dashboard",
        "pages:start",
    ):
        assert f'href="{reverse(name)}"' in nav
    assert re.findall(r'href="([^"]+)" aria-current="page"', nav) == [reverse("pages:incidents")]


def test_a_settings_page_marks_settings_in_the_top_bar(lead_client):
    nav = _nav(lead_client.get(reverse("pages:rules")).content.decode())
    assert re.findall(r'href="([^"]+)" aria-current="page"', nav) == [reverse("pages:start")]


def test_an_agents_top_bar_has_no_lead_areas(client):
    client.force_login(person("anna"))
    nav = _nav(client.get(reverse("inbox:index")).content.decode())
    assert f'href="{reverse("pages:dashboard")}"' not in nav
    assert f'href="{reverse("pages:incidents")}"' not in nav
    assert re.findall(r'href="([^"]+)" aria-current="page"', nav) == [reverse("inbox:index")]


def test_a_forbidden_page_says_so_and_leads_back_to_the_inbox(client):
    client.force_login(person("anna"))
    response = client.get(reverse("pages:start"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "No access" in html
    assert f'<a class="button" href="{reverse("inbox:index")}">Back to the inbox</a>' in html
