"""Log-in throttling: after five wrong passwords for one account from one address, even the
right password is refused for a while, and other accounts are not affected."""

import pytest
from django.urls import reverse

from tests.personas import person

pytestmark = pytest.mark.django_db


def _log_in(client, username, password):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="203.0.113.9"
    )


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client):
    person("anna")
    for _ in range(5):
        _log_in(client, "anna", "guess")
    refused = _log_in(client, "anna", "pw-anna")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_locked_account_does_not_lock_a_colleague_at_the_same_address(client):
    person("anna")
    person("bob")
    for _ in range(5):
        _log_in(client, "anna", "guess")
    assert _log_in(client, "bob", "pw-bob").status_code == 302
    assert client.session["_auth_user_id"]


def test_four_wrong_passwords_still_let_the_right_one_in(client):
    person("anna")
    for _ in range(4):
        _log_in(client, "anna", "guess")
    assert _log_in(client, "anna", "pw-anna").status_code == 302
