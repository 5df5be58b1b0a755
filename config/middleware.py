from django.contrib.auth.middleware import LoginRequiredMiddleware
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.views import APIView

BROWSER_PAGES = (SpectacularSwaggerView, SpectacularRedocView)


class PortalLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Every page needs a login; API views authenticate by token themselves (401 JSON, not a redirect)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        if view_class and issubclass(view_class, APIView):
            if not issubclass(view_class, BROWSER_PAGES):
                return None
            # DRF marks every APIView login_not_required; the API docs are a page for people: send them to log in.
            if request.user.is_authenticated:
                return None
            return self.handle_no_permission(request, view_func)
        return super().process_view(request, view_func, view_args, view_kwargs)
