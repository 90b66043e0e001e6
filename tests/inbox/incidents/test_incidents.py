"""Incidents: declare, link by hand or rule, resolve with one answer sent once per ticket."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from inbox.engines.routing import rule_create
from inbox.incidents.services import (
    incident_declare,
    incident_link,
    incident_resolve,
    incident_unlink,
    incident_update,
)
from inbox.ingest.services import ingest_batch
from inbox.models import (
    Activity,
    DeliveryState,
    IncidentStatus,
    IncidentTicket,
    Message,
    Ticket,
    TicketStatus,
)
from tests.factories import author, item, make_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead():
    return get_user_model().objects.create_user("lead")


@pytest.fixture
def three_customers():
    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item(
                "m1",
                thread="a",
                text="Waar blijft mijn pakket? Utrecht",
                author=author("u1", display_name="Anna de Vries", handle="annadv"),
            ),
            item(
                "m2",
                thread="b",
                kind="dm",
                text="Where is my parcel",
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


def test_a_lead_declares_an_incident_and_links_tickets(lead, three_customers):
    incident = incident_declare(
        actor=lead,
        title="Bezorging Utrecht vertraagd",
        public_note="We verwachten maandag weer normaal te bezorgen.",
    )
    assert incident_link(incident=incident, tickets=three_customers[:2], actor=lead) == 2
    assert incident_link(incident=incident, tickets=three_customers, actor=lead) == 1
    assert incident.tickets.count() == 3
    assert Activity.objects.filter(verb="incident_linked").count() == 3


def test_a_rule_links_new_tickets_to_an_open_incident(lead):
    incident = incident_declare(actor=lead, title="Utrecht delays")
    rule_create(actor=lead, name="Utrecht", keywords="utrecht", link_incident=incident)
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1", text="Pakket in Utrecht kwijt?")])
    link = IncidentTicket.objects.get()
    assert link.incident == incident and link.rule is not None
    assert "linked to incident “Utrecht delays”" in Ticket.objects.get().routing_trace[0]["actions"]


def test_resolving_answers_each_ticket_once_personalised_on_its_own_channel_and_closes_it(
    lead, three_customers, django_capture_on_commit_callbacks
):
    incident = incident_declare(actor=lead, title="Utrecht")
    incident_link(incident=incident, tickets=three_customers, actor=lead)
    with django_capture_on_commit_callbacks() as callbacks:
        queued = incident_resolve(
            incident=incident, actor=lead, template="Hoi {first_name}, je pakket is onderweg!"
        )
    assert len(queued) == 3 and len(callbacks) >= 3
    replies = {m.ticket.thread_key: m for m in Message.objects.filter(direction="out")}
    assert replies["a"].text == "Hoi Anna, je pakket is onderweg!"
    assert (
        replies["b"].text == "Hoi Bob, je pakket is onderweg!" and replies["b"].reply_mode == "dm"
    )
    assert replies["c"].text == "Hoi, je pakket is onderweg!"
    assert all(
        m.delivery_state == DeliveryState.QUEUED and m.author_user == lead for m in replies.values()
    )
    assert all(m.channel_id == m.ticket.channel_id for m in replies.values())
    for ticket in Ticket.objects.all():
        assert ticket.status == TicketStatus.CLOSED and ticket.close_reason == "incident"
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.resolved_by == lead


def test_resolving_again_sends_nothing_more(lead, three_customers):
    incident = incident_declare(actor=lead, title="Utrecht", reply_template="Opgelost, {name}.")
    incident_link(incident=incident, tickets=three_customers, actor=lead)
    incident_resolve(incident=incident, actor=lead)
    assert incident_resolve(incident=incident, actor=lead) == []
    assert Message.objects.filter(direction="out").count() == 3
    assert IncidentTicket.objects.filter(reply__isnull=True).count() == 0


def test_a_ticket_linked_to_two_incidents_gets_one_reply_from_each_resolution_only(
    lead, three_customers
):
    first = incident_declare(actor=lead, title="One")
    second = incident_declare(actor=lead, title="Two")
    incident_link(incident=first, tickets=three_customers[:1], actor=lead)
    incident_link(incident=second, tickets=three_customers[:1], actor=lead)
    incident_resolve(incident=first, actor=lead, template="Fixed one.")
    incident_resolve(incident=second, actor=lead, template="Fixed two.")
    incident_resolve(incident=second, actor=lead, template="Fixed two.")
    texts = sorted(Message.objects.filter(direction="out").values_list("text", flat=True))
    assert texts == ["Fixed one.", "Fixed two."]


def test_an_empty_template_is_refused(lead, three_customers):
    incident = incident_declare(actor=lead, title="X")
    incident_link(incident=incident, tickets=three_customers, actor=lead)
    with pytest.raises(ValidationError):
        incident_resolve(incident=incident, actor=lead, template="  ")
    assert not Message.objects.filter(direction="out").exists()


def test_a_template_too_long_for_a_channel_is_refused_before_anything_is_sent(
    lead, three_customers
):
    incident = incident_declare(actor=lead, title="X")
    incident_link(incident=incident, tickets=three_customers, actor=lead)
    with pytest.raises(ValidationError):
        incident_resolve(incident=incident, actor=lead, template="x" * 5000)
    assert not Message.objects.filter(direction="out").exists()
    assert Ticket.objects.filter(status=TicketStatus.CLOSED).count() == 0


def test_no_linking_to_a_resolved_incident(lead, three_customers):
    incident = incident_declare(actor=lead, title="X")
    incident_link(incident=incident, tickets=three_customers[:1], actor=lead)
    incident_resolve(incident=incident, actor=lead, template="Done.")
    with pytest.raises(ValidationError):
        incident_link(incident=incident, tickets=three_customers[1:], actor=lead)


def test_unlinking_and_editing_the_status_note(lead, three_customers):
    incident = incident_declare(actor=lead, title="X")
    incident_link(incident=incident, tickets=three_customers, actor=lead)
    incident_unlink(incident=incident, ticket=three_customers[0], actor=lead)
    incident_update(incident=incident, actor=lead, public_note="Fixed by Monday")
    incident.refresh_from_db()
    assert incident.tickets.count() == 2 and incident.public_note == "Fixed by Monday"
    assert Activity.objects.filter(verb="incident_updated").exists()
