"""Incident pages: declare, link, unlink, edit, preview and resolve; leads only."""

import pytest
from django.test import Client
from django.urls import reverse

from inbox.incidents.services import incident_declare, incident_link, incident_resolve
from inbox.ingest.services import ingest_batch
from inbox.models import (
    Activity,
    Direction,
    Incident,
    IncidentStatus,
    IncidentTicket,
    Message,
    Team,
    Ticket,
    TicketStatus,
)
from inbox.tickets.services import ticket_close
from tests.factories import author, item, make_channel
from tests.personas import person

pytestmark = pytest.mark.django_db
TEMPLATE = "Hoi {first_name}, de bezorging in Utrecht loopt weer. Sorry voor het wachten!"


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def lotte(support):
    return person("lotte", "lead", team=support)


@pytest.fixture
def lead_client(client, lotte):
    client.force_login(lotte)
    return client


@pytest.fixture
def customers():
    """Anna (a public mention), Bob (a DM), and someone without a name."""
    channel = make_channel(name="Simulated X")
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item(
                "m1",
                thread="a",
                text="Waar blijft mijn pakket? Utrecht\nTweede regel",
                author=author("u1", display_name="Anna de Vries", handle="annadv"),
            ),
            item(
                "m2",
                thread="b",
                kind="dm",
                text="Where is my parcel, Utrecht",
                author=author("u2", display_name="Bob Smith", handle="bob"),
            ),
            item(
                "m3",
                thread="c",
                text="Nog steeds niks",
                author=author("u3", display_name="", handle=""),
            ),
        ],
    )
    return list(Ticket.objects.order_by("thread_key"))


@pytest.fixture
def incident(lotte, customers):
    made = incident_declare(
        actor=lotte,
        title="Bezorging Utrecht vertraagd",
        public_note="We verwachten maandag weer normaal te bezorgen.",
        reply_template=TEMPLATE,
    )
    incident_link(incident=made, tickets=customers, actor=lotte)
    return made


def _replies(ticket: Ticket) -> list[Message]:
    return list(Message.objects.filter(ticket=ticket, direction=Direction.OUTBOUND))


