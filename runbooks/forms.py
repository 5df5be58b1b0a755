"""Forms for people: a runbook (with its matchers as text) and a feedback flag. Writes go through services."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import matcher_rules
from .matcher_text import HELP as MATCHERS_HELP
from .matcher_text import parse_matchers
from .models import RunbookFeedback


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class RunbookForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=100, help_text="Its address: /runbooks/<slug>/. It cannot change later."
    )
    services = forms.CharField(required=False, help_text="Service slugs, separated by commas.")
    team = forms.SlugField(required=False, max_length=100, help_text="Slug of the owning team.")
    tags = forms.CharField(required=False, help_text="Separated by commas.")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 22, "class": "md-source"}),
        required=False,
        help_text="Markdown (CommonMark with tables).",
    )
    summary = forms.CharField(
        max_length=300,
        required=False,
        label=_("Change summary"),
        help_text="What changed and why, for the history.",
    )
    matchers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "class": "matchers"}), required=False, help_text=MATCHERS_HELP
    )

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:  # the slug is the runbook's address: fixed once created
            del self.fields["slug"]

    def clean_services(self):
        return _split(self.cleaned_data["services"])

    def clean_tags(self):
        return _split(self.cleaned_data["tags"])

    def clean_matchers(self):
        """Each bad line is named with its number and what it says."""
        try:
            found = parse_matchers(self.cleaned_data["matchers"])
        except matcher_rules.MatcherError as exc:
            raise ValidationError(str(exc)) from None
        specs = [spec for _, spec in found]
        lines = [number for number, _ in found]
        problems = matcher_rules.check_all(
            specs,
            name=lambda i, spec: (
                _("Line %(line)s (%(rule)s)")
                % {"line": lines[i], "rule": f"{spec.field} {spec.op} {spec.value!r}"}
            ),
        )
        if problems:
            raise ValidationError(problems)
        return specs

    def add_service_errors(self, error: ValidationError):
        """Put a service's ValidationError({field: [...]}) on the form's fields."""
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class FeedbackForm(forms.Form):
    kind = forms.ChoiceField(choices=RunbookFeedback.Kind.choices)
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
        help_text="What was unclear or out of date?",
    )
