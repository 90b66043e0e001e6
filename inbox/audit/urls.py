"""URLs of the audit log."""

from django.urls import include, path

from inbox.audit import views

urlpatterns = [path("settings/audit/", include(views.urlpatterns))]
