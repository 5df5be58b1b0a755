"""`{{ url|safe_url }}`: the template filter of common.safe_urls.safe_url, the one check for a stored link."""

from django import template

from common.safe_urls import safe_url

register = template.Library()
register.filter("safe_url", safe_url)

__all__ = ["register", "safe_url"]  # config/api.py and the tests import safe_url from here too
