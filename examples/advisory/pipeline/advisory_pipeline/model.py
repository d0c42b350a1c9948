"""Records passed between the phases, and the vocabulary they use.

States, signals and reason codes are plain strings, the values written to
the outputs; :class:`State` and :class:`Reason` name them.  Records are
slotted classes deriving from :class:`Record`: their fields are their
``__slots__``, which is also what a checkpoint holds (see
:mod:`advisory_pipeline.checkpoints`).  They are plain classes rather than
dataclasses and enums for start-up cost (see the package's docstring).
"""


class State:
    AFFECTED = "affected"
    FIXED = "fixed"
    NOT_AFFECTED = "not_affected"
    UNDER_INVESTIGATION = "under_investigation"
    WITHDRAWN = "withdrawn"


# Report and table order; also every valid state.
STATE_ORDER = (State.AFFECTED, State.FIXED, State.NOT_AFFECTED, State.UNDER_INVESTIGATION, State.WITHDRAWN)

# scanner signal -> the state it argues for (inconclusive: none); also every valid signal
IMPLIED_STATE = {"vulnerable": State.AFFECTED, "patched": State.FIXED, "not_present": State.NOT_AFFECTED,
                 "inconclusive": None}


class Reason:
    ANALYST_OVERRIDE = "ANALYST_OVERRIDE"
    NVD_REJECTED = "NVD_REJECTED"
    OSV_WITHDRAWN = "OSV_WITHDRAWN"
    INSUFFICIENT_EVIDENCE = "INSUFFICIENT_EVIDENCE"
    CONFLICTING_SIGNALS = "CONFLICTING_SIGNALS"
    SCANNER_CONFIRMED = "SCANNER_CONFIRMED"
    UPSTREAM_AFFECTED = "UPSTREAM_AFFECTED"
    FIXED_UPSTREAM = "FIXED_UPSTREAM"
    SCANNER_PATCHED = "SCANNER_PATCHED"
    NOT_PRESENT = "NOT_PRESENT"


WITHDRAWAL_REASONS = (Reason.NVD_REJECTED, Reason.OSV_WITHDRAWN)


class Weights:
    """Evidence weights; the values are the ones the security team signed off."""

    default_observation = 0.5
    osv = 0.6
    nvd_base = 0.2
    nvd_per_cvss_point = 0.02
    conflict_margin = 0.15


class Record:
    """A record whose fields are its ``__slots__``, given by position or keyword (all of them)."""

    __slots__ = ()

    def __init__(self, *values, **named):
        for name, value in zip(self.__slots__, values):
            setattr(self, name, value)
        for name, value in named.items():
            setattr(self, name, value)


# --- ingest -----------------------------------------------------------------


class Observation(Record):
    """A valid scanner observation; ``timestamp`` is ``observed_at`` as an aware UTC datetime."""

    __slots__ = ("obs_id", "observed_at", "timestamp", "source", "cve_id", "package", "ecosystem", "version",
                 "signal", "weight")

    def __init__(self, obs_id, observed_at, timestamp, source, cve_id, package, ecosystem, version, signal, weight):
        # spelled out: ingest builds one per input record
        self.obs_id = obs_id
        self.observed_at = observed_at
        self.timestamp = timestamp
        self.source = source
        self.cve_id = cve_id
        self.package = package
        self.ecosystem = ecosystem
        self.version = version
        self.signal = signal
        self.weight = weight


class OverrideRow(Record):
    __slots__ = ("row", "cve_id", "ecosystem", "package", "forced_state", "reason", "analyst", "decided_at",
                 "timestamp")


class NvdRecord(Record):
    __slots__ = ("cve_id", "status", "base_score", "description", "published", "last_modified")


class OsvAffected(Record):
    __slots__ = ("ecosystem", "package", "fixed")  # fixed: tuple of version strings


class OsvRecord(Record):
    __slots__ = ("osv_id", "cve_ids", "withdrawn", "affected", "modified")  # affected: tuple of OsvAffected


class InputStats(Record):
    __slots__ = ("records", "skipped")


class IngestResult(Record):
    """``observations`` holds each ``obs_id`` once (``duplicates``: re-deliveries dropped); ``state`` is
    what ``--state`` kept from earlier runs (a :class:`StateSnapshot`), None without ``--state``."""

    __slots__ = ("fixture_name", "observations", "overrides", "nvd", "osv", "stats", "duplicates", "state")


# --- state carried across runs (--state) -------------------------------------


class StateSnapshot(Record):
    """``advisories``: advisory id -> :class:`CarriedAdvisory`; ``history``: every earlier run's
    :class:`Transition`; ``runs``: how many runs the state has seen."""

    __slots__ = ("runs", "advisories", "history")


class CarriedAdvisory(Record):
    """Where an advisory stood at the end of the previous run: its state and last seq, the latest
    report of each scanner (:class:`Observation`, in the order the scanners were first seen), the
    installed version, the override in force, and its latest event (text and datetime)."""

    __slots__ = ("advisory_id", "cve_id", "ecosystem", "package", "state", "seq", "installed", "reports",
                 "override", "last_seen", "last_seen_at")


# --- normalise --------------------------------------------------------------


class Override(Record):
    __slots__ = ("analyst", "forced_state", "reason", "decided_at", "timestamp")


class OsvFinding(Record):
    """What OSV says about one (CVE, package) pair; ``withdrawn_id`` is set when every entry is withdrawn."""

    __slots__ = ("advisory_ids", "withdrawn_id", "withdrawn_on", "fixed_version", "modified")  # modified: texts


class Case(Record):
    """Everything known about one advisory before deciding on it; evidence in replay order."""

    __slots__ = ("advisory_id", "cve_id", "ecosystem", "package", "evidence", "override", "osv", "nvd", "carried")


class NormaliseResult(Record):
    __slots__ = ("cases", "duplicates", "state")


# --- decide -----------------------------------------------------------------
# A vote is a plain (source, state, weight) tuple: a few are built for every replayed event.


class Decision(Record):
    __slots__ = ("state", "reason", "explanation", "confidence", "contributing", "dissenting")


class Transition(Record):
    __slots__ = ("advisory_id", "seq", "observed_at", "timestamp", "from_state", "to_state", "source", "reason")


class Outcome(Record):
    """``transitions``: the advisory's last seq (all runs); ``carry``: the :class:`CarriedAdvisory` for
    the next run, only with ``--state``."""

    __slots__ = ("advisory_id", "cve_id", "ecosystem", "package", "installed_version", "fixed_version", "decision",
                 "override", "transitions", "carry")


class DecideResult(Record):
    """``transitions``: this run's; ``state``: the :class:`StateSnapshot` the run started from, or None."""

    __slots__ = ("outcomes", "transitions", "state")


# --- export / report --------------------------------------------------------


class ExportResult(Record):
    """``records``: the advisories as written; ``carried_rows``: history rows from earlier runs;
    ``saved``: the :class:`StateSnapshot` written for the next run, or None."""

    __slots__ = ("files", "advisories", "history_rows", "records", "carried_rows", "saved")


class ReportResult(Record):
    __slots__ = ("path", "lines")
