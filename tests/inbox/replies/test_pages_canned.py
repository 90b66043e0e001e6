"""The canned-replies page: leads and admins search, create, edit and delete saved answers
through audited services, with a preview filled as the composer fills it; agents get 403."""

import pytest
from django.urls import reverse

from inbox.models import Activity, AgentProfile, CannedReply, Team
from inbox.replies.services import canned_fill
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def lotte():
    return person("lotte", "lead")


@pytest.fixture
def lead_client(client, lotte):
    client.force_login(lotte)
    return client


@pytest.fixture
def agent_client(client):
    client.force_login(person("anna"))
    return client


def test_the_list_shows_every_reply_with_its_team(lead_client, support):
    a = CannedReply.objects.create(title="Refund", body="Your refund is on its way.", team=support)
    b = CannedReply.objects.create(title="Hours", body="We are open 8-18.")
    html = lead_client.get(reverse("pages:canned")).content.decode()
    row = html[html.index(f'data-canned="{a.pk}"') :]
    assert "Support" in row[: row.index("</tr>")]
    row = html[html.index(f'data-canned="{b.pk}"') :]
    assert "Everyone" in row[: row.index("</tr>")]


def test_search_finds_replies_by_title_or_text(lead_client):
    CannedReply.objects.create(title="Refund", body="Your money is on its way.")
    CannedReply.objects.create(title="Opening hours", body="We are open 8-18.")
    html = lead_client.get(reverse("pages:canned"), {"q": "money"}).content.decode()
    assert "Refund" in html and "Opening hours" not in html
    html = lead_client.get(reverse("pages:canned"), {"q": "opening"}).content.decode()
    assert "Refund" not in html and "Opening hours" in html
    html = lead_client.get(reverse("pages:canned"), {"q": "nothing like it"}).content.decode()
    assert "No canned reply matches." in html


def test_the_list_costs_the_same_queries_for_many_replies(
    lead_client, support, django_assert_max_num_queries
):
    for i in range(30):
        CannedReply.objects.create(title=f"Reply {i}", body="Hi", team=support if i % 2 else None)
    lead_client.get(reverse("pages:canned"))
    with django_assert_max_num_queries(6):
        lead_client.get(reverse("pages:canned"))


def test_a_lead_creates_a_team_reply_and_the_audit_records_it(lead_client, support):
    response = lead_client.post(
        reverse("pages:canned_new"),
        {
            "title": "Thanks",
            "body": "Thanks {customer_name}! ^{agent_first_name}",
            "team": support.pk,
        },
    )
    assert response.status_code == 302
    canned = CannedReply.objects.get()
    assert (canned.title, canned.team) == ("Thanks", support)
    (row,) = Activity.objects.filter(verb="canned_created")
    assert row.after == {
        "canned": canned.pk,
        "title": "Thanks",
        "body": "Thanks {customer_name}! ^{agent_first_name}",
        "translations": {},
        "team": support.pk,
    }


