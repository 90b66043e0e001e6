"""Every URL × every role: the expected answer, and nothing of another team leaks or changes.

Roles: anonymous, an agent of another team (outsider), an agent of the ticket's team, a lead,
an admin. A URL added without a row here fails ``test_every_url_is_in_the_matrix``.
"""

import pytest
from django.urls import get_resolver, reverse

from inbox.models import Team, Ticket
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "agent", "lead", "admin")
EVERYONE_WORKING = {"agent", "lead", "admin"}
# Who may use each URL (the rest get 403; anonymous visitors are sent to log in).
# "ticket" marks URLs about one ticket of team A, which the outsider (team B) may not touch.
MATRIX = {
    "inbox:index": ("GET", {"outsider", *EVERYONE_WORKING}, False),
    "inbox:list": ("GET", {"outsider", *EVERYONE_WORKING}, False),
    "inbox:tags": ("GET", {"outsider", *EVERYONE_WORKING}, False),
    # The avatar of the ticket's customer: only for those who see the ticket.
    "inbox:avatar": ("GET", EVERYONE_WORKING, False),
    # What the customer sent with a message: only for those who see the ticket.
    "inbox:attachment": ("GET", EVERYONE_WORKING, False),
    "inbox:bulk": ("POST", {"outsider", *EVERYONE_WORKING}, False),
    "inbox:thread": ("GET", EVERYONE_WORKING, True),
    "inbox:thread_poll": ("GET", EVERYONE_WORKING, True),
    "inbox:crm": ("GET", EVERYONE_WORKING, True),
    "inbox:presence": ("POST", EVERYONE_WORKING, True),
    "inbox:claim": ("POST", EVERYONE_WORKING, True),
    "inbox:release": ("POST", EVERYONE_WORKING, True),
    "inbox:assign": ("POST", {"lead", "admin"}, True),
    "inbox:tag": ("POST", EVERYONE_WORKING, True),
    "inbox:untag": ("POST", EVERYONE_WORKING, True),
    "inbox:close": ("POST", EVERYONE_WORKING, True),
    "inbox:reopen": ("POST", EVERYONE_WORKING, True),
    "inbox:snooze": ("POST", EVERYONE_WORKING, True),
    "inbox:reply": ("POST", EVERYONE_WORKING, True),
    "inbox:retry": ("POST", EVERYONE_WORKING, True),
    "inbox:hide": ("POST", EVERYONE_WORKING, True),
    "inbox:delete_comment": ("POST", EVERYONE_WORKING, True),
    "inbox:merge": ("POST", EVERYONE_WORKING, True),
    "inbox:unmerge": ("POST", EVERYONE_WORKING, True),
    "inbox:customer_contact": ("POST", EVERYONE_WORKING, True),
    "inbox:canned": ("GET", EVERYONE_WORKING, True),
    "inbox:count": ("POST", EVERYONE_WORKING, True),
    # Lead engines in the inbox: intent correction, incident links.
    "inbox:intent": ("POST", EVERYONE_WORKING, True),
    "inbox:incident_link": ("POST", {"lead", "admin"}, True),
    "inbox:incident_unlink": ("POST", {"lead", "admin"}, True),
    "channels:list": ("GET", {"admin"}, False),
    "channels:new": ("GET", {"admin"}, False),
    "channels:edit": ("GET", {"admin"}, False),
    "channels:test": ("POST", {"admin"}, False),
    "channels:toggle": ("POST", {"admin"}, False),
    "channels:delivery_retry": ("POST", {"admin"}, False),
    # WhatsApp templates on one ticket (the ticket's team), and the leads' opt-out list.
    "channels:whatsapp_template_form": ("GET", EVERYONE_WORKING, False),
    "channels:whatsapp_template_send": ("POST", EVERYONE_WORKING, False),
    "channels:whatsapp_opt_outs": ("GET", {"lead", "admin"}, False),
    "pages:start": ("GET", {"lead", "admin"}, False),
    "pages:people": ("GET", {"lead", "admin"}, False),
    "pages:people_new": ("GET", {"admin"}, False),
    "pages:people_edit": ("GET", {"admin"}, False),
    "pages:people_password": ("POST", {"admin"}, False),
    "pages:people_teams": ("GET", {"lead", "admin"}, False),
    "pages:people_team_new": ("GET", {"admin"}, False),
    "pages:people_team": ("GET", {"lead", "admin"}, False),
    "pages:people_team_edit": ("GET", {"admin"}, False),
    # The lead in the world is a member of the team these rows make (see ARGS).
    "pages:people_team_settings": ("POST", {"lead", "admin"}, False),
    "pages:people_shift_add": ("POST", {"lead", "admin"}, False),
    "pages:people_shift_delete": ("POST", {"lead", "admin"}, False),
    "pages:people_availability": ("POST", {"lead", "admin"}, False),
    "pages:audit": ("GET", {"lead", "admin"}, False),
    # Settings: routing rules, hours and SLA, canned replies, the user's own profile.
    "pages:rules": ("GET", {"lead", "admin"}, False),
    "pages:rules_new": ("POST", {"lead", "admin"}, False),
    "pages:rules_test": ("GET", {"lead", "admin"}, False),
    "pages:rules_edit": ("POST", {"lead", "admin"}, False),
    "pages:rules_toggle": ("POST", {"lead", "admin"}, False),
    "pages:rules_move": ("POST", {"lead", "admin"}, False),
    "pages:rules_delete": ("POST", {"lead", "admin"}, False),
    "pages:hours": ("GET", {"lead", "admin"}, False),
    "pages:hours_default": ("POST", {"lead", "admin"}, False),
    "pages:hours_team": ("POST", {"lead", "admin"}, False),
    "pages:hours_holiday_delete": ("POST", {"lead", "admin"}, False),
    "pages:hours_sla_new": ("POST", {"lead", "admin"}, False),
    "pages:hours_sla_edit": ("POST", {"lead", "admin"}, False),
    "pages:hours_sla_delete": ("POST", {"lead", "admin"}, False),
    "pages:hours_ack_new": ("POST", {"lead", "admin"}, False),
    "pages:hours_ack_preview": ("GET", {"lead", "admin"}, False),
    "pages:hours_ack_edit": ("POST", {"lead", "admin"}, False),
    "pages:hours_ack_delete": ("POST", {"lead", "admin"}, False),
    "pages:canned": ("GET", {"lead", "admin"}, False),
    "pages:canned_new": ("POST", {"lead", "admin"}, False),
    "pages:canned_preview": ("GET", {"lead", "admin"}, False),
    "pages:canned_edit": ("POST", {"lead", "admin"}, False),
    "pages:canned_delete": ("POST", {"lead", "admin"}, False),
    "pages:profile": ("GET", {"outsider", *EVERYONE_WORKING}, False),
    "pages:profile_preview": ("GET", {"outsider", *EVERYONE_WORKING}, False),
    "pages:profile_language": ("POST", {"outsider", *EVERYONE_WORKING}, False),
    # Each person's own failed sends (none of anyone else's).
    "pages:failed_notice": ("GET", {"outsider", *EVERYONE_WORKING}, False),
    "pages:failed_dismiss": ("POST", {"outsider", *EVERYONE_WORKING}, False),
    # Four-eyes review: the queue and coaching for leads, "My coaching" for every agent; the
    # author's resubmit and discard of a returned reply are ticket actions.
    "inbox:reply_resubmit": ("POST", EVERYONE_WORKING, True),
    "inbox:reply_discard": ("POST", EVERYONE_WORKING, True),
    "pages:review": ("GET", {"lead", "admin"}, False),
    "pages:review_count": ("GET", {"lead", "admin"}, False),
    "pages:review_approve": ("POST", {"lead", "admin"}, False),
    "pages:review_return": ("POST", {"lead", "admin"}, False),
    "pages:review_closed": ("GET", {"lead", "admin"}, False),
    "pages:review_thread": ("GET", {"lead", "admin"}, False),
    "pages:review_mine": ("GET", {"outsider", *EVERYONE_WORKING}, False),
    # Dashboard and incidents (leads and admins only).
    "pages:dashboard": ("GET", {"lead", "admin"}, False),
    "pages:dashboard_export": ("GET", {"lead", "admin"}, False),
    "pages:incidents": ("GET", {"lead", "admin"}, False),
    "pages:incident_new": ("GET", {"lead", "admin"}, False),
    "pages:incident": ("GET", {"lead", "admin"}, False),
    "pages:incident_edit": ("POST", {"lead", "admin"}, False),
    "pages:incident_link": ("POST", {"lead", "admin"}, False),
    "pages:incident_unlink": ("POST", {"lead", "admin"}, False),
    "pages:incident_resolve": ("POST", {"lead", "admin"}, False),
    # API tokens (your own; anyone's for admins) and outbound webhooks (admins).
    "pages:api_tokens": ("GET", {"outsider", *EVERYONE_WORKING}, False),
    "pages:people_tokens": ("GET", {"admin"}, False),
    "pages:webhooks": ("GET", {"admin"}, False),
    "pages:webhook": ("GET", {"admin"}, False),
    "pages:webhook_resend": ("POST", {"admin"}, False),
}
# URL arguments for pages about one object, made on demand: name -> callable(world) -> args.
# Lead and admin pages add their row here beside their row in MATRIX.
ARGS = {
    "inbox:avatar": lambda world: [world["ticket"].identity_id],
    "inbox:attachment": lambda world: [_attachment(world).pk, "file"],
    "channels:edit": lambda world: [world["channel"].pk],
    "channels:test": lambda world: [world["channel"].pk],
    "channels:toggle": lambda world: [world["channel"].pk],
    "channels:delivery_retry": lambda world: _failed_delivery(world),
    "channels:whatsapp_template_form": lambda world: [world["ticket"].pk],
    "channels:whatsapp_template_send": lambda world: [world["ticket"].pk],
    "pages:people_edit": lambda world: [world["users"]["agent"].pk],
    "pages:people_password": lambda world: [world["users"]["agent"].pk],
    "pages:people_team": lambda world: [_led_team(world).pk],
    "pages:people_team_edit": lambda world: [_led_team(world).pk],
    "pages:people_team_settings": lambda world: [_led_team(world).pk],
    "pages:people_shift_add": lambda world: [_led_team(world).pk],
    "pages:people_shift_delete": lambda world: _led_team_shift(world),
    "pages:people_availability": lambda world: [_led_team(world).pk],
    # Settings: routing rules, hours and SLA, canned replies, the user's own profile.
    "pages:rules_edit": lambda world: [_rule(world).pk],
    "pages:rules_toggle": lambda world: [_rule(world).pk],
    "pages:rules_move": lambda world: [_rule(world).pk],
    "pages:rules_delete": lambda world: [_rule(world).pk],
    "pages:hours_team": lambda world: [_led_team(world).pk],
    "pages:hours_holiday_delete": lambda world: [_holiday(world).pk],
    "pages:hours_sla_edit": lambda world: [_sla_target(world).pk],
    "pages:hours_sla_delete": lambda world: [_sla_target(world).pk],
    "pages:hours_ack_edit": lambda world: [_auto_ack(world).pk],
    "pages:hours_ack_delete": lambda world: [_auto_ack(world).pk],
    "pages:canned_edit": lambda world: [_canned(world).pk],
    "pages:canned_delete": lambda world: [_canned(world).pk],
    # Four-eyes review
    "pages:review_approve": lambda world: [_held_reply(world).pk],
    "pages:review_return": lambda world: [_held_reply(world).pk],
    "pages:review_thread": lambda world: [world["ticket"].pk],
    # Dashboard and incidents.
    "pages:incident": lambda world: [_incident(world).pk],
    "pages:incident_edit": lambda world: [_incident(world).pk],
    "pages:incident_link": lambda world: [_incident(world).pk],
    "pages:incident_unlink": lambda world: [_incident(world).pk],
    "pages:incident_resolve": lambda world: [_incident(world).pk],
    "pages:people_tokens": lambda world: [_someone_else(world)],
    "pages:webhook": lambda world: [_webhook(world)],
    "pages:webhook_resend": lambda world: [_delivery(world)],
}


