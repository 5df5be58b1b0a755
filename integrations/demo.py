"""Demo Sentry deliveries, derived from the published samples in integrations/demo_data/.

`seed_demo` and `send_test_webhook` send these through the real endpoints, signed the way
Sentry signs them, so a demo exercises exactly the code path real deliveries take.
"""

import copy
import json
import random
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from .sentry_auth import sign
from .sentry_payloads import LEGACY

# The app's own copies of the samples (see its README): seeding a demo must not need the test tree.
SAMPLES_DIR = Path(__file__).resolve().parent / "demo_data"
EVENT_SAMPLES = {  # resource → (sample file, key of the event under `data`)
    "error": ("integration-error-created", "error"),
    "event_alert": ("integration-event_alert-triggered", "event"),
}
# Fixed, so the same demo event always gets the same event_id and is stored once.
DEMO_NAMESPACE = uuid.UUID("7f1c9a52-3b0e-4d8e-9a41-5c2f0d6b8e13")
DEMO_ACTOR = {"type": "user", "id": "7", "name": "Dana"}
PLATFORMS = {"react": "javascript", "django": "python", "celery": "python"}
MECHANISMS = {"react": "onerror", "django": "django", "celery": "celery"}
# The outermost frame of each runtime, so a demo stack trace reads like a real one.
ENTRY_FRAMES = {
    "react": (
        "node_modules/react-dom/cjs/react-dom.production.min.js",
        "renderWithHooks",
        157,
        "{snip} var c=b(d,e);if(Da){f=0;do{Da=!1,f+=1}while(Da)} {snip}",
    ),
    "django": (
        "django/core/handlers/base.py",
        "_get_response",
        197,
        "response = wrapped_callback(request, *callback_args, **callback_kwargs)",
    ),
    "celery": ("celery/app/trace.py", "__protected_call__", 760, "return self.run(*args, **kwargs)"),
}
REPLACED_TAGS = {"level", "environment", "release", "url", "mechanism"}
BROWSER_TAGS = {"browser", "browser.name", "os", "os.name"}


@dataclass(frozen=True)
class DemoIssue:
    """One demo Sentry issue and its story. `days_ago` is (first event, last event) before now."""

    issue_id: str
    short_id: str
    project: str
    runtime: str  # react | django | celery: sets the platform and the outer stack frame
    exception_type: str
    exception_value: str
    culprit: str
    frame: tuple[str, str, int, str]  # (filename, function, lineno, source line) where it raised
    events: int
    days_ago: tuple[float, float]
    level: str = "error"
    environment: str = "production"
    releases: tuple[str, ...] = ()
    request_url: str = ""
    then: str = ""  # "resolved" or "archived": what someone does in Sentry before the last event
    legacy: bool = False  # arrives through the legacy WebHooks plugin instead
    # (service tag, inner exception type, its value), taken in turn by the events: one Sentry
    # issue hiding several errors, which the grouping advisor proposes to split.
    causes: tuple[tuple[str, str, str], ...] = ()

    @property
    def title(self):
        return f"{self.exception_type}: {self.exception_value}"

    @property
    def platform(self):
        return PLATFORMS[self.runtime]


@dataclass(frozen=True)
class DemoDelivery:
    resource: str  # the Sentry-Hook-Resource header, or LEGACY for the plugin URL
    payload: dict


