"""URLs of the inbox screen (namespace ``inbox``, set in ``inbox.urls``)."""

from django.urls import path

from inbox.screen import actions, views

urlpatterns = [
    path("", views.index, name="index"),
    path("inbox/list/", views.list_poll, name="list"),
    path("inbox/bulk/", views.bulk, name="bulk"),
    path("inbox/tags/", views.tag_suggest, name="tags"),
    path("inbox/t/<int:ticket_id>/", views.thread, name="thread"),
    path("inbox/t/<int:ticket_id>/poll/", views.thread_poll, name="thread_poll"),
    path("inbox/t/<int:ticket_id>/crm/", views.crm, name="crm"),
    path("inbox/t/<int:ticket_id>/presence/", views.presence_beat, name="presence"),
    path("inbox/t/<int:ticket_id>/claim/", actions.claim, name="claim"),
    path("inbox/t/<int:ticket_id>/release/", actions.release, name="release"),
    path("inbox/t/<int:ticket_id>/assign/", actions.assign, name="assign"),
    path("inbox/t/<int:ticket_id>/tag/", actions.tag, name="tag"),
    path("inbox/t/<int:ticket_id>/untag/", actions.untag, name="untag"),
    path("inbox/t/<int:ticket_id>/close/", actions.close, name="close"),
    path("inbox/t/<int:ticket_id>/reopen/", actions.reopen, name="reopen"),
    path("inbox/t/<int:ticket_id>/snooze/", actions.snooze, name="snooze"),
    path("inbox/t/<int:ticket_id>/reply/", views.reply, name="reply"),
    path("inbox/t/<int:ticket_id>/retry/", actions.retry, name="retry"),
    path("inbox/t/<int:ticket_id>/hide/", actions.hide, name="hide"),
    path("inbox/t/<int:ticket_id>/delete-comment/", actions.delete_comment, name="delete_comment"),
    path("inbox/t/<int:ticket_id>/resubmit/", actions.reply_resubmit, name="reply_resubmit"),
    path("inbox/t/<int:ticket_id>/discard/", actions.reply_discard, name="reply_discard"),
    path("inbox/t/<int:ticket_id>/merge/", actions.merge, name="merge"),
    path("inbox/t/<int:ticket_id>/unmerge/", actions.unmerge, name="unmerge"),
    path(
        "inbox/t/<int:ticket_id>/customer-contact/",
        actions.customer_contact,
        name="customer_contact",
    ),
    path("inbox/t/<int:ticket_id>/intent/", actions.intent, name="intent"),
    path("inbox/t/<int:ticket_id>/incident/link/", actions.incident_link, name="incident_link"),
    path(
        "inbox/t/<int:ticket_id>/incident/unlink/", actions.incident_unlink, name="incident_unlink"
    ),
    path("inbox/t/<int:ticket_id>/canned/", views.canned, name="canned"),
    path("inbox/t/<int:ticket_id>/count/", views.count, name="count"),
]
