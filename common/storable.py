"""What PostgreSQL cannot store in text or jsonb: NUL and unpaired surrogates (the API's parsers and the
Sentry payload readers refuse or replace them)."""

import re

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
