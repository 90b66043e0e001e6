"""Canned replies: list, create, edit and delete, with variables."""

urlpatterns: list = []
