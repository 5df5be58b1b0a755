from django import template

from triage.selectors import COUNT_CAP

register = template.Library()


@register.filter
def capped(count):
    """A section count as shown: counting stops at COUNT_CAP, so more reads "1,000+"."""
    return f"{COUNT_CAP:,}+" if count > COUNT_CAP else f"{count:,}"
