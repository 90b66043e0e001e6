"""Report numbers against fixtures computed by hand."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from inbox.models import DeliveryState, Message, Tag, Team, Ticket
from inbox.reports.selectors import (
    dashboard,
    first_response_times,
    intent_mix,
    per_agent,
    resolution_times,
    sla_attainment,
    tag_counts,
    to_csv,
    volume_by_channel_and_day,
)
from tests.factories import make_channel

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)  # Monday 10:00 in Amsterdam
MIN = dt.timedelta(minutes=1)
START, END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def ticket(channel, *, at=T0, response=None, closed=None, due=None, intent="", assignee=None):
    n = Ticket.objects.count() + 1
    return Ticket.objects.create(
        channel=channel,
        kind="mention",
        thread_key=f"t{n}",
        created_at=at,
        first_inbound_at=at,
        first_response_at=at + response if response is not None else None,
        status="closed" if closed is not None else "open",
        closed_at=at + closed if closed is not None else None,
        first_response_due_at=at + due if due is not None else None,
        intent=intent,
        assignee=assignee,
    )


def test_median_and_p90_of_first_response_use_the_nearest_rank():
    channel = make_channel()
    for minutes in (50, 10, 40, 20, 30):
        ticket(channel, response=minutes * MIN)
    ticket(channel)  # not answered yet: not in the times
    stats = first_response_times(start=START, end=END)
    # Sorted 10 20 30 40 50: median = 3rd of 5, p90 = ceil(4.5) = 5th.
    assert (stats.count, stats.median, stats.p90) == (5, 30 * MIN, 50 * MIN)


def test_an_even_count_takes_the_lower_middle_and_ceil_for_p90():
    channel = make_channel()
    for minutes in (10, 20, 30, 40):
        ticket(channel, response=minutes * MIN)
    stats = first_response_times(start=START, end=END)
    assert (stats.median, stats.p90) == (20 * MIN, 40 * MIN)


def test_resolution_counts_tickets_closed_in_the_period():
    channel = make_channel()
    ticket(channel, closed=60 * MIN)
    ticket(channel, closed=180 * MIN)
    ticket(channel, at=T0 - dt.timedelta(days=40), closed=24 * 60 * MIN)  # closed in October
    ticket(channel)
    stats = resolution_times(start=START, end=END)
    assert (stats.count, stats.median, stats.p90) == (2, 60 * MIN, 180 * MIN)


def test_empty_periods_have_no_figures():
    stats = first_response_times(start=START, end=END)
    assert (stats.count, stats.median, stats.p90) == (0, None, None)


def test_sla_attainment_counts_met_breached_and_pending():
    channel = make_channel()
    now = T0 + 120 * MIN
    ticket(channel, response=30 * MIN, due=60 * MIN)  # met
    ticket(channel, response=60 * MIN, due=60 * MIN)  # met, exactly on time
    ticket(channel, response=90 * MIN, due=60 * MIN)  # answered late
    ticket(channel, due=60 * MIN)  # overdue, unanswered
    ticket(channel, due=180 * MIN)  # still within its time
    result = sla_attainment(start=START, end=END, now=now)
    assert result == {"met": 2, "breached": 2, "pending": 1, "decided": 4, "rate": 0.5}


def test_volume_by_channel_and_local_day():
    web, x = make_channel(name="Web"), make_channel(name="X")
    ticket(web, at=dt.datetime(2026, 11, 2, 22, 30, tzinfo=dt.UTC))  # 23:30 Amsterdam, the 2nd
    ticket(web, at=dt.datetime(2026, 11, 2, 23, 30, tzinfo=dt.UTC))  # 00:30 Amsterdam, the 3rd
    ticket(x, at=dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC))
    ticket(x, at=dt.datetime(2026, 11, 2, 13, 0, tzinfo=dt.UTC))
    rows = volume_by_channel_and_day(start=START, end=END, zone="Europe/Amsterdam")
    assert [(r["day"].isoformat(), r["channel"], r["tickets"]) for r in rows] == [
        ("2026-11-02", "Web", 1),
        ("2026-11-02", "X", 2),
        ("2026-11-03", "Web", 1),
    ]


def test_intent_mix_shows_how_many_of_each_we_answered():
    channel = make_channel()
    ticket(channel, intent="compliment", response=5 * MIN)
    ticket(channel, intent="compliment")
    ticket(channel, intent="compliment")
    ticket(channel, intent="complaint", response=5 * MIN)
    assert intent_mix(start=START, end=END) == [
        {"intent": "complaint", "tickets": 1, "answered": 1},
        {"intent": "compliment", "tickets": 3, "answered": 1},
    ]


def test_per_agent_replies_closes_and_response_times():
    anna = get_user_model().objects.create_user("anna")
    bob = get_user_model().objects.create_user("bob")
    channel = make_channel()
    a1 = ticket(channel, response=10 * MIN, closed=20 * MIN, assignee=anna)
    ticket(channel, response=30 * MIN, assignee=anna)
    ticket(channel, response=50 * MIN, closed=60 * MIN, assignee=bob)
    for n in range(3):
        Message.objects.create(
            ticket=a1,
            channel=channel,
            direction="out",
            author_user=anna,
            delivery_state=DeliveryState.SENT,
            sent_at=T0 + n * MIN,
            text="hi",
        )
    Message.objects.create(
        ticket=a1,
        channel=channel,
        direction="out",
        author_user=anna,
        delivery_state=DeliveryState.FAILED,
        sent_at=T0,
        text="lost",
    )
    rows = {r["agent"]: r for r in per_agent(start=START, end=END)}
    assert (rows["anna"]["replies"], rows["anna"]["closed"]) == (3, 1)
    assert rows["anna"]["first_response_median"] == 10 * MIN
    assert rows["anna"]["first_response_p90"] == 30 * MIN
    assert (rows["bob"]["replies"], rows["bob"]["closed"]) == (0, 1)


def test_tag_counts():
    channel = make_channel()
    refund, late = Tag.objects.create(name="refund"), Tag.objects.create(name="late")
    for t in (ticket(channel), ticket(channel)):
        t.tags.add(late)
    ticket(channel).tags.add(refund)
    assert tag_counts(start=START, end=END) == [
        {"name": "late", "tickets": 2},
        {"name": "refund", "tickets": 1},
    ]


def test_csv_export_defuses_spreadsheet_formulas():
    text = to_csv([{"channel": "=HYPERLINK(1)", "tickets": 3}], ["channel", "tickets"])
    assert text.splitlines() == ["channel,tickets", "'=HYPERLINK(1),3"]


def test_the_report_command_prints_every_section_and_one_as_csv():
    from io import StringIO

    from django.core.management import call_command

    channel = make_channel(name="Web")
    ticket(channel, response=10 * MIN, intent="question")
    out = StringIO()
    call_command("leads_report", "--from", "2026-11-01", "--to", "2026-11-30", stdout=out)
    for section in ("volume", "times", "sla", "agents", "intents", "tags"):
        assert f"== {section}" in out.getvalue()
    out = StringIO()
    call_command(
        "leads_report", "--from", "2026-11-01", "--to", "2026-11-30", "--csv", "intents", stdout=out
    )
    assert out.getvalue().splitlines() == ["intent,tickets,answered", "question,1,1"]


# --- the dashboard's PostgreSQL scans against the reports one by one ---------------------------
def _one_by_one(*, start, end, zone, team_id, now):
    span = {"start": start, "end": end, "team_id": team_id}
    return {
        "times": {
            "first_response": (
                first_response_times(**span),
                first_response_times(**span, business=True),
            ),
            "resolution": (resolution_times(**span), resolution_times(**span, business=True)),
        },
        "volume": volume_by_channel_and_day(**span, zone=zone),
        "sla": sla_attainment(**span, now=now),
        "agents": per_agent(**span),
        "intents": intent_mix(**span),
        "tags": tag_counts(**span),
    }


@pytest.fixture
def mixed():
    """Two teams, three channels, four agents and 240 tickets in and around November: answered
    or not, in time or late, closed in the month or after, some without business times, one
    without a first inbound message, tagged or not. Deterministic."""
    support, sales = Team.objects.create(name="Support"), Team.objects.create(name="Sales")
    agents = [get_user_model().objects.create_user(name) for name in ("anna", "bob", "cem", "do")]
    channels = [make_channel(name=name) for name in ("X", "facebook", "Reviews")]
    late = Tag.objects.create(name="late")
    start = START - dt.timedelta(days=3)
    for i in range(240):
        at = start + dt.timedelta(hours=i * 3 + (i * 7) % 5, minutes=(i * 13) % 60)
        response = dt.timedelta(minutes=(i * 37) % 40, seconds=(i * 23) % 60) if i % 5 else None
        closed = dt.timedelta(hours=(i * 11) % 90, seconds=i) if i % 3 == 0 else None
        t = ticket(
            channels[i % 3],
            at=at,
            response=response,
            closed=closed,
            due=dt.timedelta(minutes=60),
            intent=("complaint", "compliment", "question", "", "other")[i % 5],
            assignee=agents[i % 4] if i % 7 else None,
        )
        Ticket.objects.filter(pk=t.pk).update(
            team=(support, sales)[i % 2],
            first_response_business_seconds=(i * 17) % 300 if response and i % 4 else None,
            resolution_business_seconds=(i * 29) % 9000 if closed and i % 6 else None,
            first_inbound_at=None if i == 42 else at,
        )
        if i % 9 == 0:
            t.tags.add(late)
        if response is not None and i % 4 != 3:
            Message.objects.create(
                ticket=t,
                channel=t.channel,
                direction="out",
                author_user=agents[(i + 1) % 4],
                delivery_state=DeliveryState.SENT,
                sent_at=at + response,
                text="hi",
            )
    return support


@pytest.mark.postgres
@pytest.mark.parametrize("zone", ["UTC", "Europe/Amsterdam"])
@pytest.mark.parametrize("team", [False, True])
def test_the_dashboard_scans_give_the_numbers_of_the_reports_one_by_one(mixed, zone, team):
    span = {
        "start": START,
        "end": END,
        "zone": zone,
        "team_id": mixed.pk if team else None,
        "now": START + dt.timedelta(days=20),
    }
    together = dashboard(**span)
    assert together == _one_by_one(**span)
    assert together["agents"] and together["volume"] and together["sla"]["pending"]


def test_the_dashboard_has_every_figure_of_an_empty_period():
    figures = dashboard(start=START, end=END, zone="UTC", now=END)
    assert figures["volume"] == figures["agents"] == figures["intents"] == figures["tags"] == []
    assert figures["times"]["first_response"][0] == figures["times"]["resolution"][1]
    assert figures["times"]["first_response"][0].count == 0
    assert (figures["sla"]["decided"], figures["sla"]["rate"]) == (0, None)


@pytest.mark.postgres
def test_the_report_brin_indexes_summarize_each_full_range_without_waiting_for_vacuum():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN"
            " ('ticket_created_brin', 'ticket_first_inbound_brin', 'ticket_closed_brin',"
            " 'ticket_first_due_brin')"
        )
        options = dict(cursor.fetchall())
    assert len(options) == 4
    assert all(value == ["autosummarize=on"] for value in options.values())


def test_an_incident_answer_counts_for_the_lead_who_sent_it():
    lotte = get_user_model().objects.create_user("lotte")
    channel = make_channel()
    unheld = ticket(channel, response=40 * MIN, closed=40 * MIN)  # nobody held it
    Message.objects.create(
        ticket=unheld,
        channel=channel,
        direction="out",
        author_user=lotte,
        delivery_state=DeliveryState.SENT,
        sent_at=T0 + 40 * MIN,
        text="Deliveries run again.",
    )
    rows = {r["agent"]: r for r in per_agent(start=START, end=END)}
    assert rows["lotte"]["replies"] == 1
    assert rows["lotte"]["first_response_median"] == 40 * MIN
