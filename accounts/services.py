from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Preference
from .zones import is_time_zone, language_codes

SESSION_KEY = "preference"  # the saved preference, copied at login so a page reads no extra row


def preference_set(*, user, language: str, time_zone: str, session=None) -> Preference:
    """Saves a person's language and time zone ("" for either: as the browser says)."""
    _check(language=language, time_zone=time_zone)
    preference, _created = Preference.objects.update_or_create(
        user=user, defaults={"language": language, "time_zone": time_zone, "updated_at": timezone.now()}
    )
    if session is not None:
        session[SESSION_KEY] = preference.as_session()
    return preference


def _check(*, language, time_zone):
    errors = {}
    if language and language not in language_codes():
        errors["language"] = _("Unknown language %(code)r: choose one of %(codes)s.") % {
            "code": language,
            "codes": ", ".join(language_codes()),
        }
    if time_zone and not is_time_zone(time_zone):
        errors["time_zone"] = _("Unknown time zone %(name)r: give an IANA name such as Asia/Tokyo.") % {
            "name": time_zone
        }
    if errors:
        raise ValidationError(errors)
