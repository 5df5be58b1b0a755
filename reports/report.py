"""The weekly report page's context: stored figures only, so the page stays the same after the meeting."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import recurring, selectors
from .charts import service_series, services_chart, week_sparkline, weeks_series
from .spikes import RULE
from .weeks import Week

HEADLINES = (
    ("events", _("Events"), {"section": "all", "sort": "events"}),
    ("new_items", _("New items"), {"section": "all", "sort": "first_seen"}),
    ("regressed", _("Regressed"), {"section": "regressed"}),
    ("resolved", _("Resolved"), {"section": "all", "status": "resolved"}),
    ("ignored", _("Ignored"), {"section": "all", "status": "ignored"}),
    ("open_backlog", _("Open at week end"), {"section": "open"}),
    ("toil", _("Handling actions"), {"section": "all"}),
    ("data_fix_requests", _("Data-fix requests"), {"section": "all", "classification": "data_fix"}),
)


def queue_url(**params) -> str:
    return reverse("triage:item-list") + "?" + urlencode(params)


@dataclass(frozen=True)
class Headline:
    label: str
    value: int
    previous: int | None
    url: str

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.value - self.previous

    @property
    def change_percent(self) -> int | None:
        return round(100 * self.change / self.previous) if self.previous else None


def report_context(*, week: Week) -> dict | None:
    """None when the week was not computed."""
    orgs = selectors.org_trends(week=week)
    if week.name not in orgs:
        return None
    org, prev = orgs[week.name], orgs.get(week.shifted(-1).name)
    headlines = [
        Headline(label, getattr(org, name), getattr(prev, name) if prev else None, queue_url(**params))
        for name, label, params in HEADLINES
    ]
    movers, fresh = selectors.top_movers(week=week), selectors.new_recurring(week=week)
    ops, unclassified = selectors.waiting_on_ops(), selectors.open_items(classification="")
    return {
        "week": week,
        "prev_week": week.shifted(-1),
        "next_week": week.shifted(1),
        "org": org,
        "headlines": headlines,
        "turnaround": duration_text(org.median_ops_turnaround_s),
        **_services(week),
        "movers": movers,
        "recurring": fresh,
        "ops": ops,
        "unclassified": unclassified,
        "decisions": selectors.week_decisions(week=week),
        "rule": RULE,
        "grouping": selectors.grouping_suggestions(week=week),
        "recurring_rule": recurring.RULE,
        "time_zone": settings.TIME_ZONE,
        **_runbooks(week),
        "decision_items": _decision_items(movers, fresh, ops, unclassified),
        "ops_url": queue_url(section="ops"),
        "unclassified_url": queue_url(section="open", classification="none"),
    }


def _services(week: Week) -> dict:
    """The per-service table with its sparklines, and the chart of the top services over the same weeks."""
    trends, history = list(selectors.service_trends(week=week)), selectors.service_event_history(week=week)
    weeks = [week.shifted(-offset) for offset in range(selectors.SPARK_WEEKS - 1, -1, -1)]
    starts = [one.start for one in weeks]
    rows = [
        {
            "trend": trend,
            "sparkline": week_sparkline(
                weeks_series(history.get(trend.service_id, {}), starts), spike=trend.spike
            ),
            "url": queue_url(section="all", service=trend.service.slug),
            "open_url": queue_url(section="open", service=trend.service.slug),
        }
        for trend in trends
    ]
    series = service_series(history, {trend.service_id: trend.service.slug for trend in trends}, starts)
    return {
        "services": rows,
        "chart": services_chart(series, [one.name for one in weeks]) if series else "",
        "data_fixes": _data_fixes(trends),
    }


def _data_fixes(trends) -> list[dict]:
    """The services with data-fix requests filed or closed in the week."""
    return [
        {
            "trend": trend,
            "url": queue_url(section="all", classification="data_fix", service=trend.service.slug),
            "turnaround": duration_text(trend.median_ops_turnaround_s),
        }
        for trend in trends
        if trend.data_fix_requests or trend.data_fix_closed
    ]


def duration_text(seconds: float | None) -> str:
    """A median duration the way people say it: "45 min", "5.5 h", "3.2 days"; "–" when there was none."""
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _runbooks(week: Week) -> dict:
    rows = selectors.runbook_trends(week=week)
    kinds = [
        {
            "kind": kind,
            "url": queue_url(section="all", service=kind.service.slug, q=kind.exception_type)
            if kind.exception_type
            else queue_url(section="all", service=kind.service.slug),
        }
        for kind in selectors.error_kinds(week=week)
    ]
    return {
        "runbooks_used": selectors.runbooks_most_used(rows),
        "runbooks_flagged": selectors.runbooks_most_flagged(rows),
        "kinds": kinds,
    }


def _decision_items(movers, fresh, ops, unclassified) -> list:
    """The items listed on the report, once each: what a decision can be recorded against."""
    items = {}
    for trend in [*movers["up"], *movers["down"], *movers["toil"], *fresh]:
        items.setdefault(trend.item.pk, trend.item)
    for item in [*ops, *unclassified]:
        items.setdefault(item.pk, item)
    return list(items.values())
