from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .forms import PreferenceForm
from .selectors import preference_of
from .services import preference_set


@require_http_methods(["GET", "POST"])
def preferences(request):
    if request.method == "GET":
        form = PreferenceForm(initial=preference_of(user=request.user))
        return _page(request, form)
    form = PreferenceForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        chosen = preference_set(user=request.user, session=request.session, **form.cleaned_data)
    except ValidationError as error:  # a value the form let through that the service refuses
        form.add_error(None, error)
        return _page(request, form, status=400)
    translation.activate(chosen.language or request.LANGUAGE_CODE)  # say "saved" in the language chosen
    messages.success(request, _("Saved: pages now use your language and time zone."))
    return redirect(_next_page(request))


def _page(request, form, status=200):
    context = {"form": form, "next": _next_page(request), "right_now": timezone.now()}
    return render(request, "accounts/preferences.html", context, status=status)


def _next_page(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if safe and target.startswith("/") else "/"