DEMO_ISSUES = (
    DemoIssue(
        "4610000101",
        "FRONT-END-2K",
        "front-end",
        "react",
        "TypeError",
        "Cannot read properties of undefined (reading 'total')",
        "renderCartSummary(app/cart/CartSummary)",
        ("app/cart/CartSummary.tsx", "renderCartSummary", 42, "const total = cart.totals.total.toFixed(2);"),
        events=6,
        days_ago=(9, 0.05),
        releases=("front-end@5.2.0", "front-end@5.3.0"),
        request_url="https://shop.example.com/cart",
    ),
    DemoIssue(
        "4610000102",
        "FRONT-END-2M",
        "front-end",
        "react",
        "ChunkLoadError",
        "Loading chunk 742 failed.",
        "loadCheckoutStep(app/checkout/lazy)",
        ("app/checkout/lazy.ts", "loadCheckoutStep", 12, "return import(`./steps/${name}`);"),
        events=3,
        days_ago=(4, 1.5),
        level="warning",
        releases=("front-end@5.3.0",),
        request_url="https://shop.example.com/checkout/payment",
    ),
    DemoIssue(
        "4610000103",
        "FRONT-END-1Z",
        "front-end",
        "react",
        "Error",
        "ResizeObserver loop completed with undelivered notifications.",
        "onResize(app/layout/StickyHeader)",
        ("app/layout/StickyHeader.tsx", "onResize", 27, "observer.observe(headerRef.current);"),
        events=5,
        days_ago=(13.5, 0.3),
        level="warning",
        releases=("front-end@5.1.4", "front-end@5.3.0"),
        request_url="https://shop.example.com/",
        then="archived",
    ),
    DemoIssue(
        "4610000201",
        "CHECKOUT-API-3F",
        "checkout-api",
        "django",
        "KeyError",
        "'shipping_address'",
        "checkout.views.orders in create_order",
        ("checkout/views/orders.py", "create_order", 88, 'address = payload["shipping_address"]'),
        events=8,
        days_ago=(11, 0.02),
        releases=("checkout-api@2.14.0", "checkout-api@2.15.0"),
        request_url="https://api.example.com/checkout/orders",
    ),
    DemoIssue(
        "4610000202",
        "CHECKOUT-API-40",
        "checkout-api",
        "django",
        "PaymentGatewayTimeout",
        "Payment provider did not answer within 10 s",
        "checkout.payments.gateway in charge",
        (
            "checkout/payments/gateway.py",
            "charge",
            131,
            "response = self.session.post(url, json=body, timeout=10)",
        ),
        events=5,
        days_ago=(12, 0.15),
        releases=("checkout-api@2.13.2", "checkout-api@2.15.0", "checkout-api@2.15.1"),
        request_url="https://api.example.com/checkout/payments",
        then="resolved",
    ),
    DemoIssue(
        "4610000203",
        "CHECKOUT-API-41",
        "checkout-api",
        "django",
        "IntegrityError",
        'duplicate key value violates unique constraint "orders_order_reference_key"',
        "checkout.models in save",
        ("checkout/models.py", "save", 54, "super().save(*args, **kwargs)"),
        events=2,
        days_ago=(6, 2.5),
        environment="staging",
        releases=("checkout-api@2.15.0-rc1",),
        request_url="https://api.staging.example.com/checkout/orders",
    ),
    DemoIssue(
        "4610000204",
        "CHECKOUT-API-44",
        "checkout-api",
        "django",
        "UpstreamError",
        "Upstream call failed",
        "checkout.clients.upstream in call",
        ("checkout/clients/upstream.py", "call", 61, 'raise UpstreamError("Upstream call failed") from exc'),
        events=24,
        days_ago=(6, 0.1),
        releases=("checkout-api@2.15.0", "checkout-api@2.15.1"),
        request_url="https://api.example.com/checkout/quote",
        causes=(
            ("cart-service", "TimeoutError", "Read timed out after 5000 ms"),
            ("cart-service", "KeyError", "'sku'"),
            ("pricing-service", "TimeoutError", "Read timed out after 3000 ms"),
            ("pricing-service", "KeyError", "'currency'"),
        ),
    ),
    DemoIssue(
        "4610000301",
        "BILLING-WORKER-12",
        "billing-worker",
        "celery",
        "InvoiceRenderError",
        "Template invoice_v2.html needs 'vat_number'",
        "billing.invoices.render in render_pdf",
        ("billing/invoices/render.py", "render_pdf", 64, "html = template.render(context, strict=True)"),
        events=4,
        days_ago=(7, 0.8),
        releases=("billing-worker@1.8.0",),
    ),
    DemoIssue(
        "4610000302",
        "BILLING-WORKER-13",
        "billing-worker",
        "celery",
        "ConnectionResetError",
        "[Errno 104] Connection reset by peer",
        "billing.tasks in sync_ledger",
        ("billing/tasks.py", "sync_ledger", 212, "entries = ledger_client.fetch_since(cursor)"),
        events=7,
        days_ago=(13, 0.4),
        level="warning",
        releases=("billing-worker@1.7.3", "billing-worker@1.8.0"),
    ),
    DemoIssue(
        "4610000303",
        "BILLING-WORKER-15",
        "billing-worker",
        "celery",
        "InvalidOperation",
        "[<class 'decimal.DivisionUndefined'>]",
        "billing.proration in prorate",
        ("billing/proration.py", "prorate", 39, "return (amount * used_days / period_days).quantize(CENT)"),
        events=1,
        days_ago=(0.08, 0.08),
        releases=("billing-worker@1.8.0",),
    ),
    DemoIssue(
        "4610000401",
        "SEARCH-7",
        "search",
        "django",
        "ConnectionTimeout",
        "ConnectionTimeout caused by - ReadTimeoutError(HTTPConnectionPool(host='es-1', port=9200): "
        "Read timed out. (read timeout=10))",
        "search.backends.elastic in query",
        ("search/backends/elastic.py", "query", 77, "hits = self.client.search(index=index, body=body)"),
        events=9,
        days_ago=(13.8, 0.01),
        releases=("search@3.4.1",),
        request_url="https://api.example.com/search?q=running+shoes",
    ),
    DemoIssue(
        "4610000402",
        "SEARCH-8",
        "search",
        "django",
        "ValueError",
        "invalid literal for int() with base 10: 'abc'",
        "search.api.filters in parse_page",
        ("search/api/filters.py", "parse_page", 23, 'page = int(request.GET.get("page", 1))'),
        events=3,
        days_ago=(5, 3),
        level="warning",
        environment="staging",
        releases=("search@3.5.0-rc2",),
        request_url="https://api.staging.example.com/search?q=boots&page=abc",
    ),
    DemoIssue(
        "4610000403",
        "",
        "search",
        "django",
        "TypeError",
        "unhashable type: 'list'",
        "search.facets in merge_facets",
        ("search/facets.py", "merge_facets", 58, 'counts[value] += bucket["doc_count"]'),
        events=2,
        days_ago=(2, 0.6),
        releases=("search@3.4.1",),
        request_url="https://api.example.com/search?q=jacket&facets=brand,brand",
        legacy=True,
    ),
)


