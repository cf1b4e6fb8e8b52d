"""The corpus: what is known of the articles seen, and how a new one joins it.

Extraction, canonical URLs, exact and near dedup, stories, per-article analysis and ingest,
and the processes that run them beside the crawl. Nothing here imports Scrapy, Twisted,
Apprise or Jinja2: the extraction and ingest processes load only this and what it needs.
"""
