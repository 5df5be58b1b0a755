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
        user._triage_team_ids = frozenset(user.teams.order_by().values_list("pk", flat=True))
    return user._triage_team_ids


def is_admin(user) -> bool:
    return user.is_superuser or ADMIN in user_roles(user)


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
    team = f"the {item.team} team" if item.team_id else "the dev group"
    return f"Only members of {team} (or admins) can change this item."
