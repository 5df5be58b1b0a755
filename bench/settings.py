"""The portal's settings plus the anchor views (bench/urls.py); nothing else differs from production."""

import os

from config.settings import *

ROOT_URLCONF = "bench.urls"

# The contrast run measures what reconnecting to PostgreSQL on every request costs.
if "BENCH_CONN_MAX_AGE" in os.environ:
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])
