"""The admin's channel pages: configure, test connection, health overview, nothing for others."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from channels.base import AuthError, ConnectionInfo, Connector
from channels.models import Channel, HealthState
from channels.registry import register
from tests.factories import make_channel

pytestmark = pytest.mark.django_db


@register
class PageTestConnector(Connector):
    kind = "test_pages"
    label = "Test platform"
    credential_fields = {"api_key": "Key from the platform's developer portal."}
    settings_fields = {"keywords": "Words to listen for.", "location": "Location id."}
    settings_types = {"keywords": "list"}

    def test_connection(self):
        if self.channel.credentials.get("api_key") == "expired":
            raise AuthError("Invalid or expired token (code 89)")
        return ConnectionInfo(account_id="42", handle="@shop", display_name="Shop")


def _user(name, role=None):
    user = get_user_model().objects.create_user(name, password="pw-123456789")
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def admin_client(client):
    client.force_login(_user("ada", "admin"))
    return client


def test_an_admin_connects_a_channel_with_secret_credentials_and_settings(admin_client):
    response = admin_client.post(
        reverse("channels:new") + "?kind=test_pages",
        {
            "kind": "test_pages",
            "name": "Our shop",
            "poll_interval": 60,
            "enabled": "on",
            "secret_api_key": "s3cret-key",
            "setting_keywords": "webshop\nbezorging\n",
            "setting_location": "L1",
        },
    )
    channel = Channel.objects.get(name="Our shop")
    assert response.status_code == 302
    assert channel.credentials == {"api_key": "s3cret-key"}
    assert channel.settings == {"keywords": ["webshop", "bezorging"], "location": "L1"}
    page = admin_client.get(reverse("channels:edit", args=[channel.pk])).content.decode()
    assert "s3cret-key" not in page  # never shown back
    assert "Stored — leave empty to keep." in page


def test_saving_without_retyping_the_secret_keeps_it(admin_client):
    channel = make_channel(kind="test_pages", credentials={"api_key": "keep-me"})
    admin_client.post(
        reverse("channels:edit", args=[channel.pk]),
        {"kind": "test_pages", "name": "Renamed", "poll_interval": 120, "enabled": "on"},
    )
    channel.refresh_from_db()
    assert channel.name == "Renamed" and channel.poll_interval == 120
    assert channel.credentials == {"api_key": "keep-me"}


def test_test_connection_shows_the_account_and_remembers_our_id(admin_client):
    channel = make_channel(kind="test_pages", credentials={"api_key": "good"})
    response = admin_client.post(reverse("channels:test", args=[channel.pk]), follow=True)
    channel.refresh_from_db()
    assert "Connected as @shop (42)" in response.content.decode()
    assert channel.own_account_id == "42"


def test_test_connection_shows_the_platforms_error(admin_client):
    channel = make_channel(kind="test_pages", credentials={"api_key": "expired"})
    response = admin_client.post(reverse("channels:test", args=[channel.pk]), follow=True)
    assert "Invalid or expired token (code 89)" in response.content.decode()


def test_the_health_overview_lists_each_channels_state_and_error(admin_client):
    channel = make_channel(kind="test_pages")
    Channel.objects.filter(pk=channel.pk).update(
        health_state=HealthState.NEEDS_RECONNECT, last_error="Session has expired"
    )
    page = admin_client.get(reverse("channels:list")).content.decode()
    assert "Needs reconnect" in page and "Session has expired" in page


def test_disabling_a_channel_pauses_its_schedule(admin_client):
    from django_celery_beat.models import PeriodicTask

    channel = make_channel(kind="test_pages")
    admin_client.post(reverse("channels:toggle", args=[channel.pk]))
    channel.refresh_from_db()
    assert channel.enabled is False
    assert PeriodicTask.objects.get(name=f"poll channel {channel.pk}").enabled is False


@pytest.mark.parametrize("role", ["agent", "lead"])
def test_only_admins_configure_channels(client, role):
    channel = make_channel(kind="test_pages")
    client.force_login(_user(f"u-{role}", role))
    assert client.get(reverse("channels:list")).status_code == 403
    assert client.post(reverse("channels:toggle", args=[channel.pk])).status_code == 403
    channel.refresh_from_db()
    assert channel.enabled is True


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("channels:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_x_channel_form_asks_for_its_keys_and_listening_queries(admin_client):
    page = admin_client.get(reverse("channels:new") + "?kind=x").content.decode()
    for field in ("secret_consumer_key", "secret_access_token_secret", "setting_keywords"):
        assert f'name="{field}"' in page


def test_a_setting_that_defaults_to_on_starts_checked():
    from channels.forms import ChannelForm
    from channels.registry import connector_class

    form = ChannelForm(connector=connector_class("x"))
    assert form["setting_fetch_dms"].initial is True
