"""The audit log page: filters, keyset pages, readable and escaped changes, settings audited."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inbox.audit import selectors as audit
from inbox.audit.services import activity_log
from inbox.models import Activity, Team
from inbox.tickets.services import ticket_assign
from tests.factories import make_channel
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    return person("ada", "admin")


@pytest.fixture
def admin_client(client, ada):
    client.force_login(ada)
    return client


def _ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-activity="(\d+)"', html)]


def _log(admin_client, **params) -> str:
    return admin_client.get(reverse("pages:audit"), params).content.decode()


def test_the_log_shows_newest_first_who_what_and_the_ticket(admin_client, ada):
    anna = person("anna")
    (ticket,) = tickets(1)
    ticket_assign(ticket_id=ticket.pk, user=ada, assignee=anna)
    html = _log(admin_client)
    newest = Activity.objects.order_by("-created_at", "-id").first()
    assert _ids(html)[0] == newest.pk and newest.verb == "assigned"
    row = html[html.index(f'data-activity="{newest.pk}"') :]
    row = row[: row.index("</tr>\n      <tr") if "</tr>\n      <tr" in row else None]
    assert "Ada" in row and ">Assigned</a>" in row and "<code>" not in row
    assert f'href="{reverse("inbox:thread", args=[ticket.pk])}"' in row
    assert f"Anna (#{anna.pk})" in row  # the assignee by name


def test_filters_by_actor_ticket_verb_and_scope(admin_client, ada):
    anna = person("anna")
    one, two = tickets(2)
    ticket_assign(ticket_id=one.pk, user=ada, assignee=anna)
    ticket_assign(ticket_id=two.pk, user=anna, assignee=None)
    activity_log(ticket=None, actor=ada, verb="team_created", after={"team": 1})

    by_anna = _ids(_log(admin_client, actor=anna.pk))
    assert by_anna == list(Activity.objects.filter(actor=anna).values_list("pk", flat=True))
    system = _ids(_log(admin_client, actor="system"))
    assert set(system) == set(Activity.objects.filter(actor=None).values_list("pk", flat=True))
    about_one = _ids(_log(admin_client, ticket=one.pk))
    assert set(about_one) == set(one.activities.values_list("pk", flat=True))
    assert len(about_one) == 2  # created at ingest, assigned
    assigned = _ids(_log(admin_client, verb="assigned"))
    assert len(assigned) == 2
    settings_only = _ids(_log(admin_client, scope="settings"))
    assert set(settings_only) == set(
        Activity.objects.filter(ticket=None).values_list("pk", flat=True)
    )
    tickets_only = _ids(_log(admin_client, scope="tickets"))
    assert not set(tickets_only) & set(settings_only)


def test_the_date_range_counts_whole_days_in_the_readers_time_zone(admin_client, ada):
    ada.profile.time_zone = "America/New_York"
    ada.profile.save()
    tz = zoneinfo.ZoneInfo("America/New_York")
    day = dt.date(2026, 3, 10)
    at = {
        "before": dt.datetime(2026, 3, 9, 23, 59, tzinfo=tz),
        "first": dt.datetime(2026, 3, 10, 0, 0, tzinfo=tz),
        "last": dt.datetime(2026, 3, 11, 23, 59, 59, tzinfo=tz),
        "after": dt.datetime(2026, 3, 12, 0, 0, tzinfo=tz),
    }
    made = {
        key: Activity.objects.create(verb="test", actor=ada, created_at=when)
        for key, when in at.items()
    }
    shown = _ids(_log(admin_client, **{"from": day.isoformat(), "to": "2026-03-11"}))
    assert shown == [made["last"].pk, made["first"].pk]


def test_pages_follow_the_keyset_without_offset_or_count(admin_client, ada):
    now = timezone.now()
    # Several rows share a timestamp: the id breaks the tie, nothing is shown twice or skipped.
    rows = Activity.objects.bulk_create(
        Activity(verb="test", actor=ada, created_at=now - dt.timedelta(seconds=i // 3))
        for i in range(audit.PAGE_SIZE * 2 + 7)
    )
    seen, params, pages = [], {"verb": "test"}, 0
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(reverse("pages:audit"), params)
        sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
        assert " OFFSET " not in sql and "COUNT(" not in sql
        html = response.content.decode()
        seen += _ids(html)
        pages += 1
        found = re.search(r'href="/settings/audit/\?([^"]*after=[^"]+)" rel="next"', html)
        if not found:
            break
        params = dict(
            pair.split("=", 1) for pair in found.group(1).replace("&amp;", "&").split("&")
        )
        from urllib.parse import unquote

        params = {k: unquote(v) for k, v in params.items()}
        assert params["verb"] == "test"  # the filter goes along
    assert pages == 3
    expected = sorted(rows, key=lambda a: (a.created_at, a.pk), reverse=True)
    assert seen == [a.pk for a in expected]


def test_a_page_costs_the_same_queries_however_deep(
    admin_client, ada, django_assert_max_num_queries
):
    now = timezone.now()
    Activity.objects.bulk_create(
        Activity(verb="test", actor=ada, created_at=now - dt.timedelta(seconds=i))
        for i in range(audit.PAGE_SIZE * 3)
    )
    first = audit.audit_page(audit.AuditFilter())
    deep = audit.audit_page(audit.AuditFilter(after=first.next_after))
    deeper = audit.audit_page(audit.AuditFilter(after=deep.next_after))
    assert len(deeper.rows) == audit.PAGE_SIZE
    with django_assert_max_num_queries(10):
        admin_client.get(reverse("pages:audit"), {"after": deep.next_after})


def test_a_broken_cursor_starts_at_the_newest(admin_client, ada):
    Activity.objects.create(verb="test", actor=ada)
    for junk in ("x", "2026-13-99T00:00|5", "|", "now|abc"):
        assert admin_client.get(reverse("pages:audit"), {"after": junk}).status_code == 200


def test_before_and_after_are_readable_and_escaped(admin_client, ada):
    team = Team.objects.create(name="<script>alert('team')</script>")
    activity_log(
        ticket=None,
        actor=ada,
        verb="user_updated",
        before={
            "user": ada.pk,
            "teams": [],
            "active": True,
            "note": "<img src=x onerror=alert(1)>",
        },
        after={"user": ada.pk, "teams": [team.pk], "active": False, "note": {"a": "<b>"}},
    )
    html = _log(admin_client, verb="user_updated")
    assert "<script>alert(" not in html and "<img src=x" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;team&#x27;)&lt;/script&gt; (#" in html
    assert f"user Ada (#{ada.pk})" in html  # the subject
    assert re.search(r'class="before"[^>]*>yes</td>.*?class="after"[^>]*>no</td>', html, re.S)


def test_known_verbs_lists_each_verb_once():
    for verb in ("b", "a", "c", "a", "b"):
        Activity.objects.create(verb=verb)
    assert audit.known_verbs() == ["a", "b", "c"]


def test_a_lead_reads_the_log_and_an_agent_may_not(client):
    client.force_login(person("lotte", "lead"))
    assert client.get(reverse("pages:audit")).status_code == 200
    client.force_login(person("anna"))
    assert client.get(reverse("pages:audit")).status_code == 403


def test_settings_rows_name_their_subject_and_references(admin_client, ada):
    from channels.services import channel_update

    team = Team.objects.create(name="Social")
    channel = make_channel(name="Shop")
    channel_update(channel=channel, name="Shop NL", default_team=team, actor=ada)
    html = _log(admin_client, scope="settings", verb="channel_updated")
    assert f"channel Shop NL (#{channel.pk})" in html and f"Social (#{team.pk})" in html
    assert re.search(r'class="before"[^>]*>Shop</td>.*?class="after"[^>]*>Shop NL</td>', html, re.S)


def test_actions_read_as_words_in_the_rows_and_the_filter(admin_client, ada):
    (ticket,) = tickets(1)
    activity_log(ticket=ticket, actor=ada, verb="reply_sent", after={"message": 1})
    html = _log(admin_client)
    assert ">Reply sent</a>" in html
    assert '<option value="reply_sent">Reply sent</option>' in html
    assert "<code>reply_sent</code>" not in html


def test_people_only_leaves_the_system_rows_out(admin_client, ada):
    (ticket,) = tickets(1)  # ingest writes its "created" row with no actor
    ticket_assign(ticket_id=ticket.pk, user=ada, assignee=person("anna"))
    shown = set(_ids(_log(admin_client, actor="people")))
    assert shown == set(Activity.objects.filter(actor__isnull=False).values_list("pk", flat=True))
    assert Activity.objects.filter(actor=None).exists() and shown
    assert "People only (no system rows)" in _log(admin_client)
