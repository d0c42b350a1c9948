"""normalise: canonical names, de-duplication and grouping into cases.

Each advisory (CVE x ecosystem x package) becomes a :class:`Case` carrying its
scanner evidence in replay order, the effective analyst override and what the
upstream databases say about it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping, Optional

from ..model import (
    Case,
    IngestResult,
    NormaliseResult,
    NvdRecord,
    Observation,
    OsvFinding,
    OsvRecord,
    Override,
    OverrideRow,
)
from ..names import advisory_id, canonical_cve, canonical_ecosystem, canonical_package
from ..orchestrator import RunContext
from ..versions import earliest

OsvKey = tuple[str, str, str]  # (cve, ecosystem, package)


class OsvIndex:
    """OSV entries keyed by (CVE, ecosystem, canonical package name)."""

    def __init__(self, records: Iterable[OsvRecord]) -> None:
        self._entries: dict[OsvKey, list[tuple[str, Optional[str], tuple[str, ...]]]] = defaultdict(list)
        for record in records:
            cves = list(dict.fromkeys(canonical_cve(c) for c in record.cve_ids))
            for affected in record.affected:
                ecosystem = canonical_ecosystem(affected.ecosystem)
                package = canonical_package(affected.package, ecosystem)
                for cve in cves:
                    self._entries[(cve, ecosystem, package)].append((record.osv_id, record.withdrawn, affected.fixed))

    def finding(self, cve: str, ecosystem: str, package: str) -> Optional[OsvFinding]:
        entries = self._entries.get((cve, ecosystem, package))
        if not entries:
            return None
        ids = tuple(sorted({osv_id for osv_id, _, _ in entries}))
        live = [entry for entry in entries if entry[1] is None]
        if not live:
            osv_id, withdrawn, _ = min(entries, key=lambda entry: entry[0])
            return OsvFinding(advisory_ids=ids, withdrawn_id=osv_id, withdrawn_on=withdrawn[:10], fixed_version=None)
        fixes = [fix for _, _, fixed in live for fix in fixed]
        return OsvFinding(advisory_ids=ids, withdrawn_id=None, withdrawn_on=None, fixed_version=earliest(fixes))


def _effective_overrides(rows: Iterable[OverrideRow]) -> dict[str, tuple[OverrideRow, str, str, str]]:
    """Latest decision per advisory; on equal timestamps the later row wins."""
    chosen: dict[str, tuple[OverrideRow, str, str, str]] = {}
    for row in sorted(rows, key=lambda r: (r.timestamp, r.row)):
        ecosystem = canonical_ecosystem(row.ecosystem)
        package = canonical_package(row.package, ecosystem)
        cve = canonical_cve(row.cve_id)
        chosen[advisory_id(cve, ecosystem, package)] = (row, cve, ecosystem, package)
    return chosen


def _unique(observations: Iterable[Observation]) -> tuple[list[Observation], int]:
    seen: set[str] = set()
    unique: list[Observation] = []
    duplicates = 0
    for observation in observations:
        if observation.obs_id in seen:
            duplicates += 1
            continue
        seen.add(observation.obs_id)
        unique.append(observation)
    return unique, duplicates


def run(context: RunContext, inputs: Mapping[str, Any]) -> NormaliseResult:
    ingested: IngestResult = inputs["ingest"]
    observations, duplicates = _unique(ingested.observations)

    nvd: dict[str, NvdRecord] = {}
    for record in ingested.nvd:
        nvd[canonical_cve(record.cve_id)] = record
    osv = OsvIndex(ingested.osv)

    cases: dict[str, Case] = {}

    def case_for(cve: str, ecosystem: str, package: str) -> Case:
        key = advisory_id(cve, ecosystem, package)
        if key not in cases:
            cases[key] = Case(advisory_id=key, cve_id=cve, ecosystem=ecosystem, package=package)
        return cases[key]

    for observation in observations:
        if not observation.weight:
            # zero-weight observations carry no evidence; drop them early
            continue
        ecosystem = canonical_ecosystem(observation.ecosystem)
        package = canonical_package(observation.package, ecosystem)
        case_for(canonical_cve(observation.cve_id), ecosystem, package).evidence.append(observation)

    for row, cve, ecosystem, package in _effective_overrides(ingested.overrides).values():
        case_for(cve, ecosystem, package).override = Override(
            analyst=row.analyst,
            forced_state=row.forced_state,
            reason=row.reason,
            decided_at=row.decided_at,
            timestamp=row.timestamp,
        )

    for case in cases.values():
        case.evidence.sort(key=lambda o: (o.timestamp, o.obs_id))
        case.nvd = nvd.get(case.cve_id)
        case.osv = osv.finding(case.cve_id, case.ecosystem, case.package)

    return NormaliseResult(cases=list(cases.values()), duplicates=duplicates)
