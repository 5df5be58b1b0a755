"""Sentry events and webhook bodies in the shapes Sentry's own code and Relay give them, built here.

Nothing is copied from Sentry's repositories (the workplace rule): the shapes are learned from them and
written anew.

- Python events are captured for real: sentry_sdk with a transport that keeps the envelope in memory.
- Every other platform is the minimal event its SDK sends, in that SDK's documented shape.
- Each event then goes through Relay's store normaliser (`sentry_relay`), so it is what Relay stores, and
  `stored()` adds what Sentry computes when it saves one (title, culprit, metadata: sentry/eventtypes and
  sentry/culprit.py, which look at an exception's stack or the top-level one, never at a thread's).
- The bodies wrap it as Sentry's sentry-apps code sends it: GroupEvent.as_dict, then url, web_url, issue_url
  and issue_id (an issue-platform event also carries its occurrence, camelCased from
  IssueOccurrence.to_dict).
"""

from datetime import UTC, datetime

import sentry_sdk
from sentry_relay.processing import StoreNormalizer
from sentry_sdk.transport import Transport

BASE, ORG, PROJECT, PROJECT_ID = "https://acme.sentry.io", "acme", "shop", 4501
DSN = f"https://public@o1.ingest.sentry.invalid/{PROJECT_ID}"
RELEASE = "shop@1.4.2"
T = 1767225600.0  # 2026-01-01 00:00 UTC
ACTOR = {"type": "application", "id": "sentry", "name": "Sentry"}
INSTALLATION = {"uuid": "7c1c9c54-0c3e-4a8e-9d0b-2f7d1a61f0c2"}
PRICES = {"SKU-1": 5}


# --- Python, captured by the SDK ----------------------------------------------------------------------------


class KeptEnvelopes(Transport):
    """A transport that keeps what the SDK would send, so a capture needs no network."""

    def __init__(self):
        super().__init__({"dsn": DSN})
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)


def sdk_event(capture) -> dict:
    """The event sentry_sdk sends for what `capture()` captures (with no integration hooked into this
    process)."""
    transport = KeptEnvelopes()
    client = sentry_sdk.Client(
        dsn=DSN,
        transport=transport,
        default_integrations=False,
        auto_enabling_integrations=False,
        attach_stacktrace=True,
        release=RELEASE,
        environment="production",
        server_name="web-1",
    )
    with sentry_sdk.new_scope() as scope:
        scope.set_client(client)
        capture()
    client.close()
    (envelope,) = transport.envelopes
    return envelope.get_event()


class PricingError(Exception):
    pass


def _line_price(line):
    return PRICES[line["sku"]]


def _order_total(cart):
    try:
        return sum(_line_price(line) for line in cart)
    except KeyError as exc:
        raise PricingError("cannot price cart 42") from exc


def _capture_chained():
    try:
        _order_total([{"sku": "SKU-1"}, {"sku": "SKU-404"}])
    except PricingError as exc:
        sentry_sdk.capture_exception(exc)


def _report_slow_checkout():
    sentry_sdk.capture_message("checkout took 9 s for cart 42", level="warning")


def python_chained() -> dict:
    """`raise PricingError(...) from KeyError`: two exceptions, the outermost last, each with its own
    stack."""
    return relay(sdk_event(_capture_chained))


def python_message() -> dict:
    """capture_message with attach_stacktrace: the SDK puts the stack on the current thread."""
    return relay(sdk_event(_report_slow_checkout))


# --- Other platforms, as their SDKs send them ---------------------------------------------------------------


def _frame(function, *, in_app=True, **fields):
    return {"function": function, "in_app": in_app, **fields}


def javascript() -> dict:
    """Browser SDK: frames name the script by URL (Relay keeps it as abs_path) with line and column."""
    script = "https://shop.example.com/assets/checkout.9c1e.js"
    return relay(
        {
            "event_id": "1a" * 16,
            "platform": "javascript",
            "level": "error",
            "timestamp": T,
            "release": RELEASE,
            "environment": "production",
            "sdk": {"name": "sentry.javascript.browser", "version": "8.55.0"},
            "exception": {
                "values": [
                    {
                        "type": "TypeError",
                        "value": "Cannot read properties of undefined (reading 'total')",
                        "mechanism": {"type": "onerror", "handled": False},
                        "stacktrace": {
                            "frames": [
                                _frame(
                                    "HTMLButtonElement.<anonymous>", filename=script, lineno=1, colno=40102
                                ),
                                _frame("submitOrder", filename=script, lineno=1, colno=40311),
                            ]
                        },
                    }
                ]
            },
            "request": {
                "url": "https://shop.example.com/checkout?step=2",
                "headers": {"User-Agent": "Mozilla/5.0"},
            },
        }
    )


