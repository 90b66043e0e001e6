"""The REST API: tokens, the list, actions through the screens' services, JSON errors."""

import pytest

from inbox.models import Activity, ApiToken, Ticket
from tests.inbox.api.conftest import bearer

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_its_hash(world):
    headers = bearer(world["users"]["agent"])
    raw = headers["HTTP_AUTHORIZATION"].split()[1]
    token = ApiToken.objects.get()
    assert raw not in (token.digest, token.prefix) and token.prefix == raw[:12]


def test_without_a_token_the_api_answers_401_as_json(client):
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_the_agent_lists_the_tickets_of_their_team(client, world):
    response = client.get("/api/v1/tickets", **bearer(world["users"]["agent"]))
    assert response.status_code == 200
    assert [t["id"] for t in response.json()["items"]] == [world["ticket"].pk]


def test_an_outsider_does_not_see_another_teams_ticket(client, world):
    headers = bearer(world["users"]["outsider"])
    assert client.get("/api/v1/tickets", **headers).json()["items"] == []
    response = client.get(f"/api/v1/tickets/{world['ticket'].pk}", **headers)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_claiming_through_the_api_uses_the_claim_service(client, world):
    agent = world["users"]["agent"]
    response = client.post(f"/api/v1/tickets/{world['ticket'].pk}/claim", **bearer(agent))
    assert response.status_code == 200
    assert Ticket.objects.get().assignee == agent
    assert Activity.objects.filter(verb="claimed", actor=agent).exists()


def test_a_read_token_cannot_change_anything(client, world):
    headers = bearer(world["users"]["agent"], scope="read")
    response = client.post(f"/api/v1/tickets/{world['ticket'].pk}/claim", **headers)
    assert response.status_code == 403 and response.json()["code"] == "read_only_token"
    assert Ticket.objects.get().assignee is None


def test_a_revoked_token_no_longer_works(client, world):
    from inbox.api.services import token_revoke

    agent = world["users"]["agent"]
    headers = bearer(agent)
    token_revoke(user=agent, token_id=ApiToken.objects.get().pk)
    assert client.get("/api/v1/tickets", **headers).status_code == 401


def test_bad_input_is_a_json_422_not_a_500(client, world):
    headers = bearer(world["users"]["agent"])
    response = client.post(
        f"/api/v1/tickets/{world['ticket'].pk}/note",
        data="{not json",
        content_type="application/json",
        **headers,
    )
    assert response.status_code in (400, 422)
    assert "code" in response.json()


def test_too_many_requests_get_429_with_retry_after(client, world, settings):
    settings.API_THROTTLE = "2/min"
    headers = bearer(world["users"]["agent"])
    codes = [client.get("/api/v1/tickets", **headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    response = client.get("/api/v1/tickets", **headers)
    assert int(response["Retry-After"]) >= 1
    assert response.json()["code"] == "throttled"


def test_the_schema_is_openapi_3(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/tickets" in schema["paths"]


def test_the_profile_page_creates_a_token_shown_once(client, world):
    agent = world["users"]["agent"]
    client.force_login(agent)
    page = client.post("/profile/tokens/", {"name": "Zapier", "scope": "write"})
    raw = ApiToken.objects.get().prefix
    assert raw in page.content.decode() and "shown only now" in page.content.decode()
    listing = client.get("/profile/tokens/").content.decode()
    assert "Zapier" in listing and "shown only now" not in listing


def test_an_admin_revokes_someone_elses_token_on_the_people_page(client, world):
    agent, admin = world["users"]["agent"], world["users"]["admin"]
    headers = bearer(agent)
    client.force_login(admin)
    token = ApiToken.objects.get()
    client.post(f"/settings/people/{agent.pk}/tokens/", {"revoke": token.pk})
    assert client.get("/api/v1/tickets", **headers).status_code == 401


def test_an_agent_cannot_open_someone_elses_tokens(client, world):
    client.force_login(world["users"]["agent"])
    response = client.get(f"/settings/people/{world['users']['lead'].pk}/tokens/")
    assert response.status_code == 403


def test_a_ticket_comes_with_its_messages_and_their_attachments(client, world):
    from inbox.models import Attachment, Message

    message = Message.objects.filter(ticket=world["ticket"]).first()
    Attachment.objects.create(
        message=message, channel_id=message.channel_id, kind="image", name="photo.jpg"
    )
    body = client.get(
        f"/api/v1/tickets/{world['ticket'].pk}", **bearer(world["users"]["agent"])
    ).json()
    [first] = body["messages"]
    assert first["text"] == "Hello 0"
    assert [(a["kind"], a["name"], a["url"]) for a in first["attachments"]] == [
        ("image", "photo.jpg", "")
    ]


def test_a_lead_lists_the_incidents_with_their_tickets(client, world):
    from inbox.incidents.services import incident_declare

    lead = world["users"]["lead"]
    incident = incident_declare(actor=lead, title="Payments down")
    response = client.get("/api/v1/incidents", **bearer(lead))
    assert response.status_code == 200
    (shown,) = response.json()
    assert shown["id"] == incident.pk and shown["title"] == "Payments down"
    assert shown["declared_at"] and shown["resolved_at"] is None


@pytest.mark.parametrize(
    "url", ["/api/v1/customers?handle=anna&platform=x%00", "/api/v1/tickets?kind=dm%00"]
)
def test_a_nul_character_in_a_query_is_a_json_422(client, world, url):
    response = client.get(url, **bearer(world["users"]["lead"]))
    assert response.status_code == 422 and response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    "query", ["q=999999999999999999999999999999", "q=%C2%B2", "assignee=99999999999999999999"]
)
def test_a_number_beyond_any_ticket_id_is_searched_as_text_not_a_server_error(client, world, query):
    response = client.get(f"/api/v1/tickets?{query}", **bearer(world["users"]["lead"]))
    assert response.status_code in (200, 422)
    assert response.status_code != 200 or response.json()["items"] == []
