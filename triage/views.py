from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from . import selectors
from .models import TriageItem

PAGE_SIZE = 50


def item_list(request):
    page = Paginator(selectors.item_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "triage/item_list.html", {"page": page, "items": page.object_list})


def item_detail(request, item_id):
    item = get_object_or_404(TriageItem.objects.select_related("service", "service__team"), pk=item_id)
    context = {
        "item": item,
        "exceptions": item.latest_event.get("exceptions", []),
        "occurrences": selectors.item_recent_occurrences(item=item),
        "timeline": selectors.item_timeline(item=item),
    }
    return render(request, "triage/item_detail.html", context)
