"""Writes: recomputing suggestions (all, incremental, one item) and dismissing them."""

import zlib
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Window
from django.utils import timezone
from django.utils.translation import gettext as _

from triage.models import Occurrence, TriageItem
from triage.permissions import is_developer

from .aggregate import ItemGroups, item_groups, latest_occurrence_id
from .mix import Group, mix_changed_materially, mix_signature
from .models import Dismissal, ItemMix, RecomputeRun, Suggestion, SuggestionItem
from .proposals import MergeMember, Proposal, merge_proposal, split_proposal

WINDOW = timedelta(days=30)
# Incremental runs skip items without new events, so shares drift as old events leave the window:
# a full run a week puts every item right again.
FULL_EVERY = timedelta(days=7)
# Ids are handed out before commit: re-read this many below the last watermark so an occurrence
# still committing when the last run started is not missed (re-examining an item is harmless).
REREAD_IDS = 1000
LOCK_KEY = zlib.crc32(b"grouping.suggestions_recompute")
MAX_REASON = 1000
Kind = Suggestion.Kind


class AlreadyDismissed(ValidationError):
    pass


def suggestions_recompute(*, full: bool | None = None, now=None) -> RecomputeRun:
    """Nightly: items with occurrences since the last run; every item when `full` or a week after the last
    full run."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock()
        previous = (
            RecomputeRun.objects.filter(finished_at__isnull=False)
            .exclude(kind=RecomputeRun.Kind.ITEM)
            .first()
        )
        full = _full_due(previous, now) if full is None else full
        since_id = 0 if full else max(previous.watermark - REREAD_IDS, 0)
        run = RecomputeRun.objects.create(
            kind="full" if full else "incremental",
            since_occurrence_id=since_id,
            watermark=latest_occurrence_id(),
            started_at=now,
        )
        entries = item_groups(since=now - WINDOW, scope="all" if full else "since", after_id=since_id)
        return _apply(run, entries, examined=None if full else {entry.item_id for entry in entries})


def item_suggestions_recompute(*, item_id: int, now=None) -> RecomputeRun:
    """One item, on demand: its split suggestion and the merges it takes part in."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock()
        run = RecomputeRun.objects.create(
            kind=RecomputeRun.Kind.ITEM, item_id=item_id, started_at=now, watermark=latest_occurrence_id()
        )
        return _apply(run, item_groups(since=now - WINDOW, scope="item", item_id=item_id), examined={item_id})


def _full_due(previous: RecomputeRun | None, now) -> bool:
    if previous is None:
        return True
    last_full = RecomputeRun.objects.filter(kind=RecomputeRun.Kind.FULL, finished_at__isnull=False).first()
    return last_full is None or last_full.started_at <= now - FULL_EVERY


