from .selectors import preference_of
from .services import SESSION_KEY


def preference_to_session(sender, request, user, **kwargs):
    """At login, the one read of the saved preference: every page after it reads the session only."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = preference_of(user=user)
