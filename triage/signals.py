"""Signals other apps listen to. triage sends them; it never imports its listeners."""

from django.dispatch import Signal

# Sent after commit when a person changed an item in a way Sentry should know.
# kwargs: item_id (int), change (dict in the shape of Sentry's issue-update PUT body,
# e.g. {"status": "resolved"}), actor_id (user id or None).
item_changed_for_sentry = Signal()
