"""Who may change runbooks: the dev and admin groups (and superusers). Everyone logged in reads and flags.

The groups are the portal's roles (created by triage's migrations); runbooks checks membership
itself so that it never imports triage.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

EDITOR_GROUPS = ("dev", "admin")
NOT_AN_EDITOR = _("Only members of the dev or admin groups can change runbooks.")


def can_edit(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, "_runbook_editor"):  # pages ask several times per request
        user._runbook_editor = user.groups.filter(name__in=EDITOR_GROUPS).exists()
    return user._runbook_editor


def require_editor(user) -> None:
    if not can_edit(user):
        raise PermissionDenied(NOT_AN_EDITOR)
