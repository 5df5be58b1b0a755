"""The portal's settings plus the anchor views (bench/urls.py); nothing else differs from production."""

import os

# A settings module extends the whole base, whose names are not worth listing one by one.
from config.settings import *  # noqa: F403
from config.settings import DATABASES

ROOT_URLCONF = "bench.urls"

# The contrast run measures what reconnecting to PostgreSQL on every request costs.
if "BENCH_CONN_MAX_AGE" in os.environ:
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])
