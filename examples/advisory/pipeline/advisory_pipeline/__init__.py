"""Unified advisory enrichment pipeline.

The pipeline replaces the nightly ``advisory_enrich`` monolith.  It is split
into five phases (``ingest -> normalise -> decide -> export -> report``) that
are declared as a dependency graph and executed by
:class:`advisory_pipeline.orchestrator.Orchestrator`, which checkpoints every
phase result as JSON.
"""

__version__ = "0.4.0"
