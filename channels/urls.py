from django.urls import path

from . import views, webhooks
from .whatsapp import views as whatsapp_views

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
        "inbox/t/<int:ticket_id>/whatsapp/template/",
        whatsapp_views.template_form,
        name="whatsapp_template_form",
    ),
    path(
        "inbox/t/<int:ticket_id>/whatsapp/send/",
        whatsapp_views.template_send,
        name="whatsapp_template_send",
    ),
    path("inbox/whatsapp/opt-outs/", whatsapp_views.opt_outs, name="whatsapp_opt_outs"),
    path(
        "settings/channels/<int:channel_id>/deliveries/<int:delivery_id>/retry/",
        views.delivery_retry,
        name="delivery_retry",
    ),
]
