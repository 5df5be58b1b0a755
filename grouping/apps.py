from django.apps import AppConfig


class GroupingConfig(AppConfig):
    name = "grouping"
    verbose_name = "Grouping advisor"

    def ready(self):
        from . import triage_extensions

        triage_extensions.register()
