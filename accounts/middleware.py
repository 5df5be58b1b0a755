import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

from .selectors import preference_in_session
from .zones import is_time_zone, language_codes

BROWSER_ZONE_COOKIE = "portal_tz"  # set by portal.js from the browser's Intl time zone


class PreferenceMiddleware:
    """A person's saved language wins over Accept-Language (LocaleMiddleware's pick, which runs before);
    their saved time zone wins over the browser's, which wins over settings.TIME_ZONE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        preference = _preference(request)
        language = preference.get("language")
        if language in language_codes():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        zone = preference.get("time_zone") or request.COOKIES.get(BROWSER_ZONE_COOKIE)
        request.time_zone_chosen = zone if is_time_zone(zone) else ""
        if request.time_zone_chosen:
            timezone.activate(zoneinfo.ZoneInfo(request.time_zone_chosen))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _preference(request) -> dict:
    # Without a session cookie there is no one to look up (the webhook intake, the login page's first view).
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return {}
    return preference_in_session(request.session)
