"""Imported by the fork server of corpus/processes.py, and by nothing else: loads what
every child (extraction worker, ingest process) would otherwise load for itself, once, so
that the children share those pages with the fork server instead of each holding a copy.

That is the extraction code (trafilatura, run once on a small page: its first call sets up
caches and language data), the children's entry points (corpus.processes), and the
general-English word frequencies story terms are weighed against (wordfreq's table, the
largest single thing a worker holds). Then the memory that loading used and let go is
handed back to the system (`processes.trim_heap`), and `gc.freeze()`: the collector never
walks the loaded objects in a child, so it does not dirty (and copy) their pages.
"""
from __future__ import annotations

import gc

from newswatch.corpus import processes, stories

processes.warm_up()
stories.load_priors()
gc.collect()
processes.trim_heap()
gc.freeze()
