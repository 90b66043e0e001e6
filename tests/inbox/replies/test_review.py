"""Four-eyes review: who waits for a lead, approve / edit / return, no path sends an unapproved
reply, the review queue, and coaching reviews of closed threads."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.base import Connector, OutboundReply, SendResult
from channels.registry import register
from inbox.ingest.services import ingest_batch
from inbox.models import (
    Activity,
    AgentProfile,
    DeliveryState,
    Message,
    ThreadReview,
    Ticket,
    TicketStatus,
)
from inbox.replies import services as reply_services
from inbox.replies.review import (
    reply_approve,
    reply_discard,
    reply_resubmit,
    reply_return,
    thread_review_create,
)
from inbox.tickets import services
from inbox.tickets.services import ticket_assign
from tests.factories import author, item, make_channel
from tests.personas import eager_celery, person

pytestmark = pytest.mark.django_db

POSTS: list[OutboundReply] = []


@register
class ReviewedConnector(Connector):
    """A platform double that counts posts; replies of at most 100 characters."""

    kind = "test_review"
    reply_modes = ("public", "dm")
    text_limit = 100

    def send(self, reply):
        POSTS.append(reply)
        return SendResult(external_id=f"post-{len(POSTS)}")

    def find_sent(self, reply):
        return None


@pytest.fixture(autouse=True)
def _clean():
    POSTS.clear()
    with eager_celery():
        yield


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run ``fn`` and then what it left for after commit (the send), as a real commit would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def trainee():
    user = person("tim")
    AgentProfile.objects.filter(user=user).update(needs_approval=True)
    return user


@pytest.fixture
def anna():
    return person("anna")


@pytest.fixture
def lead():
    return person("lotte", "lead")


def _ticket(approval: str = "", *, customer: str = "Mia", text: str = "Where is my order?"):
    channel = make_channel(kind="test_review", settings={"approval": approval} if approval else {})
    ingest_batch(
        channel_id=channel.pk,
        items=[item("m1", text=text, author=author("c1", display_name=customer))],
    )
    return Ticket.objects.get(channel=channel)


@pytest.fixture
def ticket():
    return _ticket()


def _held(ticket, user, text="Your parcel ships today.", **kw):
    return reply_services.reply_send(ticket_id=ticket.pk, user=user, text=text, **kw)


def _state(message) -> str:
    return Message.objects.get(pk=message.pk).delivery_state


# --- policy -----------------------------------------------------------------------------------
def test_a_trainees_reply_waits_for_approval_and_nothing_is_sent(
    trainee, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = _held(ticket, trainee)
    assert callbacks == []  # no send task queued
    assert _state(message) == DeliveryState.AWAITING_APPROVAL and POSTS == []
    assert message.idempotency_key and message.text.endswith("^Tim")
    assert Activity.objects.filter(ticket=ticket, verb="reply_awaiting_approval").exists()


def test_a_held_reply_does_not_answer_the_customer(trainee, ticket):
    waiting = ticket.waiting_since
    _held(ticket, trainee)
    ticket.refresh_from_db()
    assert ticket.waiting_since == waiting is not None
    assert ticket.first_response_at is None and ticket.last_response_at is None


def test_an_agent_without_the_flag_sends_directly(anna, ticket, commit):
    message = commit(_held, ticket, anna)
    assert _state(message) == DeliveryState.SENT and len(POSTS) == 1


def test_public_replies_wait_on_a_channel_that_asks_for_it_private_ones_do_not(anna, commit):
    ticket = _ticket("public")
    public = commit(_held, ticket, anna, mode="public")
    private = commit(_held, ticket, anna, text="Sent you a DM", mode="dm")
    assert _state(public) == DeliveryState.AWAITING_APPROVAL
    assert _state(private) == DeliveryState.SENT


def test_every_reply_waits_on_a_channel_that_asks_for_all(anna, commit):
    ticket = _ticket("all")
    assert _state(commit(_held, ticket, anna, mode="dm")) == DeliveryState.AWAITING_APPROVAL


def test_a_leads_own_reply_never_waits(lead, commit):
    AgentProfile.objects.filter(user=lead).update(needs_approval=True)
    ticket = _ticket("all")
    assert _state(commit(_held, ticket, lead)) == DeliveryState.SENT


def test_messages_a_lead_or_the_system_queues_directly_never_wait(trainee, commit):
    """Incident answers and out-of-hours acknowledgements go through ``reply_queue``."""
    ticket = _ticket("all")
    message = commit(reply_services.reply_queue, ticket=ticket, author=trainee, text="Fixed now.")
    assert _state(message) == DeliveryState.SENT and len(POSTS) == 1


def test_a_held_reply_keeps_the_sla_due_time(trainee, ticket):
    from inbox.engines.sla import sla_sweep

    due = timezone.now() + dt.timedelta(minutes=20)
    Ticket.objects.filter(pk=ticket.pk).update(due_at=due)
    _held(ticket, trainee)
    sla_sweep()
    ticket.refresh_from_db()
    assert ticket.due_at == due


def test_an_internal_note_of_a_trainee_needs_no_approval(trainee, ticket, client):
    client.force_login(trainee)
    client.post(reverse("inbox:reply", args=[ticket.pk]), {"mode": "note", "text": "FYI"})
    assert Message.objects.get(ticket=ticket, direction="note").text == "FYI"


# --- approve ----------------------------------------------------------------------------------
def test_approving_sends_the_reply_once_and_answers_the_customer(trainee, lead, ticket, commit):
    message = _held(ticket, trainee)
    commit(reply_approve, message_id=message.pk, lead=lead)
    message.refresh_from_db()
    ticket.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT and len(POSTS) == 1
    assert message.author_user == trainee and POSTS[0].text.endswith("^Tim")
    assert POSTS[0].idempotency_key == message.idempotency_key
    assert ticket.waiting_since is None and ticket.first_response_at is not None
    assert Activity.objects.filter(ticket=ticket, verb="reply_approved", actor=lead).exists()


def test_edit_and_approve_sends_the_leads_words_with_the_agents_signature(
    trainee, lead, ticket, commit
):
    message = _held(ticket, trainee, text="ur parcel ships 2day")
    commit(reply_approve, message_id=message.pk, lead=lead, text="Your parcel ships today.")
    assert POSTS[0].text == "Your parcel ships today.\n^Tim"
    row = Activity.objects.get(ticket=ticket, verb="reply_approved")
    assert row.before["text"] == "ur parcel ships 2day\n^Tim"
    assert row.after["text"] == "Your parcel ships today.\n^Tim"


def test_an_edit_longer_than_the_channel_takes_is_refused_and_nothing_changes(
    trainee, lead, ticket
):
    message = _held(ticket, trainee)
    with pytest.raises(services.ActionError, match="at most 100 fit"):
        reply_approve(message_id=message.pk, lead=lead, text="x" * 120)
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.AWAITING_APPROVAL
    assert message.text == "Your parcel ships today.\n^Tim" and POSTS == []


def test_a_second_approval_is_refused_and_nothing_is_posted_again(trainee, lead, ticket, commit):
    message = _held(ticket, trainee)
    commit(reply_approve, message_id=message.pk, lead=lead)
    with pytest.raises(services.ActionError, match="no longer waiting"):
        reply_approve(message_id=message.pk, lead=person("leo", "lead"))
    assert len(POSTS) == 1
    assert Activity.objects.filter(verb="reply_approved").count() == 1


def test_nobody_approves_their_own_reply(ticket):
    promoted = person("pia")
    AgentProfile.objects.filter(user=promoted).update(needs_approval=True)
    message = _held(ticket, promoted)
    from django.contrib.auth.models import Group

    promoted.groups.set([Group.objects.get(name="lead")])
    promoted = type(promoted).objects.get(pk=promoted.pk)  # fresh permission cache
    with pytest.raises(services.ActionError, match="your own reply"):
        reply_approve(message_id=message.pk, lead=promoted)
    assert _state(message) == DeliveryState.AWAITING_APPROVAL and POSTS == []


def test_reply_and_close_closes_the_ticket_only_when_the_reply_is_approved(
    trainee, lead, ticket, commit
):
    message = _held(ticket, trainee, close=True)
    ticket.refresh_from_db()
    assert ticket.status != TicketStatus.CLOSED
    commit(reply_approve, message_id=message.pk, lead=lead)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.close_reason == "resolved"
    assert len(POSTS) == 1


# --- return, resubmit, discard ----------------------------------------------------------------
def test_the_audit_log_names_the_author_of_an_approved_reply(trainee, lead, ticket, commit):
    from inbox.audit.selectors import AuditFilter, audit_page

    message = _held(ticket, trainee)
    commit(reply_approve, message_id=message.pk, lead=lead)
    page = audit_page(AuditFilter.from_query({"verb": "reply_approved"}))
    (row,) = page.rows
    assert {c.key: c.after for c in row.changes}["author"] == f"Tim (#{trainee.pk})"


def test_returning_keeps_the_comment_and_sends_nothing(trainee, lead, ticket):
    message = _held(ticket, trainee)
    reply_return(message_id=message.pk, lead=lead, comment="Say sorry first.")
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.RETURNED
    assert message.review_note == "Say sorry first." and POSTS == []
    row = Activity.objects.get(ticket=ticket, verb="reply_returned")
    assert row.actor == lead and row.after["comment"] == "Say sorry first."


def test_a_return_needs_a_comment(trainee, lead, ticket):
    message = _held(ticket, trainee)
    with pytest.raises(services.ActionError):
        reply_return(message_id=message.pk, lead=lead, comment="  ")
    assert _state(message) == DeliveryState.AWAITING_APPROVAL


def test_the_author_sees_the_comment_and_resubmits_an_edited_reply(trainee, lead, ticket, client):
    message = _held(ticket, trainee)
    reply_return(message_id=message.pk, lead=lead, comment="Say <b>sorry</b> first.")
    client.force_login(trainee)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "Returned by a lead" in page and "Say &lt;b&gt;sorry&lt;/b&gt; first." in page
    assert reverse("inbox:reply_resubmit", args=[ticket.pk]) in page
    assert ">Your parcel ships today.</textarea>" in page  # the words, without the signature

    client.post(
        reverse("inbox:reply_resubmit", args=[ticket.pk]),
        {"message": message.pk, "text": "Sorry! Your parcel ships today."},
    )
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.AWAITING_APPROVAL
    assert message.text == "Sorry! Your parcel ships today.\n^Tim" and message.review_note == ""
    assert POSTS == []
    assert Activity.objects.filter(ticket=ticket, verb="reply_resubmitted").exists()


def test_the_author_discards_a_returned_reply(trainee, lead, ticket, client):
    message = _held(ticket, trainee)
    reply_return(message_id=message.pk, lead=lead, comment="Not needed.")
    client.force_login(trainee)
    client.post(reverse("inbox:reply_discard", args=[ticket.pk]), {"message": message.pk})
    assert not Message.objects.filter(pk=message.pk).exists() and POSTS == []
    row = Activity.objects.get(ticket=ticket, verb="reply_discarded")
    assert row.before["text"] == "Your parcel ships today.\n^Tim"


def test_a_colleague_cannot_resubmit_or_discard_someone_elses_returned_reply(
    trainee, lead, anna, ticket, client
):
    message = _held(ticket, trainee)
    reply_return(message_id=message.pk, lead=lead, comment="Again.")
    client.force_login(anna)
    resubmit = client.post(
        reverse("inbox:reply_resubmit", args=[ticket.pk]), {"message": message.pk, "text": "x"}
    )
    discard = client.post(reverse("inbox:reply_discard", args=[ticket.pk]), {"message": message.pk})
    assert resubmit.status_code == discard.status_code == 409
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.RETURNED
    with pytest.raises(services.ActionError):
        reply_resubmit(message_id=message.pk, user=anna, text="x")
    with pytest.raises(services.ActionError):
        reply_discard(message_id=message.pk, user=anna)


# --- no send path sends an unapproved reply ---------------------------------------------------
@pytest.fixture
def unapproved(trainee, lead, ticket):
    """One reply awaiting approval, one returned, both "stalled" long ago."""
    waiting = _held(ticket, trainee)
    returned = _held(ticket, trainee, text="Second try")
    reply_return(message_id=returned.pk, lead=lead, comment="No.")
    long_ago = timezone.now() - dt.timedelta(hours=2)
    Message.objects.filter(pk__in=[waiting.pk, returned.pk]).update(delivery_changed_at=long_ago)
    return [waiting, returned]


def test_the_send_task_called_directly_sends_no_unapproved_reply(unapproved):
    from channels.tasks import send_message

    for message in unapproved:
        assert send_message(message.pk).startswith("nothing to do")
    assert POSTS == []
    assert [_state(m) for m in unapproved] == [DeliveryState.AWAITING_APPROVAL, "returned"]


def test_retry_refuses_an_unapproved_reply(unapproved, trainee, client):
    for message in unapproved:
        with pytest.raises(services.ActionError, match="Only a failed reply"):
            reply_services.message_retry(message_id=message.pk, user=trainee)
    client.force_login(trainee)
    response = client.post(
        reverse("inbox:retry", args=[unapproved[0].ticket_id]), {"message": unapproved[0].pk}
    )
    assert response.status_code == 409 and POSTS == []


def test_the_outbox_sweep_skips_unapproved_replies(unapproved):
    from channels.tasks import redeliver_stalled_replies

    assert redeliver_stalled_replies() == 0
    assert POSTS == []


def test_bulk_actions_send_no_unapproved_reply(unapproved, lead, ticket):
    services.tickets_bulk(ticket_ids=[ticket.pk], user=lead, action="close")
    services.tickets_bulk(ticket_ids=[ticket.pk], user=lead, action="tag", tag="x")
    assert POSTS == []
    assert [_state(m) for m in unapproved] == [DeliveryState.AWAITING_APPROVAL, "returned"]


def test_a_colleagues_held_reply_still_stops_a_reply_over_it(trainee, lead, ticket):
    """The collision check sees a held reply as a colleague's words: read it first."""
    seen = Message.objects.filter(ticket=ticket).latest("pk").pk
    _held(ticket, trainee)  # the trainee's reply claimed the ticket; a lead hands it to Bob
    bob = person("bob")
    ticket_assign(ticket_id=ticket.pk, user=lead, assignee=bob)
    with pytest.raises(services.Collision):
        reply_services.reply_send(
            ticket_id=ticket.pk, user=bob, text="Me too", seen_message_id=seen
        )


