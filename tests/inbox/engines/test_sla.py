"""Business hours, SLA due times (across nights, weekends, holidays, DST) and auto-acks."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.models import Channel
from inbox.core.business_time import (
    Calendar,
    add_business_time,
    business_time_between,
    is_open,
    next_opening,
)
from inbox.engines.sla import ticket_sla_refresh
from inbox.ingest.services import ingest_batch
from inbox.models import (
    Activity,
    AutoAck,
    BusinessHours,
    DeliveryState,
    Holiday,
    Message,
    SlaTarget,
    Team,
    Ticket,
)
from tests.factories import item, make_channel

AMS = ZoneInfo("Europe/Amsterdam")
OFFICE = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
HOUR = dt.timedelta(hours=1)


def ams(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


def office(zone="Europe/Amsterdam", holidays=()) -> Calendar:
    return Calendar.build(zone=zone, week=OFFICE, holidays=holidays)


# --- business-time arithmetic ---------------------------------------------------------------
def test_an_hour_within_opening_hours_is_an_hour():
    assert add_business_time(office(), ams(2026, 11, 18, 10, 0), HOUR) == ams(2026, 11, 18, 11, 0)


def test_a_message_late_on_friday_is_due_on_monday_morning():
    due = add_business_time(office(), ams(2026, 11, 20, 17, 30), HOUR)
    assert due == ams(2026, 11, 23, 8, 30)


def test_a_message_at_night_is_due_an_hour_after_opening():
    assert add_business_time(office(), ams(2026, 11, 18, 23, 0), HOUR) == ams(2026, 11, 19, 9, 0)


def test_holidays_are_skipped():
    calendar = office(holidays=[dt.date(2026, 12, 25), dt.date(2026, 12, 28)])
    # Thursday 24 December 17:30; Friday is Christmas, Monday the 28th closed too.
    due = add_business_time(calendar, ams(2026, 12, 24, 17, 30), HOUR)
    assert due == ams(2026, 12, 29, 8, 30)


def test_the_weekend_in_which_the_clocks_go_forward_does_not_change_the_hour():
    # Summer time starts on Sunday 29 March 2026: Friday is UTC+1, Monday UTC+2.
    due = add_business_time(office(), ams(2026, 3, 27, 17, 30), HOUR)
    assert due == ams(2026, 3, 30, 8, 30)
    assert due.astimezone(dt.UTC) == dt.datetime(2026, 3, 30, 6, 30, tzinfo=dt.UTC)


def test_a_round_the_clock_calendar_counts_real_time_across_the_dst_gap():
    always = Calendar.build(zone="Europe/Amsterdam", week={})
    start = ams(2026, 3, 29, 1, 30)  # 30 minutes before the clocks jump from 2:00 to 3:00
    assert add_business_time(always, start, HOUR) == ams(2026, 3, 29, 3, 30)


def test_opening_hours_are_local_to_the_calendars_zone():
    new_york = office(zone="America/New_York")
    start = dt.datetime(2026, 11, 18, 13, 0, tzinfo=dt.UTC)  # 8:00 in New York
    assert add_business_time(new_york, start, HOUR) == dt.datetime(
        2026, 11, 18, 14, 0, tzinfo=dt.UTC
    )


def test_next_opening_and_is_open():
    calendar = office()
    assert not is_open(calendar, ams(2026, 11, 21, 12, 0))  # Saturday
    assert next_opening(calendar, ams(2026, 11, 21, 12, 0)) == ams(2026, 11, 23, 8, 0)
    assert is_open(calendar, ams(2026, 11, 23, 8, 0))
    assert next_opening(calendar, ams(2026, 11, 23, 9, 0)) == ams(2026, 11, 23, 9, 0)


# --- properties -----------------------------------------------------------------------------
ZONES = ["Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"]


@st.composite
def calendars(draw):
    week = {}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        intervals = []
        if draw(st.booleans()):
            a = draw(st.integers(0, 22 * 4))
            b = draw(st.integers(a + 4, 24 * 4))
            intervals.append([f"{a // 4:02d}:{a % 4 * 15:02d}", f"{b // 4:02d}:{b % 4 * 15:02d}"])
        week[day] = intervals
    holidays = draw(st.lists(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)), max_size=10))
    return Calendar.build(zone=draw(st.sampled_from(ZONES)), week=week, holidays=holidays)


# Hypothesis takes naive bounds and attaches the zone itself.
instants = st.datetimes(
    min_value=dt.datetime(2026, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2027, 6, 30),  # noqa: DTZ001
    timezones=st.just(dt.UTC),
)
durations = st.integers(0, 60 * 24 * 5).map(lambda m: dt.timedelta(minutes=m))


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, durations)
def test_the_due_time_is_exactly_the_business_time_asked_for(calendar, start, delta):
    due = add_business_time(calendar, start, delta)
    assert due >= start
    assert business_time_between(calendar, start, due) == delta


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, durations.filter(bool))
def test_the_due_time_falls_in_opening_hours(calendar, start, delta):
    due = add_business_time(calendar, start, delta)
    # The last minute before the due time is business time.
    assert is_open(calendar, due - dt.timedelta(microseconds=1))


@settings(max_examples=100, deadline=None)
@given(calendars(), instants, durations, durations)
def test_adding_business_time_in_two_steps_is_adding_it_at_once(calendar, start, a, b):
    once = add_business_time(calendar, start, a + b)
    twice = add_business_time(calendar, add_business_time(calendar, start, a), b)
    assert once == twice


# --- on tickets -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_ingest_sets_the_first_response_due_time_in_business_hours():
    channel = make_channel()
    BusinessHours.objects.create(team=None, time_zone="Europe/Amsterdam", week=OFFICE)
    ingest_batch(channel_id=channel.pk, items=[item("m1", at=ams(2026, 11, 20, 17, 30))])
    assert Ticket.objects.get().due_at == ams(2026, 11, 23, 8, 30)


@pytest.mark.django_db
def test_a_teams_own_hours_and_holidays_apply():
    team = Team.objects.create(name="Care", time_zone="Europe/Amsterdam")
    hours = BusinessHours.objects.create(team=team, week={"sat": [["10:00", "16:00"]]})
    Holiday.objects.create(hours=hours, date=dt.date(2026, 11, 21), name="Closed")
    channel = make_channel(default_team=team)
    ingest_batch(channel_id=channel.pk, items=[item("m1", at=ams(2026, 11, 20, 12, 0))])
    assert Ticket.objects.get().due_at == ams(2026, 11, 28, 11, 0)


@pytest.mark.django_db
def test_the_most_specific_target_applies():
    channel = make_channel()
    BusinessHours.objects.create(team=None, week={})  # round the clock
    SlaTarget.objects.create(channel=None, first_response_minutes=240)
    SlaTarget.objects.create(channel=channel, min_priority=10, first_response_minutes=30)
    at = (
        timezone.now()
    )  # no waiting points yet: priority is the intent's (question 5, complaint 10)
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item("m1", thread="calm", text="Wanneer openen jullie?", at=at),
            item("m2", thread="angry", uid="u2", text="Belachelijk, kapot geleverd 😡", at=at),
        ],
    )
    assert Ticket.objects.get(thread_key="calm").due_at == at + dt.timedelta(minutes=240)
    assert Ticket.objects.get(thread_key="angry").due_at == at + dt.timedelta(minutes=30)


@pytest.mark.django_db
def test_our_echoed_answer_clears_the_due_time_and_the_next_message_sets_a_new_one():
    channel = make_channel()
    BusinessHours.objects.create(team=None, week={})
    SlaTarget.objects.create(first_response_minutes=60, next_response_minutes=120)
    t0 = ams(2026, 11, 18, 10, 0)
    ingest_batch(channel_id=channel.pk, items=[item("m1", at=t0)])
    ingest_batch(channel_id=channel.pk, items=[item("o1", is_ours=True, at=t0 + HOUR)])
    assert Ticket.objects.get().due_at is None
    ingest_batch(channel_id=channel.pk, items=[item("m2", at=t0 + 2 * HOUR)])
    assert Ticket.objects.get().due_at == t0 + 4 * HOUR


@pytest.mark.django_db
def test_the_refresh_for_reply_services_clears_the_due_time_of_an_answered_ticket():
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1")])
    Ticket.objects.update(waiting_since=None)
    ticket = ticket_sla_refresh(ticket=Ticket.objects.get())
    assert ticket.due_at is None and Ticket.objects.get().due_at is None


# --- auto-acknowledgement -------------------------------------------------------------------
CLOSED_NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)  # a Saturday


def _closed_office():
    BusinessHours.objects.create(team=None, time_zone="Europe/Amsterdam", week=OFFICE)


@pytest.fixture
def saturday(monkeypatch):
    monkeypatch.setattr("inbox.engines.at_ingest.timezone.now", lambda: CLOSED_NOW)


@pytest.mark.django_db
def test_outside_hours_the_customer_gets_one_acknowledgement_with_the_opening_time(
    saturday, django_capture_on_commit_callbacks
):
    _closed_office()
    AutoAck.objects.create(language="nl", text="We zijn er {opening_day} om {opening_time} weer.")
    channel = make_channel()
    with django_capture_on_commit_callbacks() as callbacks:
        ingest_batch(channel_id=channel.pk, items=[item("m1", text="Hallo?", language="nl")])
    ack = Message.objects.get(direction="out")
    assert ack.text == "We zijn er maandag om 8:00 weer."
    assert ack.delivery_state == DeliveryState.QUEUED and ack.author_user is None
    assert ack.send_options == {"auto_ack": True}
    assert len(callbacks) == 1
    assert Activity.objects.filter(verb="auto_ack_queued").count() == 1


@pytest.mark.django_db
def test_the_acknowledgement_is_sent_once_per_ticket(saturday):
    _closed_office()
    AutoAck.objects.create(text="We're back {opening}.")
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1")])
    ingest_batch(channel_id=channel.pk, items=[item("m2")])
    ingest_batch(channel_id=channel.pk, items=[item("m1")])  # a replay
    assert Message.objects.filter(direction="out").count() == 1


@pytest.mark.django_db
def test_no_acknowledgement_during_opening_hours(monkeypatch):
    monkeypatch.setattr(
        "inbox.engines.at_ingest.timezone.now",
        lambda: dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.UTC),
    )
    _closed_office()
    AutoAck.objects.create(text="We're back {opening}.")
    ingest_batch(channel_id=make_channel().pk, items=[item("m1")])
    assert not Message.objects.filter(direction="out").exists()


@pytest.mark.django_db
def test_the_language_specific_text_wins_and_falls_back_to_any(saturday):
    _closed_office()
    AutoAck.objects.create(text="Back {opening}.")
    AutoAck.objects.create(language="nl", text="Terug {opening}.")
    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item("m1", thread="a", language="nl"),
            item("m2", thread="b", uid="u2", language="de"),
        ],
    )
    texts = set(Message.objects.filter(direction="out").values_list("text", flat=True))
    assert texts == {"Terug maandag 8:00.", "Back Monday 8:00."}


@pytest.mark.django_db
def test_channels_that_do_not_want_acknowledgements_get_none_unless_enabled_for_them(
    saturday, monkeypatch
):
    _closed_office()
    AutoAck.objects.create(text="Back {opening}.")
    channel = make_channel()
    monkeypatch.setattr(channel.connector_class, "auto_ack_default", False)
    ingest_batch(channel_id=channel.pk, items=[item("m1", thread="a")])
    assert not Message.objects.filter(direction="out").exists()
    AutoAck.objects.create(channel=channel, text="Thanks for your review, back {opening}.")
    ingest_batch(channel_id=channel.pk, items=[item("m2", thread="b", uid="u2")])
    assert Message.objects.get(direction="out").text.startswith("Thanks for your review")


@pytest.mark.django_db
def test_a_disabled_channel_template_silences_the_general_one(saturday):
    _closed_office()
    AutoAck.objects.create(text="Back {opening}.")
    channel = make_channel()
    AutoAck.objects.create(channel=channel, text="x", enabled=False)
    ingest_batch(channel_id=channel.pk, items=[item("m1")])
    assert not Message.objects.filter(direction="out").exists()


@pytest.mark.django_db
@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_a_sent_acknowledgement_is_not_counted_as_our_first_response(saturday):
    from inbox.replies.delivery import message_deliver

    _closed_office()
    AutoAck.objects.create(text="Back {opening}.")
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1")])
    ack = Message.objects.get(direction="out")
    assert message_deliver(message_id=ack.pk) == "sent"
    ticket = Ticket.objects.get()
    assert ticket.first_response_at is None and ticket.waiting_since is not None
    assert Channel.objects.count() == 1


@pytest.mark.django_db
def test_leads_see_the_tickets_whose_answer_is_due_soon_soonest_first():
    from inbox.engines.sla import sla_at_risk

    channel = make_channel()
    BusinessHours.objects.create(team=None, week={})
    now = timezone.now()
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item("m1", thread="overdue", at=now - 2 * HOUR),
            item("m2", thread="soon", uid="u2", at=now - dt.timedelta(minutes=45)),
            item("m3", thread="later", uid="u3", at=now),
        ],
    )
    risky = sla_at_risk(within=dt.timedelta(minutes=30), now=now)
    assert [t.thread_key for t in risky] == ["overdue", "soon"]


@pytest.mark.django_db
def test_without_any_hours_a_team_gets_office_hours_in_its_own_zone():
    team = Team.objects.create(name="US", time_zone="America/New_York")
    channel = make_channel(default_team=team)
    friday_5pm_ny = dt.datetime(2026, 11, 20, 22, 0, tzinfo=dt.UTC)
    ingest_batch(channel_id=channel.pk, items=[item("m1", at=friday_5pm_ny)])
    # 08:00–18:00 on weekdays: one hour left on Friday would be 18:00; it is due then.
    assert Ticket.objects.get().due_at == dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_the_defaults_command_creates_a_working_setup_once():
    from io import StringIO

    from django.core.management import call_command

    from inbox.models import Rule

    call_command("leads_defaults", stdout=StringIO())
    out = StringIO()
    call_command("leads_defaults", stdout=out)
    assert "nothing" in out.getvalue()
    assert BusinessHours.objects.count() == 1 and SlaTarget.objects.count() == 1
    assert set(AutoAck.objects.values_list("language", flat=True)) == {"nl", "en"}
    assert Rule.objects.get().enabled is False


@pytest.mark.django_db
def test_a_broker_outage_leaves_the_acknowledgement_queued_and_ingest_succeeds(
    saturday, monkeypatch, django_capture_on_commit_callbacks
):
    from channels import tasks

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.send_message, "apply_async", down)
    _closed_office()
    AutoAck.objects.create(text="Back {opening}.")
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_batch(channel_id=make_channel().pk, items=[item("m1")])
    assert result.created == 1
    assert Message.objects.get(direction="out").delivery_state == DeliveryState.QUEUED


@pytest.mark.django_db
def test_the_sweep_clears_due_times_of_tickets_answered_by_any_path():
    from inbox.engines.sla import sla_sweep

    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[item("m1", thread="answered"), item("m2", thread="waiting", uid="u2")],
    )
    # A reply path that does not call ticket_sla_refresh: the wait ends, the due time stays.
    Ticket.objects.filter(thread_key="answered").update(waiting_since=None)
    assert sla_sweep() == 1
    assert Ticket.objects.get(thread_key="answered").due_at is None
    assert Ticket.objects.get(thread_key="waiting").due_at is not None
