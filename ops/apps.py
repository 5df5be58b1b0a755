from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Ops: data fixes and escalation"

    def ready(self):
        from . import triage_extensions

        triage_extensions.register()
