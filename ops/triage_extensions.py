"""What ops adds to triage's pages (triage.extensions): the item's data-fix panel and timeline lines,
and the queue's "Waiting on ops" section. Registered by OpsConfig.ready()."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from triage.extensions import Section, register_activity_line, register_item_panel, register_queue_section
from triage.models import TriageItem

from . import permissions, selectors
from .models import DataFixRequest


def data_fix_panel(page) -> dict:
    """The item's requests (one query) and, on an item classified data_fix, the form to file one."""
    user, item = page.request.user, page.item
    can_file = item.classification == TriageItem.Classification.DATA_FIX and permissions.can_file(user, item)
    return {
        "item": item,
        "requests": selectors.requests_for_item(user=user, item=item),
        "urgencies": DataFixRequest.Urgency.choices,
        "can_file": can_file,
    }


def is_data_fix_entry(entry) -> bool:
    return bool(entry.data.get("data_fix"))


def waiting_on_ops(viewer) -> Q:
    """Open items with a request ops have not closed, via the reverse relation (two requests count once)."""
    waiting = TriageItem.objects.filter(data_fix_requests__state__in=DataFixRequest.OPEN_STATES).values("pk")
    return Q(status__in=TriageItem.OPEN_STATUSES) & Q(pk__in=waiting)


WAITING_ON_OPS = Section(
    "ops",
    _("Waiting on ops"),
    _("Open items with a data-fix request that ops have not closed yet."),
    waiting_on_ops,
)


def register():
    register_item_panel(
        name="ops.data_fixes", slot="side", template="ops/_item_panel.html", context=data_fix_panel
    )
    register_activity_line(
        name="ops.data_fixes", template="ops/_activity_line.html", applies=is_data_fix_entry
    )
    register_queue_section(WAITING_ON_OPS, after="team")
