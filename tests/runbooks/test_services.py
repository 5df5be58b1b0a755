"""Writes to runbooks: insert-only versions, restore, matchers and their signal, feedback, who may write."""

import threading

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from runbooks import services
from runbooks.matcher_rules import MatcherSpec
from runbooks.models import Runbook, RunbookFeedback, RunbookMatcher, RunbookVersion
from runbooks.signals import runbook_matchers_changed

pytestmark = pytest.mark.django_db


def create(user, slug="cart-keyerror", **kwargs):
    fields = {"title": "KeyError in the cart", "body": "## Steps\n\n1. Look", **kwargs}
    return services.runbook_create(user=user, slug=slug, **fields)


@pytest.fixture
def matcher_signals():
    sent = []

    def listen(sender, runbook_id, **kwargs):
        sent.append(runbook_id)

    runbook_matchers_changed.connect(listen, weak=False)
    yield sent
    runbook_matchers_changed.disconnect(listen)


def test_it_creates_version_one_and_points_at_it(alice):
    runbook = create(alice, services=["checkout-api"], team="checkout", tags=["cart"], summary="First cut")

    version = runbook.current_version
    assert (version.number, version.body, version.summary, version.author) == (
        1,
        "## Steps\n\n1. Look",
        "First cut",
        alice,
    )
    assert (runbook.services, runbook.team, runbook.tags) == (["checkout-api"], "checkout", ["cart"])


def test_it_inserts_a_version_per_changed_body_and_none_for_the_same_body(alice):
    runbook = create(alice)

    services.runbook_update(runbook=runbook, user=alice, body="v2 text", summary="Clearer steps")
    services.runbook_update(runbook=runbook, user=alice, body="v2 text", summary="no change")
    services.runbook_update(runbook=runbook, user=alice, body="v3 text")

    versions = list(
        RunbookVersion.objects.filter(runbook=runbook)
        .order_by("number")
        .values_list("number", "body", "summary")
    )
    assert versions == [
        (1, "## Steps\n\n1. Look", "Created"),
        (2, "v2 text", "Clearer steps"),
        (3, "v3 text", ""),
    ]
    assert Runbook.objects.get().current_version.number == 3


def test_a_version_cannot_be_changed_in_place(alice):
    version = create(alice).current_version
    version.body = "rewritten history"

    with pytest.raises(ValueError, match="immutable"):
        version.save()
    assert RunbookVersion.objects.get().body == "## Steps\n\n1. Look"


def test_it_restores_by_inserting_a_copy(alice, bob):
    runbook = create(alice)
    services.runbook_update(runbook=runbook, user=alice, body="bad edit")

    restored = services.runbook_restore(runbook=runbook, user=alice, number=1)

    assert (restored.number, restored.body, restored.restored_from) == (3, "## Steps\n\n1. Look", 1)
    assert restored.summary == "Restored version 1"
    assert list(RunbookVersion.objects.order_by("number").values_list("body", flat=True)) == [
        "## Steps\n\n1. Look",
        "bad edit",
        "## Steps\n\n1. Look",
    ]
    assert Runbook.objects.get().current_version == restored


def test_it_refuses_to_restore_a_version_that_does_not_exist(alice):
    runbook = create(alice)

    with pytest.raises(RunbookVersion.DoesNotExist):
        services.runbook_restore(runbook=runbook, user=alice, number=7)
    assert RunbookVersion.objects.count() == 1


@pytest.mark.parametrize(
    "slug,problem", [("new", "reserved"), ("Has Spaces", "lower-case"), ("", "lower-case")]
)
def test_it_refuses_bad_slugs(alice, slug, problem):
    with pytest.raises(ValidationError, match=problem):
        create(alice, slug=slug)


def test_it_refuses_a_taken_slug(alice):
    create(alice)

    with pytest.raises(ValidationError, match="exists already"):
        create(alice)
    assert Runbook.objects.count() == 1