def java() -> dict:
    """Java SDK: frames by class (module) and method, the cause first and the thrown exception last."""
    return relay(
        {
            "event_id": "2b" * 16,
            "platform": "java",
            "level": "error",
            "timestamp": T,
            "release": RELEASE,
            "sdk": {"name": "sentry.java", "version": "7.18.0"},
            "exception": {
                "values": [
                    {
                        "type": "NumberFormatException",
                        "module": "java.lang",
                        "value": 'For input string: "12,5"',
                        "stacktrace": {
                            "frames": [
                                _frame(
                                    "parseInt",
                                    module="java.lang.Integer",
                                    filename="Integer.java",
                                    lineno=652,
                                    in_app=False,
                                ),
                                _frame(
                                    "quantity",
                                    module="com.acme.shop.cart.CartLine",
                                    filename="CartLine.java",
                                    lineno=31,
                                ),
                            ]
                        },
                    },
                    {
                        "type": "IllegalStateException",
                        "module": "java.lang",
                        "value": "cart 42 has an unreadable line",
                        "mechanism": {"type": "UncaughtExceptionHandler", "handled": False},
                        "stacktrace": {
                            "frames": [
                                _frame(
                                    "run",
                                    module="java.lang.Thread",
                                    filename="Thread.java",
                                    lineno=1583,
                                    in_app=False,
                                ),
                                _frame(
                                    "total",
                                    module="com.acme.shop.cart.CartService",
                                    filename="CartService.java",
                                    lineno=88,
                                ),
                            ]
                        },
                    },
                ]
            },
        }
    )


def cocoa() -> dict:
    """Cocoa SDK crash: the exception names its thread and mechanism; the stack is on the crashed thread."""
    app = "/private/var/containers/Bundle/Application/5B1F/Shop.app/Shop"
    return relay(
        {
            "event_id": "3c" * 16,
            "platform": "cocoa",
            "level": "fatal",
            "timestamp": T,
            "release": RELEASE,
            "sdk": {"name": "sentry.cocoa", "version": "8.40.1"},
            "exception": {
                "values": [
                    {
                        "type": "EXC_BAD_ACCESS",
                        "value": "Attempted to dereference garbage pointer 0x10.",
                        "thread_id": 0,
                        "mechanism": {
                            "type": "mach",
                            "handled": False,
                            "meta": {
                                "signal": {"number": 11, "code": 0, "name": "SIGSEGV"},
                                "mach_exception": {
                                    "exception": 1,
                                    "code": 1,
                                    "subcode": 16,
                                    "name": "EXC_BAD_ACCESS",
                                },
                            },
                        },
                    }
                ]
            },
            "threads": {
                "values": [
                    {
                        "id": 0,
                        "name": "main",
                        "crashed": True,
                        "current": True,
                        "stacktrace": {
                            "frames": [
                                _frame(
                                    "main",
                                    package=app,
                                    filename="main.swift",
                                    lineno=12,
                                    instruction_addr="0x104a0c2a4",
                                ),
                                _frame(
                                    "UIApplicationMain",
                                    in_app=False,
                                    instruction_addr="0x19b2c5a8c",
                                    package="/System/Library/PrivateFrameworks/UIKitCore.framework/UIKitCore",
                                ),
                                _frame(
                                    "CheckoutViewController.placeOrder(_:)",
                                    package=app,
                                    filename="CheckoutViewController.swift",
                                    lineno=57,
                                    instruction_addr="0x104a1f3b0",
                                ),
                            ]
                        },
                    },
                    {
                        "id": 1,
                        "name": "com.apple.uikit.eventfetch-thread",
                        "crashed": False,
                        "current": False,
                        "stacktrace": {
                            "frames": [
                                _frame(
                                    "mach_msg2_trap",
                                    in_app=False,
                                    instruction_addr="0x1e21c3ea0",
                                    package="/usr/lib/system/libsystem_kernel.dylib",
                                )
                            ]
                        },
                    },
                ]
            },
            "debug_meta": {
                "images": [
                    {
                        "type": "macho",
                        "code_file": app,
                        "debug_id": "8c1f3c1e-3c7a-3d55-9c2f-1b0e6a1d2f30",
                        "image_addr": "0x104a00000",
                        "image_size": 1048576,
                        "arch": "arm64",
                    }
                ]
            },
        }
    )


