"""URLs of the replies' pages: the review queue and canned replies."""

from django.urls import include, path

from inbox.replies import canned_views, views

urlpatterns = [
    path("review/", include(views.urlpatterns)),
    path("settings/canned/", include(canned_views.urlpatterns)),
]
