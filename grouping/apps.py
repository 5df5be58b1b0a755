from django.apps import AppConfig


class GroupingConfig(AppConfig):
    name = "grouping"
    verbose_name = "Grouping advisor"
