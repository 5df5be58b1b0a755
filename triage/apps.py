from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"

    def ready(self):
        from runbooks.signals import runbook_matchers_changed

        from . import receivers

        runbook_matchers_changed.connect(
            receivers.runbook_matchers_changed, dispatch_uid="triage.runbook_matchers_changed"
        )
