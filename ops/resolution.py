"""A done data fix resolves its item when the item's team asked for that (TeamPolicy)."""

from django.db import transaction

from triage import lifecycle
from triage.models import TriageItem
from triage.signals import item_changed_for_sentry

from .models import TeamPolicy


def item_resolve_if_policy(*, request, user) -> bool:
    item = TriageItem.objects.select_for_update().get(pk=request.item_id)
    # The status first: it costs no query, the team's policy does.
    if not lifecycle.allowed("resolve_by_data_fix", item) or not _team_wants_it(item.team_id):
        return False
    note = f"Data fix #{request.pk} is done; the team resolves items when their data fix is done."
    lifecycle.resolve_by_data_fix(item, actor=user, data_fix=request.pk, note=note)
    item.updated_at = item.resolved_at
    item.save()
    transaction.on_commit(
        lambda: item_changed_for_sentry.send_robust(
            sender=TriageItem, item_id=item.pk, change={"status": "resolved"}, actor_id=user.pk
        )
    )
    return True


def _team_wants_it(team_id) -> bool:
    return (
        team_id is not None and TeamPolicy.objects.filter(team_id=team_id, auto_resolve_on_done=True).exists()
    )
