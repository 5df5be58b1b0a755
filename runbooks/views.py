"""Runbook pages. Thin: reads come from selectors, writes go through services."""

from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import diffs, selectors, services, stats
from .forms import FeedbackForm, RunbookForm
from .markdown import render as render_markdown
from .matcher_rules import MatcherSpec
from .matcher_text import format_matchers
from .models import Runbook, RunbookFeedback, RunbookVersion
from .permissions import can_edit, require_editor
from .prefill import initial_from_item, template_body

PAGE_SIZE = 50


def runbook_list(request):
    q, service, team = (request.GET.get(key, "").strip() for key in ("q", "service", "team"))
    found = selectors.runbook_search(q=q, service=service, team=team)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "runbooks/list.html",
        {
            "page": page,
            "runbooks": page.object_list,
            "q": q,
            "service": service,
            "team": team,
            "can_edit": can_edit(request.user),
        },
    )


def runbook_detail(request, slug):
    runbook = _runbook(slug)
    overall, per_version = stats.runbook_usefulness(runbook=runbook)
    return render(
        request,
        "runbooks/detail.html",
        {
            "runbook": runbook,
            "body": render_markdown(runbook.current_version.body),
            "overall": overall,
            "per_version": per_version,
            "uses": selectors.runbook_recent_uses(runbook=runbook),
            "matchers": selectors.runbook_matchers(runbook=runbook),
            "feedback": selectors.runbook_open_feedback(runbook=runbook),
            "feedback_form": FeedbackForm(),
            "stale": runbook.is_stale(),
            "can_edit": can_edit(request.user),
        },
    )


def runbook_new(request):
    require_editor(request.user)
    if request.method != "POST":
        initial = initial_from_item(request.GET) if request.GET else {"body": template_body()}
        return _form_page(request, RunbookForm(initial=initial), None)
    form = RunbookForm(request.POST)
    if "preview" in request.POST or not form.is_valid():
        return _form_page(request, form, None)
    try:
        runbook = services.runbook_create(user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _form_page(request, form, None)
    messages.success(
        request, _("Runbook created as version %(number)s.") % {"number": runbook.current_version.number}
    )
    return redirect(runbook)


def runbook_edit(request, slug):
    require_editor(request.user)
    runbook = _runbook(slug)
    if request.method != "POST":
        return _form_page(request, RunbookForm(initial=_initial(runbook), editing=True), runbook)
    form = RunbookForm(request.POST, editing=True)
    if "preview" in request.POST or not form.is_valid():
        return _form_page(request, form, runbook)
    try:
        runbook = services.runbook_update(runbook=runbook, user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _form_page(request, form, runbook)
    messages.success(
        request, _("Saved. The current version is %(number)s.") % {"number": runbook.current_version.number}
    )
    return redirect(runbook)


def _initial(runbook) -> dict:
    specs = [
        MatcherSpec(m.group, m.field, m.op, m.value) for m in selectors.runbook_matchers(runbook=runbook)
    ]
    return {
        "title": runbook.title,
        "services": ", ".join(runbook.services),
        "team": runbook.team,
        "tags": ", ".join(runbook.tags),
        "body": runbook.current_version.body,
        "matchers": format_matchers(specs),
    }


def _form_page(request, form, runbook):
    body = form.data.get("body") if form.is_bound else None
    return render(
        request,
        "runbooks/form.html",
        {
            "form": form,
            "runbook": runbook,
            "preview": render_markdown(body) if body is not None and "preview" in request.POST else None,
        },
    )


def runbook_history(request, slug):
    runbook = _runbook(slug)
    return render(
        request,
        "runbooks/history.html",
        {
            "runbook": runbook,
            "versions": selectors.runbook_versions(runbook=runbook),
            "can_edit": can_edit(request.user),
        },
    )


def runbook_version(request, slug, number):
    runbook = _runbook(slug)
    try:
        version = selectors.runbook_version(runbook=runbook, number=number)
    except RunbookVersion.DoesNotExist:
        raise Http404(_("No such version.")) from None
    return render(
        request,
        "runbooks/version.html",
        {
            "runbook": runbook,
            "version": version,
            "body": render_markdown(version.body),
            "can_edit": can_edit(request.user),
        },
    )


def runbook_diff(request, slug):
    runbook = _runbook(slug)
    first, second = _number(request.GET.get("from")), _number(request.GET.get("to"))
    try:
        old, new = selectors.runbook_version_pair(runbook=runbook, first=first, second=second)
    except RunbookVersion.DoesNotExist as exc:
        raise Http404(str(exc)) from None
    return render(
        request,
        "runbooks/diff.html",
        {
            "runbook": runbook,
            "old": old,
            "new": new,
            "lines": diffs.diff_lines(old, new),
        },
    )


def _number(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest(_("Give version numbers, e.g. ?from=1&to=2.")) from None


@require_POST
def runbook_restore(request, slug):
    runbook = _runbook(slug)
    number = _number(request.POST.get("version"))
    try:
        version = services.runbook_restore(runbook=runbook, user=request.user, number=number)
    except RunbookVersion.DoesNotExist as exc:
        raise Http404(str(exc)) from None
    messages.success(
        request, _("Version %(old)s restored as version %(new)s.") % {"old": number, "new": version.number}
    )
    return redirect(runbook)


@require_POST
def feedback_add(request, slug):
    runbook = _runbook(slug)
    form = FeedbackForm(request.POST)
    if form.is_valid():
        services.runbook_feedback_add(runbook=runbook, user=request.user, **form.cleaned_data)
        messages.success(request, _("Thanks: the owners will see your feedback on this page."))
    else:
        messages.error(request, _("Choose whether the runbook is unclear or outdated."))
    return redirect(runbook)


@require_POST
def feedback_resolve(request, slug, feedback_id):
    runbook = _runbook(slug)
    feedback = get_object_or_404(RunbookFeedback, pk=feedback_id, runbook=runbook)
    services.runbook_feedback_resolve(feedback=feedback, user=request.user)
    messages.success(request, _("Feedback marked as resolved."))
    return redirect(runbook)


def _runbook(slug) -> Runbook:
    try:
        return selectors.runbook_get(slug=slug)
    except Runbook.DoesNotExist:
        raise Http404(_("No such runbook.")) from None
