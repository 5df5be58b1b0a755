"""A corpus of hostile webhook requests: never a 500, always a JSON answer, nothing accepted lost.

Every request starts from a published Sentry payload (tests/fixtures/sentry/) and is mutated:
truncated JSON, wrong types, huge strings, NUL and lone surrogates in every field, deep nesting,
JSON that is not an object, wrong, missing or non-ASCII headers, oversized bodies, replays. The
mutated body is signed as Sentry signs it, so that it reaches the parser, unless the mutation is
of the signature itself. The corpus is the same on every run (a fixed seed).
"""

import json
import random
import time
from dataclasses import dataclass, field

import pytest
from django.conf import settings

from integrations import drain
from integrations.models import WebhookDelivery
from integrations.services import deliveries_process
from tests.helpers import INTEGRATION_SAMPLES, WEBHOOK_URL, compact, sample, signed_headers

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
Status = WebhookDelivery.Status
SEED = 18
ANSWERS = {202, 400, 401, 413}
LEGACY_URL = "/integrations/sentry/legacy/{token}/"
SAMPLES = [*INTEGRATION_SAMPLES, ("legacy", "legacy-plugin-webhook")]
BAD_CHARACTERS = ["\x00", "\ud800", "\udfff", "a\x00b", "\udc80\x00"]
WRONG_TYPES = [None, True, False, 0, -1, 1.5, -1e308, 10**40, "", "x", [], {}, [None], {"": None}, [[[]]]]
BAD_TIMESTAMPS = [
    "nan",
    "inf",
    "-inf",
    "1e400",
    "9" * 400,
    "",
    "1_7e9",
    "١٧٠٠٠٠٠٠٠٠",
    "\x00",
    "\ud800",
    "12:00",
    str(int(time.time()) - 3600),
]
BAD_SIGNATURES = ["", "0" * 64, "é" * 64, "\x00" * 64, "\ud800", "z" * 64, "a" * 10_000]
BAD_HEADER_VALUES = ["\x00", "\ud800", "é", "r" * 8000, "\udfff\x00", " "]


@dataclass
class Hostile:
    label: str
    body: bytes
    resource: str = ""
    headers: dict = field(default_factory=dict)  # Django META names; these override the signed ones
    signed: bool = True
    token: str | None = None  # a legacy request, to the URL with this token

    def send(self, client):
        if self.token is not None:
            return client.post(
                LEGACY_URL.format(token=self.token),
                self.body,
                content_type="application/json",
                **self.headers,
            )
        headers = signed_headers(self.body, self.resource) if self.signed else {}
        return client.post(
            WEBHOOK_URL, self.body, content_type="application/json", **{**headers, **self.headers}
        )


# --- The mutator ------------------------------------------------------------------------------


