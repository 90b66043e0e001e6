"""Routing rules: list, create, edit, reorder, enable and disable."""

urlpatterns: list = []
