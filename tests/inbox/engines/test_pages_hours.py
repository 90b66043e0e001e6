"""The hours-and-SLA page: business hours, holidays, SLA targets and out-of-hours
acknowledgements, edited by leads and admins through audited services; agents get 403."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.core.business_time import Calendar, add_business_time
from inbox.ingest.services import ingest_batch
from inbox.models import Activity, AutoAck, BusinessHours, Holiday, SlaTarget, Team, Ticket
from tests.factories import item, make_channel
from tests.personas import person

pytestmark = pytest.mark.django_db

CLOSED_WEEK = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "")


@pytest.fixture
def support():
    return Team.objects.create(name="Support", time_zone="Europe/Amsterdam")


@pytest.fixture
def lead_client(client):
    client.force_login(person("lotte", "lead"))
    return client


@pytest.fixture
def agent_client(client):
    client.force_login(person("anna"))
    return client


def _sunday_three_utc() -> bool:
    """Whether now falls in the one open hour the tests' calendar has (then it is open)."""
    now = timezone.now().astimezone(dt.UTC)
    return now.weekday() == 6 and now.hour == 3


def _hours(**days) -> dict:
    return {"form": "hours", "time_zone": "", **CLOSED_WEEK, **days}


# --- business hours ---------------------------------------------------------------------------
def test_the_overview_lists_the_default_and_every_team_with_open_now_and_next_opening(
    lead_client, support
):
    BusinessHours.objects.create(team=support, time_zone="UTC", week={"sun": [["03:00", "04:00"]]})
    html = lead_client.get(reverse("pages:hours")).content.decode()
    assert 'data-calendar="default"' in html
    row = html[html.index(f'data-calendar="{support.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Sunday 03:00-04:00" in row and "UTC" in row
    if not _sunday_three_utc():
        assert "closed" in row and ":00" in row.split("next-opening")[1]


def test_the_overview_costs_the_same_queries_for_many_teams(
    lead_client, django_assert_max_num_queries
):
    for i in range(15):
        team = Team.objects.create(name=f"Team {i}")
        hours = BusinessHours.objects.create(team=team)
        Holiday.objects.create(hours=hours, date=dt.date(2026, 12, 25))
        SlaTarget.objects.create(min_priority=i)
        AutoAck.objects.create(text=f"Back {i} at {{opening}}")
    lead_client.get(reverse("pages:hours"))
    with django_assert_max_num_queries(14):
        lead_client.get(reverse("pages:hours"))


def test_a_lead_sets_a_teams_hours_with_several_intervals_and_the_audit_keeps_both(
    lead_client, support
):
    response = lead_client.post(
        reverse("pages:hours_team", args=[support.pk]),
        _hours(time_zone="Europe/London", mon="08:00-12:00, 13:00-17:30", sat="10:00 - 14:00"),
    )
    assert response.status_code == 302
    hours = BusinessHours.objects.get(team=support)
    assert hours.time_zone == "Europe/London"
    assert hours.week == {
        "mon": [["08:00", "12:00"], ["13:00", "17:30"]],
        "sat": [["10:00", "14:00"]],
    }
    (row,) = Activity.objects.filter(verb="hours_updated")
    assert row.before == {"team": support.pk}
    assert row.after["week"] == hours.week and row.after["time_zone"] == "Europe/London"
    page = lead_client.get(reverse("pages:hours_team", args=[support.pk])).content.decode()
    assert 'value="08:00-12:00, 13:00-17:30"' in page


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("18:00-08:00", "18:00-08:00 ends before it starts."),
        ("08:00-12:00, 11:00-14:00", "Intervals overlap: 08:00-12:00 and 11:00-14:00."),
        ("8 to 5", "Write times as 08:00-17:30, separated by commas."),
        ("08:00-25:00", "Write times as 08:00-17:30, separated by commas."),
    ],
)
def test_bad_intervals_are_refused_on_their_day_and_nothing_changes(lead_client, text, message):
    response = lead_client.post(reverse("pages:hours_default"), _hours(tue=text))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BusinessHours.objects.exists()
    assert not Activity.objects.filter(verb="hours_updated").exists()


