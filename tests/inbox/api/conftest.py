import pytest

from inbox.api.services import token_create
from inbox.models import Team
from tests.personas import person, tickets


@pytest.fixture
def world(db):
    team_a = Team.objects.create(name="A")
    team_b = Team.objects.create(name="B")
    users = {
        "outsider": person("outsider", team=team_b),
        "agent": person("agent", team=team_a),
        "lead": person("lead", "lead"),
        "admin": person("admin", "admin"),
    }
    (ticket,) = tickets(1, team=team_a)
    return {"users": users, "ticket": ticket, "team_a": team_a, "team_b": team_b}


def bearer(user, scope="write") -> dict:
    _, raw = token_create(user=user, owner=user, name="test", scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
