"""Writes to runbooks: create, edit (a new version per body change), restore, matchers, feedback,
and the record of triage items handled with a runbook (called by triage).

Every function is keyword-only and owns its transaction. Versions are only ever inserted.
"""

import re
import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import matcher_rules
from .models import (
    MatcherIndexState,
    Runbook,
    RunbookFeedback,
    RunbookMatcher,
    RunbookUse,
    RunbookVersion,
)
from .permissions import require_editor
from .search import search_document_refresh
from .signals import runbook_matchers_changed

SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
# Paths under /runbooks/ and /api/runbooks/ that a slug would shadow.
RESERVED_SLUGS = {"new", "match", "preview"}
MAX_LIST = 20


@transaction.atomic
def runbook_create(
    *,
    user,
    slug: str,
    title: str,
    body: str,
    summary: str = "",
    services: Iterable[str] = (),
    team: str = "",
    tags: Iterable[str] = (),
    matchers: Iterable = (),
) -> Runbook:
    require_editor(user)
    specs = matcher_specs(matchers)
    runbook = Runbook(
        slug=_clean_slug(slug),
        title=_clean_title(title),
        services=_slugs(services, "services"),
        team=_team(team),
        tags=_tags(tags),
    )
    try:
        with transaction.atomic():
            runbook.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(
            {"slug": [_("A runbook with the slug %(slug)r exists already.") % {"slug": slug}]}
        ) from None
    _version_insert(runbook, body=body, summary=summary or "Created", user=user)
    if specs:
        _matchers_store(runbook, specs)
    search_document_refresh(runbook_ids=[runbook.pk])
    matcher_index_touch()
    return runbook


@transaction.atomic
def runbook_update(
    *,
    runbook: Runbook,
    user,
    body: str | None = None,
    summary: str = "",
    title: str | None = None,
    services: Iterable[str] | None = None,
    team: str | None = None,
    tags: Iterable[str] | None = None,
    matchers: Iterable | None = None,
) -> Runbook:
    """Change what was given. A changed body inserts a new version; matchers given replace all of them."""
    require_editor(user)
    specs = None if matchers is None else matcher_specs(matchers)
    locked = Runbook.objects.select_for_update().get(pk=runbook.pk)
    retitled = title is not None and title.strip() != locked.title
    _apply_fields(locked, title=title, services=services, team=team, tags=tags)
    new_version = body is not None and body != _current_body(locked)
    if new_version:
        _version_insert(locked, body=body, summary=summary, user=user)
    if specs is not None:
        _matchers_store(locked, specs)
    locked.updated_at = timezone.now()
    locked.save()
    if retitled or new_version:
        search_document_refresh(runbook_ids=[locked.pk])
    if retitled or new_version or specs is not None:  # what the matcher index holds
        matcher_index_touch()
    return locked


def _apply_fields(runbook, *, title, services, team, tags):
    if title is not None:
        runbook.title = _clean_title(title)
    if services is not None:
        runbook.services = _slugs(services, "services")
    if team is not None:
        runbook.team = _team(team)
    if tags is not None:
        runbook.tags = _tags(tags)


@transaction.atomic
def runbook_restore(*, runbook: Runbook, user, number: int) -> RunbookVersion:
    """Insert a copy of version `number` as the new current version (history stays as it was)."""
    require_editor(user)
    locked = Runbook.objects.select_for_update().get(pk=runbook.pk)
    old = RunbookVersion.objects.filter(runbook=locked, number=number).first()
    if old is None:
        raise RunbookVersion.DoesNotExist(f"{locked.slug} has no version {number}.")
    version = _version_insert(
        locked, body=old.body, summary=f"Restored version {number}", user=user, restored_from=number
    )
    search_document_refresh(runbook_ids=[locked.pk])
    matcher_index_touch()
    return version


def _version_insert(runbook, *, body, summary, user, restored_from=None) -> RunbookVersion:
    """The next number under the runbook's row lock (the unique constraint backs it up)."""
    latest = runbook.versions.aggregate(latest=Max("number"))["latest"] or 0
    version = RunbookVersion.objects.create(
        runbook=runbook,
        number=latest + 1,
        body=body,
        summary=summary[:300],
        author=user,
        restored_from=restored_from,
    )
    runbook.current_version = version
    runbook.updated_at = version.created_at
    runbook.save(update_fields=["current_version", "updated_at"])
    return version