def ruby() -> dict:
    """Ruby SDK capture_message(..., backtrace: caller): the stack is on the current thread."""
    frames = [
        _frame(
            "perform", filename="app/jobs/charge_job.rb", abs_path="/app/app/jobs/charge_job.rb", lineno=9
        ),
        _frame(
            "call",
            filename="app/services/payments/charge.rb",
            abs_path="/app/app/services/payments/charge.rb",
            lineno=31,
            context_line="      raise Timeout unless response",
        ),
    ]
    return relay(
        {
            "event_id": "4d" * 16,
            "platform": "ruby",
            "level": "warning",
            "timestamp": T,
            "release": RELEASE,
            "sdk": {"name": "sentry.ruby", "version": "5.22.1"},
            "message": "Payment provider timed out",
            "threads": {
                "values": [
                    {
                        "id": 2580,
                        "name": "worker-1",
                        "crashed": False,
                        "current": True,
                        "stacktrace": {"frames": frames},
                    }
                ]
            },
        }
    )


def native() -> dict:
    """A minidump, symbolicated: the crashing thread has its stack and the raw (unsymbolicated) one."""
    exe = "C:\\Program Files\\Shop\\shop.exe"
    symbolicated = [
        _frame(
            "WinMain", package=exe, filename="src\\main.cpp", lineno=40, instruction_addr="0x7ff6a1b21010"
        ),
        _frame(
            "checkout::apply_discount",
            package=exe,
            filename="src\\checkout\\discount.cpp",
            lineno=118,
            instruction_addr="0x7ff6a1b21234",
        ),
    ]
    raw = [
        {"instruction_addr": "0x7ff6a1b21010", "package": exe},
        {"instruction_addr": "0x7ff6a1b21234", "package": exe},
    ]
    return relay(
        {
            "event_id": "5e" * 16,
            "platform": "native",
            "level": "fatal",
            "timestamp": T,
            "release": RELEASE,
            "sdk": {"name": "sentry.native", "version": "0.7.20"},
            "exception": {
                "values": [
                    {
                        "type": "EXCEPTION_ACCESS_VIOLATION_READ",
                        "value": "Fatal Error: EXCEPTION_ACCESS_VIOLATION_READ",
                        "thread_id": 7312,
                        "mechanism": {"type": "minidump", "handled": False},
                    }
                ]
            },
            "threads": {
                "values": [
                    {
                        "id": 5100,
                        "name": "io",
                        "crashed": False,
                        "stacktrace": {
                            "frames": [
                                _frame(
                                    "NtWaitForSingleObject", in_app=False, instruction_addr="0x7ffb3c2d0f14"
                                )
                            ]
                        },
                    },
                    {
                        "id": 7312,
                        "name": "main",
                        "crashed": True,
                        "stacktrace": {"frames": symbolicated},
                        "raw_stacktrace": {"frames": raw},
                    },
                ]
            },
            "debug_meta": {
                "images": [
                    {
                        "type": "pe",
                        "code_file": exe,
                        "debug_id": "3249d99d-0c40-4931-8610-f4e4fb0b6936-1",
                        "image_addr": "0x7ff6a1b20000",
                        "image_size": 65536,
                    }
                ]
            },
        }
    )


def php_message() -> dict:
    """PHP SDK captureMessage with attach_stacktrace: the stack is the event's top-level `stacktrace`."""
    return relay(
        {
            "event_id": "6f" * 16,
            "platform": "php",
            "level": "warning",
            "timestamp": T,
            "release": RELEASE,
            "sdk": {"name": "sentry.php", "version": "4.10.0"},
            "message": {
                "message": "Stock below zero for %s",
                "params": ["SKU-42"],
                "formatted": "Stock below zero for SKU-42",
            },
            "stacktrace": {
                "frames": [
                    _frame(
                        "App\\Http\\OrderController::store",
                        filename="src/Http/OrderController.php",
                        abs_path="/var/www/src/Http/OrderController.php",
                        lineno=40,
                    ),
                    _frame(
                        "App\\Inventory\\StockLedger::withdraw",
                        filename="src/Inventory/StockLedger.php",
                        abs_path="/var/www/src/Inventory/StockLedger.php",
                        lineno=88,
                    ),
                ]
            },
        }
    )


