"""The item page's slots for what other apps register (triage.extensions): triage renders them unseen."""

from django import template
from django.utils.safestring import mark_safe

from triage.extensions import ItemPage, item_panels

register = template.Library()


@register.simple_tag(takes_context=True)
def item_panels_in(context, slot):
    """Every panel registered for `slot`, in order, each rendered as an inclusion tag renders its template."""
    page = ItemPage(
        request=context.get("request"), item=context["item"], can_change=bool(context.get("can_change"))
    )
    html = []
    for panel in item_panels(slot):
        panel_context = context.new(panel.context(page))
        if (csrf_token := context.get("csrf_token")) is not None:
            panel_context["csrf_token"] = csrf_token
        html.append(context.template.engine.get_template(panel.template).render(panel_context))
    return mark_safe("".join(html))  # noqa: S308 -- the panels' own templates, autoescaped as they render