def _current_body(runbook) -> str | None:
    return RunbookVersion.objects.filter(pk=runbook.current_version_id).values_list("body", flat=True).first()


@transaction.atomic
def runbook_matchers_replace(*, runbook: Runbook, user, matchers: Iterable) -> list[RunbookMatcher]:
    require_editor(user)
    specs = matcher_specs(matchers)
    Runbook.objects.select_for_update().filter(pk=runbook.pk).update(updated_at=timezone.now())
    stored = _matchers_store(runbook, specs)
    matcher_index_touch()
    return stored


def _matchers_store(runbook, specs) -> list[RunbookMatcher]:
    runbook.matchers.all().delete()
    stored = RunbookMatcher.objects.bulk_create(
        RunbookMatcher(runbook=runbook, group=s.group, field=s.field, op=s.op, value=s.value) for s in specs
    )
    runbook_id = runbook.pk
    transaction.on_commit(lambda: runbook_matchers_changed.send(sender=Runbook, runbook_id=runbook_id))
    return stored


def matcher_specs(matchers: Iterable) -> list[matcher_rules.MatcherSpec]:
    """Matchers (MatcherSpec or dicts with group, field, op, value) checked; ValidationError names each bad
    one."""
    specs = [_normalized(_as_spec(m)) for m in matchers]
    if problems := matcher_rules.check_all(specs):
        raise ValidationError({"matchers": problems})
    return specs


def _as_spec(matcher) -> matcher_rules.MatcherSpec:
    if isinstance(matcher, matcher_rules.MatcherSpec):
        return matcher
    return matcher_rules.MatcherSpec(
        group=matcher.get("group", 0),
        field=str(matcher.get("field", "")),
        op=str(matcher.get("op", "equals")),
        value=matcher.get("value", ""),
    )


def _normalized(spec: matcher_rules.MatcherSpec) -> matcher_rules.MatcherSpec:
    # Sentry's levels are lower case; facts are lowered too, so "Error" still means error.
    if spec.field == "level" and isinstance(spec.value, str) and spec.op != "regex":
        return matcher_rules.MatcherSpec(spec.group, spec.field, spec.op, spec.value.lower())
    return spec


def matcher_index_touch() -> None:
    """Tell every process's matcher index to rebuild (in the caller's transaction)."""
    token = uuid.uuid4().hex
    if not MatcherIndexState.objects.filter(pk=1).update(token=token):
        MatcherIndexState.objects.update_or_create(pk=1, defaults={"token": token})


# --- Feedback ------------------------------------------------------------------------------------


def runbook_feedback_add(*, runbook: Runbook, user, kind: str, comment: str = "") -> RunbookFeedback:
    """Anyone logged in may flag a runbook as unclear or outdated."""
    if kind not in RunbookFeedback.Kind.values:
        raise ValidationError(
            {"kind": [_("Choose one of %(kinds)s.") % {"kinds": ", ".join(RunbookFeedback.Kind.values)}]}
        )
    return RunbookFeedback.objects.create(
        runbook=runbook,
        version_id=runbook.current_version_id,
        kind=kind,
        comment=comment.strip()[:5000],
        author=user,
    )


def runbook_feedback_resolve(*, feedback: RunbookFeedback, user) -> RunbookFeedback:
    require_editor(user)
    if feedback.resolved_at is None:
        feedback.resolved_at, feedback.resolved_by = timezone.now(), user
        feedback.save(update_fields=["resolved_at", "resolved_by"])
    return feedback


# --- Use by triage items ----------------------------------------------------------------------------

KEEP = object()  # runbook_use_update: leave this field as it is