@pytest.mark.parametrize("persona", ["bob", "charlie"])
def test_only_dev_and_admin_may_write(request, alice, persona):
    user = request.getfixturevalue(persona)
    runbook = create(alice)

    for write in (
        lambda: create(user, slug="other"),
        lambda: services.runbook_update(runbook=runbook, user=user, body="x"),
        lambda: services.runbook_restore(runbook=runbook, user=user, number=1),
        lambda: services.runbook_matchers_replace(runbook=runbook, user=user, matchers=[]),
    ):
        with pytest.raises(PermissionDenied):
            write()
    assert (Runbook.objects.count(), RunbookVersion.objects.count()) == (1, 1)


def test_an_admin_may_write(db):
    admin = User.objects.create_user("dana")
    admin.groups.add(Group.objects.get(name="admin"))

    assert create(admin).current_version.author == admin


def test_it_replaces_matchers_and_signals_after_commit(
    alice, matcher_signals, django_capture_on_commit_callbacks
):
    runbook = create(alice, matchers=[MatcherSpec(0, "service", "equals", "checkout-api")])
    with django_capture_on_commit_callbacks(execute=True):
        services.runbook_update(
            runbook=runbook,
            user=alice,
            matchers=[
                {"group": 0, "field": "exception_type", "op": "equals", "value": "KeyError"},
                {"group": 1, "field": "level", "op": "equals", "value": "FATAL"},
            ],
        )
        assert matcher_signals == []  # not before the commit

    assert matcher_signals == [runbook.pk]
    assert list(RunbookMatcher.objects.values_list("group", "field", "value")) == [
        (0, "exception_type", "KeyError"),
        (1, "level", "fatal"),
    ]


def test_a_body_edit_does_not_signal_matchers(alice, matcher_signals, django_capture_on_commit_callbacks):
    runbook = create(alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.runbook_update(runbook=runbook, user=alice, body="new")

    assert matcher_signals == []


def test_it_refuses_a_bad_matcher_and_keeps_the_old_ones(alice):
    runbook = create(alice, matchers=[MatcherSpec(0, "service", "equals", "checkout-api")])

    with pytest.raises(ValidationError) as caught:
        services.runbook_update(
            runbook=runbook,
            user=alice,
            body="changed",
            matchers=[MatcherSpec(0, "exception_value", "regex", "x++y")],
        )

    assert caught.value.message_dict["matchers"] == [
        "matcher 1 (group 0: exception_value regex 'x++y'): possessive quantifier ++ is not supported: "
        "runbook regexes run on RE2, which has no backtracking"
    ]
    assert list(RunbookMatcher.objects.values_list("field", flat=True)) == ["service"]
    assert RunbookVersion.objects.count() == 1


def test_anyone_may_flag_and_editors_resolve(alice, bob, charlie):
    runbook = create(alice)
    flag = services.runbook_feedback_add(
        runbook=runbook, user=charlie, kind="outdated", comment=" Step 2 is gone "
    )

    with pytest.raises(PermissionDenied):
        services.runbook_feedback_resolve(feedback=flag, user=bob)
    services.runbook_feedback_resolve(feedback=flag, user=alice)

    flag = RunbookFeedback.objects.get()
    assert (flag.kind, flag.comment, flag.version.number, flag.resolved_by) == (
        "outdated",
        "Step 2 is gone",
        1,
        alice,
    )
    with pytest.raises(ValidationError):
        services.runbook_feedback_add(runbook=runbook, user=charlie, kind="rude")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_get_distinct_version_numbers():
    # A flush after an earlier transactional test removes the roles the migration created.
    alice = User.objects.create_user("alice")
    alice.groups.add(Group.objects.get_or_create(name="dev")[0])
    runbook = create(alice)
    errors, barrier = [], threading.Barrier(4)

    def edit(n):
        try:
            barrier.wait(timeout=10)
            services.runbook_update(runbook=runbook, user=alice, body=f"edit {n}")
        except Exception as exc:  # any error: reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(RunbookVersion.objects.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
    assert Runbook.objects.get().current_version.number == 5
