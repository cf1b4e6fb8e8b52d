"""Scrapy only: settings, one spider per source kind, middlewares, item pipelines, the
distributed queue. Hands each fetched page to `newswatch.corpus`."""
