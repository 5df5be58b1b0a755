from django.core.management.base import BaseCommand

from grouping import services


class Command(BaseCommand):
    help = "Recompute grouping suggestions: items with new events (default), --full, or --item ID."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="every item with events in the last 30 days")
        parser.add_argument("--item", type=int, help="one item")

    def handle(self, *args, full=False, item=None, **options):
        run = (
            services.item_suggestions_recompute(item_id=item)
            if item
            else services.suggestions_recompute(full=True if full else None)
        )
        self.stdout.write(
            f"{run.kind}: {run.items_examined} items examined, {run.splits} splits, "
            f"{run.merges} merges in {(run.finished_at - run.started_at).total_seconds():.2f} s"
        )
