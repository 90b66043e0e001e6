"""URLs of the replies' pages: the review queue, canned replies, the failed-send notice."""

from django.urls import include, path

from inbox.replies import canned_views, failures, views

urlpatterns = [
    path("review/", include(views.urlpatterns)),
    path("settings/canned/", include(canned_views.urlpatterns)),
    path("failed/", include(failures.urlpatterns)),
]
