"""The leads' dashboard: volumes, response times, SLA attainment, per agent, CSV."""

urlpatterns: list = []
