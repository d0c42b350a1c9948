"""Unified advisory enrichment pipeline.

The pipeline replaces the nightly ``advisory_enrich`` monolith and its vendor
feed copy (``--source scanners|feed``, see :mod:`advisory_pipeline.sources`).
It is split into five phases (``ingest -> normalise -> decide -> export ->
report``) that are declared as a dependency graph and executed by
:class:`advisory_pipeline.orchestrator.Orchestrator`, which checkpoints every
phase result as JSON when given a directory for it: ``--checkpoints`` for the
stage files that compare with the legacy's (:mod:`advisory_pipeline.stages`),
``--checkpoint-dir`` for debugging (:mod:`advisory_pipeline.checkpoints`).
With ``--state`` a run starts from where the previous one left its advisories
(:mod:`advisory_pipeline.state`).

Start-up cost matters: the package is compiled from source on every run (the
job runs with ``PYTHONDONTWRITEBYTECODE=1`` and no ``__pycache__``), and on a
small input that costs more than the work itself.  So the package stays small
and imports little: no ``dataclasses``, ``enum``, ``typing``, ``uuid`` or
``pathlib``; ``argparse``, ``datetime``, ``unicodedata``, ``sqlite3`` (state),
the feed reader and the checkpoint code are imported only by the runs that
need them.
"""

__version__ = "0.4.0"
