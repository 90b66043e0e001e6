"""One person on several channels: a customer known by a phone number or e-mail address (recorded
by an agent, or vouched for by a platform) is the customer a new identity with the same one joins;
agents link two customers by hand and see one history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inbox.customers.contact import phone_e164
from inbox.customers.services import customer_contact_set
from inbox.ingest.services import ingest_batch
from inbox.models import Activity, Customer, Ticket
from inbox.tickets.services import ActionError
from tests.channels.whatsapp.support import MESSAGES, deliver, inbound, whatsapp_channel
from tests.factories import author, item, make_channel
from tests.personas import person

pytestmark = pytest.mark.django_db

WA_ID = "31612345678"  # WhatsApp's wa_id: the number in E.164 without "+"


@pytest.fixture
def anna():
    return person("anna", "agent")


def messenger_ticket(uid="psid-1", **author_fields) -> Ticket:
    channel = make_channel("messenger", settings={"page_id": "1"}, credentials={})
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item(f"mid.{uid}", thread=f"dm:{uid}", kind="dm", author=author(uid, **author_fields))
        ],
    )
    return Ticket.objects.get(channel=channel, thread_key=f"dm:{uid}")


def whatsapp_ticket(client, wa_id=WA_ID) -> Ticket:
    channel = whatsapp_channel()
    deliver(client, inbound(MESSAGES["text"], wa_id=wa_id, wamid=f"wamid.IN-{wa_id}"))
    return Ticket.objects.get(channel=channel)


def test_a_whatsapp_message_from_a_number_an_agent_recorded_lands_on_that_customer(client, anna):
    known = messenger_ticket()
    customer_contact_set(customer_id=known.customer_id, phone="06-12345678", email="", user=anna)
    ticket = whatsapp_ticket(client)
    assert ticket.customer_id == known.customer_id
    assert Customer.objects.count() == 1
    assert ticket.identity.platform == "whatsapp"


def test_a_whatsapp_message_from_another_number_is_another_customer(client, anna):
    known = messenger_ticket()
    customer_contact_set(customer_id=known.customer_id, phone="+31 6 87654321", email="", user=anna)
    ticket = whatsapp_ticket(client)
    assert ticket.customer_id != known.customer_id
    assert Customer.objects.get(pk=ticket.customer_id).phone == "+31612345678"


def test_a_messenger_author_with_a_known_email_joins_that_customer(anna):
    known = messenger_ticket("psid-1")
    customer_contact_set(
        customer_id=known.customer_id, phone="", email="Sanne@Example.NL", user=anna
    )
    other = messenger_ticket("psid-2", email="sanne@example.nl")
    assert other.customer_id == known.customer_id


def test_a_number_known_on_whatsapp_links_a_later_author_that_gives_it(client):
    first = whatsapp_ticket(client)
    later = messenger_ticket("psid-3", phone="+31612345678")
    assert later.customer_id == first.customer_id


def test_a_new_identity_joins_the_person_a_merged_customer_belongs_to(client, anna):
    known, other = messenger_ticket("psid-1"), messenger_ticket("psid-2")
    customer_contact_set(customer_id=known.customer_id, phone="0612345678", email="", user=anna)
    from inbox.customers.services import customer_merge

    customer_merge(source_id=known.customer_id, target_id=other.customer_id, user=anna)
    assert whatsapp_ticket(client).customer_id == other.customer_id


def test_ingest_costs_the_same_statements_with_contact_details_as_without(anna):
    known = messenger_ticket("psid-0")
    customer_contact_set(customer_id=known.customer_id, phone="0612345678", email="", user=anna)
    channel = make_channel("messenger", settings={"page_id": "2"}, credentials={})

    def batch(prefix, **contact):
        return [
            item(f"{prefix}{n}", thread=f"{prefix}t{n}", kind="dm", uid=f"{prefix}u{n}")
            if not contact
            else item(
                f"{prefix}{n}",
                thread=f"{prefix}t{n}",
                kind="dm",
                author=author(
                    f"{prefix}u{n}",
                    phone="+31612345678" if n == 1 else f"+3162{n:07d}",
                    email=f"c{n}@{prefix}.nl",
                ),
            )
            for n in range(1, 30)
        ]

    counts = []
    for prefix, contact in (("a", {}), ("b", {"with": True})):
        with CaptureQueriesContext(connection) as queries:
            ingest_batch(channel_id=channel.pk, items=batch(prefix, **contact))
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # One of the second batch's numbers was known: that author joined the customer.
    assert Ticket.objects.get(thread_key="bt1").customer_id == known.customer_id
    assert Ticket.objects.get(thread_key="bt2").customer_id != known.customer_id


def test_an_agent_records_a_phone_in_any_notation_and_it_is_stored_in_e164(anna):
    ticket = messenger_ticket()
    customer_contact_set(
        customer_id=ticket.customer_id, phone="06 1234 5678", email=" Jan@Voorbeeld.nl ", user=anna
    )
    customer = Customer.objects.get(pk=ticket.customer_id)
    assert (customer.phone, customer.email) == ("+31612345678", "jan@voorbeeld.nl")
    assert Activity.objects.filter(verb="customer_contact").count() == 1


def test_a_phone_that_is_no_number_is_refused_with_a_reason(anna):
    ticket = messenger_ticket()
    with pytest.raises(ActionError) as refused:
        customer_contact_set(customer_id=ticket.customer_id, phone="bel me", email="", user=anna)
    assert "phone number" in refused.value.message
    assert Customer.objects.get(pk=ticket.customer_id).phone == ""


def test_numbers_are_read_in_the_configured_country_unless_they_give_theirs():
    assert phone_e164("06 12345678") == "+31612345678"
    assert phone_e164("+32 470 12 34 56") == "+32470123456"
    assert phone_e164("12") == ""


def test_agents_save_contact_details_on_the_customer_panel(client, anna):
    ticket = messenger_ticket()
    client.force_login(anna)
    page = client.get(reverse("inbox:thread", args=[ticket.pk]))
    assert reverse("inbox:customer_contact", args=[ticket.pk]) in page.content.decode()
    client.post(
        reverse("inbox:customer_contact", args=[ticket.pk]),
        {"phone": "0612345678", "email": "sanne@example.nl"},
    )
    customer = Customer.objects.get(pk=ticket.customer_id)
    assert (customer.phone, customer.email) == ("+31612345678", "sanne@example.nl")
    assert (
        'value="+31612345678"'
        in client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    )


def test_two_customers_linked_by_hand_show_one_history(client, anna):
    first, second = messenger_ticket("psid-1"), messenger_ticket("psid-2")
    client.force_login(anna)
    client.post(reverse("inbox:merge", args=[first.pk]), {"other_ticket": f"#{second.pk}"})
    page = client.get(reverse("inbox:thread", args=[first.pk])).content.decode()
    assert reverse("inbox:thread", args=[second.pk]) in page
    page = client.get(reverse("inbox:thread", args=[second.pk])).content.decode()
    assert reverse("inbox:thread", args=[first.pk]) in page


def test_the_api_finds_a_customer_by_their_phone_in_any_notation_and_merges_by_hand(client):
    from tests.inbox.api.conftest import bearer

    lead = person("lena", "lead")
    first, second = messenger_ticket("psid-1"), messenger_ticket("psid-2")
    customer_contact_set(customer_id=first.customer_id, phone="+31612345678", email="", user=lead)
    found = client.get("/api/v1/customers", {"phone": "06 12345678"}, **bearer(lead)).json()
    assert [(c["id"], c["phone"]) for c in found] == [(first.customer_id, "+31612345678")]
    merged = client.post(
        f"/api/v1/customers/{first.customer_id}/merge",
        {"into_customer_id": second.customer_id},
        content_type="application/json",
        **bearer(lead),
    )
    assert merged.json()["merged_into_id"] == second.customer_id
