"""A new runbook started from a triage item: what its form is filled with.

triage links to /runbooks/new/?title=…&service=…&exception_type=…&exception_value=…&issue=<sentry issue id>.
"""

from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from .matcher_rules import MatcherSpec
from .matcher_text import format_matchers

# A runbook template's headings and hints, in the writer's language (the team reads what they write).
SECTIONS = (
    (_("Impact"), _("Who or what is affected when this happens, and how badly.")),
    (_("Is action needed?"), _("When this can be left alone, and when it cannot.")),
    (_("Steps"), _("1. What to check first.\n2. What to do next.")),
    (_("Data fix (ops)"), _("Whether ops must repair data, and how. Write “None” if not.")),
    (_("Prevention"), _("The change that stops this from happening again.")),
)


def initial_from_item(params) -> dict:
    """Form initial values from the query parameters of a "Start a runbook" link."""
    title = params.get("title", "").strip()[:200]
    service = slugify(params.get("service", ""))[:100]
    exception_type = params.get("exception_type", "").strip()[:200]
    exception_value = params.get("exception_value", "").strip()[:500]
    issue = params.get("issue", "").strip()[:32]
    return {
        "title": title,
        "slug": slugify(title)[:100],
        "services": service,
        "team": slugify(params.get("team", ""))[:100],
        "body": template_body(exception_type, exception_value),
        "summary": _("Started from a triage item") if issue or title else "",
        "matchers": format_matchers(_matchers(service, exception_type, issue)),
    }


def template_body(exception_type="", exception_value="") -> str:
    error = ": ".join(part for part in (exception_type, exception_value) if part)
    head = f"> `{error}`\n\n" if error else ""
    return head + "\n\n".join(f"## {name}\n\n{hint}" for name, hint in SECTIONS) + "\n"


def _matchers(service, exception_type, issue) -> list[MatcherSpec]:
    """Group 0: this kind of error in this service. Group 1: the very issue it was started from."""
    kind = [MatcherSpec(0, "service", "equals", service)] if service else []
    if exception_type:
        kind.append(MatcherSpec(0, "exception_type", "equals", exception_type))
    this_issue = [MatcherSpec(1 if kind else 0, "sentry_issue_id", "equals", issue)] if issue else []
    return kind + this_issue