def leaf_paths(value, path=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaf_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from leaf_paths(child, (*path, index))
    else:
        yield path


def replaced(payload, path, value):
    """A copy of `payload` with the value at `path` replaced (the whole payload for an empty path)."""
    if not path:
        return value
    copy = json.loads(json.dumps(payload))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return copy


def encoded(payload, rng):
    """JSON as Sentry sends it, or with non-ASCII written raw (a lone surrogate as its UTF-8-like bytes)."""
    if rng.random() < 0.5:
        return compact(payload)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")


def fresh(name, rng):
    """The sample as a delivery of its own: new ids, so that processing applies it instead of deduping it."""
    payload = sample(name)
    event = (
        payload.get("event") or payload.get("data", {}).get("event") or payload.get("data", {}).get("error")
    )
    if event:
        event["event_id"] = f"{rng.getrandbits(128):032x}"
    if issue := payload.get("data", {}).get("issue"):
        issue["id"] = str(rng.randrange(10**9, 10**10))
    if name.startswith("legacy"):
        payload["id"] = str(rng.randrange(10**9, 10**10))
    return payload


def request_for(resource, body, label, **kwargs):
    if resource == "legacy":
        kwargs.setdefault("token", settings.SENTRY_LEGACY_TOKEN)
    return Hostile(label=label, body=body, resource=resource, **kwargs)


def bad_characters_in_every_field(rng):
    """One request per field of every sample, the field's value spiked with NUL or a lone surrogate."""
    for resource, name in SAMPLES:
        for path in leaf_paths(sample(name)):
            payload = fresh(name, rng)
            spiked = str(replaced_value(payload, path)) + rng.choice(BAD_CHARACTERS)
            body = encoded(replaced(payload, path, spiked), rng)
            yield request_for(resource, body, f"{name}: bad character at {path}")


def replaced_value(payload, path):
    for step in path:
        payload = payload[step]
    return payload


def random_mutation(rng):
    resource, name = rng.choice(SAMPLES)
    payload = fresh(name, rng)
    path = rng.choice(list(leaf_paths(payload)))
    kind = rng.choice(
        [
            "truncated",
            "wrong type",
            "huge string",
            "bad key",
            "deep nesting",
            "not an object",
            "wrong container",
        ]
    )
    if kind == "truncated":
        body = compact(payload)
        return request_for(resource, body[: rng.randrange(len(body))], f"{name}: truncated")
    if kind == "wrong type":
        return request_for(
            resource,
            compact(replaced(payload, path, rng.choice(WRONG_TYPES))),
            f"{name}: wrong type at {path}",
        )
    if kind == "huge string":
        huge = rng.choice(["x", "é", "\x00", "\ud800"]) * rng.choice([5_000, 100_000, 300_000])
        return request_for(
            resource, encoded(replaced(payload, path, huge), rng), f"{name}: huge string at {path}"
        )
    if kind == "bad key":
        container = replaced_value(payload, path[:-1])
        if isinstance(container, dict):
            container[path[-1] + rng.choice(BAD_CHARACTERS)] = container.pop(path[-1])
        return request_for(resource, encoded(payload, rng), f"{name}: bad key at {path}")
    if kind == "deep nesting":
        depth = rng.choice([500, 5_000, 200_000])
        body = compact(replaced(payload, path, "DEEP")).replace(b'"DEEP"', b"[" * depth + b"]" * depth)
        return request_for(resource, body, f"{name}: nested {depth} deep at {path}")
    if kind == "not an object":
        body = rng.choice(
            [b"[]", b'"x"', b"1", b"null", b"true", b"[{}]", b"", b"\xff\xfe", b"{}", b'{"data":{}}']
        )
        return request_for(resource, body, f"{name}: not an object {body[:20]!r}")
    return request_for(
        resource,
        compact(replaced(payload, path[:1], rng.choice([[], {}, "", None]))),
        f"{name}: wrong container at {path[:1]}",
    )


def header_mutation(rng):
    resource, name = rng.choice(SAMPLES[:-1])
    body = compact(sample(name))
    kind = rng.choice(["resource", "signature", "timestamp", "request id", "other headers", "no headers"])
    if kind == "resource":
        value = rng.choice(["", "nope", "issue" * 20, "issué", "iss\x00ue", "\ud800", "legacy", "ISSUE"])
        return Hostile(f"{name}: resource {value[:20]!r}", body, resource=value)
    if kind == "signature":
        value = rng.choice(BAD_SIGNATURES)
        return Hostile(
            f"{name}: signature {value[:10]!r}", body, resource, {"HTTP_SENTRY_HOOK_SIGNATURE": value}
        )
    if kind == "timestamp":
        value = rng.choice(BAD_TIMESTAMPS)
        return Hostile(
            f"{name}: timestamp {value[:10]!r}", body, resource, {"HTTP_SENTRY_HOOK_TIMESTAMP": value}
        )
    if kind == "request id":
        value = rng.choice(BAD_HEADER_VALUES)
        return Hostile(f"{name}: Request-ID {value[:10]!r}", body, resource, {"HTTP_REQUEST_ID": value})
    if kind == "other headers":
        noise = {f"HTTP_X_NOISE_{n}": rng.choice(BAD_HEADER_VALUES) * 700 for n in range(rng.choice([1, 90]))}
        return Hostile(
            f"{name}: {len(noise)} noisy headers",
            body,
            resource,
            {**noise, "HTTP_USER_AGENT": rng.choice(BAD_HEADER_VALUES)},
        )
    return Hostile(f"{name}: unsigned", body, resource, signed=False)


def size_mutation(rng):
    resource, name = rng.choice(SAMPLES[:3])
    payload = sample(name)
    payload["padding"] = "x" * (settings.WEBHOOK_MAX_BODY_BYTES + rng.choice([1, 1000]))
    kind = rng.choice(["signed", "declared too long", "declared nonsense"])
    if kind == "signed":
        return Hostile(f"{name}: over the limit", compact(payload), resource)
    length = "99999999999" if kind == "declared too long" else rng.choice(["-1", "abc", "\x00", "1e3"])
    return Hostile(
        f"{name}: Content-Length {length!r}", compact(sample(name)), resource, {"CONTENT_LENGTH": length}
    )


def legacy_mutation(rng):
    token = rng.choice(
        ["", "guess", "tökén", "%ED%A0%80", "%00", "a" * 5000, settings.SENTRY_LEGACY_TOKEN.upper()]
    )
    return Hostile(
        f"legacy: token {token[:10]!r}", compact(sample("legacy-plugin-webhook")), token=token or "x"
    )


def replays(accepted_bodies, rng):
    """Captures sent again: fresh timestamps and Request-IDs, or one Request-ID on another body."""
    for resource, body in rng.sample(accepted_bodies, 8):
        yield Hostile(
            "replay with fresh headers", body, resource, {"HTTP_REQUEST_ID": f"replay-{rng.random()}"}
        )
        yield Hostile(
            "replay in the window, same headers",
            body,
            resource,
            {"HTTP_REQUEST_ID": "req-reused", "HTTP_SENTRY_HOOK_TIMESTAMP": str(int(time.time()) - 200)},
        )


def corpus(rng, accepted_bodies):
    yield from bad_characters_in_every_field(rng)
    for make in (
        [random_mutation] * 120 + [header_mutation] * 80 + [size_mutation] * 6 + [legacy_mutation] * 10
    ):
        yield make(rng)
    yield from replays(accepted_bodies, rng)


# --- The test ---------------------------------------------------------------------------------


def accept_every_sample(client):
    """The published samples, accepted before the corpus: (delivery id, resource, body) each."""
    accepted = []
    for resource, name in SAMPLES:
        request = request_for(resource, compact(sample(name)), name)
        response = request.send(client)
        assert response.status_code == 202, response.content
        accepted.append((response.json()["delivery"], resource, request.body))
    return accepted


def answer_problem(response):
    """What is wrong with the answer, or None."""
    if response.status_code not in ANSWERS:
        return f"answered {response.status_code}"
    if response.get("Content-Type") != "application/json":
        return f"answered {response.get('Content-Type')}"
    answer = json.loads(response.content)
    if response.status_code == 202:
        return (
            None
            if answer.get("status") == "accepted" and isinstance(answer.get("delivery"), int)
            else str(answer)
        )
    return None if isinstance(answer.get("error"), str) and answer["error"] else str(answer)


def process_everything_pending():
    """As the drain does: batches of pending deliveries, oldest first, until none are left."""
    for _ in range(100):
        pending = list(
            WebhookDelivery.objects.filter(status=Status.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)[: drain.BATCH]
        )
        if not pending:
            return
        deliveries_process(delivery_ids=pending)
    raise AssertionError("deliveries still pending after 100 batches")


def test_it_answers_a_hostile_corpus_without_a_500_and_loses_nothing_it_accepted(client):
    client.raise_request_exception = False  # a 500 is an answer to count, not an exception to stop at
    before = accept_every_sample(client)
    rng = random.Random(SEED)
    problems, accepted, answered = [], {}, []
    for request in corpus(rng, [(resource, body) for _, resource, body in before]):
        response = request.send(client)
        answered.append(response.status_code)
        if problem := answer_problem(response):
            problems.append(f"{request.label}: {problem}")
        elif response.status_code == 202:
            accepted[response.json()["delivery"]] = request.body

    assert len(answered) >= 200
    assert problems == [], "\n".join(problems)
    assert {202, 400, 401, 413} <= set(answered)  # the corpus reaches every answer
    process_everything_pending()
    kept = {
        row.pk: row for row in WebhookDelivery.objects.filter(pk__in=[*accepted, *(pk for pk, *_ in before)])
    }
    assert {pk: kept[pk].status for pk, *_ in before} == {pk: Status.PROCESSED for pk, *_ in before}
    assert {pk: bytes(kept[pk].body) for pk in accepted} == accepted
    unprocessed = {
        pk: kept[pk].last_error.splitlines()[0]
        for pk in accepted
        if kept[pk].status not in (Status.PROCESSED, Status.DUPLICATE)
    }
    assert unprocessed == {}
