"""URLs of the engines' pages: routing rules, business hours and SLA targets."""

from django.urls import include, path

from inbox.engines import hours_views, views

urlpatterns = [
    path("settings/rules/", include(views.urlpatterns)),
    path("settings/hours/", include(hours_views.urlpatterns)),
]
