"""The daily token check: reconnect or warn before a reply fails."""

import datetime as dt
from io import StringIO

import pytest
import responses
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from channels.facebook.connector import FacebookPageConnector
from channels.facebook.tasks import token_check_all
from channels.models import HealthState
from tests.channels.facebook.support import (
    PAGE_ID,
    debug_token_ok,
    graph,
    load,
    messenger_channel,
    page_channel,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meta_settings")]


def debug_answer(**changes):
    return debug_token_ok(**changes)


@responses.activate
def test_a_healthy_token_leaves_the_channel_ok():
    channel = page_channel()
    responses.get(graph("debug_token"), json=debug_token_ok())
    out = StringIO()
    call_command("meta_token_check", stdout=out)
    channel.refresh_from_db()
    assert f"{channel.pk} {channel.name}: ok" in out.getvalue()
    assert channel.health_state == HealthState.OK


@responses.activate
def test_the_check_asks_with_the_app_token_about_the_page_token():
    page_channel()
    responses.get(graph("debug_token"), json=debug_token_ok())
    call_command("meta_token_check", stdout=StringIO())
    url = responses.calls[0].request.url
    assert "input_token=EAAG-page-token" in url
    assert "access_token=1517776481860111%7Ctest-app-secret-5f2b" in url


@responses.activate
def test_an_invalidated_token_needs_reconnect_before_any_reply_fails():
    channel = page_channel()
    responses.get(graph("debug_token"), json=load("debug_token_invalid.json"))
    call_command("meta_token_check", stdout=StringIO())
    channel.refresh_from_db()
    assert channel.health_state == HealthState.NEEDS_RECONNECT
    assert "changed their password" in channel.last_error


@responses.activate
def test_a_token_expiring_within_a_week_degrades_the_channel_with_the_date():
    channel = messenger_channel()
    soon = int((timezone.now() + dt.timedelta(days=3)).timestamp())
    responses.get(graph("debug_token"), json=debug_answer(expires_at=soon))
    call_command("meta_token_check", stdout=StringIO())
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert "The Page token expires on" in channel.last_error
    assert channel.next_poll_at is None  # polling goes on meanwhile


@responses.activate
def test_data_access_that_has_run_out_says_it_expired():
    channel = messenger_channel()
    gone = int((timezone.now() - dt.timedelta(days=2)).timestamp())
    responses.get(graph("debug_token"), json=debug_answer(data_access_expires_at=gone))
    call_command("meta_token_check", stdout=StringIO())
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert "Data access expired on" in channel.last_error


@responses.activate
def test_a_lost_permission_is_named_in_the_channel_health():
    channel = messenger_channel()
    scopes = [s for s in debug_token_ok()["data"]["scopes"] if s != "pages_messaging"]
    responses.get(graph("debug_token"), json=debug_answer(scopes=scopes))
    call_command("meta_token_check", stdout=StringIO())
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert "pages_messaging" in channel.last_error


@responses.activate
def test_an_outage_during_the_check_says_nothing_about_the_token():
    channel = page_channel()
    responses.get(graph("debug_token"), json=load("error_2_transient.json"), status=500)
    call_command("meta_token_check", stdout=StringIO())
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK


@responses.activate
def test_the_daily_task_checks_every_facebook_channel(run_tasks_now):
    page_channel()
    messenger_channel()
    responses.get(graph("debug_token"), json=debug_token_ok())
    assert token_check_all() == 2
    assert len(responses.calls) == 2


def test_the_daily_check_is_scheduled_in_beat():
    task = PeriodicTask.objects.get(task="channels.facebook.token_check_all")
    assert task.enabled and task.crontab is not None


@responses.activate
def test_test_connection_names_the_page_and_refuses_another_pages_token():
    channel = page_channel()
    responses.get(graph("me"), json=load("me_page.json"))
    info = FacebookPageConnector(channel.context()).test_connection()
    assert info.account_id == PAGE_ID and info.display_name == "Webcare Demo Shop"
    other = page_channel(own_account_id="42", settings={"page_id": "42"})
    with pytest.raises(Exception, match="not to the configured Page 42"):
        FacebookPageConnector(other.context()).test_connection()


@responses.activate
def test_a_token_warning_stands_through_successful_polls_until_the_check_clears_it():
    from channels.tasks import poll_channel

    channel = messenger_channel()
    soon = int((timezone.now() + dt.timedelta(days=3)).timestamp())
    responses.get(graph("debug_token"), json=debug_answer(expires_at=soon))
    call_command("meta_token_check", stdout=StringIO())
    responses.get(graph(f"{PAGE_ID}/conversations"), json={"data": []})
    assert poll_channel(channel.pk) == "stored 0"
    channel.refresh_from_db()
    assert channel.health_state == HealthState.DEGRADED
    assert "expires on" in channel.last_error

    responses.replace(responses.GET, graph("debug_token"), json=debug_token_ok())
    call_command("meta_token_check", stdout=StringIO())
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK and channel.last_error == ""


@responses.activate
def test_a_poll_failure_is_not_hidden_by_a_warning():
    from channels.tasks import poll_channel

    channel = messenger_channel()
    soon = int((timezone.now() + dt.timedelta(days=3)).timestamp())
    responses.get(graph("debug_token"), json=debug_answer(expires_at=soon))
    call_command("meta_token_check", stdout=StringIO())
    responses.get(graph(f"{PAGE_ID}/conversations"), json=load("error_190.json"), status=400)
    poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.NEEDS_RECONNECT


@responses.activate
def test_a_wrong_app_secret_does_not_disconnect_the_pages():
    channel = page_channel()
    responses.get(graph("debug_token"), json=load("error_190.json"), status=400)
    out = StringIO()
    call_command("meta_token_check", stdout=out)
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK
    assert "not checked: Meta refused the app token" in out.getvalue()
