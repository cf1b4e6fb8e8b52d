"""Scrapy side: spiders, extraction, URL canonicalisation, dedup, ingest."""
