"""Pages: the morning queue, the item page, and the actions people take on them.

Actions answer htmx with the re-rendered row(s) or item body, and a toast in `HX-Trigger`;
refusals are 403/400 with a plain-text reason the page shows. Without JavaScript the same
forms post normally and come back to the page they were sent from.
"""

import json
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError as InputError

from . import actions, extensions, queue, selectors
from .models import Level, TriageItem
from .permissions import can_change_item, change_denied_reason, is_developer, user_team_slugs
from .queue import SECTIONS, SORTS, QueueQuery
from .runbook_links import item_runbook_panel
from .serializers import ACTIONS, BulkInput, validated_action_input
from .sparklines import SPARK_DAYS, histogram, last_days, series, sparkline

PAGE_SIZE = 50
# What a toast says after an action, one whole sentence per action (translators need whole sentences).
DONE = {
    "classify": _("Classified %(item)s."),
    "take": _("Took %(item)s."),
    "assign": _("Assigned %(item)s."),
    "ignore": _("Ignored %(item)s."),
    "resolve": _("Resolved %(item)s."),
    "unresolve": _("Reopened %(item)s."),
    "comment": _("Commented on %(item)s."),
    "runbook_feedback": _("Noted whether the runbook helped with %(item)s."),
}
DONE_MANY = {
    "classify": ngettext_lazy("Classified %(count)d item.", "Classified %(count)d items.", "count"),
    "take": ngettext_lazy("Took %(count)d item.", "Took %(count)d items.", "count"),
    "assign": ngettext_lazy("Assigned %(count)d item.", "Assigned %(count)d items.", "count"),
    "ignore": ngettext_lazy("Ignored %(count)d item.", "Ignored %(count)d items.", "count"),
    "resolve": ngettext_lazy("Resolved %(count)d item.", "Resolved %(count)d items.", "count"),
    "unresolve": ngettext_lazy("Reopened %(count)d item.", "Reopened %(count)d items.", "count"),
}
PAGE_ACTIONS = (*ACTIONS, "runbook_feedback", "comment")
# The ignore dialog's "for a while" choices, in minutes.
IGNORE_FOR = {"1h": 60, "8h": 8 * 60, "24h": 24 * 60, "7d": 7 * 24 * 60}
IGNORE_CHOICE_MISSING = _(
    "Choose how long to ignore: forever, for a while, until a date, or N more events or users."
)
Classification, Status = TriageItem.Classification, TriageItem.Status


def _htmx(request) -> bool:
    # A history restore wants the whole page, not a fragment.
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


# --- The morning queue ------------------------------------------------------------------------------


@require_GET
def queue_page(request):
    query = QueueQuery.from_params(request.GET)
    fragment = request.GET.get("fragment")
    if _htmx(request) or query.page or fragment:
        new_since = queue.visit_new_since(user=request.user)  # the same visit, looked at again
    else:
        new_since = queue.visit_record(user=request.user)
    context = _queue_context(query, queue.viewer_for(request.user, new_since=new_since))
    if fragment == "rail":
        return render(request, "triage/_rail.html", {**context, "refresh": True})
    if _htmx(request):
        return render(request, "triage/_results.html", {**context, "partial": True})
    extras = {
        **selectors.queue_filter_choices(),
        **_choices(),
        "users": selectors.assignable_users(),
        "runbook_feedback": selectors.runbook_feedback_for_teams(team_slugs=user_team_slugs(request.user)),
    }
    return render(request, "triage/queue.html", {**context, **extras})


def _queue_context(query, viewer) -> dict:
    filters, conditions = query.filters(viewer.user), {s.slug: s.condition(viewer) for s in SECTIONS}
    counts = selectors.queue_section_counts(filters=filters, sections=conditions, searching=bool(query.q))
    items = selectors.queue_items(filters=filters, section=conditions[query.section], ordering=query.ordering)
    paginator = Paginator(items, PAGE_SIZE)
    paginator.count = counts[query.section]  # counted with the sections already: spare the COUNT query
    page = paginator.get_page(query.page)
    sections = [
        (section, counts[section.slug], query.urlencode(section=section.slug, page=""))
        for section in SECTIONS
    ]
    return {
        "query": query,
        "section": SECTIONS.by_slug()[query.section],
        "sections": sections,
        "page": page,
        "rows": _rows(list(page.object_list), viewer),
        "sorts": SORTS,
        "new_since": viewer.new_since,
        **_links(query, page),
    }


