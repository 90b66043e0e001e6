"""The leads' dashboard: figures against fixtures computed by hand, CSV, range, access, cost."""

import csv
import datetime as dt
import io
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.base import SendResult
from inbox.ingest.services import ingest_batch
from inbox.models import Tag, Team, Ticket
from inbox.replies.delivery import message_mark_sent
from inbox.replies.services import reply_queue
from inbox.reports.views import Period
from inbox.tickets.services import ticket_close
from tests.factories import item, make_channel
from tests.personas import person

# The figures are for the first week of November 2026, read a little later.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("recorded_clock")]
UTC = dt.UTC
MIN = 60  # seconds
# November 2026 in Amsterdam is UTC+1. The team has no hours of its own: Monday to Friday
# 08:00-18:00 in its zone.
MON_1730 = dt.datetime(2026, 11, 2, 16, 30, tzinfo=UTC)
TUE_0830 = dt.datetime(2026, 11, 3, 7, 30, tzinfo=UTC)
TUE_0900 = dt.datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
TUE_0920 = dt.datetime(2026, 11, 3, 8, 20, tzinfo=UTC)
TUE_1000 = dt.datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
TUE_1100 = dt.datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
FRI_1700 = dt.datetime(2026, 11, 6, 16, 0, tzinfo=UTC)
MON_0900 = dt.datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
RANGE = "from=2026-11-02&to=2026-11-09"


@pytest.fixture
def support():
    return Team.objects.create(name="Support", time_zone="Europe/Amsterdam")


@pytest.fixture
def lotte(support):
    return person("lotte", "lead", team=support)


@pytest.fixture
def lead_client(client, lotte):
    client.force_login(lotte)
    return client


def _at(monkeypatch, moment: dt.datetime) -> None:
    monkeypatch.setattr("django.utils.timezone.now", lambda: moment)


def _ticket(channel, team, at: dt.datetime, key: str, **kw) -> Ticket:
    return Ticket.objects.create(
        channel=channel,
        team=team,
        kind="mention",
        thread_key=key,
        created_at=at,
        first_inbound_at=at,
        waiting_since=at,
        status="open",
        **kw,
    )


def _answer(monkeypatch, ticket: Ticket, user, at: dt.datetime) -> None:
    _at(monkeypatch, at)
    message = reply_queue(ticket=ticket, author=user, text="We are on it.")
    message_mark_sent(message_id=message.pk, result=SendResult(external_id=f"out-{message.pk}"))


def _close(monkeypatch, ticket: Ticket, user, at: dt.datetime) -> None:
    _at(monkeypatch, at)
    ticket_close(ticket_id=ticket.pk, user=user)


@pytest.fixture
def week(monkeypatch, support, lotte):
    """Three tickets, answered and closed through the real services, one of them across a
    night, one across a weekend (answered outside Webcare and echoed back at ingest):

    ticket  first message   first answer   closed         clock: answer, close   business
    A       Mon 17:30       Tue 08:30      Tue 10:00      900 min, 990 min         60, 150
    B       Tue 09:00       Tue 09:20      Tue 11:00       20 min, 120 min         20, 120
    C       Fri 17:00       Mon 09:00      -             3840 min                 120
    """
    anna = person("anna", team=support)
    channel = make_channel(name="X Support")
    a = _ticket(channel, support, MON_1730, "a", intent="complaint")
    b = _ticket(channel, support, TUE_0900, "b", intent="compliment")
    _answer(monkeypatch, a, anna, TUE_0830)
    _answer(monkeypatch, b, anna, TUE_0920)
    Ticket.objects.filter(pk__in=[a.pk, b.pk]).update(assignee=anna)
    _close(monkeypatch, a, anna, TUE_1000)
    _close(monkeypatch, b, anna, TUE_1100)
    _at(monkeypatch, FRI_1700)
    ingest_batch(channel_id=channel.pk, items=[item("c1", thread="c", at=FRI_1700)])
    c = Ticket.objects.get(channel=channel, thread_key="c")
    Ticket.objects.filter(pk=c.pk).update(team=support, intent="complaint")
    _at(monkeypatch, MON_0900)
    ingest_batch(channel_id=channel.pk, items=[item("c2", thread="c", at=MON_0900, is_ours=True)])
    a.tags.add(Tag.objects.create(name="delivery"))
    c.tags.add(Tag.objects.get(name="delivery"))
    b.tags.add(Tag.objects.create(name="praise"))
    _at(monkeypatch, dt.datetime(2026, 11, 10, 12, 0, tzinfo=UTC))
    return {"a": a, "b": b, "c": c, "anna": anna, "channel": channel}


