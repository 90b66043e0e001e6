from django.urls import path

from . import avatars, views
from .media import urls as media_urls

app_name = "inbox"

urlpatterns = [
    path("", views.index, name="index"),
    path("inbox/list/", views.list_poll, name="list"),
    path("inbox/bulk/", views.bulk, name="bulk"),
    path("inbox/tags/", views.tag_suggest, name="tags"),
    # Customer avatars fetched and served by us (inbox/avatars.py), never the platform's URL.
    path("inbox/avatar/<int:identity_id>/", avatars.avatar, name="avatar"),
    path("inbox/t/<int:ticket_id>/", views.thread, name="thread"),
    # What customers sent, served through a permission-checked view (inbox/media/views.py).
    *media_urls.urlpatterns,
    path("inbox/t/<int:ticket_id>/poll/", views.thread_poll, name="thread_poll"),
    path("inbox/t/<int:ticket_id>/presence/", views.presence_beat, name="presence"),
    path("inbox/t/<int:ticket_id>/claim/", views.claim, name="claim"),
    path("inbox/t/<int:ticket_id>/release/", views.release, name="release"),
    path("inbox/t/<int:ticket_id>/assign/", views.assign, name="assign"),
    path("inbox/t/<int:ticket_id>/tag/", views.tag, name="tag"),
    path("inbox/t/<int:ticket_id>/untag/", views.untag, name="untag"),
    path("inbox/t/<int:ticket_id>/close/", views.close, name="close"),
    path("inbox/t/<int:ticket_id>/reopen/", views.reopen, name="reopen"),
    path("inbox/t/<int:ticket_id>/snooze/", views.snooze, name="snooze"),
    path("inbox/t/<int:ticket_id>/reply/", views.reply, name="reply"),
    path("inbox/t/<int:ticket_id>/retry/", views.retry, name="retry"),
    path("inbox/t/<int:ticket_id>/hide/", views.hide, name="hide"),
    path("inbox/t/<int:ticket_id>/resubmit/", views.reply_resubmit, name="reply_resubmit"),
    path("inbox/t/<int:ticket_id>/discard/", views.reply_discard, name="reply_discard"),
    path("inbox/t/<int:ticket_id>/merge/", views.merge, name="merge"),
    path("inbox/t/<int:ticket_id>/unmerge/", views.unmerge, name="unmerge"),
    path("inbox/t/<int:ticket_id>/intent/", views.intent, name="intent"),
    path("inbox/t/<int:ticket_id>/incident/link/", views.incident_link, name="incident_link"),
    path("inbox/t/<int:ticket_id>/incident/unlink/", views.incident_unlink, name="incident_unlink"),
    path("inbox/t/<int:ticket_id>/canned/", views.canned, name="canned"),
    path("inbox/t/<int:ticket_id>/count/", views.count, name="count"),
]
