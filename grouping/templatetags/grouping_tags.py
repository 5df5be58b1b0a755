from django import template

from triage.permissions import is_developer

from .. import selectors

register = template.Library()


@register.inclusion_tag("grouping/_split_banner.html", takes_context=True)
def split_banner(context, item):
    """The item page's banner when the item looks like several errors: one query."""
    request = context.get("request")
    return {"suggestion": selectors.item_split_suggestion(item_id=item.pk), "item": item,
            "may_recompute": bool(request) and is_developer(request.user), "csrf_token": context.get("csrf_token")}