def _held_reply(world):
    """A reply of the world's agent awaiting approval, on a ticket of its own (the world's
    ticket must not change before the forbidden roles' "nothing changed" check)."""
    from inbox.models import AgentProfile
    from inbox.replies.services import reply_send

    agent = world["users"]["agent"]
    AgentProfile.objects.filter(user=agent).update(needs_approval=True)
    (ticket,) = tickets(1, channel=world["channel"], prefix="held")
    return reply_send(ticket_id=ticket.pk, user=agent, text="Held for review")


def _attachment(world):
    """A photo on the world's ticket, not fetched yet (allowed roles get 404, not 403)."""
    from inbox.models import Attachment

    message = world["ticket"].messages.first()
    return Attachment.objects.create(
        message=message, channel_id=message.channel_id, kind="image", url="https://x.test/a.jpg"
    )


def _led_team(world) -> Team:
    """A team the world's lead belongs to, with the agent in it."""
    team, _ = Team.objects.get_or_create(name="Led")
    team.members.add(world["users"]["lead"], world["users"]["agent"])
    return team


def _incident(world):
    """An open incident with the world's ticket linked (resolving it would answer and close it)."""
    from inbox.incidents.services import incident_declare, incident_link
    from inbox.models import Incident

    incident = Incident.objects.filter(title="Matrix").first()
    if incident is None:
        incident = incident_declare(actor=None, title="Matrix", reply_template="Solved.")
        incident_link(incident=incident, tickets=[world["ticket"]], actor=None)
    return incident