# --- the review queue page --------------------------------------------------------------------
@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


def test_the_queue_shows_held_replies_oldest_first_with_their_context(trainee, lead_client, ticket):
    first = _held(ticket, trainee, text="First answer")
    other = _ticket(customer="Noor", text="My <script>x</script> bill")
    second = _held(other, trainee, text="Second answer")
    Message.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    page = lead_client.get(reverse("pages:review")).content.decode()
    assert page.index(f'data-message="{first.pk}"') < page.index(f'data-message="{second.pk}"')
    row = page[page.index(f'id="held-{second.pk}"') :]
    assert "Noor" in row and "Tim" in row and "Second answer" in row
    assert "My &lt;script&gt;x&lt;/script&gt; bill" in row and "<script>x" not in page
    assert 'id="review-count" ' in page and ">2</span>" in page


def test_the_queue_costs_the_same_queries_for_one_reply_or_many(
    trainee, lead_client, django_assert_max_num_queries
):
    _held(_ticket(), trainee)
    with django_assert_max_num_queries(12) as one:
        lead_client.get(reverse("pages:review"))
    for n in range(5):
        _held(_ticket(customer=f"C{n}"), trainee)
    with django_assert_max_num_queries(len(one.captured_queries)):
        lead_client.get(reverse("pages:review"))


