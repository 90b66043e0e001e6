"""The admin's and lead's start page: channel health at a glance and the way to every setting."""

urlpatterns: list = []
