"""What an agent sees and does in an Instagram thread: reply options, hide, delete."""

from zoneinfo import ZoneInfo

import pytest
import responses
from django.urls import reverse

from inbox.models import Activity, Message, Team
from tests.channels.instagram.support import C1, channel, graph
from tests.channels.instagram.test_send import comment_ticket
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread():
    team = Team.objects.create(name="Social")
    agent = person("anna", team=team)
    ticket = comment_ticket(channel())
    ticket.team = team
    ticket.save(update_fields=["team"])
    return agent, ticket


def test_the_thread_offers_public_reply_move_to_dm_hide_and_delete(client, thread):
    agent, ticket = thread
    client.force_login(agent)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "Public reply" in page
    assert "Move to DM (private reply to the commenter)" in page
    assert "Hide on platform" in page
    assert "Delete on platform" in page
    assert "◉" in page  # Instagram's icon


@responses.activate
def test_an_agent_deletes_a_comment_on_instagram_as_an_audited_action(client, thread):
    agent, ticket = thread
    comment = Message.objects.get(ticket=ticket, external_id=C1)
    # DELETE /{ig-comment-id} answers {"success": true} (Instagram comment moderation guide).
    responses.delete(graph(C1), json={"success": True})
    client.force_login(agent)
    client.post(reverse("inbox:delete_comment", args=[ticket.pk]), {"message": comment.pk})
    client.post(reverse("inbox:delete_comment", args=[ticket.pk]), {"message": comment.pk})
    comment.refresh_from_db()
    assert comment.hidden is True
    assert Activity.objects.filter(ticket=ticket, verb="message_deleted", actor=agent).count() == 1
    assert [c.request.method for c in responses.calls] == ["DELETE"]


def test_a_dm_thread_offers_only_a_private_message(client):
    from tests.channels.instagram.test_send import dm_ticket

    team = Team.objects.create(name="DMs")
    agent = person("bram", team=team)
    ticket = dm_ticket(channel())
    ticket.team = team
    ticket.save(update_fields=["team"])
    client.force_login(agent)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert 'value="dm"' in page
    assert 'value="public"' not in page
    assert 'value="private"' not in page


def test_a_mention_says_before_typing_that_the_reply_is_public_under_the_mention():
    from django.utils import timezone

    from channels.instagram.connector import InstagramConnector

    window = InstagramConnector(channel().context()).reply_window(
        ticket_kind="mention", last_inbound_at=timezone.now()
    )
    assert window.allowed
    assert "appears as a comment under the comment or post that mentions" in window.reason


def test_the_reports_legend_marks_the_instagram_channel_with_its_icon(client, thread):
    from django.contrib.auth.models import Group

    agent, ticket = thread
    agent.groups.add(Group.objects.get_or_create(name="lead")[0])
    client.force_login(agent)
    page = client.get(reverse("pages:dashboard")).content.decode()
    legend = page[page.index('class="legend"') :]
    assert '<span class="chan-icon" aria-hidden="true">◉</span>' in legend
    assert ticket.channel.name in legend


def _dutch_agent(name: str, team: Team):
    agent = person(name, team=team)
    agent.profile.language = "nl"
    agent.profile.save()
    return agent


def test_a_dutch_agent_reads_why_a_late_instagram_dm_cannot_be_answered_in_dutch(client):
    import datetime as dt

    from django.utils import timezone

    from tests.channels.instagram.test_send import dm_ticket

    team = Team.objects.create(name="DMs")
    agent = _dutch_agent("bram", team)
    ticket = dm_ticket(channel(), at=timezone.now() - dt.timedelta(days=2))
    ticket.team = team
    ticket.save(update_fields=["team"])
    client.force_login(agent)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert (
        "Meer dan 24 uur sinds het laatste bericht van de klant: Instagram weigert een antwoord."
        in page
    )
    assert "refuses a reply" not in page


def test_a_dutch_agent_reads_until_when_a_comment_can_move_to_dm_in_dutch_and_their_time(client):
    import datetime as dt

    from django.utils import timezone

    team = Team.objects.create(name="Social")
    agent = _dutch_agent("bram", team)
    agent.profile.time_zone = "Europe/Amsterdam"
    agent.profile.save()
    written = timezone.now().replace(microsecond=0) - dt.timedelta(days=1)
    ticket = comment_ticket(channel(), at=written)
    ticket.team = team
    ticket.save(update_fields=["team"])
    client.force_login(agent)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    closes = timezone.localtime(written + dt.timedelta(days=7), ZoneInfo("Europe/Amsterdam"))
    assert (
        "Openbaar antwoorden kan altijd. Naar DM verplaatsen (één privéantwoord per reactie) "
        f"kan tot {closes:%d-%m-%Y %H:%M}." in page
    )


def test_a_dutch_agent_reads_the_mention_note_in_dutch(client):
    from django.utils import translation

    from channels.instagram import replies

    with translation.override("nl"):
        reason = replies.mention_window().reason
    assert reason.startswith("Openbaar antwoord: het verschijnt als reactie onder")
