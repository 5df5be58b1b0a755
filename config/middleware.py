from django.contrib.auth.middleware import LoginRequiredMiddleware
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.views import APIView

from .storable import storable_query

BROWSER_PAGES = (SpectacularSwaggerView, SpectacularRedocView)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class PortalLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Every page needs a login; API views authenticate by token themselves (401 JSON, not a redirect)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        if view_class and issubclass(view_class, APIView):
            if not issubclass(view_class, BROWSER_PAGES):
                return None
            # DRF marks every APIView login_not_required; the API docs are a page for people: send them to
            # log in.
            if request.user.is_authenticated:
                return None
            return self.handle_no_permission(request, view_func)
        return super().process_view(request, view_func, view_args, view_kwargs)


class StorableTextMiddleware:
    """Drops NUL and unpaired surrogates from query strings and form values, before any view or filter reads
    them.

    Dropped, not refused: in a search box or a pasted comment they are noise, and the rest is what was meant.
    JSON bodies are refused instead, by the API's parser (config.storable).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.GET = storable_query(request.GET)
        if request.content_type in FORM_TYPES:
            request.POST = storable_query(request.POST)
        return self.get_response(request)
