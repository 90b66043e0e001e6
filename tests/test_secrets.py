"""Channel secrets: encrypted at rest, never rendered back, rotatable."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from channels.models import Channel
from tests.factories import make_channel

pytestmark = pytest.mark.django_db

FIELD = Channel._meta.get_field("credentials")


def _forget_keys():
    # The field caches its derived keys; a test that changes the key must drop them.
    for attr in ("keys", "f"):
        FIELD.__dict__.pop(attr, None)


@pytest.fixture(autouse=True)
def _fresh_keys():
    _forget_keys()
    yield
    _forget_keys()


def _stored_text(channel) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM channels_channel WHERE id = %s", [channel.pk])
        return cursor.fetchone()[0]


def test_credentials_are_encrypted_in_the_database():
    channel = make_channel(credentials={"access_token": "EAAB-very-secret"})
    stored = _stored_text(channel)
    assert "EAAB-very-secret" not in stored
    assert Channel.objects.get(pk=channel.pk).credentials == {"access_token": "EAAB-very-secret"}


def test_rotating_the_key_keeps_credentials_readable_with_only_the_new_key():
    channel = make_channel(credentials={"access_token": "tok"})
    with override_settings(
        SECRET_KEY="new-key-" + "x" * 40,
        SECRET_KEY_FALLBACKS=["insecure-embedded-default-key-only-for-local-demo-and-tests"],
    ):
        _forget_keys()
        call_command("rotate_channel_secrets", verbosity=0)
    with override_settings(SECRET_KEY="new-key-" + "x" * 40, SECRET_KEY_FALLBACKS=[]):
        _forget_keys()
        assert Channel.objects.get(pk=channel.pk).credentials == {"access_token": "tok"}


def test_without_the_old_key_a_channel_asks_for_reconnection_instead_of_crashing():
    from channels.tasks import poll_channel

    channel = make_channel(credentials={"access_token": "tok"})
    with override_settings(SECRET_KEY="another-key-" + "y" * 40, SECRET_KEY_FALLBACKS=[]):
        _forget_keys()
        poll_channel(channel.pk)
        channel = Channel.objects.get(pk=channel.pk)
    assert channel.health_state == "needs_reconnect"
    assert "cannot be decrypted" in channel.last_error