def transaction() -> dict:
    """The transaction an N+1 query was detected in (Python SDK, Django): its title is the route."""
    root, trace = "e" * 16, "d" * 32
    spans = [
        {
            "span_id": f"{n:016x}",
            "parent_span_id": root,
            "trace_id": trace,
            "op": "db",
            "description": 'SELECT "books_author"."id" FROM "books_author" WHERE "books_author"."id" = %s',
            "start_timestamp": T - 0.8 + n / 100,
            "timestamp": T - 0.795 + n / 100,
        }
        for n in range(1, 7)
    ]
    return relay(
        {
            "event_id": "7a" * 16,
            "type": "transaction",
            "platform": "python",
            "timestamp": T,
            "start_timestamp": T - 0.9,
            "release": RELEASE,
            "transaction": "/api/books/",
            "transaction_info": {"source": "route"},
            "contexts": {"trace": {"trace_id": trace, "span_id": root, "op": "http.server", "status": "ok"}},
            "spans": spans,
            "request": {"url": "https://shop.example.com/api/books/", "method": "GET"},
        }
    )


def uptime_event() -> dict:
    """The event Sentry's uptime checker makes for a failed check (tags as an object; Relay makes them
    pairs)."""
    return relay(
        {
            "event_id": "8b" * 16,
            "platform": "other",
            "timestamp": T,
            "environment": "production",
            "tags": {"uptime_rule": "42"},
            "contexts": {"trace": {"trace_id": "c" * 32, "span_id": "b" * 16}},
        }
    )


def cron_event() -> dict:
    """The event Sentry's crons make when a monitor misses its check-in."""
    return relay(
        {
            "event_id": "ad" * 16,
            "platform": "other",
            "timestamp": T,
            "environment": "production",
            "tags": {"monitor.id": "5b2e", "monitor.slug": "nightly-invoices"},
            "contexts": {
                "monitor": {
                    "id": "5b2e",
                    "slug": "nightly-invoices",
                    "name": "nightly-invoices",
                    "config": {"schedule": "0 2 * * *", "schedule_type": "crontab"},
                }
            },
        }
    )


def feedback_event() -> dict:
    """A user feedback from the browser SDK's widget."""
    return relay(
        {
            "event_id": "9c" * 16,
            "type": "feedback",
            "platform": "javascript",
            "level": "info",
            "timestamp": T,
            "contexts": {
                "feedback": {
                    "message": "The pay button does nothing",
                    "contact_email": "ana@example.com",
                    "name": "Ana",
                    "url": "https://shop.example.com/checkout",
                    "source": "widget",
                }
            },
        }
    )


def relay(event) -> dict:
    return StoreNormalizer(project_id=PROJECT_ID).normalize_event(event)


# --- Issue-platform occurrences (IssueOccurrence.to_dict, camelCased as the webhook sends it) ---------------


def occurrence(event, *, type_id, title, subtitle, culprit, level, evidence) -> dict:
    return {
        "id": "0f" * 16,
        "projectId": PROJECT_ID,
        "eventId": event["event_id"],
        "fingerprint": [f"{type_id}-1"],
        "issueTitle": title,
        "subtitle": subtitle,
        "resourceId": None,
        "evidenceData": {},
        "evidenceDisplay": [
            {"name": name, "value": value, "important": n == 0} for n, (name, value) in enumerate(evidence)
        ],
        "type": type_id,
        "detectionTime": T,
        "level": level,
        "culprit": culprit,
    }