def sample(name) -> dict:
    """A fresh copy of a published Sentry payload (the caller may change it freely)."""
    return copy.deepcopy(json.loads((SAMPLES_DIR / f"{name}.json").read_text()))


def compact(payload) -> bytes:
    # What Sentry sends on the wire; the signature covers these exact bytes.
    return json.dumps(payload, separators=(",", ":")).encode()


def webhook_headers(body: bytes, resource: str, secret: str) -> dict:
    """The headers Sentry sends with an Integration Platform webhook."""
    return {
        "Sentry-Hook-Resource": resource,
        "Sentry-Hook-Timestamp": str(int(time.time())),
        "Sentry-Hook-Signature": sign(body, secret),
        "Request-ID": str(uuid.uuid4()),
    }


def org_slug():
    return settings.SENTRY_ORG_SLUG or "demo-org"


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


# --- One issue's story ------------------------------------------------------------------


def demo_deliveries(spec: DemoIssue, *, now) -> list[DemoDelivery]:
    """What Sentry would send for this issue, in order: the first event, issue.created, its alert, the
    rest."""
    times = event_times(spec, now)
    if spec.legacy:
        return [DemoDelivery(LEGACY, legacy_payload(spec, n, at)) for n, at in enumerate(times)]
    events = [_event_delivery(spec, "error", n, at) for n, at in enumerate(times)]
    created = issue_payload(spec, "created", first_seen=times[0], last_seen=times[0], count=1)
    story = [events[0], DemoDelivery("issue", created), _event_delivery(spec, "event_alert", 0, times[0])]
    if not spec.then:
        return story + events[1:]
    # The status change lands before the last event, so the last one shows what happens next.
    change = DemoDelivery(
        "issue", status_change_payload(spec, first_seen=times[0], last_seen=times[-2], count=len(times) - 1)
    )
    return story + events[1:-1] + [change, events[-1]]