@transaction.atomic
def runbook_use_record(
    *,
    version,
    item_ref: int,
    item_title: str,
    item_url: str,
    linked_at,
    decided_at=None,
    resolved_at=None,
    helped: bool | None = None,
) -> RunbookUse:
    """Upsert the use of `version`'s runbook by item `item_ref`.

    `version` is a RunbookVersion or a match's VersionRef (both have pk and runbook_id). Until
    the item is decided the use follows the version given (the current one); once decided, its
    version stays pinned. `None` for decided_at/resolved_at/helped keeps what is stored.
    """
    use = _use_locked(version, item_ref, linked_at)
    use.item_title, use.item_url = item_title[:300], item_url[:500]
    if use.decided_at is None:
        use.version_id = version.pk
    _use_apply(
        use,
        decided_at=decided_at or KEEP,
        resolved_at=resolved_at or KEEP,
        helped=KEEP if helped is None else helped,
    )
    use.save()
    _runbook_used(use.runbook_id, linked_at)
    return use


@transaction.atomic
def runbook_use_update(
    *, runbook_id: int, item_ref: int, decided_at=KEEP, resolved_at=KEEP, helped=KEEP
) -> RunbookUse | None:
    """Record a decision, a resolution (None: reopened) or whether it helped; None when no such use.

    The first decision pins the runbook's version current at that moment.
    """
    use = RunbookUse.objects.select_for_update().filter(runbook_id=runbook_id, item_ref=item_ref).first()
    if use is None:
        return None
    if use.decided_at is None and decided_at not in (KEEP, None):
        use.version_id = Runbook.objects.values_list("current_version_id", flat=True).get(pk=runbook_id)
    _use_apply(use, decided_at=decided_at, resolved_at=resolved_at, helped=helped)
    use.save()
    return use


def runbook_use_forget(*, runbook_id: int, item_ref: int) -> bool:
    """Drop a use not decided yet (the item was re-linked to another runbook); decided uses stay history."""
    deleted, _by_model = RunbookUse.objects.filter(
        runbook_id=runbook_id, item_ref=item_ref, decided_at__isnull=True
    ).delete()
    return bool(deleted)


def _use_locked(version, item_ref, linked_at) -> RunbookUse:
    lookup = {"runbook_id": version.runbook_id, "item_ref": item_ref}
    if use := RunbookUse.objects.select_for_update().filter(**lookup).first():
        return use
    try:
        with transaction.atomic():
            return RunbookUse.objects.create(**lookup, version_id=version.pk, linked_at=linked_at)
    except IntegrityError:  # a concurrent first link won: take its row
        return RunbookUse.objects.select_for_update().get(**lookup)


def _use_apply(use, *, decided_at, resolved_at, helped):
    for name, value in (("decided_at", decided_at), ("resolved_at", resolved_at), ("helped", helped)):
        if value is not KEEP:
            setattr(use, name, value)


def _runbook_used(runbook_id, at):
    Runbook.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=at), pk=runbook_id).update(
        last_used_at=at
    )


# --- Field checks ----------------------------------------------------------------------------------


def _clean_slug(slug) -> str:
    slug = str(slug or "").strip()
    if not SLUG.fullmatch(slug) or len(slug) > 100:
        raise ValidationError({"slug": [_("Use lower-case letters, digits, - and _ (at most 100).")]})
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": [f"{slug!r} is reserved; choose another slug."]})
    return slug


def _clean_title(title) -> str:
    title = str(title or "").strip()
    if not title or len(title) > 200:
        raise ValidationError({"title": [_("A title is needed (at most 200 characters).")]})
    return title


def _slugs(values, name) -> list[str]:
    slugs = list(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
    if len(slugs) > MAX_LIST or not all(SLUG.fullmatch(s) and len(s) <= 100 for s in slugs):
        raise ValidationError(
            {
                name: [
                    _("Give at most %(count)d slugs (lower-case letters, digits, - and _).")
                    % {"count": MAX_LIST}
                ]
            }
        )
    return slugs


def _team(team) -> str:
    return _slugs([team], "team")[0] if str(team or "").strip() else ""


def _tags(tags) -> list[str]:
    cleaned = list(dict.fromkeys(str(t).strip() for t in tags if str(t).strip()))
    if len(cleaned) > MAX_LIST or any(len(t) > 50 for t in cleaned):
        raise ValidationError(
            {"tags": [_("Give at most %(count)d tags of at most 50 characters.") % {"count": MAX_LIST}]}
        )
    return cleaned