N_PLUS_ONE = {
    "type_id": 1006,
    "title": "N+1 Query",
    "culprit": "/api/books/",
    "level": "info",
    "subtitle": 'SELECT "books_author"."id" FROM "books_author" WHERE "books_author"."id" = %s',
    "evidence": [("Offending Spans", 'db - SELECT "books_author"."id" FROM "books_author" ...')],
}
DOWNTIME = {
    "type_id": 7001,
    "title": "Downtime detected for https://shop.example.com/health",
    "culprit": "",
    "subtitle": "Your monitored domain is down",
    "level": "error",
    "evidence": [("Failure reason", "HTTP status 503"), ("Method", "GET"), ("Status Code", "503")],
}
MISSED_CHECK_IN = {
    "type_id": 4001,
    "title": "Cron failure: nightly-invoices",
    "culprit": "",
    "level": "error",
    "subtitle": "Your monitor has reached its failure threshold.",
    "evidence": [("Failure reason", "1 missed check-in"), ("Environment", "production")],
}
USER_FEEDBACK = {
    "type_id": 6001,
    "title": "User Feedback",
    "culprit": "user",
    "level": "info",
    "subtitle": "The pay button does nothing",
    "evidence": [("contact_email", "ana@example.com"), ("message", "The pay button does nothing")],
}
# Each category (issueCategory): its event, its occurrence, and the issue's issueType, type and platform.
CATEGORIES = {
    "performance": (transaction, N_PLUS_ONE, "performance_n_plus_one_db_queries", "transaction", "python"),
    "uptime": (uptime_event, DOWNTIME, "uptime_domain_failure", "default", "other"),
    "cron": (cron_event, MISSED_CHECK_IN, "monitor_check_in_failure", "default", "other"),
    "feedback": (feedback_event, USER_FEEDBACK, "feedback", "feedback", "javascript"),
}


# --- What Sentry stores and sends ---------------------------------------------------------------------------


def stored(event) -> dict:
    """The event with what Sentry adds when it saves it (type, metadata, title, culprit, location)."""
    data = dict(event, type="error" if event.get("exception") else event.get("type", "default"))
    data["metadata"], data["title"] = _metadata_and_title(data)
    data["culprit"] = data.get("culprit") or data.get("transaction") or _generate_culprit(data)
    data["location"] = data["metadata"].get("filename") or data.get("transaction")
    return data


def _metadata_and_title(data):
    if data["type"] == "error":
        last = data["exception"]["values"][-1]
        value = last.get("value") or ""
        title = f"{last['type']}: {value.splitlines()[0][:100]}" if value else last["type"]
        return {"type": last["type"], "value": value}, title
    if data["type"] == "transaction":
        return {"title": data["transaction"], "location": data["transaction"]}, data["transaction"]
    message = (data.get("logentry") or {}).get("formatted") or ""
    if data["type"] == "default":
        return {"title": message}, message.splitlines()[0][:100] if message else "<unlabeled event>"
    return {}, "<untitled>"


def _generate_culprit(data):
    """Sentry's culprit: the innermost in-app frame of the last exception's stack, or of the top-level
    stack."""
    exceptions = (data.get("exception") or {}).get("values") or []
    stacks = (
        [exc["stacktrace"] for exc in exceptions if exc.get("stacktrace")]
        if exceptions
        else [data["stacktrace"]]
        if data.get("stacktrace")
        else []
    )
    frames = stacks[-1]["frames"] if stacks else []
    frame = next((f for f in reversed(frames) if f.get("in_app")), frames[-1] if frames else None)
    if frame is None:
        return (data.get("request") or {}).get("url") or ""
    if data["platform"] in ("cocoa", "native", "objc"):
        return frame.get("function") or "?"
    place, function = frame.get("module") or frame.get("filename"), frame.get("function") or "?"
    return f"{function}({place})" if data["platform"] in ("javascript", "node") else f"{place} in {function}"


def serialized(event, issue_id, occurrence=None) -> dict:
    """The event as a webhook carries it: GroupEvent.as_dict, then the links the sentry-apps task adds."""
    data, event_id = stored(event), event["event_id"]
    body = {
        "event_id": event_id,
        "project": PROJECT_ID,
        "release": data.get("release"),
        "dist": None,
        "platform": data.get("platform"),
        "message": (data.get("logentry") or {}).get("formatted") or "",
        "datetime": datetime.fromtimestamp(data["timestamp"], UTC).isoformat().replace("+00:00", "Z"),
        "tags": _tags(data),
    }
    body.update({key: value for key, value in sorted(data.items()) if key not in body})
    body["url"] = f"{BASE}/api/0/projects/{ORG}/{PROJECT}/events/{event_id}/"
    body["web_url"] = f"{BASE}/organizations/{ORG}/issues/{issue_id}/events/{event_id}/"
    if occurrence:
        body["occurrence"] = occurrence
    body.update(issue_url=f"{BASE}/api/0/issues/{issue_id}/", issue_id=str(issue_id))
    return body


