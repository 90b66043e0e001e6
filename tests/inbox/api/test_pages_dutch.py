"""The token and webhook pages speak the reader's language."""

import pytest

from inbox.models import AgentProfile

pytestmark = pytest.mark.django_db


def dutch(user):
    AgentProfile.objects.update_or_create(user=user, defaults={"language": "nl"})
    return user


def test_the_token_page_is_dutch_for_a_user_whose_language_is_dutch(client, world):
    client.force_login(dutch(world["users"]["agent"]))
    page = client.get("/profile/tokens/").content.decode()
    assert '<html lang="nl"' in page
    assert "API-tokens van agent" in page
    assert "Nog geen tokens." in page
    assert "Token aanmaken" in page
    assert "Create token" not in page


def test_a_new_token_is_announced_in_dutch(client, world):
    client.force_login(dutch(world["users"]["agent"]))
    page = client.post("/profile/tokens/", {"name": "Zapier", "scope": "read"}).content.decode()
    assert "Dit token wordt alleen nu getoond." in page


def test_the_webhooks_page_is_dutch_for_a_dutch_admin(client, world):
    client.force_login(dutch(world["users"]["admin"]))
    page = client.get("/settings/webhooks/").content.decode()
    assert "Uitgaande webhooks" in page
    assert "Nog geen webhooks." in page
