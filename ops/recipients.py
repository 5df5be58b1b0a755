"""Who hears about a request on each event: ops first, then the escalation contact, then admins.

Read once per batch (the escalation scan plans hundreds of requests in a fixed number of queries).
"""

from functools import cached_property

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from triage.permissions import ADMIN, OPS

from .models import TeamPolicy

# The escalation chain: level → who is told (each level fires once, one SLA period after the last).
CHAIN = {1: "ops", 2: "contact", 3: "admins"}
LAST_LEVEL = max(CHAIN)
REQUESTER_EVENTS = ("acknowledged", "done", "rejected")


class Recipients:
    def __init__(self, requests):
        self.team_ids = {request.item.team_id for request in requests if request.item.team_id}

    def emails(self, request, event, level) -> list[str]:
        if event in REQUESTER_EVENTS:
            user = request.requested_by
            return [user.email] if user is not None and user.email else []
        if event == "created" or CHAIN.get(level) == "ops":
            return self.ops
        if CHAIN.get(level) == "contact":
            contact = self.contacts.get(request.item.team_id) or settings.OPS_ESCALATION_EMAIL
            return [contact] if contact else []
        if CHAIN.get(level) == "admins":
            return self.admins
        return []

    @cached_property
    def ops(self) -> list[str]:
        return _emails(Q(groups__name=OPS))

    @cached_property
    def admins(self) -> list[str]:
        return _emails(Q(groups__name=ADMIN) | Q(is_superuser=True))

    @cached_property
    def contacts(self) -> dict:
        policies = TeamPolicy.objects.filter(team_id__in=self.team_ids).exclude(escalation_email="")
        return dict(policies.values_list("team_id", "escalation_email"))


def _emails(who: Q) -> list[str]:
    users = get_user_model().objects.filter(who, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))