def _tags(data):
    """The tags Sentry sets on save beside the SDK's, as [key, value] pairs without the `sentry:` prefix."""
    tags = dict(data.get("tags") or [])
    exception = ((data.get("exception") or {}).get("values") or [{}])[-1]
    mechanism = exception.get("mechanism") or {}
    tags.update(
        {
            key: value
            for key, value in {
                "level": data.get("level"),
                "environment": data.get("environment"),
                "release": data.get("release"),
                "server_name": data.get("server_name"),
                "transaction": data.get("transaction"),
                "url": (data.get("request") or {}).get("url"),
                "mechanism": mechanism.get("type"),
                "handled": {True: "yes", False: "no"}.get(mechanism.get("handled")),
            }.items()
            if value
        }
    )
    return [[key, value] for key, value in sorted(tags.items())]


def error_created(event, issue_id) -> dict:
    return {
        "action": "created",
        "installation": INSTALLATION,
        "actor": ACTOR,
        "data": {"error": serialized(event, issue_id)},
    }


def event_alert_triggered(event, issue_id, occurrence=None) -> dict:
    return {
        "action": "triggered",
        "installation": INSTALLATION,
        "actor": ACTOR,
        "data": {
            "event": serialized(event, issue_id, occurrence),
            "triggered_rule": "Page the checkout team",
        },
    }


def legacy_plugin(event, issue_id) -> dict:
    """The WebHooks plugin's body: the issue's fields, and the stored event with its tags and ids."""
    data = stored(event)
    return {
        "id": str(issue_id),
        "project": PROJECT,
        "project_name": "Shop",
        "project_slug": PROJECT,
        "logger": None,
        "level": data.get("level"),
        "culprit": data["culprit"],
        "message": data["title"],
        "url": f"{BASE}/organizations/{ORG}/issues/{issue_id}/?referrer=webhooks_plugin",
        "triggering_rules": ["Page the checkout team"],
        "event": {**data, "tags": _tags(data), "event_id": event["event_id"], "id": event["event_id"]},
    }


# --- Issues (the issue serializer, as `issue` webhooks carry it) --------------------------------------------


def issue_body(
    issue_id, category, *, action="created", status="unresolved", substatus="new", status_details=None
):
    """The issue Sentry makes of CATEGORIES[category]'s occurrence (title, culprit, level are the
    occurrence's)."""
    _, found, issue_type, event_type, platform = CATEGORIES[category]
    seen = datetime.fromtimestamp(T, UTC).isoformat().replace("+00:00", "Z")
    issue = {
        "annotations": [],
        "assignedTo": None,
        "count": "1",
        "culprit": found["culprit"],
        "firstSeen": seen,
        "hasSeen": False,
        "id": str(issue_id),
        "isBookmarked": False,
        "isPublic": False,
        "isSubscribed": False,
        "lastSeen": seen,
        "level": found["level"],
        "logger": None,
        "numComments": 0,
        "permalink": None,
        "metadata": {"title": found["title"], "value": found["subtitle"], "initial_priority": 25},
        "platform": platform,
        "shareId": None,
        "shortId": f"SHOP-{issue_id}",
        "project": {"id": str(PROJECT_ID), "name": "Shop", "slug": PROJECT, "platform": "python"},
        "status": status,
        "statusDetails": status_details or {},
        "subscriptionDetails": None,
        "substatus": substatus,
        "title": found["title"],
        "type": event_type,
        "userCount": 0,
        "issueType": issue_type,
        "issueCategory": category,
        "priority": "low",
        "priorityLockedAt": None,
        "web_url": f"{BASE}/organizations/{ORG}/issues/{issue_id}/",
    }
    return {"action": action, "installation": INSTALLATION, "actor": ACTOR, "data": {"issue": issue}}


# Sentry's archive choices as `ignored` and `archived` deliveries carry them (substatus, statusDetails).
ARCHIVE_VARIANTS = {
    "forever": ("archived_forever", {}),
    "until escalating": ("archived_until_escalating", {"ignoreUntilEscalating": True}),
    "until 100 events in an hour": ("archived_until_condition_met", {"ignoreCount": 100, "ignoreWindow": 60}),
    "until 10 users": ("archived_until_condition_met", {"ignoreUserCount": 10, "ignoreUserWindow": None}),
    "until a time": ("archived_until_condition_met", {"ignoreUntil": "2026-01-08T00:00:00Z"}),
}
