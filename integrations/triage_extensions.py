"""What integrations adds to triage's item page (triage.extensions): the banner, with its retry button, when
the last change made in the portal did not reach Sentry. Registered by IntegrationsConfig.ready()."""

from triage.extensions import register_item_panel


def sync_banner(page) -> dict:
    return {"item": page.item, "can_change": page.can_change}


def register():
    register_item_panel(
        name="integrations.sentry_sync",
        slot="banner",
        template="integrations/_item_sync.html",
        context=sync_banner,
        order=10,
    )
