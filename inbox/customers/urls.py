"""URLs of the customers area on the inbox screen."""

from django.urls import path

from inbox.customers import avatars

urlpatterns = [
    # Customer avatars fetched and served by us (inbox/customers/avatars.py), never the
    # platform's URL.
    path("inbox/avatar/<int:identity_id>/", avatars.avatar, name="avatar"),
]
