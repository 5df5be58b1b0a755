"""What the grouping advisor adds to triage's item page (triage.extensions): the banner when the item looks
like several errors. Registered by GroupingConfig.ready()."""

from triage.extensions import register_item_panel
from triage.permissions import is_developer

from . import selectors


def split_banner(page) -> dict:
    """The item's open split suggestion (one query) and whether the viewer may recompute it."""
    request = page.request
    return {
        "suggestion": selectors.item_split_suggestion(item_id=page.item.pk),
        "item": page.item,
        "may_recompute": bool(request) and is_developer(request.user),
    }


def register():
    register_item_panel(
        name="grouping.split",
        slot="banner",
        template="grouping/_split_banner.html",
        context=split_banner,
        order=20,
    )
