from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from grouping.api import SuggestionViewSet  # grouping advisor (issue 7)
from ops.api import DataFixRequestViewSet, ItemDataFixesView  # data fixes (issue 5)
from reports.api import WeeklyTrendsView  # weekly report (issue 6)
from runbooks.api import RunbookViewSet  # runbooks (issue 3)
from triage.api import TriageItemViewSet

from .health import healthz

# drf-spectacular's Swagger UI page has a <style> block: its own policy allows inline style, nothing else.
# The split view serves the page's start-up script as a file (?script), so script-src stays 'self'.
API_DOCS_CSP = {
    **settings.SECURE_CSP,
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
}
api_docs = csp_override(API_DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="schema"))

router = DefaultRouter()
router.register("items", TriageItemViewSet, basename="item")
# --- runbooks (issue 3) ---
router.register("runbooks", RunbookViewSet, basename="runbook")
# --- grouping advisor (issue 7) ---
router.register("grouping/suggestions", SuggestionViewSet, basename="grouping-suggestion")
# --- data fixes (issue 5) ---
router.register("data-fixes", DataFixRequestViewSet, basename="data-fix")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("account/", include("accounts.urls")),  # language and time zone (issue 14)
    path("integrations/", include("integrations.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("api/trends/weekly/", WeeklyTrendsView.as_view(), name="api-trends-weekly"),  # issue 6
    path(
        "api/items/<int:id>/data-fixes/", ItemDataFixesView.as_view(), name="api-item-data-fixes"
    ),  # issue 5
    path("api/", include(router.urls)),
    path("", include("triage.urls")),
    # --- runbooks (issue 3) ---
    path("runbooks/", include("runbooks.urls")),
    # --- weekly report (issue 6) ---
    path("reports/", include("reports.urls")),
    # --- grouping advisor (issue 7) ---
    path("grouping/", include("grouping.urls")),
    # --- data fixes and ops escalation (issue 5) ---
    path("ops/", include("ops.urls")),
]
