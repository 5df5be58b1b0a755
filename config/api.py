from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler, with every error body carrying an `error` string like the webhook views.

    `detail` (DRF's own key) and per-field messages stay as DRF makes them.
    """
    if isinstance(exc, DjangoValidationError):  # raised by services on a bad value
        exc = ValidationError({"detail": exc.messages})
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict):
        response.data = {"error": _summary(response.data), **response.data}
    return response


def _summary(data):
    if "detail" in data:
        detail = data["detail"]
        return " ".join(map(str, detail)) if isinstance(detail, list) else str(detail)
    field, messages = next(iter(data.items()), ("request", ["invalid"]))
    message = messages[0] if isinstance(messages, list) and messages else messages
    return f"{field}: {message}"
