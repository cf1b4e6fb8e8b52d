FROM python:3.11-slim
RUN useradd --create-home --uid 1000 newswatch
WORKDIR /app
COPY pyproject.toml README.md ./
COPY crawler crawler
COPY alerts alerts
COPY jobs jobs
COPY store store
RUN pip install --no-cache-dir '.[postgres]'
USER newswatch
WORKDIR /data
ENTRYPOINT ["newswatch"]
CMD ["run", "--config", "/config/newswatch.yaml"]
