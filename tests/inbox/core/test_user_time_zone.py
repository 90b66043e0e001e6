"""Every page family shows times in the reader's own time zone (their profile), not the server's.

The reader lives in Tokyo (UTC+9 all year): 15:30 UTC on 10 March is 00:30 on 11 March there,
a different day from both UTC and Amsterdam, so a page that ignores the reader's zone shows the
wrong date.
"""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from inbox.models import Activity, Incident
from tests.factories import make_channel
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2026, 3, 10, 15, 30, tzinfo=dt.UTC)
IN_TOKYO = "March 11, 2026"  # Django's default DATETIME_FORMAT, in English


def reader(client, role: str):
    user = person("kenji", role)
    user.profile.time_zone = "Asia/Tokyo"
    user.profile.save()
    client.force_login(user)
    return user


def test_the_audit_log_shows_the_readers_local_time(client):
    user = reader(client, "admin")
    Activity.objects.create(verb="test", actor=user, created_at=MOMENT)
    page = client.get("/settings/audit/").content.decode()
    assert "2026-03-11 00:30:00" in page


def test_the_channel_health_shows_the_readers_local_time(client):
    reader(client, "admin")
    channel = make_channel()
    type(channel).objects.filter(pk=channel.pk).update(last_success_at=MOMENT)
    page = client.get("/settings/channels/").content.decode()
    assert IN_TOKYO in page


def test_the_incident_list_shows_the_readers_local_time(client):
    reader(client, "lead")
    Incident.objects.create(title="Outage", declared_at=MOMENT)
    page = client.get("/incidents/").content.decode()
    assert IN_TOKYO in page


def test_the_people_page_shows_the_readers_local_time(client):
    user = reader(client, "admin")
    type(user).objects.filter(pk=user.pk).update(last_login=MOMENT)
    page = client.get("/settings/people/").content.decode()
    assert IN_TOKYO in page


def test_the_thread_shows_the_readers_local_time(client):
    reader(client, "agent")
    (ticket,) = tickets(1)
    ticket.messages.update(sent_at=MOMENT)
    page = client.get(f"/inbox/t/{ticket.pk}/").content.decode()
    assert "2026-03-11 00:30 JST" in page


def test_the_dashboard_reads_today_in_the_readers_zone(client):
    # 16:00 UTC on 10 March is already 11 March in Tokyo: "today" is the 11th there. The
    # log-in happens at that moment too, so its session is fresh whatever the real date.
    with time_machine.travel(dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC), tick=False):
        reader(client, "lead")
        page = client.get("/dashboard/").content.decode()
    assert 'value="2026-03-11"' in page


def test_anonymous_pages_keep_the_project_zone(client):
    assert timezone.get_current_timezone_name() == "Europe/Amsterdam"
    client.get("/accounts/login/")
    assert timezone.get_current_timezone_name() == "Europe/Amsterdam"