def _csv(client, report: str, query: str = RANGE) -> list[dict[str, str]]:
    response = client.get(f"{reverse('pages:dashboard')}?{query}&csv={report}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def _row(html: str, marker: str) -> str:
    """The row's text: its figures link to the tickets behind them, which is compared
    elsewhere (test_drill_down*.py)."""
    row = html[html.index(marker) :]
    return re.sub(r"</?a[^>]*>", "", row[: row.index("</tr>")])


# --- business time stored on the ticket --------------------------------------------------------
def test_answering_and_closing_store_business_time_across_the_night(week):
    a = Ticket.objects.get(pk=week["a"].pk)
    assert a.first_response_business_seconds == 60 * MIN
    assert a.resolution_business_seconds == 150 * MIN


def test_an_answer_echoed_at_ingest_stores_business_time_across_the_weekend(week):
    c = Ticket.objects.get(pk=week["c"].pk)
    assert c.first_response_at == MON_0900
    assert c.first_response_business_seconds == 120 * MIN
    assert c.resolution_business_seconds is None


def test_a_customer_reopening_a_closed_ticket_clears_its_resolution_time(week, monkeypatch):
    channel = week["channel"]
    _at(monkeypatch, TUE_1100)
    ingest_batch(channel_id=channel.pk, items=[item("c3", thread="c", at=TUE_1100)])
    c = Ticket.objects.get(pk=week["c"].pk)
    ticket_close(ticket_id=c.pk, user=week["anna"])
    c.refresh_from_db()
    assert c.resolution_business_seconds is not None
    ingest_batch(channel_id=channel.pk, items=[item("c4", thread="c", at=TUE_1100)])
    c.refresh_from_db()
    assert (c.status, c.resolution_business_seconds) == ("open", None)


# --- figures on the page and in CSV -------------------------------------------------------------
def test_response_times_on_the_clock_and_in_business_hours(lead_client, week):
    html = lead_client.get(f"{reverse('pages:dashboard')}?{RANGE}").content.decode()
    # First response: 20, 900, 3840 min on the clock; 20, 60, 120 in business hours.
    first = _row(html, 'data-measure="first_response"')
    assert first.split("<td>")[1:] == [
        "3</td>",
        "15 h 0 min</td>",
        "2 d 16 h</td>",
        "3</td>",
        "1 h 0 min</td>",
        "2 h 0 min</td>",
    ]
    # Resolution: 120, 990 min on the clock; 120, 150 in business hours.
    resolution = _row(html, 'data-measure="resolution"')
    assert resolution.split("<td>")[1:] == [
        "2</td>",
        "2 h 0 min</td>",
        "16 h 30 min</td>",
        "2</td>",
        "2 h 0 min</td>",
        "2 h 30 min</td>",
    ]


def test_response_times_in_csv(lead_client, week):
    rows = {r["measure"]: r for r in _csv(lead_client, "times")}
    assert rows["first_response"] == {
        "measure": "first_response",
        "count": "3",
        "median_minutes": "900.0",
        "p90_minutes": "3840.0",
    }
    assert (
        rows["first_response_business_hours"]["median_minutes"],
        rows["first_response_business_hours"]["p90_minutes"],
    ) == ("60.0", "120.0")
    assert (rows["resolution"]["median_minutes"], rows["resolution"]["p90_minutes"]) == (
        "120.0",
        "990.0",
    )
    assert (
        rows["resolution_business_hours"]["median_minutes"],
        rows["resolution_business_hours"]["p90_minutes"],
    ) == ("120.0", "150.0")


def test_volume_by_channel_and_local_day_in_the_chart_and_csv(lead_client, week):
    html = lead_client.get(f"{reverse('pages:dashboard')}?{RANGE}").content.decode()
    assert "3 new tickets over 8 days. Busiest day: 2 Nov with 1." in html  # the text alternative
    bar = html[html.index('data-day="2026-11-03"') :]
    bar = bar[: bar.index("</g>")]
    assert "X Support: 1" in bar and '<text class="value"' in bar
    assert _csv(lead_client, "volume") == [
        {"day": "2026-11-02", "channel": "X Support", "tickets": "1"},
        {"day": "2026-11-03", "channel": "X Support", "tickets": "1"},
        {"day": "2026-11-06", "channel": "X Support", "tickets": "1"},
    ]


def test_per_agent_replies_closed_and_first_response(lead_client, week):
    anna = week["anna"]
    html = lead_client.get(f"{reverse('pages:dashboard')}?{RANGE}").content.decode()
    row = _row(html, f'data-agent="{anna.pk}"')
    # Two replies, two closed; first responses of her tickets 20 and 900 min.
    assert row.split("<td>")[1:] == [
        "Anna</td>",
        "2</td>",
        "2</td>",
        "20 min</td>",
        "15 h 0 min</td>",
    ]
    assert _csv(lead_client, "agents") == [
        {
            "agent": "anna",
            "replies": "2",
            "closed": "2",
            "first_response_median_minutes": "20.0",
            "first_response_p90_minutes": "900.0",
        }
    ]


def test_complaints_and_compliments_answered(lead_client, week):
    html = lead_client.get(f"{reverse('pages:dashboard')}?{RANGE}").content.decode()
    complaints = html[html.index('data-figure="complaints"') :]
    card = re.sub(r"</?a[^>]*>", "", complaints[: complaints.index("</div>")])
    assert "<dd>100 %</dd>" in card
    assert {r["intent"]: r for r in _csv(lead_client, "intents")} == {
        "complaint": {"intent": "complaint", "tickets": "2", "answered": "2"},
        "compliment": {"intent": "compliment", "tickets": "1", "answered": "1"},
    }


def test_sla_attainment_met_breached_pending(lead_client, week, monkeypatch):
    def due(ticket, at):
        Ticket.objects.filter(pk=ticket.pk).update(first_response_due_at=at)

    due(week["a"], MON_1730)  # answered Tuesday 08:30: breached
    due(week["b"], TUE_1000)  # answered 09:20: met
    due(week["c"], MON_0900)  # answered at the due time itself: met
    channel = week["channel"]
    due(_ticket(channel, None, FRI_1700, "d"), MON_0900)  # unanswered, overdue: breached
    due(_ticket(channel, None, FRI_1700, "e"), MON_0900 + dt.timedelta(hours=14))  # pending
    _at(monkeypatch, MON_0900 + dt.timedelta(hours=12))
    html = lead_client.get(f"{reverse('pages:dashboard')}?{RANGE}").content.decode()
    row = _row(html, '<td data-sla="met">')  # each figure links to its tickets
    assert row.split("</td>")[:5] == [
        '<td data-sla="met">2',
        '<td data-sla="breached">2',
        '<td data-sla="pending">1',
        '<td data-sla="decided">4',
        '<td data-sla="rate">50 %',
    ]
    assert _csv(lead_client, "sla") == [
        {"met": "2", "breached": "2", "pending": "1", "decided": "4", "rate": "0.5"}
    ]


def test_top_tags_and_their_csv(lead_client, week):
    assert _csv(lead_client, "tags") == [
        {"name": "delivery", "tickets": "2"},
        {"name": "praise", "tickets": "1"},
    ]


def test_the_team_filter_leaves_out_other_teams(lead_client, week):
    other = Team.objects.create(name="Billing")
    Ticket.objects.filter(pk=week["b"].pk).update(team=other)
    rows = _csv(lead_client, "volume", f"{RANGE}&team={other.pk}")
    assert rows == [{"day": "2026-11-03", "channel": "X Support", "tickets": "1"}]
    support = week["a"].team_id
    assert len(_csv(lead_client, "volume", f"{RANGE}&team={support}")) == 2


def test_csv_cells_that_look_like_formulas_are_defused(lead_client, week):
    Tag.objects.filter(name="praise").update(name="=HYPERLINK(1)")
    names = [r["name"] for r in _csv(lead_client, "tags")]
    assert "'=HYPERLINK(1)" in names


def test_an_unknown_csv_report_is_not_found(lead_client):
    assert lead_client.get(reverse("pages:dashboard") + "?csv=secrets").status_code == 404


# --- range, presets, polling ------------------------------------------------------------------
def test_presets_and_custom_ranges_are_whole_local_days():
    today = dt.date(2026, 11, 20)
    assert Period.from_query({}, today) == Period(dt.date(2026, 11, 14), today, "7d")
    assert Period.from_query({"range": "today"}, today).first == today
    assert Period.from_query({"range": "30d"}, today).first == dt.date(2026, 10, 22)
    swapped = Period.from_query({"from": "2026-11-10", "to": "2026-11-01", "team": "3"}, today)
    assert (swapped.first, swapped.last, swapped.team_id) == (
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 10),
        3,
    )
    assert Period.from_query({"from": "nonsense"}, today).preset == "7d"