def test_an_unknown_time_zone_is_refused(lead_client):
    response = lead_client.post(reverse("pages:hours_default"), _hours(time_zone="Mars/Olympus"))
    assert response.status_code == 400
    assert not BusinessHours.objects.exists()


def test_hours_set_through_the_page_change_a_new_tickets_due_time(lead_client):
    lead_client.post(reverse("pages:hours_default"), _hours(time_zone="UTC", sun="03:00-04:00"))
    result = ingest_batch(channel_id=make_channel().pk, items=[item("m1")])
    ticket = Ticket.objects.get(pk=result.ticket_ids[0])
    calendar = Calendar.build(zone="UTC", week={"sun": [["03:00", "04:00"]]})
    expected = add_business_time(calendar, ticket.waiting_since, dt.timedelta(minutes=60))
    assert ticket.due_at == expected
    if not _sunday_three_utc():  # else part of the hour is today, the rest next Sunday
        assert (ticket.due_at.weekday(), ticket.due_at.hour, ticket.due_at.minute) == (6, 4, 0)


# --- holidays ---------------------------------------------------------------------------------
def upcoming(month: int, day: int) -> dt.date:
    """The next such day from today (a holiday an admin would add), whatever today is."""
    today = timezone.localdate()
    this_year = dt.date(today.year, month, day)
    return this_year if this_year > today else dt.date(today.year + 1, month, day)


def test_a_holiday_for_a_team_on_default_hours_copies_the_default_first(lead_client, support):
    BusinessHours.objects.create(week={"mon": [["09:00", "17:00"]]}, time_zone="UTC")
    kerst = upcoming(12, 25)
    response = lead_client.post(
        reverse("pages:hours_team", args=[support.pk]),
        {"form": "holiday", "date": kerst.isoformat(), "name": "Kerst"},
    )
    assert response.status_code == 302
    own = BusinessHours.objects.get(team=support)
    assert own.week == {"mon": [["09:00", "17:00"]]} and own.time_zone == "UTC"
    assert [(h.date, h.name) for h in own.holidays.all()] == [(kerst, "Kerst")]
    (row,) = Activity.objects.filter(verb="holiday_added")
    assert row.after == {"team": support.pk, "date": kerst.isoformat(), "name": "Kerst"}
    page = lead_client.get(reverse("pages:hours_team", args=[support.pk])).content.decode()
    assert "Kerst" in page


def test_the_same_holiday_twice_is_refused(lead_client):
    data = {"form": "holiday", "date": upcoming(12, 25).isoformat(), "name": "Kerst"}
    lead_client.post(reverse("pages:hours_default"), data)
    response = lead_client.post(reverse("pages:hours_default"), data)
    assert response.status_code == 400
    assert "That day is already a holiday." in response.content.decode()
    assert Holiday.objects.count() == 1


def test_removing_a_holiday_is_audited(lead_client, support):
    day = upcoming(12, 26).isoformat()
    lead_client.post(
        reverse("pages:hours_team", args=[support.pk]),
        {"form": "holiday", "date": day, "name": "Tweede kerstdag"},
    )
    holiday = Holiday.objects.get()
    response = lead_client.post(reverse("pages:hours_holiday_delete", args=[holiday.pk]))
    assert response.status_code == 302 and response["Location"].endswith(
        reverse("pages:hours_team", args=[support.pk])
    )
    assert not Holiday.objects.exists()
    (row,) = Activity.objects.filter(verb="holiday_removed")
    assert row.before["date"] == day


