"""The data sources a run reads its observations from (``--source``); each replaces one legacy job.

``scanners`` (the default) reads the scanners' ``observations.json`` and replaces
``legacy/monolith.py``; ``feed`` reads a vendor's ``vendor_feed.json`` (see
:mod:`advisory_pipeline.feed`) and replaces ``legacy/feed_monolith.py``.  Both
share the overrides sheet and the NVD and OSV responses, and everything after
ingest; what differs is named here.
"""

from .model import Record, Weights


class FeedWeights(Weights):
    """The feed job's weights: a finding without a confidence counts as the vendor's "medium"."""

    default_observation = 0.4


class Source(Record):
    """``observations_file`` replaces observations.json among the input files; ``title`` heads the report;
    ``duplicates_label`` names what ingest dropped as delivered twice."""

    __slots__ = ("name", "observations_file", "title", "duplicates_label", "weights")


SOURCES = {
    "scanners": Source("scanners", "observations.json", "Advisory enrichment report",
                       "Duplicate observations dropped", Weights),
    "feed": Source("feed", "vendor_feed.json", "Vendor feed enrichment report",
                   "Superseded finding revisions dropped", FeedWeights),
}
DEFAULT_SOURCE = "scanners"
