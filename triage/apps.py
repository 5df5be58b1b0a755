from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = _("Triage")

    def ready(self):
        from runbooks.signals import runbook_matchers_changed

        from . import receivers

        runbook_matchers_changed.connect(
            receivers.runbook_matchers_changed, dispatch_uid="triage.runbook_matchers_changed"
        )
