"""Rows written by raw SQL that predates a column (the bench loaders, bulk INSERTs) get the column's
default."""

import pytest
from django.db import connection

from triage.models import Team, TriageItem

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_it_fills_the_newer_columns_of_an_item_and_a_team_inserted_without_them():
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO triage_team (slug, name) VALUES ('raw', 'Raw') RETURNING id")
        team_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO triage_service (slug, name, created_at) VALUES ('raw', 'Raw', now()) RETURNING id"
        )
        service_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO triage_triageitem (sentry_issue_id, short_id, title, culprit, level, platform,"
            " project_slug,"
            " service_id, environment, first_seen, last_seen, event_count, user_count, status, sentry_status,"
            " sentry_substatus, sentry_assignee, sentry_url, tags, latest_event, resolved_in_release,"
            " classification,"
            " pinned_note, ignore_condition, sentry_sync_state, sentry_sync_error, created_at, updated_at)"
            " VALUES ('raw-1', '', 'Raw', '', 'error', '', '', %s, '', now(), now(), 0, 0, 'new', '', '',"
            " '', '',"
            " '{}', '{}', '', '', '', '{}', '', '', now(), now())",
            [service_id],
        )

    item = TriageItem.objects.get(sentry_issue_id="raw-1")
    assert (item.issue_category, item.sentry_assignee_info) == ("error", {})
    assert Team.objects.get(pk=team_id).slack_webhook_url == ""
