"""Business hours and holidays per team, SLA targets and auto-acknowledgements."""

urlpatterns: list = []
