"""gunicorn's settings for the portal: `gunicorn config.wsgi -c config/gunicorn.conf.py --bind 0.0.0.0:8000`.

The access log goes to stdout, the error log to stderr, each line redacted (common/logging.py):
the legacy webhook's token is in its URL path, and the request line and URL atoms (%(r)s, %(U)s,
%(q)s, the referer) would carry it. Workers: WEB_CONCURRENCY, which gunicorn reads itself.
"""

import sys
from pathlib import Path

from gunicorn.glogging import Logger

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:  # the config file is read before gunicorn puts the app's folder on the path
    sys.path.insert(0, ROOT)

from common.logging import RedactingFilter  # noqa: E402

accesslog = "-"
worker_tmp_dir = "/dev/shm"  # the heartbeat file: in memory, not on the container's overlay disk


class RedactingLogger(Logger):
    """gunicorn's logger, with every access and error line passed through the redacting filter."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (
            self.error_log,
            self.access_log,
        ):  # a filter on the logger: any handler, after a reload too
            if not any(isinstance(existing, RedactingFilter) for existing in log.filters):
                log.addFilter(RedactingFilter())


logger_class = RedactingLogger
