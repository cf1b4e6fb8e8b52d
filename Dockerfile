# newswatch: one image for every role (`run --role scheduler|crawler|notifier`, or all in one).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 newswatch
WORKDIR /app
COPY pyproject.toml README.md ./
COPY crawler crawler
COPY alerts alerts
COPY jobs jobs
COPY store store
RUN pip install '.[postgres]'

USER newswatch
WORKDIR /data
# Logs as JSON lines for the container's log collector; the config is mounted here.
ENV NEWSWATCH_LOG_FORMAT=json \
    NEWSWATCH_CONFIG=/config/newswatch.yaml
ENTRYPOINT ["newswatch"]
CMD ["run"]
