# Koers as a container image: `docker compose up` (see docker-compose.yml) runs it on PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KOERS_HOST=0.0.0.0 \
    KOERS_PORT=8080 \
    KOERS_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY federation ./federation
COPY templates ./templates
# An editable install: templates/ sits beside the packages at the repository root, where
# server/app.py looks for it.
RUN pip install --no-cache-dir -e . \
    && useradd --system --home-dir /data --create-home koers
USER koers
VOLUME ["/data"]
EXPOSE 8080
CMD ["koers", "serve"]