def _lock():
    """One recompute at a time (a PostgreSQL advisory lock; SQLite serialises writers anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _apply(run: RecomputeRun, entries: list[ItemGroups], *, examined: set | None) -> RecomputeRun:
    """Store what `entries` say. `examined`: the items looked at (None: all of them, a full run)."""
    _store_mixes(run, entries, examined)
    members = _merge_members()
    items = _item_facts({e.item_id for e in entries if e.is_split} | {m.item_id for m in members})
    splits = [e for e in entries if e.is_split]
    examples = _examples(
        {g.example_id for e in splits for g in e.groups} | {m.group.example_id for m in members}
    )
    split_proposals = [split_proposal(entry, items[entry.item_id], examples) for entry in splits]
    merge_proposals = [merge_proposal(group, items, examples) for group in _by_merge_key(members)]
    _store(run, split_proposals, kind=Kind.SPLIT, examined=examined)
    _store(run, merge_proposals, kind=Kind.MERGE, examined=None)
    run.items_examined, run.splits, run.merges = len(entries), len(split_proposals), len(merge_proposals)
    run.finished_at = timezone.now()
    run.save(update_fields=["items_examined", "splits", "merges", "finished_at"])
    return run


def _store_mixes(run, entries: list[ItemGroups], examined: set | None):
    mixes = [
        ItemMix(
            item_id=e.item_id,
            service=e.groups[0].service,
            exception_type=e.groups[0].exception_type,
            message_template=e.groups[0].message_template,
            events=e.total,
            example_id=e.groups[0].example_id,
            split=e.is_split,
            computed_at=run.started_at,
        )
        for e in entries
    ]
    ItemMix.objects.bulk_create(
        mixes,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["item"],
        update_fields=[
            "service",
            "exception_type",
            "message_template",
            "events",
            "example_id",
            "split",
            "computed_at",
        ],
    )
    stale = ItemMix.objects.filter(computed_at__lt=run.started_at)
    (stale if examined is None else stale.filter(item_id__in=examined)).delete()


def _merge_members() -> list[MergeMember]:
    """Items sharing service, inner exception, template and culprit with another item (not those to split)."""
    key = [F("service"), F("exception_type"), F("message_template"), F("item__culprit")]
    rows = (
        ItemMix.objects.filter(split=False)
        .annotate(culprit=F("item__culprit"), peers=Window(Count("pk"), partition_by=key))
        .filter(peers__gte=2)
        .values("item_id", "service", "exception_type", "message_template", "culprit", "events", "example_id")
    )
    return [
        MergeMember(
            item_id=row["item_id"],
            culprit=row["culprit"],
            events=row["events"],
            group=Group(
                row["service"],
                row["exception_type"],
                row["message_template"],
                row["events"],
                row["example_id"],
            ),
        )
        for row in rows
    ]


def _by_merge_key(members: list[MergeMember]) -> list[list[MergeMember]]:
    groups: dict[tuple, list[MergeMember]] = {}
    for member in members:
        groups.setdefault((member.group.key, member.culprit), []).append(member)
    return list(groups.values())


def _item_facts(item_ids: set) -> dict[int, dict]:
    rows = TriageItem.objects.filter(pk__in=item_ids).values(
        "pk", "short_id", "sentry_issue_id", "title", "project_slug"
    )
    return {row["pk"]: row for row in rows}


def _examples(occurrence_ids: set) -> dict[int, dict]:
    rows = Occurrence.objects.filter(pk__in=occurrence_ids).values(
        "pk", "event_id", "exception_value", "timestamp"
    )
    return {
        row["pk"]: {
            "event_id": row["event_id"],
            "value": row["exception_value"][:500],
            "timestamp": row["timestamp"].isoformat(),
        }
        for row in rows
    }


def _store(run, proposals: list[Proposal], *, kind, examined: set | None):
    existing = {
        s.key: s
        for s in Suggestion.objects.filter(key__in=[p.key for p in proposals])
        .select_related("dismissal")
        .only("key", "found_at", "dismissal", "dismissal__mix")
    }
    rows = [_suggestion(proposal, existing.get(proposal.key), run.started_at) for proposal in proposals]
    Suggestion.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=[
            "kind",
            "item",
            "groups",
            "other_events",
            "rule",
            "preview_issues",
            "events",
            "mix",
            "signature",
            "active",
            "dismissal",
            "computed_at",
        ],
    )
    _link(rows, proposals)
    retired = Suggestion.objects.filter(kind=kind, active=True, computed_at__lt=run.started_at)
    (retired if examined is None else retired.filter(item_id__in=examined)).update(active=False)


def _suggestion(proposal: Proposal, existing: Suggestion | None, now) -> Suggestion:
    dismissal = existing.dismissal if existing else None
    if dismissal and mix_changed_materially(dismissal.mix, proposal.mix):
        Dismissal.objects.filter(pk=dismissal.pk).update(lifted_at=now)
        dismissal = None
    return Suggestion(
        kind=proposal.kind,
        key=proposal.key,
        item_id=proposal.item_id,
        groups=proposal.groups,
        other_events=proposal.other_events,
        rule=proposal.rule,
        preview_issues=proposal.preview_issues,
        events=proposal.events,
        mix=proposal.mix,
        signature=mix_signature(proposal.mix),
        active=True,
        dismissal=dismissal,
        found_at=existing.found_at if existing else now,
        computed_at=now,
    )


def _link(rows: list[Suggestion], proposals: list[Proposal]):
    if not rows:
        return
    if any(row.pk is None for row in rows):  # a backend that does not return upserted ids
        ids = dict(Suggestion.objects.filter(key__in=[row.key for row in rows]).values_list("key", "pk"))
        for row in rows:
            row.pk = ids[row.key]
    SuggestionItem.objects.filter(suggestion__in=[row.pk for row in rows]).delete()
    SuggestionItem.objects.bulk_create(
        [
            SuggestionItem(suggestion_id=row.pk, item_id=item_id)
            for row, proposal in zip(rows, proposals, strict=True)
            for item_id in proposal.item_ids
        ],
        batch_size=2000,
    )


def suggestion_dismiss(*, suggestion_id: int, user, reason: str) -> Suggestion:
    """Hide a suggestion until its mix changes materially (grouping.mix.mix_changed_materially)."""
    if not is_developer(user):
        raise PermissionDenied(_("Only developers (dev or admin) can dismiss grouping suggestions."))
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > MAX_REASON:
        raise ValidationError(_("Give a reason (1 to %(max)d characters).") % {"max": MAX_REASON})
    with transaction.atomic():
        suggestion = Suggestion.objects.select_for_update().get(pk=suggestion_id)
        if suggestion.dismissal_id is not None:
            raise AlreadyDismissed(_("This suggestion is already dismissed."))
        suggestion.dismissal = Dismissal.objects.create(
            suggestion=suggestion, by=user, reason=reason, mix=suggestion.mix, signature=suggestion.signature
        )
        suggestion.save(update_fields=["dismissal"])
    return suggestion
