"""Who may do what to an item. Roles are the Django groups dev, ops and admin."""

DEV, OPS, ADMIN = "dev", "ops", "admin"


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    if not hasattr(user, "_triage_roles"):
        user._triage_roles = set(user.groups.values_list("name", flat=True))
    return user._triage_roles


def is_admin(user) -> bool:
    return user.is_superuser or ADMIN in user_roles(user)


def can_change_item(user, item) -> bool:
    """Members of the owning team (or admins); anyone in dev when no team owns it."""
    if is_admin(user):
        return True
    if item.team_id is not None:
        return user.is_authenticated and user.teams.filter(pk=item.team_id).exists()
    return DEV in user_roles(user)


def can_comment(user) -> bool:
    return user.is_authenticated
