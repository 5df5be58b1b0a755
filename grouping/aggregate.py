"""The one heavy read: occurrences of the last 30 days, grouped in the database.

A single statement groups by (item, service, inner exception type, message template) and, with
window functions, keeps only what Python needs: every group of an item with two meaningful groups
(a split), and the busiest group of every other item (for merges). Works on PostgreSQL and SQLite.
"""

from dataclasses import dataclass

from django.db import connection

from triage.models import Occurrence

from .mix import MIN_EVENTS, MIN_SHARE, Group

OCCURRENCES = Occurrence._meta.db_table

GROUPS_SQL = """
WITH grouped AS (
    SELECT item_id, service_key, inner_exception_type, message_template, COUNT(*) AS events, MAX(id) AS \
example_id
    FROM {occurrences}
    WHERE timestamp >= %(since)s AND service_key <> '' AND ({scope})
    GROUP BY item_id, service_key, inner_exception_type, message_template
), ranked AS (
    SELECT grouped.*, SUM(events) OVER (PARTITION BY item_id) AS total,
           ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY events DESC, example_id DESC) AS position
    FROM grouped
), counted AS (
    SELECT ranked.*, SUM(CASE WHEN events >= %(min_events)s AND events >= %(min_share)s * total THEN 1 ELSE \
0 END)
               OVER (PARTITION BY item_id) AS meaningful
    FROM ranked
)
SELECT item_id, service_key, inner_exception_type, message_template, events, example_id, total, meaningful
FROM counted WHERE position = 1 OR meaningful >= 2
ORDER BY item_id, position
"""

SCOPES = {
    "all": "1 = 1",
    # Items with an occurrence recorded after the watermark: the primary key index finds them.
    "since": f"item_id IN (SELECT DISTINCT item_id FROM {OCCURRENCES} WHERE id > %(after_id)s)",
    "item": "item_id = %(item_id)s",
}


@dataclass
class ItemGroups:
    item_id: int
    total: int
    groups: list[Group]  # busiest first: all of a split's groups, else only the busiest

    @property
    def is_split(self) -> bool:
        return len(self.groups) > 1


def item_groups(
    *, since, scope: str = "all", after_id: int = 0, item_id: int | None = None
) -> list[ItemGroups]:
    params = {
        "since": since,
        "min_events": MIN_EVENTS,
        "min_share": MIN_SHARE,
        "after_id": after_id,
        "item_id": item_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(GROUPS_SQL.format(occurrences=OCCURRENCES, scope=SCOPES[scope]), params)
        return _by_item(cursor.fetchall())


def _by_item(rows) -> list[ItemGroups]:
    items: dict[int, ItemGroups] = {}
    for item_id, service, exception_type, template, events, example_id, total, _ in rows:
        # PostgreSQL sums bigints to numeric: back to int.
        entry = items.setdefault(item_id, ItemGroups(item_id=item_id, total=int(total), groups=[]))
        entry.groups.append(Group(service, exception_type, template, int(events), example_id))
    return list(items.values())


def latest_occurrence_id() -> int:
    return Occurrence.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
