"""Items and their runbooks: the best match linked on intake, re-linked when matchers change, the
version pinned at the first decision, and whether the runbook helped.

The link is `TriageItem.runbook`. runbooks keeps its own record of each item handled with a
runbook (`RunbookUse`, by item id) for its usefulness figures, so every change of a link goes
to both, in the caller's transaction. (integrations → triage → runbooks: runbooks never calls back.)

Pinned items stay put. Once an item is classified with its runbook, `runbook_version` holds the
version current then, and a matcher change no longer moves the item to another runbook: "handled
with v3" must stay true, and the helped/not-helped answer must count for the runbook it was
given for. The item page still shows a newer best match among the alternatives. A reopened item
(regressed, woken, unresolved in Sentry) is a new round of triage and is linked afresh.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from runbooks.markdown import render as render_markdown
from runbooks.matching import MatchFacts, RunbookMatch, current_index, runbook_matches, runbook_matches_many
from runbooks.models import RunbookVersion
from runbooks.services import runbook_use_forget, runbook_use_record, runbook_use_update

from . import bulk
from .models import Activity, TriageItem

PORTAL = "portal"
RELINK_BATCH = 500
EXCERPT_CHARS = 400
ALTERNATIVES = 5
LINK_FIELDS = ["runbook", "runbook_version", "runbook_helped"]


def item_match_facts(item) -> MatchFacts:
    """What the matchers look at, from the item (its latest event's where it has one)."""
    return MatchFacts(
        service=item.service.slug,
        exception_type=item.exception_type,
        exception_value=item.exception_value,
        culprit=item.culprit,
        fingerprint=_fingerprint(item),
        sentry_issue_id=item.sentry_issue_id,
        level=item.level,
        environment=item.environment,
        tags=item.tags if isinstance(item.tags, dict) else {},
    )


def _fingerprint(item) -> tuple[str, ...]:
    value = item.latest_event.get(
        "fingerprint"
    )  # triage.facts.EventFacts.summary: a list, once an event came
    return tuple(value) if isinstance(value, list) else ()


# --- Intake ------------------------------------------------------------------------------------------


def item_link_runbook(*, item, actor_label, reopened=False) -> bool:
    """Link a new, reopened or newly described item to its best runbook; True when the link changed.

    One primary-key SELECT when nothing matches and nothing changes (the matcher index's token).
    """
    if reopened:
        item_runbook_reopened(item=item)
    elif item.runbook_version_id is not None:
        return False  # classified with its runbook already (before its first event came)
    index = bulk.looked_up("runbook_index", current_index)  # its token read once a batch of deliveries
    found = index.matches(item_match_facts(item), limit=1)
    best = found[0] if found else None
    if _runbook_id(best) == item.runbook_id:
        return False
    verb = "runbook_linked" if best else "runbook_relinked"  # the latter: it no longer matches any
    _link_record(item, best, verb=verb, actor_label=actor_label)
    return True


def _runbook_id(match) -> int | None:
    return match.runbook.id if match else None


def _link_record(item, match, *, verb, actor_label):
    """Move the item (and its use record) to `match`'s runbook, and say so on the timeline."""
    previous = _ref(item.runbook) if item.runbook_id else None
    now = timezone.now()
    if item.runbook_id:
        runbook_use_forget(runbook_id=item.runbook_id, item_ref=item.pk)  # decided uses stay as history
    if match:
        runbook_use_record(
            version=match.version,
            item_ref=item.pk,
            item_title=item.title,
            item_url=item.get_absolute_url(),
            linked_at=now,
        )
    bulk.activity_add(
        Activity(
            item=item, verb=verb, actor_label=actor_label, data=_entry(verb, previous, match), created_at=now
        )
    )
    item.runbook_id, item.runbook_version_id, item.runbook_helped = _runbook_id(match), None, None


def _entry(verb, previous, match) -> dict:
    """runbook_linked: the runbook (and the one it replaced); runbook_relinked: from → to (None: unlinked)."""
    if verb == "runbook_linked":
        return {**_match_data(match), "from": previous}
    return {"from": previous, "to": _match_data(match) if match else None}


def _ref(runbook) -> dict:
    return {"slug": runbook.slug, "title": runbook.title}


def _match_data(match: RunbookMatch) -> dict:
    return {
        "slug": match.runbook.slug,
        "title": match.runbook.title,
        "version": match.version.number,
        "score": match.score,
    }


# --- Matcher changes ---------------------------------------------------------------------------------


def items_relink_open(*, batch_size=RELINK_BATCH) -> int:
    """Re-match every open item not pinned to a version, in batches; returns how many links changed.

    Idempotent: a second run finds the links as the first left them. Matching a batch checks the
    index once; each batch is its own transaction, with its items' rows locked against intake.
    """
    changed, after = 0, 0
    while (batch := _relink_batch(after, batch_size)) is not None:
        count, after = batch
        changed += count
    return changed


@transaction.atomic
def _relink_batch(after, size) -> tuple[int, int] | None:
    """Re-link the next `size` open, unpinned items after id `after`: (changed, last id), or None when
    done."""
    items = list(
        TriageItem.objects.select_for_update(of=("self",))
        .select_related("service", "runbook")
        .defer("runbook__search_document")
        .filter(pk__gt=after, status__in=TriageItem.OPEN_STATUSES, runbook_version__isnull=True)
        .order_by("pk")[:size]
    )
    if not items:
        return None
    found = runbook_matches_many(facts=[item_match_facts(item) for item in items], limit=1)
    moves = [(item, matches[0] if matches else None) for item, matches in zip(items, found, strict=True)]
    moves.sort(key=lambda move: _runbook_id(move[1]) or 0)  # runbook rows locked in one order: no deadlock
    return sum(_relink(item, best) for item, best in moves), items[-1].pk


def _relink(item, best) -> bool:
    if _runbook_id(best) == item.runbook_id:
        return False
    _link_record(item, best, verb="runbook_relinked", actor_label=PORTAL)
    item.save(update_fields=LINK_FIELDS)
    return True


# --- Decisions ---------------------------------------------------------------------------------------


def item_runbook_decided(*, item, at=None) -> None:
    """The first decision with a runbook pins the version current then, here and in runbooks' use record."""
    if item.runbook_id is None or item.runbook_version_id is not None:
        return
    at = at or timezone.now()
    use = runbook_use_update(runbook_id=item.runbook_id, item_ref=item.pk, decided_at=at)
    use = use or _use_record_now(item, decided_at=at)
    item.runbook_version_id = use.version_id if use else None


def item_runbook_resolved(*, item, at) -> None:
    if item.runbook_id is not None:
        runbook_use_update(runbook_id=item.runbook_id, item_ref=item.pk, resolved_at=at)


def item_runbook_reopened(*, item) -> None:
    item_runbook_resolved(item=item, at=None)


def item_runbook_helped(*, item, helped: bool) -> None:
    """Whether the linked runbook helped (the handler's answer; it can be changed)."""
    if item.runbook_id is None:
        raise ValidationError(_("This item has no runbook to give feedback on."))
    item.runbook_helped = helped
    if runbook_use_update(runbook_id=item.runbook_id, item_ref=item.pk, helped=helped) is None:
        _use_record_now(item, helped=helped)


def _use_record_now(item, **fields):
    """A use for a link made outside intake (the admin): with the runbook's current (newest) version."""
    version = RunbookVersion.objects.filter(runbook_id=item.runbook_id).order_by("-number").first()
    if version is None:
        return None
    return runbook_use_record(
        version=version,
        item_ref=item.pk,
        item_title=item.title,
        item_url=item.get_absolute_url(),
        linked_at=timezone.now(),
        **fields,
    )


# --- The item page -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunbookPanel:
    """What the item page shows of runbooks: the linked one, the other matches, or a way to start one."""

    runbook: object | None  # the linked Runbook, with its current version
    excerpt: SafeString | str = ""
    alternatives: list = field(default_factory=list)
    start_url: str = ""  # only for those who may write runbooks, and only when none is linked


def item_runbook_panel(*, item, can_start: bool) -> RunbookPanel:
    """One query (the matcher index's token); the linked runbook comes with the item
    (selectors.item_for_page)."""
    found = runbook_matches(facts=item_match_facts(item), limit=ALTERNATIVES + 1)
    alternatives = [match for match in found if match.runbook.id != item.runbook_id][:ALTERNATIVES]
    runbook = item.runbook
    if runbook is None:
        return RunbookPanel(None, alternatives=alternatives, start_url=start_url(item) if can_start else "")
    body = runbook.current_version.body if runbook.current_version_id else ""
    return RunbookPanel(runbook, excerpt=excerpt(body), alternatives=alternatives)


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> SafeString:
    """The first blocks of a Markdown body, up to about `limit` characters, rendered and sanitized."""
    blocks, size = [], 0
    for block in re.split(r"\n\s*\n", (body or "").strip()):
        if blocks and size + len(block) > limit:
            break
        blocks.append(block[:limit])
        size += len(block)
    return render_markdown("\n\n".join(blocks))


def start_url(item) -> str:
    """The runbooks form, prefilled from the item (runbooks.prefill reads these parameters)."""
    params = {
        "title": item.title[:200],
        "service": item.service.slug,
        "exception_type": item.exception_type,
        "exception_value": item.exception_value[:500],
        "issue": item.sentry_issue_id,
    }
    if item.team_id:
        params["team"] = item.team.slug
    return reverse("runbooks:new") + "?" + urlencode(params)
