"""The language switch in the top bar and the grouped time-zone picker on the profile."""

import pytest
from django.urls import reverse

from inbox.models import AgentProfile
from tests.personas import person

pytestmark = pytest.mark.django_db


def test_the_top_bar_switches_language_and_stays_on_the_page(client):
    anna = person("anna")
    client.force_login(anna)
    html = client.get(reverse("pages:profile")).content.decode()
    assert 'id="lang-switch"' in html and "Nederlands" in html
    response = client.post(
        reverse("pages:profile_language"), {"language": "nl", "next": "/dashboard/?x=1"}
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/?x=1"
    assert AgentProfile.objects.get(user=anna).language == "nl"
    assert "Inbox" in client.get(reverse("pages:profile")).content.decode()
    assert 'lang="nl"' in client.get(reverse("inbox:index")).content.decode()


def test_the_switch_does_not_send_anyone_off_site(client):
    client.force_login(person("anna"))
    response = client.post(
        reverse("pages:profile_language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("inbox:index")


def test_time_zones_are_grouped_by_region_with_common_ones_first(client):
    client.force_login(person("anna"))
    html = client.get(reverse("pages:profile")).content.decode()
    assert html.index('<optgroup label="Common">') < html.index('<optgroup label="Europe">')
    assert '<option value="Europe/Amsterdam"' in html and ">Amsterdam</option>" in html
    assert ">New York</option>" in html and 'value="US/Eastern"' not in html