def test_a_reply_needs_a_title_and_a_text(lead_client):
    response = lead_client.post(reverse("pages:canned_new"), {"title": " ", "body": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "A canned reply needs a title." in html and "A canned reply needs a text." in html
    assert not CannedReply.objects.exists()


def test_a_lead_edits_and_deletes_a_reply_with_before_and_after(lead_client, support):
    canned = CannedReply.objects.create(title="Old", body="Old text", team=support)
    page = lead_client.get(reverse("pages:canned_edit", args=[canned.pk])).content.decode()
    assert "Old text" in page
    lead_client.post(
        reverse("pages:canned_edit", args=[canned.pk]), {"title": "New", "body": "New text"}
    )
    canned.refresh_from_db()
    assert (canned.title, canned.body, canned.team) == ("New", "New text", None)
    updated = Activity.objects.get(verb="canned_updated")
    assert updated.before["title"] == "Old" and updated.after["title"] == "New"
    assert updated.before["team"] == support.pk and updated.after["team"] is None
    lead_client.post(reverse("pages:canned_delete", args=[canned.pk]))
    assert not CannedReply.objects.exists()
    assert Activity.objects.get(verb="canned_deleted").before["body"] == "New text"


def test_the_form_lists_the_variables_the_composer_fills(lead_client):
    html = lead_client.get(reverse("pages:canned_new")).content.decode()
    assert "{customer_name}" in html and "{agent_first_name}" in html


def test_the_preview_is_filled_for_an_example_customer_and_signed_by_the_user(lead_client, lotte):
    AgentProfile.objects.filter(user=lotte).update(signature="^Lotte")
    response = lead_client.get(
        reverse("pages:canned_preview"),
        {"body": "Hoi {customer_name}, groet van {agent_first_name}"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "<html" not in html
    assert "Hoi Sanne de Vries, groet van Lotte<br>^Lotte" in html


def test_the_preview_fills_exactly_as_the_composer_does(lead_client, lotte):
    (ticket,) = tickets(1)
    canned = CannedReply.objects.create(
        title="x", body="Hi {customer_name} from {agent_first_name}"
    )
    filled = canned_fill(canned=canned, ticket=ticket, user=lotte)
    assert filled == f"Hi {ticket.identity.display_name} from Lotte"
    html = lead_client.get(
        reverse("pages:canned_preview"), {"body": canned.body}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "Hi Sanne de Vries from Lotte" in html


def test_reply_text_is_escaped_in_the_list_and_the_preview(lead_client):
    CannedReply.objects.create(title="<b>x</b>", body="<script>alert(1)</script>")
    html = lead_client.get(reverse("pages:canned")).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    html = lead_client.get(
        reverse("pages:canned_preview"), {"body": "<img src=x onerror=alert(1)>"}
    ).content.decode()
    assert "<img" not in html


def test_an_agent_cannot_open_create_change_or_delete_canned_replies(agent_client):
    canned = CannedReply.objects.create(title="Keep", body="Keep me")
    for method, url, data in [
        ("get", reverse("pages:canned"), {}),
        ("get", reverse("pages:canned_preview"), {"body": "x"}),
        ("post", reverse("pages:canned_new"), {"title": "New", "body": "x"}),
        ("post", reverse("pages:canned_edit", args=[canned.pk]), {"title": "Hacked", "body": "x"}),
        ("post", reverse("pages:canned_delete", args=[canned.pk]), {}),
    ]:
        assert getattr(agent_client, method)(url, data).status_code == 403, url
    assert list(CannedReply.objects.values_list("title", "body")) == [("Keep", "Keep me")]
    assert not Activity.objects.filter(verb__startswith="canned").exists()


def test_an_unknown_variable_is_refused_with_the_list_of_known_ones(lead_client):
    response = lead_client.post(
        reverse("pages:canned_new"),
        {"title": "Thanks", "body": "Hi {customer_first_name}, thanks!", "team": ""},
    )
    html = response.content.decode()
    assert response.status_code == 400 and not CannedReply.objects.exists()
    assert "Unknown variable {customer_first_name}" in html
    assert "Known variables: {customer_name}, {agent_first_name}" in html


def test_a_dutch_customer_gets_the_dutch_text_and_others_the_main_one(lead_client, lotte):
    lead_client.post(
        reverse("pages:canned_new"),
        {
            "title": "Thanks",
            "body": "Thanks {customer_name}!",
            "body_nl": "Bedankt {customer_name}!",
            "team": "",
        },
    )
    canned = CannedReply.objects.get()
    assert canned.translations == {"nl": "Bedankt {customer_name}!"}
    dutch, other = tickets(2)
    dutch.language, other.language = "nl-BE", "de"
    assert canned_fill(canned=canned, ticket=dutch, user=lotte).startswith("Bedankt ")
    assert canned_fill(canned=canned, ticket=other, user=lotte).startswith("Thanks ")
    edit = lead_client.get(reverse("pages:canned_edit", args=[canned.pk])).content.decode()
    assert "Text in Nederlands" in edit and "Bedankt {customer_name}!" in edit
