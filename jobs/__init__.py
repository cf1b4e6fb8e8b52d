"""The daemon: config, APScheduler jobs, the newswatch CLI."""
