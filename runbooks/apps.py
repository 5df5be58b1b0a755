from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RunbooksConfig(AppConfig):
    name = "runbooks"
    verbose_name = _("Runbooks")

    def ready(self):
        from django.db.models.signals import post_delete

        from . import receivers
        from .models import Runbook

        # Deletion happens outside services (admin, cascades): the matcher index must still learn of it.
        post_delete.connect(
            receivers.runbook_deleted, sender=Runbook, dispatch_uid="runbooks.runbook_deleted"
        )
