"""The item page's data-fix panel, rendered by ops so that triage never imports it."""

from django import template

from ops import permissions, selectors
from ops.models import DataFixRequest
from triage.models import TriageItem

register = template.Library()


@register.inclusion_tag("ops/_item_panel.html", takes_context=True)
def data_fix_panel(context, item):
    """The item's requests (one query) and, on an item classified data_fix, the form to file one."""
    user = context["request"].user
    return {
        "item": item, "requests": selectors.requests_for_item(user=user, item=item), "urgencies": DataFixRequest.Urgency.choices,
        "can_file": item.classification == TriageItem.Classification.DATA_FIX and permissions.can_file(user, item),
        "csrf_token": context.get("csrf_token"),
    }
