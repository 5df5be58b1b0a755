"""Signals runbooks sends. It never imports its listeners: triage connects to these.

runbook_matchers_changed
    Sent after commit when a runbook's matchers changed (created with matchers, replaced, or
    the runbook deleted). kwargs: runbook_id (int). triage re-links the open items it affects.
"""

from django.dispatch import Signal

runbook_matchers_changed = Signal()
