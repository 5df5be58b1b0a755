from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People: language and time zone")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import receivers

        user_logged_in.connect(receivers.preference_to_session, dispatch_uid="accounts.preference_to_session")
