from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .zones import time_zone_names

FOLLOW_BROWSER = ("", _("As my browser says"))


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[FOLLOW_BROWSER, *settings.LANGUAGES]
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [FOLLOW_BROWSER, *((name, name) for name in time_zone_names())]
