"""Setting up a review-site channel: the form asks for each platform's keys and settings, and
'test connection' names the location."""

import pytest
import responses
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from channels.forms import ChannelForm
from channels.reviews.google import GoogleReviewsConnector
from channels.reviews.kiyoh import KiyohConnector
from channels.reviews.trustpilot import TrustpilotConnector
from tests.factories import make_channel
from tests.reviews_support import fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_user("ada", password="pw-123456789")
    user.groups.add(Group.objects.get_or_create(name="admin")[0])
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("kind", "secret", "setting"),
    [
        ("google_reviews", "refresh_token", "location_id"),
        ("trustpilot", "api_secret", "business_user_id"),
        ("kiyoh", "api_token", "location_id"),
    ],
)
def test_the_new_channel_form_asks_for_the_platforms_keys_and_settings(
    admin_client, kind, secret, setting
):
    page = admin_client.get(reverse("channels:new") + f"?kind={kind}").content.decode()
    assert f'name="secret_{secret}"' in page
    assert f'name="setting_{setting}"' in page


@pytest.mark.parametrize("connector", [GoogleReviewsConnector, TrustpilotConnector, KiyohConnector])
def test_review_channels_declare_typed_settings_and_no_automatic_acknowledgement(connector):
    form = ChannelForm(connector=connector)
    assert form.fields["setting_page_size"].initial == connector.settings_defaults["page_size"]
    assert set(connector.settings_types) <= set(connector.settings_fields)
    assert connector.auto_ack_default is False
    assert connector.reply_modes == ("public",)
    assert connector.ticket_kinds == ("review",)


def test_test_connection_on_a_kiyoh_channel_names_the_shop(admin_client):
    channel = make_channel(
        kind="kiyoh",
        credentials={"api_token": "kiyoh-publication-token-fixture"},
        settings={"location_id": "1063459"},
    )
    with responses.RequestsMock() as rsps:
        rsps.get(
            "https://www.kiyoh.com/v1/publication/review/external",
            json=fixture("kiyoh/reviews.json"),
        )
        page = admin_client.post(
            reverse("channels:test", args=[channel.pk]), follow=True
        ).content.decode()
    assert "Fietsenwinkel Tilburg" in page
    assert "412 reviews, average 8.9 out of 10" in page
    channel.refresh_from_db()
    assert channel.own_account_id == "1063459"


def test_skipped_reviews_are_visible_on_the_channels_admin_page(client):
    channel = make_channel(
        kind="kiyoh",
        credentials={"api_token": "kiyoh-publication-token-fixture"},
        settings={"location_id": "1063459"},
    )
    channel.cursor = {"warnings": [{"review": "r-17", "reason": "no dateSince", "at": "-"}]}
    channel.save(update_fields=["cursor"])
    client.force_login(get_user_model().objects.create_superuser("root", password="pw-12345678"))
    page = client.get(reverse("admin:channels_channel_change", args=[channel.pk]))
    assert page.status_code == 200
    assert "no dateSince" in page.content.decode()
