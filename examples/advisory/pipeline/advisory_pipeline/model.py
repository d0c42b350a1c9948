"""Typed records passed between the phases.

Every phase result is a dataclass so that the orchestrator can checkpoint it
as JSON (see :func:`advisory_pipeline.orchestrator.to_json`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple, Optional


class State(str, Enum):
    AFFECTED = "affected"
    FIXED = "fixed"
    NOT_AFFECTED = "not_affected"
    UNDER_INVESTIGATION = "under_investigation"
    WITHDRAWN = "withdrawn"

    @classmethod
    def parse(cls, text: str) -> Optional["State"]:
        try:
            return cls(text.strip().lower())
        except ValueError:
            return None


# Report and table order.
STATE_ORDER: tuple[State, ...] = (
    State.AFFECTED,
    State.FIXED,
    State.NOT_AFFECTED,
    State.UNDER_INVESTIGATION,
    State.WITHDRAWN,
)


class Signal(str, Enum):
    VULNERABLE = "vulnerable"
    PATCHED = "patched"
    NOT_PRESENT = "not_present"
    INCONCLUSIVE = "inconclusive"

    @property
    def implied_state(self) -> Optional[State]:
        return _SIGNAL_STATES[self]


_SIGNAL_STATES: dict[Signal, Optional[State]] = {
    Signal.VULNERABLE: State.AFFECTED,
    Signal.PATCHED: State.FIXED,
    Signal.NOT_PRESENT: State.NOT_AFFECTED,
    Signal.INCONCLUSIVE: None,
}


class Reason(str, Enum):
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


WITHDRAWAL_REASONS = frozenset({Reason.NVD_REJECTED, Reason.OSV_WITHDRAWN})


@dataclass(frozen=True)
class Weights:
    """Evidence weights; the values are the ones the security team signed off."""

    default_observation: float = 0.5
    osv: float = 0.6
    nvd_base: float = 0.2
    nvd_per_cvss_point: float = 0.02
    conflict_margin: float = 0.15


# --- ingest -----------------------------------------------------------------


@dataclass(slots=True)
class Observation:
    obs_id: str
    observed_at: str
    timestamp: datetime
    source: str
    cve_id: str
    package: str
    ecosystem: str
    version: str
    signal: Signal
    weight: float


@dataclass(frozen=True)
class OverrideRow:
    row: int
    cve_id: str
    ecosystem: str
    package: str
    forced_state: State
    reason: str
    analyst: str
    decided_at: str
    timestamp: datetime


@dataclass(frozen=True)
class NvdRecord:
    cve_id: str
    status: str
    base_score: Optional[float]
    description: str
    published: str

    @property
    def rejected(self) -> bool:
        return self.status.strip().lower() == "rejected"

    @property
    def votes(self) -> bool:
        return self.status.strip().lower() in ("analyzed", "modified")


@dataclass(frozen=True)
class OsvAffected:
    ecosystem: str
    package: str
    fixed: tuple[str, ...]


@dataclass(frozen=True)
class OsvRecord:
    osv_id: str
    cve_ids: tuple[str, ...]
    withdrawn: Optional[str]
    affected: tuple[OsvAffected, ...]


@dataclass
class InputStats:
    records: int = 0
    skipped: int = 0


@dataclass
class IngestResult:
    fixture_name: str
    observations: list[Observation]
    overrides: list[OverrideRow]
    nvd: list[NvdRecord]
    osv: list[OsvRecord]
    stats: dict[str, InputStats]

    def checkpoint_view(self) -> dict[str, Any]:
        """Observations are by far the bulk of the data: store them as a table."""
        columns = [f.name for f in fields(Observation)]
        rows = [
            [o.obs_id, o.observed_at, o.timestamp.isoformat(), o.source, o.cve_id, o.package, o.ecosystem,
             o.version, o.signal.value, o.weight]
            for o in self.observations
        ]
        return {
            "fixture_name": self.fixture_name,
            "observations": {"columns": columns, "rows": rows},
            "overrides": self.overrides,
            "nvd": self.nvd,
            "osv": self.osv,
            "stats": self.stats,
        }


# --- normalise --------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    analyst: str
    forced_state: State
    reason: str
    decided_at: str
    timestamp: datetime

    @property
    def source_label(self) -> str:
        return f"analyst:{self.analyst}"


@dataclass(frozen=True)
class OsvFinding:
    """What OSV says about one (CVE, package) pair."""

    advisory_ids: tuple[str, ...]
    withdrawn_id: Optional[str]
    withdrawn_on: Optional[str]
    fixed_version: Optional[str]

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_id is not None


@dataclass
class Case:
    """Everything known about one advisory before deciding on it."""

    advisory_id: str
    cve_id: str
    ecosystem: str
    package: str
    evidence: list[Observation] = field(default_factory=list)
    override: Optional[Override] = None
    osv: Optional[OsvFinding] = None
    nvd: Optional[NvdRecord] = None


@dataclass
class NormaliseResult:
    cases: list[Case]
    duplicates: int

    def checkpoint_view(self) -> dict[str, Any]:
        """Evidence is referenced by obs_id; the observations are in the ingest checkpoint."""
        return {
            "duplicates": self.duplicates,
            "cases": [
                {
                    "advisory_id": case.advisory_id,
                    "cve_id": case.cve_id,
                    "ecosystem": case.ecosystem,
                    "package": case.package,
                    "evidence": [observation.obs_id for observation in case.evidence],
                    "override": case.override,
                    "osv": case.osv,
                    "nvd": case.nvd,
                }
                for case in self.cases
            ],
        }


# --- decide -----------------------------------------------------------------


class Vote(NamedTuple):
    """One source arguing for one state (built for every replayed event, hence a tuple)."""

    source: str
    state: State
    weight: float


@dataclass(frozen=True)
class Decision:
    state: State
    reason: Reason
    explanation: str
    confidence: float
    contributing: tuple[str, ...]
    dissenting: tuple[str, ...]


@dataclass(frozen=True)
class Transition:
    advisory_id: str
    seq: int
    observed_at: str
    timestamp: datetime
    from_state: Optional[State]
    to_state: State
    source: str
    reason: Reason


@dataclass
class Outcome:
    advisory_id: str
    cve_id: str
    ecosystem: str
    package: str
    installed_version: Optional[str]
    fixed_version: Optional[str]
    decision: Decision
    override: Optional[Override]
    transitions: int


@dataclass
class DecideResult:
    outcomes: list[Outcome]
    transitions: list[Transition]


# --- export / report --------------------------------------------------------


@dataclass
class ExportResult:
    files: dict[str, str]
    advisories: int
    history_rows: int


@dataclass
class ReportResult:
    path: str
    lines: int