def event_times(spec: DemoIssue, now):
    """First and last event at `days_ago`, the others in between at random but the same every run."""
    first, last = spec.days_ago
    rng = random.Random(spec.issue_id)
    middle = sorted((rng.uniform(last, first) for _ in range(spec.events - 2)), reverse=True)
    days = [first, *middle, last] if spec.events > 1 else [last]
    return [now - timedelta(days=d) for d in days]


def event_id(spec: DemoIssue, n: int) -> str:
    return uuid.uuid5(DEMO_NAMESPACE, f"{spec.issue_id}/{n}").hex


def _event_delivery(spec, resource, n, at):
    return DemoDelivery(resource, event_payload(spec, resource, n, at))


def _release(spec, n):
    # Later events come from later releases, as a bug survives a deploy or two.
    return spec.releases[n * len(spec.releases) // spec.events] if spec.releases else ""


# --- Payloads ---------------------------------------------------------------------------


def issue_payload(
    spec: DemoIssue, action, *, first_seen, last_seen, count, status="unresolved", substatus="new"
):
    payload = sample("integration-issue-created")
    payload["action"] = action
    payload["data"]["issue"].update(
        id=spec.issue_id,
        shortId=spec.short_id,
        title=spec.title,
        culprit=spec.culprit,
        level=spec.level,
        platform=spec.platform,
        firstSeen=iso(first_seen),
        lastSeen=iso(last_seen),
        count=str(count),
        userCount=max(1, count * 2 // 3),
        status=status,
        substatus=substatus,
        metadata={"type": spec.exception_type, "value": spec.exception_value, "filename": spec.frame[0]},
        project={
            "id": _project_id(spec.project),
            "name": spec.project,
            "platform": spec.platform,
            "slug": spec.project,
        },
        permalink=f"https://sentry.io/organizations/{org_slug()}/issues/{spec.issue_id}/",
    )
    return payload


def status_change_payload(spec: DemoIssue, **figures):
    """Someone resolves (in the next release) or archives the issue in Sentry."""
    if spec.then == "resolved":
        payload = issue_payload(spec, "resolved", status="resolved", substatus=None, **figures)
        payload["data"]["issue"]["statusDetails"] = {"inNextRelease": True}
        payload["data"]["resolution_type"] = "in_next_release"
    else:
        payload = issue_payload(spec, spec.then, status="ignored", substatus="archived_forever", **figures)
    payload["actor"] = dict(DEMO_ACTOR)
    return payload


def event_payload(spec: DemoIssue, resource, n, at):
    name, key = EVENT_SAMPLES[resource]
    payload = sample(name)
    event = payload["data"][key]
    _describe_event(event, spec, n, at)
    org, eid = org_slug(), event_id(spec, n)
    event.update(
        issue_id=spec.issue_id,
        issue_url=f"https://sentry.io/api/0/issues/{spec.issue_id}/",
        url=f"https://sentry.io/api/0/projects/{org}/{spec.project}/events/{eid}/",
        web_url=f"https://sentry.io/organizations/{org}/issues/{spec.issue_id}/events/{eid}/",
    )
    return payload


def legacy_payload(spec: DemoIssue, n, at):
    """The legacy plugin names the issue and project at the top level, next to the event."""
    payload = sample("legacy-plugin-webhook")
    _describe_event(payload["event"], spec, n, at)
    payload["event"]["id"] = event_id(spec, n)
    payload.update(
        id=spec.issue_id,
        project=spec.project,
        project_slug=spec.project,
        project_name=spec.project,
        culprit=spec.culprit,
        level=spec.level,
        url=f"https://sentry.io/organizations/{org_slug()}/issues/{spec.issue_id}/?referrer=webhooks_plugin",
    )
    return payload


def _describe_event(event, spec, n, at):
    release = _release(spec, n)
    event.update(
        event_id=event_id(spec, n),
        title=spec.title,
        culprit=spec.culprit,
        level=spec.level,
        platform=spec.platform,
        timestamp=at.timestamp(),
        received=at.timestamp(),
        datetime=iso(at),
        release=release or None,
        location=spec.frame[0],
        metadata={"type": spec.exception_type, "value": spec.exception_value, "filename": spec.frame[0]},
    )
    outer = _exception(event["exception"]["values"][-1], spec)
    cause = spec.causes[n % len(spec.causes)] if spec.causes else None
    # Sentry lists a chain innermost first: the cause, then the exception raised from it.
    event["exception"]["values"] = (
        [{**outer, "type": cause[1], "value": cause[2]}, outer] if cause else [outer]
    )
    event["tags"] = _tags(event["tags"], spec, release) + ([["service", cause[0]]] if cause else [])
    event["request"]["url"] = spec.request_url or event["request"]["url"]


def _exception(template, spec):
    frame = template["stacktrace"]["frames"][-1]
    python = spec.platform == "python"
    return {
        **template,
        "type": spec.exception_type,
        "value": spec.exception_value,
        "mechanism": {
            **template["mechanism"],
            "type": MECHANISMS[spec.runtime],
            "handled": False,
            "data": {},
        },
        "stacktrace": {
            "frames": [
                _frame(frame, ENTRY_FRAMES[spec.runtime], in_app=False, python=python),
                _frame(frame, spec.frame, in_app=True, python=python),
            ]
        },
    }


def _frame(template, where, *, in_app, python):
    filename, function, lineno, line = where
    module = filename.removesuffix(".py").replace("/", ".") if python else None
    return {
        **template,
        "filename": filename,
        "abs_path": filename,
        "function": function,
        "module": module,
        "lineno": lineno,
        "colno": None if python else 17,
        "context_line": line,
        "in_app": in_app,
        "pre_context": None,
        "post_context": None,
    }


def _tags(sample_tags, spec, release):
    dropped = REPLACED_TAGS | (set() if spec.platform == "javascript" else BROWSER_TAGS)
    kept = [tag for tag in sample_tags if tag[0] not in dropped]
    added = [
        ["level", spec.level],
        ["environment", spec.environment],
        ["release", release],
        ["url", spec.request_url],
        ["mechanism", MECHANISMS[spec.runtime]],
    ]
    return kept + [tag for tag in added if tag[1]]


def _project_id(slug):
    # Any stable number will do: Sentry sends one, the portal keys on the slug.
    return str(zlib.crc32(slug.encode()) % 10_000_000)


# --- Deliveries that create no item -----------------------------------------------------


def installation_payload():
    payload = sample("integration-installation-created")
    payload["data"]["installation"]["organization"]["slug"] = org_slug()
    return payload


def comment_payload(spec: DemoIssue, now):
    payload = sample("integration-comment-created")
    payload["data"].update(
        comment="Came back after the 2.15.0 deploy; looking into it.",
        project_slug=spec.project,
        issue_id=int(spec.issue_id),
        timestamp=iso(now),
    )
    return payload


# --- send_test_webhook ------------------------------------------------------------------


def webhook_check_payload(now) -> dict:
    """An issue.created for a new issue each time, clearly labelled as a test, in its own project."""
    spec = DemoIssue(
        str(int(now.timestamp() * 1_000_000)),
        "",
        "webhook-test",
        "django",
        "TestWebhook",
        "sent by manage.py send_test_webhook",
        "manage.py send_test_webhook",
        ("integrations/management/commands/send_test_webhook.py", "handle", 1, ""),
        events=1,
        days_ago=(0, 0),
        level="info",
    )
    payload = issue_payload(spec, "created", first_seen=now, last_seen=now, count=1)
    issue = payload["data"]["issue"]
    issue.update(
        shortId=f"WEBHOOK-TEST-{spec.issue_id[-6:]}",
        title=f"Triage Portal test webhook {now:%Y-%m-%d %H:%M:%S %Z}".strip(),
    )
    return payload
