from celery import shared_task

from common.tasks import RELIABLE

from . import services


@shared_task(**RELIABLE)
def recompute_grouping_suggestions():
    """Beat, nightly: items with new events (every item once a week). Safe to run twice: runs are
    serialised."""
    run = services.suggestions_recompute()
    return f"{run.kind}: {run.items_examined} items, {run.splits} splits, {run.merges} merges"


@shared_task(**RELIABLE)
def recompute_item_grouping(item_id):
    run = services.item_suggestions_recompute(item_id=item_id)
    return f"item {item_id}: {run.splits} split, {run.merges} merges"
