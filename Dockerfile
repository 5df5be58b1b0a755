# Triage Portal: one image for web (gunicorn), the Celery worker, beat and migrations.
# docker-compose.yml runs it; README.md "Run with Docker" says what to set.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    TRIAGE_VAR_DIR=/app/var

WORKDIR /app

# Pinned dependencies first, so code changes do not reinstall them.
# psycopg[binary] ships its own libpq: no compiler or system packages needed.
COPY requirements.txt .
RUN pip install -r requirements.txt

# The code is owned by root and read-only for the app user; only var/ is writable.
RUN useradd --create-home --uid 10001 --user-group app
COPY . .
RUN mkdir -p /app/var/beat && chown -R app:app /app/var

USER app

# Static files are collected into the image (WhiteNoise serves them). Settings refuse
# DEBUG=0 without a SECRET_KEY, so the build uses a throwaway one; nothing keeps it.
RUN SECRET_KEY=build DEBUG=0 python manage.py collectstatic --noinput

EXPOSE 8000
# Workers: WEB_CONCURRENCY (gunicorn reads it), 2 unless set. config/gunicorn.conf.py sends the
# access log to stdout with every line redacted (the legacy webhook's token is in its path).
ENV WEB_CONCURRENCY=2
CMD ["gunicorn", "config.wsgi", "-c", "config/gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
