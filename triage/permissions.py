from django.utils.translation import gettext as _

"""Who may do what to an item. Roles are the Django groups dev, ops and admin."""

DEV, OPS, ADMIN = "dev", "ops", "admin"


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    if not hasattr(user, "_triage_roles"):
        user._triage_roles = set(user.groups.values_list("name", flat=True))
    return user._triage_roles


def user_team_ids(user) -> frozenset:
    """The user's team ids, read once per request (the queue asks for every row)."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_triage_team_ids"):
        user._triage_team_ids = frozenset(_user_teams(user))
    return user._triage_team_ids


def user_team_slugs(user) -> list[str]:
    """The user's team slugs, from the same one query as their ids."""
    return sorted(_user_teams(user).values()) if user.is_authenticated else []


def _user_teams(user) -> dict[int, str]:
    if not hasattr(user, "_triage_teams"):
        user._triage_teams = dict(user.teams.order_by().values_list("pk", "slug"))
    return user._triage_teams


def is_admin(user) -> bool:
    return user.is_superuser or ADMIN in user_roles(user)


def is_developer(user) -> bool:
    """dev or admin: who writes code and runbooks."""
    return is_admin(user) or DEV in user_roles(user)


def can_change_item(user, item) -> bool:
    """Members of the owning team (or admins); anyone in dev when no team owns it."""
    if is_admin(user):
        return True
    if item.team_id is not None:
        return item.team_id in user_team_ids(user)
    return DEV in user_roles(user)


def can_comment(user) -> bool:
    return user.is_authenticated


def change_denied_reason(item) -> str:
    """Why someone may not change an item: the 403's detail and the disabled buttons' tooltip."""
    if item.team_id:
        return _("Only members of the %(team)s team (or admins) can change this item.") % {"team": item.team}
    return _("Only members of the dev group (or admins) can change this item.")