def _links(query, page) -> dict:
    def at(number):
        return query.urlencode(page="" if number == 1 else str(number))

    return {
        "here_url": query.urlencode(page=""),
        "clear_url": QueueQuery(section=query.section).urlencode(),
        "prev_url": at(page.previous_page_number()) if page.has_previous() else "",
        "next_url": at(page.next_page_number()) if page.has_next() else "",
    }


def _choices() -> dict:
    return {
        "classifications": Classification.choices,
        "levels": Level.choices,
        "statuses": Status.choices,
        "ignore_for": IGNORE_FOR,
        "time_zone": timezone.get_current_timezone_name(),
    }


def _rows(items, viewer) -> list:
    days = last_days(SPARK_DAYS)
    counts = selectors.items_daily_event_counts(item_ids=[item.pk for item in items], days=days)
    lines = {item.pk: sparkline(series(counts, item.pk, days)) for item in items}
    return queue.rows_for(items, viewer=viewer, sparklines=lines)


# --- The item page ----------------------------------------------------------------------------------


@require_GET
def item_detail(request, item_id):
    return render(request, "triage/item_detail.html", _item_context(request, _item(item_id)))


def _item(item_id) -> TriageItem:
    try:
        return selectors.item_for_page(item_id=item_id)
    except TriageItem.DoesNotExist:
        raise Http404(gettext("No such item.")) from None


def _item_context(request, item) -> dict:
    can_change = can_change_item(request.user, item)
    counts = selectors.items_daily_event_counts(item_ids=[item.pk], days=(days := last_days(30)))
    points = series(counts, item.pk, days)
    return {
        "item": item,
        "exceptions": _stack(item),
        "ignored_until": _until(item.ignore_condition),
        "occurrences": selectors.item_recent_occurrences(item=item),
        "timeline": _for_timeline(selectors.item_timeline(item=item)),
        "chart_14": histogram(points[-14:]),
        "chart_30": histogram(points),
        "events_14": sum(n for _, n in points[-14:]),
        "events_30": sum(n for _, n in points),
        "can_change": can_change,
        "denied_reason": "" if can_change else change_denied_reason(item),
        "runbook_panel": item_runbook_panel(item=item, can_start=is_developer(request.user)),
        "users": selectors.assignable_users(),
        **_choices(),
    }


def _stack(item) -> list[dict]:
    """The exception chain as people read it: outermost exception first, innermost frame first."""
    chain = reversed(item.latest_event.get("exceptions") or [])
    return [
        {
            **exc,
            "frames": list(reversed(exc.get("frames") or [])),
            "in_app": sum(1 for frame in exc.get("frames") or [] if frame.get("in_app")),
        }
        for exc in chain
    ]


def _for_timeline(entries) -> list:
    """Each entry with its ignore condition's end, its age, and the template another app words it with."""
    entries, now = list(entries), timezone.now()
    for entry in entries:
        entry.until, entry.ago = _until(entry.data.get("condition")), queue.compact_ago(entry.created_at, now)
        entry.line_template = extensions.activity_template(entry)
    return entries


def _until(condition):
    value = condition.get("until") if isinstance(condition, dict) else None
    return parse_datetime(value) if isinstance(value, str) else None


# --- Actions ----------------------------------------------------------------------------------------


@require_POST
def item_action(request, item_id, name):
    if name not in PAGE_ACTIONS:
        raise Http404(gettext("No such action."))
    item = _item(item_id)
    try:
        if name == "comment":
            actions.item_comment(item=item, user=request.user, body=request.POST.get("body", ""))
        else:
            actions.item_perform(item=item, user=request.user, action=name, data=_input(name, request.POST))
    except (PermissionDenied, ValidationError, InputError) as exc:
        return _refused(request, exc, [item.pk])
    return _done(request, [item.pk], DONE[name] % {"item": _label(item)}, oob=False)


