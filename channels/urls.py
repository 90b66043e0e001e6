from django.urls import path

from . import views, webhooks

app_name = "channels"

urlpatterns = [
    path("webhooks/<slug:kind>/", webhooks.receive, name="webhook"),
    path("channels/kinds.css", views.kinds_css, name="kinds_css"),
    path("settings/channels/", views.channel_list, name="list"),
    path("settings/channels/new/", views.channel_new, name="new"),
    path("settings/channels/<int:channel_id>/", views.channel_edit, name="edit"),
    path("settings/channels/<int:channel_id>/test/", views.channel_test, name="test"),
    path("settings/channels/<int:channel_id>/toggle/", views.channel_toggle, name="toggle"),
    path(
        "settings/channels/<int:channel_id>/deliveries/<int:delivery_id>/retry/",
        views.delivery_retry,
        name="delivery_retry",
    ),
]
