"""The lead engines in the agent inbox: "Why is this here?" beside a thread (intent with its
evidence, priority as its parts, the rules that touched the ticket, the SLA due time), intent
correction, the due time in the list with its "Due first" order and the leads' "At risk" view,
and linking a ticket to an incident."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.engines.routing import rule_create
from inbox.engines.triage import ticket_intent_correct
from inbox.incidents.services import incident_declare, incident_link
from inbox.ingest.services import ingest_batch
from inbox.models import (
    Activity,
    IncidentStatus,
    IncidentTicket,
    IntentCorrection,
    SlaTarget,
    Team,
    Ticket,
)
from inbox.tickets import selectors
from tests.factories import item, make_channel
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _no_presence_from_earlier_tests():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def billing():
    return Team.objects.create(name="Billing")


@pytest.fixture
def anna(support):
    return person("anna", team=support)


@pytest.fixture
def lead():
    return person("lotte", "lead")


@pytest.fixture
def agent_client(client, anna):
    client.force_login(anna)
    return client


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


def url(name, ticket):
    return reverse(f"inbox:{name}", args=[ticket.pk])


def one_ticket(text: str, *, team=None, channel=None, **kwargs) -> Ticket:
    channel = channel or make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1", text=text, **kwargs)])
    ticket = Ticket.objects.get(channel=channel)
    if team is not None:
        Ticket.objects.filter(pk=ticket.pk).update(team=team)
        ticket.refresh_from_db()
    return ticket


def due_in(ticket: Ticket, minutes: float) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(
        due_at=timezone.now() + dt.timedelta(minutes=minutes)
    )


def panel(html: str) -> str:
    return html[html.index('<aside class="why"') : html.index("</aside>", html.index("why-title"))]


# --- "Why is this here?" ------------------------------------------------------------------------
def test_the_panel_shows_the_intent_and_the_words_and_emoji_that_decided(agent_client, support):
    ticket = one_ticket("Echt belachelijk, al 5 dagen geen antwoord 😡", team=support)
    html = panel(agent_client.get(url("thread", ticket)).content.decode())
    assert "Why is this here?" in html
    assert 'class="intent intent-complaint">Complaint</strong>' in html
    assert "<q>echt belachelijk</q> → Complaint +3" in html
    assert "<q>geen antwoord</q>" in html
    assert "<q>😡</q>" in html


def test_the_panel_shows_priority_as_its_parts_and_the_total(agent_client, support):
    ticket = one_ticket("Echt belachelijk 😡", team=support)
    Ticket.objects.filter(pk=ticket.pk).update(
        priority=25, priority_parts=[["complaint", 10], ["12k followers", 10], ["VIP customer", 5]]
    )
    html = panel(agent_client.get(url("thread", ticket)).content.decode())
    assert '<tr><td>Complaint</td><td class="points">+10</td></tr>' in html
    assert '<tr><td>12k followers</td><td class="points">+10</td></tr>' in html
    assert '<tr><td>VIP customer</td><td class="points">+5</td></tr>' in html
    assert '<th scope="row">Total</th><td class="points">25</td>' in html


def test_the_panel_lists_the_rules_that_touched_the_ticket(agent_client, support, billing):
    rule_create(actor=None, name="Money", keywords="terugbetaling", set_team=billing)
    ticket = one_ticket("Waar blijft mijn terugbetaling?")
    lead = person("lotte", "lead")
    agent_client.force_login(lead)
    html = panel(agent_client.get(url("thread", ticket)).content.decode())
    assert "<strong>Money</strong>" in html
    assert "matched: keyword “terugbetaling”" in html
    assert "did: team → Billing" in html
    assert "<time datetime=" in html.split("Money", 1)[1]


def test_a_ticket_no_rule_touched_says_so(agent_client, support):
    ticket = one_ticket("Hallo", team=support)
    html = panel(agent_client.get(url("thread", ticket)).content.decode())
    assert "No rule touched this ticket." in html


@pytest.mark.parametrize(
    ("minutes", "label", "state"),
    [
        (-5.5, "overdue 5 min", "overdue"),
        (12.5, "due in 12 min", "soon"),
        (125, "due in 2 h", "ok"),
    ],
)
def test_the_due_time_is_relative_exact_on_hover_and_coloured(
    agent_client, support, minutes, label, state
):
    ticket = one_ticket("Waar is mijn pakket?", team=support)
    due_in(ticket, minutes)
    ticket.refresh_from_db()
    html = panel(agent_client.get(url("thread", ticket)).content.decode())
    exact = ticket.due_at.strftime("%Y-%m-%d %H:%M UTC")
    assert f'<time class="due due-{state}" datetime="{ticket.due_at.isoformat()}" ' in html
    assert f'title="{exact}">{label}</time>' in html


def test_a_ticket_nobody_waits_on_has_no_due_time(agent_client, support):
    ticket = one_ticket("Hallo", team=support)
    Ticket.objects.filter(pk=ticket.pk).update(due_at=None)
    html = panel(agent_client.get(url("thread", ticket)).content.decode())
    assert "Nobody is waiting for an answer." in html


def test_the_panel_escapes_rule_names_and_incident_text(lead_client, lead, support):
    evil = '<img src=x onerror="alert(1)">'
    rule_create(actor=None, name=evil, keywords="pakket", priority_points=3)
    ticket = one_ticket("Mijn pakket <b>kwijt</b>", team=support)
    incident = incident_declare(actor=lead, title=evil, public_note=evil)
    incident_link(incident=incident, tickets=[ticket], actor=lead)
    html = lead_client.get(url("thread", ticket)).content.decode()
    assert "<img src=x" not in html and "<b>kwijt" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in panel(html)


@pytest.mark.parametrize("n", [1, 15])
def test_the_thread_with_its_panel_uses_a_constant_number_of_queries(
    lead_client, lead, support, n, django_assert_num_queries
):
    ticket = one_ticket("Echt belachelijk 😡", team=support)
    trace = [
        {"rule": i, "name": f"r{i}", "at": timezone.now().isoformat(), "matched": ["x"]}
        for i in range(n)
    ]
    Ticket.objects.filter(pk=ticket.pk).update(routing_trace=trace)
    for i in range(n):
        incident = incident_declare(actor=lead, title=f"Incident {i}", public_note="Bezig")
        if i % 2:
            incident_link(incident=incident, tickets=[ticket], actor=lead)
    lead_client.get(url("thread", ticket))
    # The same as any lead's thread (tests/inbox/screen/test_inbox_views.py): the panel reads the
    # ticket's
    # own fields and the messages already loaded, and the incidents in one query.
    with django_assert_num_queries(11):
        lead_client.get(url("thread", ticket), **HTMX)


# --- intent correction --------------------------------------------------------------------------
def test_an_agent_of_the_team_corrects_the_intent_and_the_correction_is_kept(
    agent_client, anna, support
):
    ticket = one_ticket("Dit is een test", team=support)
    assert ticket.intent == "other"
    response = agent_client.post(url("intent", ticket), {"intent": "question"}, **HTMX)
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.intent == "question" and ticket.intent_corrected
    correction = IntentCorrection.objects.get()
    assert (correction.original, correction.corrected, correction.text, correction.actor) == (
        "other",
        "question",
        "Dit is een test",
        anna,
    )
    activity = Activity.objects.get(verb="intent_corrected")
    assert activity.actor == anna and activity.after["intent"] == "question"
    html = response.content.decode()
    assert 'class="intent intent-question">Question</strong>' in html
    assert "corrected by hand (the word list says: Other)" in html


def test_a_lead_corrects_the_intent_of_any_team(lead_client, billing):
    ticket = one_ticket("Dit is een test", team=billing)
    assert lead_client.post(url("intent", ticket), {"intent": "complaint"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.intent == "complaint"


def test_correcting_the_intent_recomputes_the_priority():
    ticket = one_ticket("Dit is een test")
    before = ticket.priority
    ticket = ticket_intent_correct(ticket_id=ticket.pk, user=None, intent="complaint")
    ticket.refresh_from_db()
    assert ["complaint", 10] in ticket.priority_parts
    assert ticket.priority == before + 10


def test_correcting_the_intent_moves_the_ticket_to_the_sla_target_of_its_new_priority():
    SlaTarget.objects.create(min_priority=10, first_response_minutes=15, business_time=False)
    SlaTarget.objects.create(min_priority=0, first_response_minutes=600, business_time=False)
    ticket = one_ticket("Dit is een test")
    assert ticket.due_at == ticket.waiting_since + dt.timedelta(minutes=600)
    ticket_intent_correct(ticket_id=ticket.pk, user=None, intent="complaint")
    ticket.refresh_from_db()
    assert ticket.due_at == ticket.waiting_since + dt.timedelta(minutes=15)
    assert ticket.first_response_due_at == ticket.due_at


def test_a_follow_up_message_does_not_overwrite_a_corrected_intent():
    channel = make_channel()
    ticket = one_ticket("Dit is een test", channel=channel)
    ticket_intent_correct(ticket_id=ticket.pk, user=None, intent="complaint")
    ingest_batch(channel_id=channel.pk, items=[item("m2", text="Super bedankt! 😍")])
    ticket.refresh_from_db()
    assert ticket.intent == "complaint" and ticket.intent_corrected
    assert ["complaint", 10] in ticket.priority_parts


def test_an_unknown_intent_is_refused_and_nothing_changes(agent_client, support):
    ticket = one_ticket("Dit is een test", team=support)
    before = Ticket.objects.values().get(pk=ticket.pk)
    response = agent_client.post(url("intent", ticket), {"intent": "rant"}, **HTMX)
    assert "Pick complaint, question, compliment or other." in response.content.decode()
    assert Ticket.objects.values().get(pk=ticket.pk) == before
    assert not IntentCorrection.objects.exists()


@pytest.mark.parametrize("who", ["outsider", "no role"])
def test_correcting_another_teams_ticket_is_forbidden_and_changes_nothing(client, billing, who):
    ticket = one_ticket("Dit is een test", team=Team.objects.create(name="Support"))
    user = person("olga", team=billing) if who == "outsider" else person("vera", role=None)
    client.force_login(user)
    before = Ticket.objects.values().get(pk=ticket.pk)
    assert client.post(url("intent", ticket), {"intent": "question"}, **HTMX).status_code == 403
    assert Ticket.objects.values().get(pk=ticket.pk) == before
    assert not IntentCorrection.objects.exists()
    assert not Activity.objects.filter(verb="intent_corrected").exists()


# --- SLA in the list ----------------------------------------------------------------------------
def test_each_row_shows_its_due_time_coloured(agent_client, support):
    late, soon = tickets(2, team=support)
    due_in(late, -5.5)
    due_in(soon, 20.5)
    html = agent_client.get(reverse("inbox:index")).content.decode()
    row = html[html.index(f'id="row-{late.pk}"') :]
    assert '<td class="sla"><time class="due due-overdue"' in row
    assert "overdue 5 min</time>" in row.split("</tr>")[0]
    row = html[html.index(f'id="row-{soon.pk}"') :].split("</tr>")[0]
    assert 'class="due due-soon"' in row and "due in 20 min</time>" in row


def row_ids(html: str) -> list[int]:
    import re

    return [int(i) for i in re.findall(r'<tr id="row-(\d+)"', html)]


def test_due_first_lists_the_soonest_due_first_and_those_without_a_due_time_last(
    agent_client, support
):
    a, b, c, d = tickets(4, team=support)
    due_in(a, 90)
    due_in(b, -10)
    Ticket.objects.filter(pk=c.pk).update(due_at=None)
    due_in(d, 5)
    html = agent_client.get(reverse("inbox:index"), {"sort": "due"}).content.decode()
    assert row_ids(html) == [b.pk, d.pk, a.pk, c.pk]
    assert '<option value="due" selected>Due first</option>' in html


def test_the_default_order_is_still_longest_waiting_first(agent_client, support):
    made = tickets(3, team=support)
    for i, t in enumerate(made):
        Ticket.objects.filter(pk=t.pk).update(
            waiting_since=timezone.now() - dt.timedelta(hours=i), due_at=None
        )
    html = agent_client.get(reverse("inbox:index")).content.decode()
    assert row_ids(html) == [made[2].pk, made[1].pk, made[0].pk]


@pytest.mark.parametrize("who", ["agent", "lead"])
def test_due_first_keyset_pages_follow_each_other_without_gaps(anna, lead, support, who):
    made = tickets(130, team=support)
    now = timezone.now()
    for i, t in enumerate(made):
        # Ties on the due time, and a tail without one: the pages still meet exactly.
        due = None if i % 5 == 0 else now + dt.timedelta(minutes=i % 7)
        Ticket.objects.filter(pk=t.pk).update(due_at=due)
    user = anna if who == "agent" else lead
    flt = selectors.ListFilter(sort="due")
    seen = []
    while True:
        page = selectors.ticket_page(user, flt)
        seen += page.tickets
        if not page.next_after:
            break
        flt.after = page.next_after
    assert sorted(t.pk for t in seen) == sorted(t.pk for t in made)
    assert len(seen) == len({t.pk for t in seen})
    keys = [(t.due_at is None, t.due_at or now, t.pk) for t in seen]
    assert keys == sorted(keys)


@pytest.mark.parametrize("n", [5, 100])
def test_the_due_first_list_uses_a_constant_number_of_queries(
    agent_client, support, n, django_assert_num_queries
):
    for i, t in enumerate(tickets(n, team=support)):
        due_in(t, i)
    agent_client.get(reverse("inbox:index"), {"sort": "due"})
    with django_assert_num_queries(6):
        agent_client.get(reverse("inbox:index"), {"sort": "due"}, **HTMX)


def test_at_risk_shows_a_lead_the_overdue_and_those_due_within_30_minutes_soonest_first(
    lead_client, support, billing
):
    late, soon, later, closed = tickets(4, team=support)
    (other_team,) = tickets(1, team=billing, prefix="b")
    due_in(late, -60)
    due_in(soon, 25)
    due_in(later, 45)
    due_in(closed, -5)
    Ticket.objects.filter(pk=closed.pk).update(status="closed")
    due_in(other_team, 10)
    html = lead_client.get(reverse("inbox:index"), {"view": "at_risk"}).content.decode()
    assert row_ids(html) == [late.pk, other_team.pk, soon.pk]
    assert 'data-view="at_risk">At risk</a>' in html
    assert '<option value="due" selected>Due first</option>' in html


@pytest.mark.parametrize("name", ["inbox:index", "inbox:list", "inbox:thread"])
def test_an_agent_is_forbidden_the_at_risk_view(agent_client, support, name):
    (ticket,) = tickets(1, team=support)
    due_in(ticket, -5)
    args = [ticket.pk] if name == "inbox:thread" else []
    response = agent_client.get(reverse(name, args=args), {"view": "at_risk"})
    assert response.status_code == 403
    assert 'data-view="at_risk"' not in agent_client.get(reverse("inbox:index")).content.decode()


@pytest.mark.parametrize("n", [5, 100])
def test_the_at_risk_view_uses_a_constant_number_of_queries(
    lead_client, support, n, django_assert_num_queries
):
    for i, t in enumerate(tickets(n, team=support)):
        due_in(t, i % 40 - 10)
    lead_client.get(reverse("inbox:index"), {"view": "at_risk"})
    with django_assert_num_queries(5):
        lead_client.get(reverse("inbox:index"), {"view": "at_risk"}, **HTMX)


# --- incidents ----------------------------------------------------------------------------------
def test_a_lead_links_a_ticket_to_an_open_incident_and_the_thread_shows_its_public_note(
    lead_client, lead, support
):
    ticket = one_ticket("Mijn pakket komt niet", team=support)
    incident = incident_declare(
        actor=lead, title="Bezorging Utrecht", public_note="We verwachten maandag herstel."
    )
    html = panel(lead_client.get(url("thread", ticket)).content.decode())
    assert "Not linked to an incident." in html
    assert f'<option value="{incident.pk}">Bezorging Utrecht</option>' in html
    response = lead_client.post(url("incident_link", ticket), {"incident": incident.pk}, **HTMX)
    assert IncidentTicket.objects.filter(incident=incident, ticket=ticket).exists()
    html = panel(response.content.decode())
    assert "<strong>Bezorging Utrecht</strong>" in html
    assert "We verwachten maandag herstel." in html
    assert Activity.objects.filter(verb="incident_linked", ticket=ticket).exists()


def test_linking_raises_the_tickets_version_so_open_threads_refresh(lead_client, lead, support):
    ticket = one_ticket("Mijn pakket komt niet", team=support)
    incident = incident_declare(actor=lead, title="Bezorging Utrecht")
    lead_client.post(url("incident_link", ticket), {"incident": incident.pk})
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version + 1


def test_a_lead_unlinks_a_ticket(lead_client, lead, support):
    ticket = one_ticket("Mijn pakket komt niet", team=support)
    incident = incident_declare(actor=lead, title="Bezorging Utrecht")
    incident_link(incident=incident, tickets=[ticket], actor=lead)
    response = lead_client.post(url("incident_unlink", ticket), {"incident": incident.pk}, **HTMX)
    assert not IncidentTicket.objects.filter(ticket=ticket).exists()
    assert "Not linked to an incident." in panel(response.content.decode())


def test_a_resolved_incident_cannot_be_picked_or_linked(lead_client, lead, support):
    ticket = one_ticket("Mijn pakket komt niet", team=support)
    incident = incident_declare(actor=lead, title="Oud")
    incident.status = IncidentStatus.RESOLVED
    incident.save()
    html = panel(lead_client.get(url("thread", ticket)).content.decode())
    assert f'<option value="{incident.pk}">' not in html
    response = lead_client.post(url("incident_link", ticket), {"incident": incident.pk}, **HTMX)
    assert "This incident is no longer open." in response.content.decode()
    assert not IncidentTicket.objects.exists()


def test_an_agent_sees_the_incident_read_only(agent_client, lead, support):
    ticket = one_ticket("Mijn pakket komt niet", team=support)
    incident = incident_declare(actor=lead, title="Bezorging Utrecht", public_note="Maandag.")
    incident_declare(actor=lead, title="Storing app")
    incident_link(incident=incident, tickets=[ticket], actor=lead)
    html = panel(agent_client.get(url("thread", ticket)).content.decode())
    assert "<strong>Bezorging Utrecht</strong>" in html and "Maandag." in html
    assert "incident/unlink/" not in html and "incident/link/" not in html
    assert "Storing app" not in html


@pytest.mark.parametrize("action", ["incident_link", "incident_unlink"])
def test_an_agent_may_not_link_or_unlink_and_nothing_changes(agent_client, lead, support, action):
    ticket = one_ticket("Mijn pakket komt niet", team=support)
    linked = incident_declare(actor=lead, title="Bezorging Utrecht")
    other = incident_declare(actor=lead, title="Storing app")
    incident_link(incident=linked, tickets=[ticket], actor=lead)
    target = linked if action == "incident_unlink" else other
    before = Ticket.objects.values().get(pk=ticket.pk)
    response = agent_client.post(url(action, ticket), {"incident": target.pk}, **HTMX)
    assert response.status_code == 403
    assert list(IncidentTicket.objects.values_list("incident_id", flat=True)) == [linked.pk]
    assert Ticket.objects.values().get(pk=ticket.pk) == before


# --- the list's rows, rendered in Python --------------------------------------------------------
def test_the_list_rows_escape_names_handles_previews_tags_and_viewers(agent_client, support):
    from inbox.models import Tag
    from inbox.tickets import presence

    (ticket,) = tickets(1, team=support)
    evil = '<img src=x onerror="alert(1)">'
    identity = ticket.identity
    identity.display_name, identity.handle = evil, evil
    identity.save()
    Ticket.objects.filter(pk=ticket.pk).update(last_message_preview=evil, rating=2)
    ticket.tags.add(Tag.objects.create(name=evil))
    bob = person("bob", team=support)
    bob.first_name = evil
    presence.presence_touch(ticket_id=ticket.pk, user=bob, typing=True)
    html = agent_client.get(reverse("inbox:index")).content.decode()
    assert "<img src=x" not in html
    row = html[html.index(f'<tr id="row-{ticket.pk}"') :].split("</tr>")[0]
    escaped = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    assert f'<strong class="name">{escaped}</strong>' in row
    assert f'<span class="handle">@{escaped}</span>' in row
    assert f'<div class="preview">{escaped}</div>' in row
    assert f'<span class="tag">{escaped}</span>' in row
    assert f'<span class="viewer">{escaped} is typing…</span>' in row
    assert '<span class="stars" aria-label="2 / 5">★★☆☆☆</span>' in row


def test_the_selected_row_is_marked_and_rows_link_to_their_thread_with_the_view(
    agent_client, support
):
    first, second = tickets(2, team=support)
    html = agent_client.get(url("thread", second), {"view": "open", "channel": ""}).content.decode()
    assert f'<tr id="row-{second.pk}" class="row selected" data-id="{second.pk}">' in html
    assert f'<tr id="row-{first.pk}" class="row" data-id="{first.pk}">' in html
    assert f'href="/inbox/t/{first.pk}/?view=open" hx-get="/inbox/t/{first.pk}/?view=open"' in html


def test_an_empty_list_says_so(agent_client):
    html = agent_client.get(reverse("inbox:index")).content.decode()
    assert '<td colspan="8" class="empty">Nothing here. Well done.</td>' in html
