from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = _("Ops: data fixes and escalation")

    def ready(self):
        from . import triage_extensions

        triage_extensions.register()
