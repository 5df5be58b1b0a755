"""manage.py send_test_webhook: does a running portal accept a webhook signed like Sentry signs it?"""

import requests
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations import demo
from integrations.sentry_auth import signing_secret

DEFAULT_URL = "http://127.0.0.1:8000/integrations/sentry/webhook/"
TIMEOUT_SECONDS = 10
SHOWN_BODY_CHARS = 500
HINTS = {
    400: "the portal could not read the payload; an HTML 'Bad Request' instead means the host name "
    "is not in the portal's ALLOWED_HOSTS",
    401: "secret mismatch: the portal's SENTRY_CLIENT_SECRET is not the secret this was signed with "
    "(--secret, else this environment's SENTRY_CLIENT_SECRET)",
    403: "something in front of the portal refused the request (a proxy or firewall rule?)",
    404: "no webhook endpoint at this URL: the path is /integrations/sentry/webhook/",
    405: "the request arrived as something other than a POST (a redirect on the way?)",
    413: "the body was refused as too large: a proxy in front of the portal allows less than "
    "the portal's 1 MiB",
}
# The portal's 401 says which check failed; these two are not a secret mismatch.
UNAUTHORIZED_HINTS = {
    "not configured": "the portal has no SENTRY_CLIENT_SECRET: set it there to the integration's "
    "Client Secret",
    "5 minutes": "this machine's clock and the portal's are more than 5 minutes apart",
}


class Command(BaseCommand):
    help = (
        "POST a signed issue.created webhook (a new issue titled 'Triage Portal test webhook …') to a "
        "running portal, as Sentry would, and report the answer. Exits non-zero unless it is 202."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default=DEFAULT_URL, help=f"The portal's webhook URL (default {DEFAULT_URL})."
        )
        parser.add_argument("--secret", default="", help="Sign with this instead of SENTRY_CLIENT_SECRET.")

    def handle(self, *args, url=DEFAULT_URL, secret="", **options):
        secret = secret or signing_secret()
        if not secret:
            raise CommandError(
                "Nothing to sign with: set SENTRY_CLIENT_SECRET or pass --secret (the portal's value)."
            )
        payload = demo.webhook_check_payload(timezone.now())
        response = _post(url, demo.compact(payload), secret)
        self.stdout.write(f"{response.status_code} {response.reason}\n{_shown(response.text)}")
        if response.status_code != 202:
            raise CommandError(f"The portal answered {response.status_code}, not 202: {_hint(response)}.")
        issue = payload["data"]["issue"]
        self.stdout.write(self.style.SUCCESS(f"Accepted: Sentry issue {issue['id']} ({issue['title']})."))


def _post(url, body, secret):
    headers = {**demo.webhook_headers(body, "issue", secret), "Content-Type": "application/json"}
    try:
        # No redirects: following one turns the POST into a GET, which hides what went wrong.
        return requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except requests.Timeout:
        raise CommandError(f"No answer from {url} within {TIMEOUT_SECONDS} s: is the portal up?") from None
    except requests.ConnectionError as exc:
        raise CommandError(
            f"Could not connect to {url} ({_reason(exc)}): is the portal running "
            "(make run) and listening at that address?"
        ) from None
    except requests.RequestException as exc:
        raise CommandError(f"Could not send to {url}: {exc}") from None


def _reason(exc):
    text = str(exc)
    return "connection refused" if "refused" in text.lower() else text


def _shown(text):
    # Enough of an error page to recognise it, without a screenful of HTML.
    return text if len(text) <= SHOWN_BODY_CHARS else text[:SHOWN_BODY_CHARS] + " … (cut)"


def _hint(response):
    if response.status_code == 401:
        return next((hint for clue, hint in UNAUTHORIZED_HINTS.items() if clue in response.text), HINTS[401])
    if response.is_redirect:
        return f"it redirects to {response.headers.get('Location')}; send to that URL instead (https?)"
    if response.status_code >= 500:
        return "the portal failed; its log says why"
    return HINTS.get(response.status_code, "unexpected answer")