def _led_team_shift(world) -> list[int]:
    import datetime as dt

    from inbox.models import Shift

    team = _led_team(world)
    shift = Shift.objects.create(
        user=world["users"]["agent"], weekday=0, start=dt.time(9), end=dt.time(17)
    )
    return [team.pk, shift.pk]


def _failed_delivery(world) -> list[int]:
    from channels.models import DeliveryState, WebhookDelivery

    delivery = WebhookDelivery.objects.create(
        kind="x", sha256="0" * 64, body=b"{}", state=DeliveryState.FAILED
    )
    delivery.channels.add(world["channel"])
    return [world["channel"].pk, delivery.pk]


def _rule(world):
    from inbox.engines.routing import rule_create

    return rule_create(actor=None, name="Matrix", priority_points=5)


def _holiday(world):
    import datetime as dt

    from inbox.engines.hours import holiday_add

    return holiday_add(actor=None, team=_led_team(world), date=dt.date(2026, 12, 25))


def _sla_target(world):
    from inbox.models import SlaTarget

    return SlaTarget.objects.create(first_response_minutes=30)


def _auto_ack(world):
    from inbox.models import AutoAck

    return AutoAck.objects.create(text="Back at {opening_time}")


def _canned(world):
    from inbox.models import CannedReply

    return CannedReply.objects.create(title="Thanks", body="Thanks, {customer_name}!")


