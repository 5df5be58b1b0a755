"""The portal's URLs unchanged, plus the two anchors the intake is compared with."""

from django.urls import path

from config.urls import urlpatterns as portal_urlpatterns

from . import anchors

urlpatterns = [
    path("bench/ok/", anchors.bare_ok, name="bench-ok"),
    path("bench/insert/", anchors.insert_one, name="bench-insert"),
    *portal_urlpatterns,
]
