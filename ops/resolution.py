"""A done data fix resolves its item when the item's team asked for that (TeamPolicy)."""

from django.db import transaction
from django.utils import timezone

from triage.models import TriageItem
from triage.runbook_links import item_runbook_resolved
from triage.services import activity_record
from triage.signals import item_changed_for_sentry

from .models import TeamPolicy


def item_resolve_if_policy(*, request, user) -> bool:
    item = TriageItem.objects.select_for_update().get(pk=request.item_id)
    if not item.is_open or not _team_wants_it(item.team_id):
        return False
    item.status, item.resolved_at, item.resolved_in_release = TriageItem.Status.RESOLVED, timezone.now(), ""
    item_runbook_resolved(item=item, at=item.resolved_at)
    activity_record(item=item, verb="resolved", actor=user, data_fix=request.pk,
                    note=f"Data fix #{request.pk} is done; the team resolves items when their data fix is done.")
    item.updated_at = item.resolved_at
    item.save()
    transaction.on_commit(lambda: item_changed_for_sentry.send_robust(
        sender=TriageItem, item_id=item.pk, change={"status": "resolved"}, actor_id=user.pk))
    return True


def _team_wants_it(team_id) -> bool:
    return team_id is not None and TeamPolicy.objects.filter(team_id=team_id, auto_resolve_on_done=True).exists()
