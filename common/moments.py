"""One way to show each kind of time, in the viewer's time zone and language (a template builtin).

- `{{ when|moment }}`: a point in time, "5 Dec 2026, 09:12 JST" / "2026年12月5日 09:12 JST";
- `{{ when|ago }}`: how long ago, "3 hours ago" / "3時間前", the moment in its tooltip;
- `{{ when|day }}`: a calendar day, "5 Dec 2026" / "2026年12月5日".

Each is a <time> element whose datetime attribute is ISO 8601 (the tests and scripts read that).
The formats are config/formats/<language>/formats.py's: one per kind, for every page.
"""

from datetime import date, datetime

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

register = template.Library()


def moment_text(value: datetime) -> str:
    local = timezone.localtime(value)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


@register.filter
def moment(value):
    if not isinstance(value, datetime):
        return ""
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), moment_text(value))


@register.filter
def ago(value):
    if not isinstance(value, datetime):
        return ""
    text = _("%(since)s ago") % {"since": timesince(value, depth=1)}
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', value.isoformat(), moment_text(value), text
    )


@register.filter
def day(value):
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    if not isinstance(value, date):
        return ""
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), formats.date_format(value))


@register.simple_tag
def zone_label(short=False) -> str:
    """The viewer's zone as a person reads it: "Asia/Tokyo (JST)", or "JST" where space is short."""
    name, abbreviation = str(timezone.get_current_timezone()), timezone.localtime().tzname()
    if short or abbreviation in (name, None):
        return abbreviation or name
    return f"{name} ({abbreviation})"


@register.filter(name="moment_text")
def moment_text_filter(value):
    """The moment as plain text, for a title attribute (which holds no markup)."""
    return moment_text(value) if isinstance(value, datetime) else ""
