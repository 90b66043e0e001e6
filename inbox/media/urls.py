from django.urls import path

from . import views

urlpatterns = [
    path(
        "inbox/media/<int:attachment_id>/<str:variant>/",
        views.attachment_file,
        name="attachment",
    ),
]
