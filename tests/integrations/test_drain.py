"""The drain: scheduled tasks empty the stored deliveries, hand over when their time is up, and leave none
behind."""

import pytest

from integrations import drain
from integrations.models import WebhookDelivery
from integrations.services import deliveries_process
from integrations.tasks import drain_deliveries
from tests.helpers import event_payload, post_webhook

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
Status = WebhookDelivery.Status


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(
        drain_deliveries, "apply_async", lambda *args, **kwargs: sent.append(kwargs["kwargs"])
    )
    return sent


def flag_is_set(slot=0):
    return bool(drain._redis().exists(drain.FLAG.format(slot=slot)))


def test_it_schedules_one_drain_for_a_burst_of_deliveries(client, published):
    for n in range(5):
        assert post_webhook(client, "event_alert", event_payload(f"burst-{n}")).status_code == 202

    assert published == [{"slot": 0}]
    assert flag_is_set()


def test_it_processes_everything_pending_then_frees_the_flag(client, published):
    for n in range(3):
        post_webhook(client, "event_alert", event_payload(f"all-{n}"))

    assert drain.deliveries_drain(process=deliveries_process) == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.PROCESSED}
    assert not flag_is_set()
    post_webhook(client, "event_alert", event_payload("after"))
    assert published == [{"slot": 0}, {"slot": 0}]  # the next delivery schedules a new drain


def test_it_takes_a_delivery_that_arrives_just_before_it_frees_the_flag(client, published, monkeypatch):
    post_webhook(client, "event_alert", event_payload("first"))
    release, arrived = drain._release_flag, []

    def arrive_then_release(slot):
        if not arrived:  # the flag is still held, so this delivery's wake schedules nothing
            arrived.append(post_webhook(client, "event_alert", event_payload("late")).json()["delivery"])
        return release(slot)

    monkeypatch.setattr(drain, "_release_flag", arrive_then_release)

    assert drain.deliveries_drain(process=deliveries_process) == 2
    assert WebhookDelivery.objects.get(pk=arrived[0]).status == Status.PROCESSED
    assert published == [{"slot": 0}]


def test_it_skips_redis_for_a_wake_right_after_seeing_the_flag_held(client, published, monkeypatch):
    post_webhook(client, "event_alert", event_payload("first"))
    drain._redis().delete(drain.FLAG.format(slot=0))  # as if the drain freed it just now

    post_webhook(client, "event_alert", event_payload("second"))
    assert not flag_is_set()  # the second wake trusted what it saw: the drain's last look covers it

    monkeypatch.setattr(drain, "WAKE_SKIP_SECONDS", 0)
    post_webhook(client, "event_alert", event_payload("third"))
    assert flag_is_set()
    assert published == [{"slot": 0}, {"slot": 0}]


def test_it_looks_last_only_after_any_skipped_wake_has_committed(client, published, monkeypatch):
    post_webhook(client, "event_alert", event_payload("first"))
    times, release, pending = {}, drain._release_flag, drain._pending_ids

    def timed_release(slot):
        times.setdefault("released", drain.time.monotonic())
        return release(slot)

    def timed_look(skipped):
        if "released" in times:
            times.setdefault("last_look", drain.time.monotonic())
        return pending(skipped)

    monkeypatch.setattr(drain, "_release_flag", timed_release)
    monkeypatch.setattr(drain, "_pending_ids", timed_look)
    drain.deliveries_drain(process=deliveries_process)

    assert times["last_look"] - times["released"] >= drain.FINAL_LOOK_DELAY_SECONDS > drain.WAKE_SKIP_SECONDS


def test_it_calls_for_help_on_a_backlog(client, published, monkeypatch, settings):
    settings.DELIVERY_DRAIN_PARALLEL = 2
    monkeypatch.setattr(drain, "BATCH", 2)
    for n in range(5):
        post_webhook(client, "event_alert", event_payload(f"backlog-{n}"))

    drain.deliveries_drain(process=deliveries_process)

    assert {"slot": 1} in published
    assert not WebhookDelivery.objects.filter(status=Status.PENDING).exists()


def test_it_comes_back_for_a_delivery_another_worker_still_holds(client, published):
    pk = post_webhook(client, "event_alert", event_payload("held")).json()["delivery"]
    published.clear()

    def held_elsewhere(*, delivery_ids):
        return {}  # what deliveries_process answers while another session holds the rows

    drain.deliveries_drain(process=held_elsewhere)

    assert published == [{"slot": 0}]
    assert WebhookDelivery.objects.get(pk=pk).status == Status.PENDING


def test_it_hands_over_to_a_fresh_task_when_its_budget_is_spent(client, published, settings, monkeypatch):
    settings.DELIVERY_DRAIN_PARALLEL, settings.DELIVERY_DRAIN_BUDGET_SECONDS = 1, 0
    monkeypatch.setattr(drain, "BATCH", 2)
    for n in range(5):
        post_webhook(client, "event_alert", event_payload(f"budget-{n}"))
    published.clear()

    assert drain.deliveries_drain(process=deliveries_process) == 2  # one batch at least, whatever the budget

    assert published == [{"slot": 0}]
    assert flag_is_set()  # kept for the next task: the intake schedules no other
    assert WebhookDelivery.objects.filter(status=Status.PENDING).count() == 3


def test_it_keeps_draining_when_it_cannot_hand_over(client, settings, monkeypatch):
    settings.DELIVERY_DRAIN_PARALLEL, settings.DELIVERY_DRAIN_BUDGET_SECONDS = 1, 0
    monkeypatch.setattr(drain, "BATCH", 2)
    for n in range(5):
        post_webhook(client, "event_alert", event_payload(f"no-broker-{n}"))

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(drain_deliveries, "apply_async", broker_down)

    assert drain.deliveries_drain(process=deliveries_process) == 5
    assert not WebhookDelivery.objects.filter(status=Status.PENDING).exists()
