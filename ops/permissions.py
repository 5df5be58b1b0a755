"""Who may do what to a data-fix request. Ops handle them; developers file and cancel their own."""

from django.utils.translation import gettext_lazy as _

from triage.permissions import OPS, can_change_item, is_admin, user_roles


def is_ops(user) -> bool:
    return OPS in user_roles(user)


def sees_every_request(user) -> bool:
    return is_ops(user) or is_admin(user)


FILE_DENIED = _("Only members of the item's team (or admins) can file a data fix for it.")


def can_file(user, item) -> bool:
    return can_change_item(user, item)


def can_cancel(user, request) -> bool:
    return request.requested_by_id == user.pk


def may(user, name, request) -> bool:
    """May `user` take transition `name` (acknowledge, complete, reject, cancel) on `request`?"""
    return can_cancel(user, request) if name == "cancel" else is_ops(user)


def denied_reason(name) -> str:
    if name == "cancel":
        return _("Only the developer who filed this request can cancel it.")
    return _("Only members of the ops group can acknowledge, complete or reject a data fix.")


def visible_team_ids(user):
    """The user's team ids as a subquery: every read of a request filters on it without a query of its own."""
    return user.teams.order_by().values("pk")