# --- list and declare -------------------------------------------------------------------------
def test_the_list_shows_open_incidents_first_with_their_ticket_count_and_age(
    lead_client, lotte, incident, customers
):
    done = incident_declare(actor=lotte, title="Storing app", reply_template="Opgelost!")
    incident_link(incident=done, tickets=customers[:1], actor=lotte)
    incident_resolve(incident=done, actor=lotte)
    html = lead_client.get(reverse("pages:incidents")).content.decode()
    assert html.index("Bezorging Utrecht vertraagd") < html.index("Storing app")
    row = html[html.index(f'data-incident="{incident.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "<td>3</td>" in row and " ago</time>" in row
    resolved = html[html.index(f'data-incident="{done.pk}"') :]
    cells = "".join(resolved[: resolved.index("</tr>")].split())
    assert "<td>1</td><td>1</td>" in cells  # one linked, one answered


def test_a_lead_declares_an_incident_with_a_public_note_and_template(lead_client, lotte):
    response = lead_client.post(
        reverse("pages:incident_new"),
        {
            "title": "Deliveries delayed in Utrecht",
            "description": "Depot closed",
            "public_note": "Back to normal on Monday.",
            "reply_template": "Hi {first_name}, it is solved.",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("pages:incident", args=[incident.pk])
    assert (incident.title, incident.public_note, incident.declared_by) == (
        "Deliveries delayed in Utrecht",
        "Back to normal on Monday.",
        lotte,
    )
    assert Activity.objects.filter(verb="incident_declared", actor=lotte).count() == 1


def test_the_declare_form_explains_the_placeholders_and_routing_rules(lead_client):
    html = lead_client.get(reverse("pages:incident_new")).content.decode()
    assert "{first_name}" in html and "{handle}" in html
    assert "Routing rules can link new tickets automatically" in html


def test_an_incident_needs_a_title(lead_client):
    response = lead_client.post(reverse("pages:incident_new"), {"title": " "})
    assert response.status_code == 200
    assert not Incident.objects.exists()


# --- the incident page ------------------------------------------------------------------------
def test_the_page_lists_linked_tickets_with_customer_channel_status_and_first_line(
    lead_client, incident, customers
):
    html = lead_client.get(reverse("pages:incident", args=[incident.pk])).content.decode()
    row = html[html.index(f'data-ticket="{customers[0].pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Anna de Vries" in row and "Simulated X" in row
    assert "Waar blijft mijn pakket? Utrecht" in row and "Tweede regel" not in row
    assert "We verwachten maandag weer normaal te bezorgen." in html
    assert "3 linked tickets" in html


def test_customer_text_on_the_page_is_escaped(lead_client, lotte, incident):
    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item(
                "x1",
                thread="x",
                text="<script>alert(1)</script>",
                author=author("ux", display_name="<b>Mallory</b>"),
            )
        ],
    )
    ticket = Ticket.objects.get(channel=channel)
    incident_link(incident=incident, tickets=[ticket], actor=lotte)
    html = lead_client.get(reverse("pages:incident", args=[incident.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html and "<b>Mallory</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html


def test_a_lead_edits_title_note_and_template_and_it_is_audited(lead_client, lotte, incident):
    lead_client.post(
        reverse("pages:incident_edit", args=[incident.pk]),
        {
            "title": incident.title,
            "description": "",
            "public_note": "Morgen weer normaal.",
            "reply_template": TEMPLATE,
        },
    )
    incident.refresh_from_db()
    assert incident.public_note == "Morgen weer normaal."
    audit = Activity.objects.get(verb="incident_updated")
    assert audit.after == {"incident": incident.pk, "public_note": "Morgen weer normaal."}


# --- linking ----------------------------------------------------------------------------------
def test_linking_by_ticket_numbers_reports_unknown_and_closed_ones(lead_client, lotte):
    incident = incident_declare(actor=lotte, title="Storing")
    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[item(f"n{i}", thread=f"n{i}", uid=f"n{i}") for i in range(3)],
    )
    a, b, c = Ticket.objects.filter(channel=channel).order_by("pk")
    ticket_close(ticket_id=c.pk, user=lotte)
    response = lead_client.post(
        reverse("pages:incident_link", args=[incident.pk]),
        {"ids": f"{a.pk}, #{b.pk} {c.pk} 999999"},
        follow=True,
    )
    html = response.content.decode()
    assert set(incident.tickets.values_list("pk", flat=True)) == {a.pk, b.pk}
    assert "2 tickets linked." in html
    assert "No such tickets: #999999." in html
    assert f"Closed tickets are not linked: #{c.pk}." in html


def test_a_search_offers_open_tickets_not_linked_yet_and_links_the_ticked_ones(
    lead_client, lotte, customers
):
    incident = incident_declare(actor=lotte, title="Utrecht")
    incident_link(incident=incident, tickets=customers[:1], actor=lotte)
    html = lead_client.get(
        reverse("pages:incident", args=[incident.pk]) + "?q=Utrecht"
    ).content.decode()
    assert f'data-found="{customers[1].pk}"' in html  # Bob wrote "Utrecht"
    assert f'data-found="{customers[0].pk}"' not in html  # already linked
    assert f'data-found="{customers[2].pk}"' not in html  # does not say Utrecht
    lead_client.post(
        reverse("pages:incident_link", args=[incident.pk]), {"ticket": [customers[1].pk]}
    )
    assert set(incident.tickets.values_list("pk", flat=True)) == {
        customers[0].pk,
        customers[1].pk,
    }


def test_unlinking_removes_the_ticket_from_the_incident(lead_client, incident, customers):
    lead_client.post(
        reverse("pages:incident_unlink", args=[incident.pk]), {"ticket": customers[2].pk}
    )
    assert customers[2].pk not in set(incident.tickets.values_list("pk", flat=True))
    assert Activity.objects.filter(verb="incident_unlinked", ticket=customers[2]).exists()


def test_the_page_mentions_that_rules_link_tickets_automatically(lead_client, incident):
    html = lead_client.get(reverse("pages:incident", args=[incident.pk])).content.decode()
    assert "Link to incident" in html


# --- resolving --------------------------------------------------------------------------------
def test_the_preview_shows_each_personalised_reply_its_channel_and_dm_or_public(
    lead_client, incident, customers
):
    html = lead_client.get(reverse("pages:incident_resolve", args=[incident.pk])).content.decode()
    anna = html[html.index(f'data-ticket="{customers[0].pk}"') :]
    anna = anna[: anna.index("</tr>")]
    assert "Hoi Anna, de bezorging in Utrecht loopt weer." in anna
    assert "public reply" in anna and "Simulated X" in anna
    bob = html[html.index(f'data-ticket="{customers[1].pk}"') :]
    bob = bob[: bob.index("</tr>")]
    assert "Hoi Bob," in bob and "direct message" in bob
    nameless = html[html.index(f'data-ticket="{customers[2].pk}"') :]
    assert "Hoi, de bezorging" in nameless[: nameless.index("</tr>")]
    assert "Send to 3 customers and resolve" in html
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_a_reply_too_long_for_its_channel_is_flagged_and_cannot_be_sent(
    lead_client, lotte, incident, customers
):
    long = "Hoi {name}, " + "x" * 1000  # the simulator takes 1000 characters
    Incident.objects.filter(pk=incident.pk).update(reply_template=long)
    html = lead_client.get(reverse("pages:incident_resolve", args=[incident.pk])).content.decode()
    assert "3 replies are too long for their channel." in html
    assert 'class="too-long"' in html and "too long</strong>" in html
    assert "Send to 3 customers" not in html
    response = lead_client.post(
        reverse("pages:incident_resolve", args=[incident.pk]), {"template": long}
    )
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_a_ticket_whose_channel_cannot_send_that_kind_of_reply_blocks_the_send(
    lead_client, incident, customers, monkeypatch
):
    from channels.simulator.connector import SimulatorConnector

    monkeypatch.setattr(SimulatorConnector, "reply_modes", ("public",))  # no DMs
    html = lead_client.get(reverse("pages:incident_resolve", args=[incident.pk])).content.decode()
    assert "1 ticket is on a channel that cannot send this kind of reply." in html
    bob = html[html.index(f'data-ticket="{customers[1].pk}"') :]
    assert "channel cannot send this" in bob[: bob.index("</tr>")]
    assert "Send to 3 customers" not in html


def test_resolving_answers_each_linked_ticket_exactly_once_even_when_clicked_twice(
    lead_client, incident, customers
):
    url = reverse("pages:incident_resolve", args=[incident.pk])
    first = lead_client.post(url, {"template": TEMPLATE, "public_note": "Opgelost."}, follow=True)
    second = lead_client.post(url, {"template": TEMPLATE, "public_note": "Opgelost."}, follow=True)
    assert "3 customers are being answered" in first.content.decode()
    assert "Already resolved; nobody was answered twice." in second.content.decode()
    for ticket in customers:
        replies = _replies(ticket)
        assert len(replies) == 1
        ticket.refresh_from_db()
        assert (ticket.status, ticket.close_reason) == (TicketStatus.CLOSED, "incident")
    assert _replies(customers[0])[0].text.startswith("Hoi Anna,")
    assert _replies(customers[0])[0].reply_mode == "public"
    assert _replies(customers[1])[0].reply_mode == "dm"
    incident.refresh_from_db()
    assert (incident.status, incident.public_note) == (IncidentStatus.RESOLVED, "Opgelost.")


def test_a_second_lead_resolving_the_same_incident_answers_nobody_again(
    lead_client, support, incident, customers
):
    url = reverse("pages:incident_resolve", args=[incident.pk])
    other = person("kees", "lead", team=support)
    second = Client()
    second.force_login(other)
    lead_client.post(url, {"template": TEMPLATE})
    second.post(url, {"template": TEMPLATE})
    incident.refresh_from_db()
    assert incident.resolved_by.username == "lotte"
    # Even past the page's check, the engine queues nothing for tickets that have their reply.
    assert incident_resolve(incident=incident, actor=other, template=TEMPLATE) == []
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 3
    assert IncidentTicket.objects.filter(incident=incident, reply__isnull=False).count() == 3


def test_the_previewed_template_is_what_is_sent(lead_client, incident, customers):
    reviewed = "Hi {name}, all good again."
    lead_client.post(reverse("pages:incident_resolve", args=[incident.pk]), {"template": reviewed})
    # Signed like every other reply of the lead who resolves.
    assert _replies(customers[1])[0].text == "Hi Bob Smith, all good again.\n^Lotte"


def test_after_resolving_the_page_shows_answered_tickets_that_cannot_be_unlinked(
    lead_client, lotte, incident, customers
):
    incident_resolve(incident=incident, actor=lotte)
    html = lead_client.get(reverse("pages:incident", args=[incident.pk])).content.decode()
    assert "answered</span>" in html
    assert reverse("pages:incident_unlink", args=[incident.pk]) not in html
    assert "Resolve: answer all linked customers" not in html
    lead_client.post(
        reverse("pages:incident_unlink", args=[incident.pk]), {"ticket": customers[0].pk}
    )
    assert incident.tickets.count() == 3


# --- access and cost --------------------------------------------------------------------------
def test_an_agent_gets_403_everywhere_and_nothing_changes(client, support, incident, customers):
    client.force_login(person("anna", team=support))
    pk = incident.pk
    assert client.get(reverse("pages:incidents")).status_code == 403
    assert client.get(reverse("pages:incident", args=[pk])).status_code == 403
    assert client.get(reverse("pages:incident_resolve", args=[pk])).status_code == 403
    posts = {
        "pages:incident_new": ({"title": "Mine"}, []),
        "pages:incident_edit": ({"title": "Changed"}, [pk]),
        "pages:incident_link": ({"ids": str(customers[0].pk)}, [pk]),
        "pages:incident_unlink": ({"ticket": customers[0].pk}, [pk]),
        "pages:incident_resolve": ({"template": TEMPLATE}, [pk]),
    }
    for name, (data, args) in posts.items():
        assert client.post(reverse(name, args=args), data).status_code == 403, name
    incident.refresh_from_db()
    assert (incident.title, incident.status) == ("Bezorging Utrecht vertraagd", "open")
    assert Incident.objects.count() == 1 and incident.tickets.count() == 3
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_the_list_costs_the_same_queries_however_many_incidents(lead_client, lotte, customers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert lead_client.get(reverse("pages:incidents")).status_code == 200
        return len(queries)

    incident_link(
        incident=incident_declare(actor=lotte, title="One"), tickets=customers, actor=lotte
    )
    cost()  # the first request also reads the lead's roles into the cache
    few = cost()
    for n in range(10):
        incident_link(
            incident=incident_declare(actor=lotte, title=f"More {n}"),
            tickets=customers[:1],
            actor=lotte,
        )
    assert cost() == few


def test_the_incident_page_costs_the_same_queries_however_many_linked_tickets(
    lead_client, lotte, customers
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    incident = incident_declare(actor=lotte, title="Storing")
    url = reverse("pages:incident", args=[incident.pk])

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert lead_client.get(url).status_code == 200
        return len(queries)

    incident_link(incident=incident, tickets=customers[:1], actor=lotte)
    cost()  # the first request also reads the lead's roles into the cache
    few = cost()
    incident_link(incident=incident, tickets=customers, actor=lotte)
    assert cost() == few


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_leads_confirming_at_the_same_instant_answer_each_customer_once(customers):
    import threading

    from django.db import connection

    support = Team.objects.create(name="Support")
    leads = [person("lotte", "lead", team=support), person("kees", "lead", team=support)]
    incident = incident_declare(actor=leads[0], title="Storing", reply_template=TEMPLATE)
    incident_link(incident=incident, tickets=customers, actor=leads[0])
    url = reverse("pages:incident_resolve", args=[incident.pk])
    start = threading.Barrier(len(leads))
    statuses: list[int] = []

    def confirm(lead):
        try:
            browser = Client()
            browser.force_login(lead)
            start.wait()
            statuses.append(browser.post(url, {"template": TEMPLATE}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(lead,)) for lead in leads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302, 302]
    for ticket in customers:
        assert len(_replies(ticket)) == 1
    assert IncidentTicket.objects.filter(incident=incident, reply__isnull=False).count() == 3


def test_each_customer_gets_the_answer_in_their_language_signed_by_the_lead(
    lead_client, incident, customers
):
    Ticket.objects.filter(pk=customers[1].pk).update(language="en")
    Ticket.objects.filter(pk=customers[0].pk).update(language="nl")
    lead_client.post(
        reverse("pages:incident_edit", args=[incident.pk]),
        {
            "title": incident.title,
            "reply_template": TEMPLATE,
            "reply_template_en": "Hi {first_name}, deliveries in Utrecht run again.",
        },
    )
    incident.refresh_from_db()
    english = "Hi {first_name}, deliveries in Utrecht run again."
    assert incident.reply_translations == {"en": english}
    page = lead_client.get(reverse("pages:incident_resolve", args=[incident.pk])).content.decode()
    assert "Hi Bob, deliveries in Utrecht run again." in page and "^Lotte" in page
    lead_client.post(reverse("pages:incident_resolve", args=[incident.pk]), {"template": TEMPLATE})
    assert _replies(customers[1])[0].text == "Hi Bob, deliveries in Utrecht run again.\n^Lotte"
    assert _replies(customers[0])[0].text.startswith("Hoi Anna, de bezorging")
    assert _replies(customers[0])[0].text.endswith("\n^Lotte")
