"""The web app: pages, JSON API, per-topic Atom feeds, /metrics and /healthz."""