# Public by design: log-in pages, health, language switch, signed webhooks (their own suite),
# and Django's admin, which has its own staff check.
# The API's schema and docs page are public (they describe, they hold no data).
# channels:kinds_css is the public stylesheet of the channel kinds' colours (the login page
# loads it too); it holds nothing but the connectors' class variables.
NOT_IN_MATRIX = {
    "login",
    "logout",
    "healthz",
    "set_language",
    "channels:webhook",
    "api:api-root",
    "api:openapi-json",
    "api:openapi-view",
    "channels:kinds_css",
    # Our reply attachments for the platform that downloads them: no login, a signed expiring
    # token decides; its row is test_the_signed_outbound_file_link_answers_every_role_alike.
    "inbox:attachment_out",
}


def _named_urls() -> set[str]:
    names = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
                if p.namespace != "admin":
                    walk(p.url_patterns, ns)
            elif p.name:
                names.add(prefix + p.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_is_in_the_matrix():
    assert _named_urls() - NOT_IN_MATRIX == set(MATRIX) | set(API_MATRIX)


@pytest.fixture
def world():
    team_a, team_b = Team.objects.create(name="A"), Team.objects.create(name="B")
    (ticket,) = tickets(1, team=team_a, prefix="secret")
    users = {
        "outsider": person("olga", team=team_b),
        "agent": person("anna", team=team_a),
        "lead": person("lotte", role="lead"),
        "admin": person("ada", role="admin", is_staff=True),
    }
    from channels.models import Channel

    return {"ticket": ticket, "users": users, "channel": Channel.objects.get()}


def _url(name: str, world) -> str:
    if name.startswith("inbox:") and MATRIX[name][2]:
        return reverse(name, args=[world["ticket"].pk])
    if name in ARGS:
        return reverse(name, args=ARGS[name](world))
    return reverse(name)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_role_gets_the_expected_answer_and_forbidden_changes_nothing(
    client, world, role, name
):
    method, allowed, about_ticket = MATRIX[name]
    if role != "anonymous":
        client.force_login(world["users"][role])
    ticket = world["ticket"]
    url = _url(name, world)  # may set up the object the URL is about: not the request's doing
    before = Ticket.objects.values("version", "status", "assignee_id").get(pk=ticket.pk)
    data = {"ids": [ticket.pk], "action": "close", "tag": "x", "text": "hi", "reason": "spam"}
    response = (client.post if method == "POST" else client.get)(url, data)
    if role == "anonymous":
        assert response.status_code == 302 and "/login/" in response["Location"]
    elif role in allowed:
        assert response.status_code not in (401, 403), response.status_code
        assert response.status_code < 500
    else:
        assert response.status_code == 403
    if role not in allowed or (role == "outsider" and name == "inbox:bulk"):
        after = Ticket.objects.values("version", "status", "assignee_id").get(pk=ticket.pk)
        assert after == before


@pytest.mark.parametrize("role", ROLES)
def test_the_signed_outbound_file_link_answers_every_role_alike(
    client, world, role, settings, tmp_path
):
    """/media/out/<token>/: the token, not the visitor, decides. A valid one serves the file
    of our own reply to anyone (Meta's fetcher has no session); a changed one is 403."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    from inbox.models import Attachment, Direction, Message
    from webcare import public_links

    settings.STORAGES = {
        **settings.STORAGES,
        "media": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    if role != "anonymous":
        client.force_login(world["users"][role])
    ticket = world["ticket"]
    ours = Message.objects.create(
        ticket=ticket, channel_id=ticket.channel_id, direction=Direction.OUTBOUND, text="Label"
    )
    name = storages["media"].save("out/label.pdf", ContentFile(b"%PDF-1.4 label"))
    sent = Attachment.objects.create(
        message=ours, channel_id=ticket.channel_id, kind="file", state="stored",
        storage_name=name, detected_type="application/pdf",
    )  # fmt: skip
    token = public_links.outbound_token(sent.pk)
    assert client.get(reverse("inbox:attachment_out", args=[token])).status_code == 200
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(reverse("inbox:attachment_out", args=[forged])).status_code == 403
    assert client.post(reverse("inbox:attachment_out", args=[token])).status_code == 405


@pytest.mark.parametrize("name", ["inbox:index", "inbox:list"])
def test_another_teams_tickets_do_not_leak_into_an_outsiders_lists(client, world, name):
    client.force_login(world["users"]["outsider"])
    page = client.get(reverse(name), {"view": "all"}).content.decode()
    assert world["ticket"].identity.display_name not in page
    assert "Hello 0" not in page


# --- the REST API (/api/v1/), with a read-write token of each role -----------------------------
# name -> (method, who may, path arguments(world), JSON body). Anonymous callers get 401; a
# forbidden role gets 403, or 404 where the object is outside what the role can see at all.
EVERYONE = {"outsider", *EVERYONE_WORKING}
LEADS = {"lead", "admin"}
ADMINS = {"admin"}
_T = lambda world: [world["ticket"].pk]  # noqa: E731
_C = lambda world: [world["ticket"].customer_id]  # noqa: E731


def _other(world) -> int:
    """Another customer of the ticket's team, to merge into (ids differ per database)."""
    (other,) = tickets(1, team=world["ticket"].team, prefix="other")
    return other.customer_id


API_MATRIX = {
    "api:ticket_list": ("GET", EVERYONE, None, None),
    "api:ticket_detail": ("GET", EVERYONE_WORKING, _T, None),
    "api:ticket_claim": ("POST", EVERYONE_WORKING, _T, {}),
    "api:ticket_release": ("POST", EVERYONE_WORKING, _T, {}),
    "api:ticket_assign": ("POST", LEADS, _T, {"assignee_id": None}),
    "api:ticket_reply": ("POST", EVERYONE_WORKING, _T, {"text": "Hi"}),
    "api:ticket_note": ("POST", EVERYONE_WORKING, _T, {"text": "note"}),
    "api:ticket_tag": ("POST", EVERYONE_WORKING, _T, {"name": "x"}),
    "api:ticket_untag": ("DELETE", EVERYONE_WORKING, lambda w: [w["ticket"].pk, "x"], None),
    "api:ticket_close": ("POST", EVERYONE_WORKING, _T, {"reason": "spam"}),
    "api:ticket_reopen": ("POST", EVERYONE_WORKING, _T, {}),
    "api:ticket_snooze": ("POST", EVERYONE_WORKING, _T, {"until": "2999-01-01T00:00:00Z"}),
    "api:attachment_file": ("GET", EVERYONE_WORKING, lambda w: [_stored_attachment(w)], None),
    "api:customer_lookup": ("GET", EVERYONE, None, None),
    "api:customer_detail": ("GET", EVERYONE_WORKING, _C, None),
    "api:customer_attributes": ("PATCH", EVERYONE_WORKING, _C, {"attributes": {"tier": "gold"}}),
    "api:customer_merge": ("POST", EVERYONE_WORKING, _C, lambda w: {"into_customer_id": _other(w)}),
    "api:channel_list": ("GET", EVERYONE, None, None),
    "api:channel_update": ("PATCH", ADMINS, lambda w: [w["channel"].pk], {"name": "Renamed"}),
    "api:incident_list": ("GET", LEADS, None, None),
    "api:dashboard": ("GET", LEADS, None, None),
    "api:audit": ("GET", LEADS, None, None),
    "api:token_list": ("GET", EVERYONE, None, None),
    "api:token_create": ("POST", EVERYONE, None, {"name": "mine"}),
    # The agent's own token: the agent and admins may revoke it.
    "api:token_revoke": ("DELETE", {"agent", "admin"}, lambda w: [_agent_token(w)], None),
    "api:webhook_list": ("GET", ADMINS, None, None),
    "api:webhook_create": (
        "POST",
        ADMINS,
        None,
        {"url": "http://127.0.0.1:9/hook", "events": ["ticket.closed"]},
    ),
    "api:webhook_update": ("PATCH", ADMINS, lambda w: [_webhook(w)], {"enabled": False}),
    "api:webhook_delete": ("DELETE", ADMINS, lambda w: [_webhook(w)], None),
    "api:webhook_deliveries": ("GET", ADMINS, lambda w: [_webhook(w)], None),
    "api:delivery_resend": ("POST", ADMINS, lambda w: [_delivery(w)], None),
}
# Paths shared by two operations (GET and POST of one URL) resolve to one name.
API_PATHS = {
    "api:token_create": "api:token_list",
    "api:webhook_create": "api:webhook_list",
    "api:webhook_update": "api:webhook_delete",
    "api:ticket_detail": "api:ticket_detail",
}


def _stored_attachment(world) -> int:
    """A stored photo on the world's ticket (the test points the media storage at a tmp dir)."""
    from django.core.files.base import ContentFile

    from inbox.media.services import storage

    attachment = _attachment(world)
    name = storage().save(f"m/{attachment.pk}.jpg", ContentFile(b"\xff\xd8\xff\xe0 photo"))
    attachment.state, attachment.storage_name, attachment.detected_type = (
        "stored",
        name,
        "image/jpeg",
    )
    attachment.save()
    return attachment.pk


def _someone_else(world) -> int:
    """A user who is none of the roles asking (their own tokens page is theirs to open)."""
    from django.contrib.auth.models import User

    return User.objects.get_or_create(username="someone-else")[0].pk


def _agent_token(world) -> int:
    from inbox.api.services import token_create

    agent = world["users"]["agent"]
    return token_create(user=agent, owner=agent, name="agent's", scope="read")[0].pk


def _webhook(world) -> int:
    from inbox.models import WebhookSubscription

    sub = WebhookSubscription.objects.filter(url="http://127.0.0.1:9/m").first()
    sub = sub or WebhookSubscription.objects.create(
        url="http://127.0.0.1:9/m", events=["ticket.closed"], secret="s"
    )
    return sub.pk


def _delivery(world) -> int:
    from inbox.models import OutboundDelivery

    return OutboundDelivery.objects.create(
        subscription_id=_webhook(world), event="ticket.closed", body="{}", status="dead"
    ).pk


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(API_MATRIX))
def test_each_role_gets_the_expected_api_answer_and_forbidden_changes_nothing(
    client, world, role, name, settings, tmp_path
):
    import json

    from inbox.api.services import token_create

    settings.WEBHOOKS_ALLOW_PRIVATE = True
    media = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    settings.STORAGES = {**settings.STORAGES, "media": {**media, "OPTIONS": {"location": tmp_path}}}
    method, allowed, args, body = API_MATRIX[name]
    headers = {}
    if role != "anonymous":
        user = world["users"][role]
        raw = token_create(user=user, owner=user, name="matrix", scope="write")[1]
        headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    url = reverse(API_PATHS.get(name, name), args=args(world) if args else None)
    ticket = world["ticket"]
    before = Ticket.objects.values("version", "status", "assignee_id").get(pk=ticket.pk)
    kwargs = {"content_type": "application/json", **headers}
    if callable(body):
        body = body(world)
    if body is not None:
        kwargs["data"] = json.dumps(body)
    response = getattr(client, method.lower())(url, **kwargs)
    assert response.status_code < 500, response.content
    file = name == "api:attachment_file" and response.status_code == 200
    assert (
        response["Content-Type"].startswith("application/json")
        or response.status_code == 204
        or file
    )
    if role == "anonymous":
        assert response.status_code == 401
    elif role in allowed:
        assert response.status_code not in (401, 403, 404), (response.status_code, response.content)
    else:
        assert response.status_code in (403, 404), response.status_code
    if role not in allowed:
        after = Ticket.objects.values("version", "status", "assignee_id").get(pk=ticket.pk)
        assert after == before
