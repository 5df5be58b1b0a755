"""Which language a notification is written in: the requester's own for what is sent back to them, else the
item's team's (else the portal's LANGUAGE_CODE, through Team.writes_in)."""

from django.conf import settings

from accounts.selectors import user_language

from .recipients import REQUESTER_EVENTS


def notification_language(notification) -> str:
    team = notification.request.item.team
    team_language = team.writes_in if team is not None else settings.LANGUAGE_CODE
    requester = notification.request.requested_by
    if notification.event in REQUESTER_EVENTS and notification.channel == "email" and requester is not None:
        return user_language(user=requester, fallback=team_language)
    return team_language
