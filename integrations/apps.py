from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations: Sentry")

    def ready(self):
        from triage.signals import item_changed_for_sentry

        from . import triage_extensions
        from .sentry_sync import sync_on_item_changed

        item_changed_for_sentry.connect(sync_on_item_changed, dispatch_uid="integrations.sentry_sync.push")
        triage_extensions.register()