def test_approve_through_htmx_answers_with_the_row_and_its_outcome(
    trainee, lead_client, ticket, commit
):
    message = _held(ticket, trainee)
    response = commit(
        lead_client.post, reverse("pages:review_approve", args=[message.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert f'id="held-{message.pk}"' in html and "Approved; it is being sent." in html
    assert response["HX-Trigger"] == "review:changed"
    assert _state(message) == DeliveryState.SENT and len(POSTS) == 1


def test_edit_and_approve_without_javascript_redirects_back_to_the_queue(
    trainee, lead_client, ticket, commit
):
    message = _held(ticket, trainee)
    response = commit(
        lead_client.post,
        reverse("pages:review_approve", args=[message.pk]),
        {"text": "Edited."},
        follow=True,
    )
    assert "Approved; it is being sent." in response.content.decode()
    assert POSTS[0].text == "Edited.\n^Tim"


def test_an_edit_too_long_comes_back_with_the_reason_and_the_text(trainee, lead_client, ticket):
    message = _held(ticket, trainee)
    html = lead_client.post(
        reverse("pages:review_approve", args=[message.pk]),
        {"text": "y" * 120},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "at most 100 fit" in html and "y" * 120 in html
    assert _state(message) == DeliveryState.AWAITING_APPROVAL


def test_return_with_a_comment_from_the_queue(trainee, lead_client, ticket):
    message = _held(ticket, trainee)
    html = lead_client.post(
        reverse("pages:review_return", args=[message.pk]),
        {"comment": "Too short."},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Returned to its author." in html
    assert _state(message) == DeliveryState.RETURNED


@pytest.mark.parametrize(
    "name", ["pages:review_approve", "pages:review_return", "pages:review", "pages:review_closed"]
)
def test_agents_get_403_on_the_queue_and_its_actions_and_nothing_changes(
    trainee, anna, ticket, client, name
):
    message = _held(ticket, trainee)
    client.force_login(anna)
    post = name in ("pages:review_approve", "pages:review_return")
    url = reverse(name, args=[message.pk]) if post else reverse(name)
    response = (client.post if post else client.get)(url, {"comment": "x", "text": "y"})
    assert response.status_code == 403
    assert _state(message) == DeliveryState.AWAITING_APPROVAL and POSTS == []


def test_a_trainee_cannot_approve_their_own_reply_through_the_page(trainee, ticket, client):
    message = _held(ticket, trainee)
    client.force_login(trainee)
    response = client.post(reverse("pages:review_approve", args=[message.pk]))
    assert response.status_code == 403
    assert _state(message) == DeliveryState.AWAITING_APPROVAL and POSTS == []


def test_the_start_page_and_the_tab_show_how_many_replies_wait(trainee, lead_client, ticket):
    _held(ticket, trainee)
    _held(ticket, trainee, text="Another")
    page = lead_client.get(reverse("pages:start")).content.decode()
    assert "2 replies wait for approval" in page
    count = lead_client.get(reverse("pages:review_count")).content.decode()
    assert ">2</span>" in count
    assert lead_client.get(reverse("pages:review_count"), {"nav": 1}).content == b"2"
    nav = lead_client.get(reverse("inbox:index")).content.decode()
    assert 'hx-get="/review/count/?nav=1"' in nav


def test_the_top_bar_count_is_empty_when_nothing_waits(lead_client):
    assert lead_client.get(reverse("pages:review_count"), {"nav": 1}).content == b""


# --- the agent's side in the inbox ------------------------------------------------------------
def test_the_composer_tells_a_trainee_that_replies_go_to_review(trainee, anna, ticket, client):
    client.force_login(trainee)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "Your replies here go to a lead for approval before they are sent." in page
    client.force_login(anna)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "go to a lead for approval" not in page


def test_the_composer_names_public_replies_on_a_channel_that_reviews_them(anna, client):
    ticket = _ticket("public")
    client.force_login(anna)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "Public replies on this channel go to a lead for approval" in page


def test_the_thread_shows_a_held_reply_as_waiting_for_approval(trainee, ticket, client):
    _held(ticket, trainee)
    client.force_login(trainee)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "Waiting for a lead&#x27;s approval; not sent yet." in page


# --- settings ---------------------------------------------------------------------------------
def test_an_admin_marks_a_user_as_trainee(client, anna):
    client.force_login(person("ada", "admin"))
    client.post(
        reverse("pages:people_edit", args=[anna.pk]),
        {"role": "agent", "is_active": "on", "needs_approval": "on"},
    )
    assert AgentProfile.objects.get(user=anna).needs_approval
    row = Activity.objects.get(verb="user_updated")
    assert row.before["needs_approval"] is False and row.after["needs_approval"] is True


def test_an_admin_sets_a_channels_approval_policy(client):
    channel = make_channel(kind="test_review", settings={"keep": 1})
    client.force_login(person("ada", "admin"))
    client.post(
        reverse("channels:edit", args=[channel.pk]),
        {"name": "Reviewed", "poll_interval": 60, "enabled": "on", "approval": "public"},
    )
    channel.refresh_from_db()
    assert channel.settings == {"keep": 1, "approval": "public"}
    page = client.get(reverse("channels:edit", args=[channel.pk])).content.decode()
    assert '<option value="public" selected>' in page


# --- coaching ---------------------------------------------------------------------------------
def _closed_by(agent, **kw):
    ticket = _ticket(**kw)
    services.ticket_claim(ticket_id=ticket.pk, user=agent)
    services.ticket_close(ticket_id=ticket.pk, user=agent, reason="resolved")
    return ticket


def test_a_lead_reviews_a_closed_thread_and_the_agent_sees_it(anna, lead_client, client):
    ticket = _closed_by(anna)
    listing = lead_client.get(reverse("pages:review_closed")).content.decode()
    assert f'data-ticket="{ticket.pk}"' in listing
    response = lead_client.post(
        reverse("pages:review_thread", args=[ticket.pk]),
        {"score": "4", "note": "Friendly; <i>link</i> the tracking page next time."},
        follow=True,
    )
    assert f'data-ticket="{ticket.pk}"' not in response.content.decode()  # reviewed: off the list
    review = ThreadReview.objects.get(ticket=ticket)
    assert review.agent == anna and review.score == 4
    assert Activity.objects.filter(ticket=ticket, verb="thread_reviewed").exists()

    client.force_login(anna)
    mine = client.get(reverse("pages:review_mine")).content.decode()
    assert "4/5" in mine and "&lt;i&gt;link&lt;/i&gt; the tracking page" in mine
    assert "Lotte" in mine


def test_an_agent_sees_only_the_reviews_of_their_own_threads(anna, lead, client):
    bob = person("bob")
    thread_review_create(ticket_id=_closed_by(bob).pk, reviewer=lead, score=2, note="Bob's")
    client.force_login(anna)
    assert "Bob&#x27;s" not in client.get(reverse("pages:review_mine")).content.decode()


def test_the_closed_tab_filters_by_agent(anna, lead_client):
    bob = person("bob")
    mine, his = _closed_by(anna), _closed_by(bob)
    page = lead_client.get(reverse("pages:review_closed"), {"agent": anna.pk}).content.decode()
    assert f'data-ticket="{mine.pk}"' in page and f'data-ticket="{his.pk}"' not in page


def test_only_closed_threads_are_reviewed_with_a_score_of_1_to_5(anna, lead, ticket):
    services.ticket_claim(ticket_id=ticket.pk, user=anna)
    with pytest.raises(services.ActionError, match="closed"):
        thread_review_create(ticket_id=ticket.pk, reviewer=lead, score=3)
    services.ticket_close(ticket_id=ticket.pk, user=anna)
    with pytest.raises(services.ActionError, match="1 to 5"):
        thread_review_create(ticket_id=ticket.pk, reviewer=lead, score=6)
    assert not ThreadReview.objects.exists()


def test_an_agent_cannot_post_a_review(anna, client):
    ticket = _closed_by(anna)
    client.force_login(person("bob"))
    response = client.post(reverse("pages:review_thread", args=[ticket.pk]), {"score": "1"})
    assert response.status_code == 403 and not ThreadReview.objects.exists()


# --- two leads at once (PostgreSQL: real concurrent transactions) -----------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_leads_approving_at_once_send_the_reply_once():
    import threading

    from django.db import connection

    tim = person("tim")
    AgentProfile.objects.filter(user=tim).update(needs_approval=True)
    leads = [person("lotte", "lead"), person("leo", "lead")]
    message = _held(_ticket(), tim)
    start = threading.Barrier(len(leads))
    outcomes: dict[str, str] = {}

    def approve(lead):
        try:
            start.wait()
            reply_approve(message_id=message.pk, lead=lead)
            outcomes[lead.username] = "approved"
        except services.ActionError as exc:
            outcomes[lead.username] = exc.message
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(lead,)) for lead in leads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes.values()) == [
        "This reply is no longer waiting for approval.",
        "approved",
    ]
    assert _state(message) == DeliveryState.SENT
    assert len(POSTS) == 1
    assert Activity.objects.filter(verb="reply_approved").count() == 1
    assert Activity.objects.filter(verb="reply_sent").count() == 1


def test_a_lead_sees_a_held_reply_in_the_thread_with_a_link_to_review_it(
    trainee, lead_client, ticket
):
    _held(ticket, trainee)
    page = lead_client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert f'<a href="{reverse("pages:review")}">Review it</a>' in page


def test_my_reviews_lists_my_returned_replies_with_the_leads_comment(trainee, lead, ticket, client):
    message = _held(ticket, trainee)
    reply_return(message_id=message.pk, lead=lead, comment="Add the tracking link.")
    client.force_login(trainee)
    page = client.get(reverse("pages:review_mine")).content.decode()
    assert f'data-message="{message.pk}"' in page and "Add the tracking link." in page


def test_the_closed_tab_and_my_reviews_cost_the_same_queries_for_one_thread_or_many(
    anna, lead, lead_client, client, django_assert_max_num_queries
):
    thread_review_create(ticket_id=_closed_by(anna).pk, reviewer=lead, score=3)
    _closed_by(anna)
    client.force_login(anna)
    with django_assert_max_num_queries(12) as closed_one:
        lead_client.get(reverse("pages:review_closed"))
    with django_assert_max_num_queries(12) as mine_one:
        client.get(reverse("pages:review_mine"))
    for n in range(4):
        ticket = _closed_by(anna, customer=f"C{n}")
        if n % 2:
            thread_review_create(ticket_id=ticket.pk, reviewer=lead, score=4)
    with django_assert_max_num_queries(len(closed_one.captured_queries)):
        lead_client.get(reverse("pages:review_closed"))
    with django_assert_max_num_queries(len(mine_one.captured_queries)):
        client.get(reverse("pages:review_mine"))


def test_the_trainees_coaching_page_is_called_my_coaching_not_reviews(client):
    client.force_login(person("anna"))
    html = client.get(reverse("pages:review_mine")).content.decode()
    assert "<h1>My coaching</h1>" in html and 'href="/review/mine/"' in html
    assert "My reviews" not in html
