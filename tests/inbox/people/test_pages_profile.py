"""The profile page: every logged-in user sets their own first name, signature, language, time
zone and availability; each change is audited; nobody changes another's profile here."""

import pytest
from django.conf import settings
from django.urls import reverse

from inbox.models import Activity, AgentProfile, Team
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna():
    return person("anna", team=Team.objects.create(name="Support"))


@pytest.fixture
def agent_client(client, anna):
    client.force_login(anna)
    return client


def _form(**overrides) -> dict:
    data = {
        "first_name": "Anna",
        "signature": "^Anna",
        "language": "en",
        "time_zone": "UTC",
        "available": "on",
    }
    data.update(overrides)
    return data


def test_an_agent_sees_their_settings_and_a_signed_sample_reply(agent_client):
    html = agent_client.get(reverse("pages:profile")).content.decode()
    assert 'value="^Anna"' in html and 'name="available"' in html
    assert "Your parcel is on its way.<br>^Anna" in html


def test_the_user_menu_links_to_the_profile(agent_client):
    html = agent_client.get(reverse("inbox:index")).content.decode()
    assert f'href="{reverse("pages:profile")}"' in html


def test_an_agent_changes_name_signature_language_and_zone_and_the_audit_keeps_the_changes(
    agent_client, anna
):
    response = agent_client.post(
        reverse("pages:profile"),
        _form(first_name="Annemijn", signature="^AV", language="nl", time_zone="Europe/Amsterdam"),
    )
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nl"
    anna.refresh_from_db()
    profile = AgentProfile.objects.get(user=anna)
    assert anna.first_name == "Annemijn"
    assert (profile.signature, profile.language, profile.time_zone) == (
        "^AV",
        "nl",
        "Europe/Amsterdam",
    )
    (row,) = Activity.objects.filter(verb="profile_updated")
    assert row.actor == anna
    assert row.before == {
        "user": anna.pk,
        "first_name": "Anna",
        "signature": "^Anna",
        "language": "en",
        "time_zone": "UTC",
    }
    assert row.after["signature"] == "^AV" and row.after["language"] == "nl"


def test_the_page_speaks_the_chosen_language(agent_client):
    agent_client.post(reverse("pages:profile"), _form(language="nl"))
    html = agent_client.get(reverse("pages:profile")).content.decode()
    assert '<html lang="nl">' in html


def test_saving_without_changes_writes_no_audit_row(agent_client):
    agent_client.post(reverse("pages:profile"), _form())
    assert not Activity.objects.filter(ticket__isnull=True).exists()


def test_going_away_is_audited_as_an_availability_change(agent_client, anna):
    agent_client.post(reverse("pages:profile"), _form(available=""))
    assert AgentProfile.objects.get(user=anna).available is False
    (row,) = Activity.objects.filter(verb="agent_availability")
    assert row.actor == anna and row.after == {"user": anna.pk, "available": False}
    agent_client.post(reverse("pages:profile"), _form())
    assert AgentProfile.objects.get(user=anna).available is True


def test_an_unknown_time_zone_or_language_is_refused(agent_client, anna):
    response = agent_client.post(
        reverse("pages:profile"), _form(time_zone="Mars/Olympus", language="de")
    )
    assert response.status_code == 400
    profile = AgentProfile.objects.get(user=anna)
    assert (profile.time_zone, profile.language) == ("UTC", "en")
    assert not Activity.objects.filter(verb="profile_updated").exists()


def test_the_live_preview_signs_a_sample_with_the_typed_signature(agent_client):
    response = agent_client.get(
        reverse("pages:profile_preview"),
        {"signature": "<b>^Bo</b>"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "<html" not in html
    assert "on its way.<br>&lt;b&gt;^Bo&lt;/b&gt;" in html


def test_a_user_without_a_working_role_sees_no_availability(client):
    viewer = person("vera", role=None)
    client.force_login(viewer)
    html = client.get(reverse("pages:profile")).content.decode()
    assert 'name="available"' not in html
    response = client.post(reverse("pages:profile"), _form(available=""))
    assert response.status_code == 302
    assert AgentProfile.objects.get(user=viewer).available is True


def test_each_user_changes_only_their_own_profile(agent_client, anna):
    other = person("bram")
    agent_client.post(reverse("pages:profile"), _form(signature="^Hacked", user=other.pk))
    assert AgentProfile.objects.get(user=other).signature == "^Bram"


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.post(reverse("pages:profile"), _form())
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Activity.objects.exists()


def test_the_arrival_sound_is_off_until_the_agent_turns_it_on_and_the_inbox_follows(
    agent_client, anna
):
    assert AgentProfile.objects.get(user=anna).arrival_sound is False
    assert 'data-chime="off"' in agent_client.get(reverse("inbox:index")).content.decode()

    response = agent_client.post(reverse("pages:profile"), _form(arrival_sound="on"))

    assert response.status_code == 302
    assert AgentProfile.objects.get(user=anna).arrival_sound is True
    assert 'data-chime="on"' in agent_client.get(reverse("inbox:index")).content.decode()
    change = Activity.objects.filter(verb="profile_updated").latest("pk")
    assert change.after["arrival_sound"] is True


def test_switching_the_language_in_the_top_bar_keeps_the_arrival_sound(agent_client, anna):
    agent_client.post(reverse("pages:profile"), _form(arrival_sound="on"))
    agent_client.post(reverse("pages:profile_language"), {"language": "nl", "next": "/"})
    assert AgentProfile.objects.get(user=anna).arrival_sound is True
