"""Pages of the weekly report: thin, the figures come from reports.report and reports.selectors."""

from defusedcsv import csv
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from triage.permissions import OPS, is_developer, user_roles

from . import selectors, services
from .forms import DecisionForm
from .report import report_context
from .weeks import BadWeek, week_parse


def _week(value):
    try:
        return week_parse(value)
    except BadWeek as error:
        raise Http404(str(error)) from error


def _computed(week, found):
    if found is None:
        raise Http404(f"{week} has not been computed (manage.py compute_weekly_trends --week {week})")
    return found


def _may_decide(user) -> bool:
    return is_developer(user) or OPS in user_roles(user)


def _render(request, week):
    context = _computed(week, report_context(week=week))
    return render(request, "reports/weekly.html", {**context, "may_decide": _may_decide(request.user)})


@require_GET
def weekly_latest(request):
    week = selectors.week_latest_computed()
    if week is None:
        return render(request, "reports/weekly_empty.html")
    return _render(request, week)


@require_GET
def weekly_report(request, week):
    return _render(request, _week(week))


@require_GET
def weekly_csv(request, week):
    """The services table by default (the contract); ?table= names another table of the JSON payload."""
    week = _week(week)
    table = request.GET.get("table", "services")
    if table not in selectors.CSV_TABLES:
        choices = ", ".join(selectors.CSV_TABLES)
        return JsonResponse({"detail": f"Unknown table {table[:50]!r}: choose one of {choices}."}, status=400)
    return _csv(_computed(week, selectors.trends_payload(week=week)), table)


def _csv(payload: dict, table: str) -> HttpResponse:
    suffix = "" if table == "services" else f"-{table}"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="weekly-trends-{payload["week"]}{suffix}.csv"'
    columns = selectors.CSV_TABLES[table]
    writer = csv.writer(response)
    writer.writerow(columns)
    writer.writerows([_inert(row[name]) for name in columns] for row in payload[table])
    return response


def _inert(cell):
    """A cell no spreadsheet runs: defusedcsv quotes one starting with = + - @ | %, OWASP adds tab and CR."""
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(("\t", "\r")) else cell


@require_POST
def decision_add(request, week):
    week = _week(week)
    _computed(week, selectors.org_trends(week=week).get(week.name))
    if not _may_decide(request.user):
        raise PermissionDenied(_("Recording a meeting decision needs the dev or ops role."))
    form = DecisionForm(request.POST)
    if form.is_valid():
        services.decision_record(
            week=week, item=form.cleaned_data["item"], text=form.cleaned_data["text"], author=request.user
        )
    return redirect(f"/reports/weekly/{week}/#decisions")