def test_the_figures_poll_with_the_chosen_range_and_team(lead_client, support):
    query = f"from=2026-11-02&to=2026-11-09&team={support.pk}"
    html = lead_client.get(f"{reverse('pages:dashboard')}?{query}").content.decode()
    assert f'hx-get="/dashboard/?{query.replace("&", "&amp;")}"' in html
    assert 'hx-trigger="every 30s"' in html


def test_a_poll_gets_only_the_figures(lead_client, week):
    response = lead_client.get(f"{reverse('pages:dashboard')}?{RANGE}", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="figures"')
    assert "<html" not in html and 'data-measure="first_response"' in html


def test_channel_and_tag_names_are_escaped(lead_client, week):
    week["channel"].__class__.objects.filter(pk=week["channel"].pk).update(
        name="<script>alert(1)</script>"
    )
    html = lead_client.get(f"{reverse('pages:dashboard')}?{RANGE}").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- access and cost --------------------------------------------------------------------------
def test_an_agent_gets_403_for_the_page_and_the_csv(client, support):
    client.force_login(person("anna", team=support))
    assert client.get(reverse("pages:dashboard")).status_code == 403
    assert client.get(reverse("pages:dashboard") + "?csv=agents").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("pages:dashboard"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_dashboard_costs_the_same_queries_however_many_tickets(lead_client, support):
    anna = person("anna", team=support)
    channel = make_channel()
    now = dt.datetime.now(UTC)

    def add(first: int, last: int) -> None:
        for i in range(first, last):
            _ticket(
                channel,
                support,
                now - dt.timedelta(hours=i),
                f"q{i}",
                assignee=anna,
                intent="question",
                first_response_at=now,
                first_response_business_seconds=60,
            )

    def cost() -> int:
        cache.clear()  # the figures are shared for a few seconds; count computing them
        with CaptureQueriesContext(connection) as queries:
            assert lead_client.get(reverse("pages:dashboard") + "?range=30d").status_code == 200
        return len(queries)

    add(0, 2)
    few = cost()
    add(2, 40)
    assert cost() == few <= 25


def test_leads_polling_the_same_range_share_the_figures_for_a_few_seconds(
    lead_client, support, week
):
    url = f"{reverse('pages:dashboard')}?{RANGE}"
    lead_client.get(url)
    kees = Client()
    kees.force_login(person("kees", "lead", team=support))
    with CaptureQueriesContext(connection) as queries:
        html = kees.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert not any("inbox_ticket" in q["sql"] for q in queries.captured_queries)
    assert 'data-measure="first_response"' in html and "15 h 0 min" in html


def test_older_tickets_get_their_business_times_from_the_backfill(support):
    channel = make_channel()
    old = _ticket(channel, support, MON_1730, "old", first_response_at=TUE_0830)
    Ticket.objects.filter(pk=old.pk).update(status="closed", closed_at=TUE_1000)
    call_command("business_durations_backfill", batch=1, stdout=io.StringIO())
    old.refresh_from_db()
    assert (old.first_response_business_seconds, old.resolution_business_seconds) == (
        60 * MIN,
        150 * MIN,
    )