@require_POST
def item_bulk(request):
    try:
        bulk = BulkInput(data=request.POST)
        bulk.is_valid(raise_exception=True)
        name = bulk.validated_data["action"]
        data = _input(name, request.POST)
    except InputError as exc:
        return _refused(request, exc, [])
    items = list(selectors.queue_items_by_id(ids=bulk.validated_data["ids"]))
    failures = [(item, exc) for item in items if (exc := _perform_one(item, request.user, name, data))]
    if failures and len(failures) == len(items):
        return _refused(request, failures[0][1], [])
    # Rows come back out of band: the bulk form swaps nothing itself.
    return _done(
        request,
        [item.pk for item in items],
        _bulk_summary(name, items, failures),
        oob=True,
        level="warn" if failures else "ok",
    )


def _perform_one(item, user, name, data):
    """Each item succeeds or fails on its own: the error, or None."""
    try:
        actions.item_perform(item=item, user=user, action=name, data=data)
    except (PermissionDenied, ValidationError) as exc:
        return exc
    return None


def _bulk_summary(name, items, failures) -> str:
    done = len(items) - len(failures)
    summary = DONE_MANY[name] % {"count": done}
    if failures:
        reasons = "; ".join(f"{_label(i)}: {_message(e)}" for i, e in failures)
        summary += " " + gettext("%(count)d not changed: %(reasons)s") % {
            "count": len(failures),
            "reasons": reasons,
        }
    return summary


def _input(name, post) -> dict:
    if name == "ignore" and "condition" in post:
        return validated_action_input(name, _ignore_fields(post))
    return validated_action_input(name, post)


def _ignore_fields(post) -> dict:
    """The ignore dialog's one choice (forever, for a while, until, N events, N users) as IgnoreInput's
    fields."""
    kind, data = post.get("condition"), {"note": post.get("note", "")}
    if kind == "for" and post.get("duration") in IGNORE_FOR:
        data["until"] = (timezone.now() + timedelta(minutes=IGNORE_FOR[post["duration"]])).isoformat()
    elif kind == "until":
        data["until"] = post.get("until", "")
    elif kind in ("events", "users"):
        data[f"until_{kind}"] = post.get(f"{kind}_count", "")
    elif kind != "forever":
        raise InputError({"condition": [IGNORE_CHOICE_MISSING]})
    return data


def _done(request, item_ids, message, *, oob, level="ok"):
    if not _htmx(request):
        messages.success(request, message)
        return redirect(_back(request, item_ids))
    if request.POST.get("render") == "item":
        response = render(request, "triage/_item_body.html", _item_context(request, _item(item_ids[0])))
    else:
        response = _rows_response(request, item_ids, oob=oob)
    response["HX-Trigger"] = json.dumps(
        {"queue-changed": True, "toast": {"message": message, "level": level}}
    )
    return response


def _rows_response(request, item_ids, *, oob):
    viewer = queue.viewer_for(request.user, new_since=queue.visit_new_since(user=request.user))
    by_id = {item.pk: item for item in selectors.queue_items_by_id(ids=item_ids)}
    rows = _rows([by_id[pk] for pk in item_ids if pk in by_id], viewer)
    return render(request, "triage/_rows.html", {"rows": rows, "oob": oob})


def _refused(request, exc, item_ids):
    status = 403 if isinstance(exc, PermissionDenied) else 400
    message = _message(exc)
    if not _htmx(request):
        messages.error(request, message)
        return redirect(_back(request, item_ids))
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _message(exc) -> str:
    """A refusal in one readable line, whether Django or DRF raised it."""
    if isinstance(exc, InputError):
        return " ".join(_flatten(exc.detail))
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or gettext("You may not do that.")


def _flatten(detail, field=""):
    if isinstance(detail, dict):
        return [text for key, value in detail.items() for text in _flatten(value, key)]
    if isinstance(detail, list):
        return [text for value in detail for text in _flatten(value, field)]
    named = field and field != "non_field_errors"
    return [f"{field.replace('_', ' ').capitalize()}: {detail}" if named else str(detail)]


def _back(request, item_ids) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("triage:item", args=[item_ids[0]]) if len(item_ids) == 1 else reverse("triage:item-list")


def _label(item) -> str:
    return item.short_id or item.sentry_issue_id
