"""Setting up an X channel: the connector's form fields and 'test connection'."""

import pytest
from django.core.management import CommandError, call_command

from channels.x.connector import XConnector

from .conftest import API, load, make_x_channel

pytestmark = pytest.mark.django_db


def test_the_channel_form_asks_for_xs_credentials_and_settings():
    assert set(XConnector.credential_fields) >= {
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
    }
    assert {"keywords", "monthly_read_budget", "monthly_post_budget"} <= set(
        XConnector.settings_fields
    )
    assert XConnector.reply_modes == ("public", "dm")


def test_test_connection_prints_the_account(api, capsys):
    channel = make_x_channel(own_account_id="", own_handle="")
    api.get(f"{API}/users/me", json=load("users_me.json"))

    call_command("x_test_connection", str(channel.pk), "--save")

    out = capsys.readouterr().out
    assert "Connected as @acme_care (Acme Care), account id 1500000000000000001" in out
    channel.refresh_from_db()
    assert (channel.own_account_id, channel.own_handle) == ("1500000000000000001", "acme_care")


def test_test_connection_shows_xs_error(api):
    channel = make_x_channel()
    api.get(f"{API}/users/me", status=401, json=load("error_401.json"))

    with pytest.raises(CommandError, match="X API 401: Unauthorized"):
        call_command("x_test_connection", str(channel.pk))
