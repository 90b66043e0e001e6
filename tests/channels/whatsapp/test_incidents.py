"""An incident's "answer all" on WhatsApp: free-form inside the window, the channel's incident
template outside it, nothing to a customer who opted out."""

import datetime as dt

import pytest
import responses
import time_machine
from django.core.exceptions import ValidationError

from channels.models import Channel
from channels.whatsapp.services import templates_sync
from inbox.incidents.services import incident_declare, incident_link, incident_resolve
from inbox.models import Message, Ticket
from tests.channels.whatsapp.support import (
    MESSAGES,
    PHONE_NUMBER_ID,
    WABA_ID,
    deliver,
    graph,
    inbound,
    templates_page,
    whatsapp_channel,
)
from tests.personas import person

pytestmark = pytest.mark.django_db

INCIDENT_TEMPLATE = {
    "name": "storing_update",
    "components": [{"type": "BODY", "text": "Hallo {{1}}, {{2}}"}],
    "language": "nl",
    "status": "APPROVED",
    "category": "UTILITY",
    "id": "1271036137256099",
}


@pytest.fixture
def ticket(client):
    channel = whatsapp_channel(
        settings={
            "waba_id": WABA_ID,
            "phone_number_id": PHONE_NUMBER_ID,
            "incident_template": "storing_update",
        }
    )
    deliver(client, inbound(MESSAGES["text"], wamid="wamid.IN-1"))
    page = templates_page()
    page["data"].append(INCIDENT_TEMPLATE)
    with responses.RequestsMock() as mock:
        mock.get(graph(f"{WABA_ID}/message_templates"), json=page)
        templates_sync(channel=Channel.objects.get(pk=channel.pk))
    return Ticket.objects.get(channel=channel)


def resolve(ticket, text="De storing is voorbij.\nExcuses!"):
    lead = person("lena", "lead")
    incident = incident_declare(actor=lead, title="Storing", reply_template=text)
    incident_link(incident=incident, tickets=[ticket], actor=lead)
    return incident_resolve(incident=incident, actor=lead)


def test_inside_the_window_the_answer_goes_free_form(ticket):
    [reply] = resolve(ticket)
    message = Message.objects.get(pk=reply)
    assert "template" not in message.send_options
    assert message.text.startswith("De storing is voorbij.")


def test_outside_the_window_the_incident_template_carries_the_answer(ticket):
    with time_machine.travel(ticket.last_inbound_at + dt.timedelta(hours=30)):
        [reply] = resolve(ticket)
    message = Message.objects.get(pk=reply)
    assert message.send_options["template"] == {
        "name": "storing_update",
        "language": "nl",
        "header": [],
        "body": ["Sanne de Vries", "De storing is voorbij. Excuses!"],
    }
    assert message.text == "Hallo Sanne de Vries, De storing is voorbij. Excuses!"


def test_without_an_incident_template_resolving_says_which_tickets_need_one(ticket):
    Channel.objects.filter(pk=ticket.channel_id).update(
        settings={"phone_number_id": PHONE_NUMBER_ID}
    )
    ticket.refresh_from_db()
    later = ticket.last_inbound_at + dt.timedelta(hours=30)
    with (
        time_machine.travel(later),
        pytest.raises(ValidationError, match="no approved incident template"),
    ):
        resolve(ticket)
    assert not Message.objects.filter(direction="out").exists()


def test_an_opted_out_customer_gets_no_incident_answer(client, ticket):
    deliver(client, inbound({"type": "text", "text": {"body": "STOP"}}, wamid="wamid.STOP"))
    ticket.refresh_from_db()
    with time_machine.travel(ticket.last_inbound_at + dt.timedelta(hours=30)):
        assert resolve(ticket) == []
    assert not Message.objects.filter(direction="out").exists()
