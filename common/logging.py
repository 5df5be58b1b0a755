"""A logging filter that redacts every record: its message with its arguments, its traceback, its stack.

Put it on handlers (config/settings.py LOGGING, config/gunicorn.conf.py): a filter on a logger sees
only what is logged to that very logger, not what its children pass up.
"""

import logging

from .redaction import redact


class RedactingFilter(logging.Filter):
    def filter(self, record) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 (bad arguments: the handler reports them as it always does)
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
