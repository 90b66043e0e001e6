from django.urls import path

from . import views

urlpatterns = [
    path(
        "inbox/media/<int:attachment_id>/<str:variant>/",
        views.attachment_file,
        name="attachment",
    ),
    # Our own reply attachments, for platforms that download them: signed, expiring, no login.
    path("media/out/<str:token>/", views.outbound_file, name="attachment_out"),
]
