"""Incidents: declare, link tickets, keep a public note, resolve with one answer to all."""

urlpatterns: list = []
