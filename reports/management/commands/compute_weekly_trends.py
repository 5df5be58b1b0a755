from django.core.management.base import BaseCommand, CommandError

from reports.services import trends_compute_week
from reports.weeks import BadWeek, week_last_ended, week_parse


class Command(BaseCommand):
    help = (
        "Compute the weekly trends of one ISO week (--week 2026-W47) or of the last N ended weeks "
        "(--backfill N)."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--week", help="ISO week, e.g. 2026-W47 (default: the week that just ended)")
        group.add_argument("--backfill", type=int, metavar="N", help="the last N ended weeks, oldest first")

    def handle(self, *args, week=None, backfill=None, **options):
        for target in self._weeks(week, backfill):
            org = trends_compute_week(week=target)
            self.stdout.write(f"{target}: {org.events} events, {org.new_items} new items")

    def _weeks(self, week, backfill):
        if backfill is not None:
            if backfill < 1:
                raise CommandError("--backfill needs a positive number of weeks")
            last = week_last_ended()
            return [last.shifted(-offset) for offset in range(backfill - 1, -1, -1)]
        try:
            return [week_parse(week)] if week else [week_last_ended()]
        except BadWeek as error:
            raise CommandError(str(error)) from error
