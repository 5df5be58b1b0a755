"""runbooks' own reactions to model signals."""

from django.db import transaction

from .services import matcher_index_touch
from .signals import runbook_matchers_changed


def runbook_deleted(sender, instance, **kwargs):
    matcher_index_touch()
    runbook_id = instance.pk
    transaction.on_commit(lambda: runbook_matchers_changed.send(sender=sender, runbook_id=runbook_id))
