from django.urls import path

from . import webhooks

app_name = "channels"

urlpatterns = [
    path("webhooks/<slug:kind>/", webhooks.receive, name="webhook"),
]