# --- SLA targets ------------------------------------------------------------------------------
def test_a_lead_adds_edits_and_deletes_an_sla_target(lead_client):
    channel = make_channel()
    lead_client.post(
        reverse("pages:hours_sla_new"),
        {
            "channel": channel.pk,
            "min_priority": "10",
            "first_response_minutes": "30",
            "next_response_minutes": "120",
            "business_time": "0",
        },
    )
    target = SlaTarget.objects.get()
    assert (target.channel, target.min_priority, target.first_response_minutes) == (channel, 10, 30)
    assert target.next_response_minutes == 120 and target.business_time is False
    html = lead_client.get(reverse("pages:hours")).content.decode()
    assert f'data-target="{target.pk}"' in html and "30 min" in html and "clock time" in html
    lead_client.post(
        reverse("pages:hours_sla_edit", args=[target.pk]),
        {
            "channel": "",
            "min_priority": "0",
            "first_response_minutes": "45",
            "next_response_minutes": "60",
            "business_time": "1",
        },
    )
    target.refresh_from_db()
    assert target.channel is None and target.first_response_minutes == 45 and target.business_time
    lead_client.post(reverse("pages:hours_sla_delete", args=[target.pk]))
    assert not SlaTarget.objects.exists()
    verbs = list(
        Activity.objects.filter(verb__startswith="sla_target")
        .order_by("pk")
        .values_list("verb", flat=True)
    )
    assert verbs == ["sla_target_created", "sla_target_updated", "sla_target_deleted"]
    updated = Activity.objects.get(verb="sla_target_updated")
    assert updated.before["first_response_minutes"] == 30
    assert updated.after["first_response_minutes"] == 45


def test_an_sla_target_of_zero_minutes_is_refused(lead_client):
    response = lead_client.post(
        reverse("pages:hours_sla_new"),
        {
            "min_priority": "0",
            "first_response_minutes": "0",
            "next_response_minutes": "60",
            "business_time": "1",
        },
    )
    assert response.status_code == 400
    assert "Between 1 minute and 30 days." in response.content.decode()
    assert not SlaTarget.objects.exists()


def test_an_sla_target_set_through_the_page_changes_a_new_tickets_due_time(lead_client):
    lead_client.post(
        reverse("pages:hours_sla_new"),
        {
            "min_priority": "0",
            "first_response_minutes": "15",
            "next_response_minutes": "60",
            "business_time": "0",
        },
    )
    result = ingest_batch(channel_id=make_channel().pk, items=[item("m1")])
    ticket = Ticket.objects.get(pk=result.ticket_ids[0])
    assert ticket.due_at == ticket.waiting_since + dt.timedelta(minutes=15)


