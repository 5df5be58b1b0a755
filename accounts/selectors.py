from django.conf import settings

from .models import Preference
from .services import SESSION_KEY


def preference_of(*, user) -> dict:
    """{"language": …, "time_zone": …}, "" where the person follows the browser."""
    preference = Preference.objects.filter(user=user).first()
    return preference.as_session() if preference else {"language": "", "time_zone": ""}


def preference_in_session(session) -> dict:
    return session.get(SESSION_KEY) or {}


def user_language(*, user, fallback: str = "") -> str:
    """The language to write to a person in where no browser asks: theirs, else the fallback, else the
    portal's."""
    return preference_of(user=user)["language"] or fallback or settings.LANGUAGE_CODE


def users_languages(*, user_ids) -> dict[int, str]:
    """One query for many recipients: user id -> saved language (absent where none is saved)."""
    rows = Preference.objects.filter(user_id__in=user_ids).exclude(language="")
    return dict(rows.values_list("user_id", "language"))