# --- acknowledgements -------------------------------------------------------------------------
def test_a_lead_adds_edits_and_deletes_an_acknowledgement(lead_client):
    channel = make_channel()
    response = lead_client.post(
        reverse("pages:hours_ack_new"),
        {
            "channel": channel.pk,
            "language": "NL",
            "text": "We zijn er weer om {opening_time}.",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    ack = AutoAck.objects.get()
    assert (ack.channel, ack.language, ack.enabled) == (channel, "nl", True)
    lead_client.post(
        reverse("pages:hours_ack_edit", args=[ack.pk]),
        {"channel": "", "language": "", "text": "Back {opening}"},
    )
    ack.refresh_from_db()
    assert ack.channel is None and ack.text == "Back {opening}" and not ack.enabled
    lead_client.post(reverse("pages:hours_ack_delete", args=[ack.pk]))
    assert not AutoAck.objects.exists()
    verbs = list(
        Activity.objects.filter(verb__startswith="auto_ack")
        .order_by("pk")
        .values_list("verb", flat=True)
    )
    assert verbs == ["auto_ack_created", "auto_ack_updated", "auto_ack_deleted"]
    assert Activity.objects.get(verb="auto_ack_updated").before["enabled"] is True


def test_an_acknowledgement_needs_a_text(lead_client):
    response = lead_client.post(
        reverse("pages:hours_ack_new"), {"language": "nl", "text": "  ", "enabled": "on"}
    )
    assert response.status_code == 400
    assert "The acknowledgement needs a text." in response.content.decode()
    assert not AutoAck.objects.exists()


def test_the_live_preview_fills_the_placeholders_with_the_next_opening(lead_client):
    BusinessHours.objects.create(time_zone="UTC", week={"sun": [["03:00", "04:00"]]})
    response = lead_client.get(
        reverse("pages:hours_ack_preview"),
        {"text": "Terug op {opening_day} om {opening_time} ({opening})", "language": "nl"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "<html" not in html and 'id="ack-sample"' in html
    if not _sunday_three_utc():
        assert "Terug op zondag om 3:00 (zondag 3:00)" in html


def test_the_overview_shows_each_acknowledgement_as_it_would_be_sent_now(lead_client):
    BusinessHours.objects.create(time_zone="UTC", week={"sun": [["03:00", "04:00"]]})
    AutoAck.objects.create(language="en", text="Back on {opening_day} at {opening_time}")
    html = lead_client.get(reverse("pages:hours")).content.decode()
    if not _sunday_three_utc():
        assert "Back on Sunday at 3:00" in html


def test_acknowledgement_text_is_escaped(lead_client):
    AutoAck.objects.create(text="<script>alert(1)</script> {opening}")
    html = lead_client.get(reverse("pages:hours")).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


# --- forbidden --------------------------------------------------------------------------------
def test_an_agent_cannot_open_or_change_hours_targets_or_acknowledgements(agent_client, support):
    hours = BusinessHours.objects.create(team=support)
    holiday = Holiday.objects.create(hours=hours, date=dt.date(2026, 12, 25))
    target = SlaTarget.objects.create(first_response_minutes=30)
    ack = AutoAck.objects.create(text="Back at {opening_time}")
    snapshot = (
        list(BusinessHours.objects.values()),
        list(Holiday.objects.values()),
        list(SlaTarget.objects.values()),
        list(AutoAck.objects.values()),
    )
    for method, url, data in [
        ("get", reverse("pages:hours"), {}),
        ("get", reverse("pages:hours_ack_preview"), {"text": "x"}),
        ("post", reverse("pages:hours_default"), _hours(mon="00:00-24:00")),
        ("post", reverse("pages:hours_team", args=[support.pk]), _hours(mon="00:00-24:00")),
        (
            "post",
            reverse("pages:hours_team", args=[support.pk]),
            {"form": "holiday", "date": upcoming(1, 1).isoformat()},
        ),
        ("post", reverse("pages:hours_holiday_delete", args=[holiday.pk]), {}),
        (
            "post",
            reverse("pages:hours_sla_new"),
            {
                "min_priority": "0",
                "first_response_minutes": "5",
                "next_response_minutes": "5",
                "business_time": "1",
            },
        ),
        (
            "post",
            reverse("pages:hours_sla_edit", args=[target.pk]),
            {
                "min_priority": "0",
                "first_response_minutes": "5",
                "next_response_minutes": "5",
                "business_time": "1",
            },
        ),
        ("post", reverse("pages:hours_sla_delete", args=[target.pk]), {}),
        ("post", reverse("pages:hours_ack_new"), {"text": "hi", "enabled": "on"}),
        ("post", reverse("pages:hours_ack_edit", args=[ack.pk]), {"text": "hi"}),
        ("post", reverse("pages:hours_ack_delete", args=[ack.pk]), {}),
    ]:
        assert getattr(agent_client, method)(url, data).status_code == 403, url
    assert snapshot == (
        list(BusinessHours.objects.values()),
        list(Holiday.objects.values()),
        list(SlaTarget.objects.values()),
        list(AutoAck.objects.values()),
    )
    assert not Activity.objects.filter(ticket__isnull=True).exists()


def test_a_teams_own_hours_apply_to_tickets_a_rule_routes_to_it(lead_client, support):
    from inbox.engines.routing import rule_create

    rule_create(actor=None, name="To support", keywords="parcel", set_team=support)
    lead_client.post(
        reverse("pages:hours_team", args=[support.pk]), _hours(time_zone="UTC", sun="03:00-04:00")
    )
    result = ingest_batch(channel_id=make_channel().pk, items=[item("m1", text="My parcel?")])
    ticket = Ticket.objects.get(pk=result.ticket_ids[0])
    assert ticket.team == support
    assert ticket.due_at.weekday() == 6
    if not _sunday_three_utc():  # else part of the hour is today, the rest next Sunday
        assert (ticket.due_at.weekday(), ticket.due_at.hour, ticket.due_at.minute) == (6, 4, 0)


def test_an_sla_target_priority_outside_the_range_is_refused(lead_client):
    response = lead_client.post(
        reverse("pages:hours_sla_new"),
        {
            "min_priority": "40000",
            "first_response_minutes": "10",
            "next_response_minutes": "10",
            "business_time": "1",
        },
    )
    assert response.status_code == 400 and not SlaTarget.objects.exists()
