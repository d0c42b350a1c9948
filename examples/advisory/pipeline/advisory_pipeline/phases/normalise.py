"""normalise: canonical names and grouping into cases.

Each advisory (CVE x ecosystem x package) becomes a :class:`Case` carrying its
scanner evidence in replay order, the effective analyst override and what the
upstream databases say about it.  With ``--state``, every advisory an earlier
run kept is a case too, carrying where it stood (``Case.carried``).
"""

from ..model import Case, NormaliseResult, OsvFinding, Override
from ..names import advisory_id, canonical_cve, canonical_ecosystem, canonical_package
from ..versions import earliest


def osv_index(records):
    """(CVE, ecosystem, canonical package) -> [(osv id, withdrawn, fixed versions)]."""
    index = {}
    for record in records:
        for affected in record.affected:
            ecosystem = canonical_ecosystem(affected.ecosystem)
            package = canonical_package(affected.package, ecosystem)
            entry = (record.osv_id, record.withdrawn, affected.fixed, record.modified)
            for cve in dict.fromkeys(canonical_cve(c) for c in record.cve_ids):
                index.setdefault((cve, ecosystem, package), []).append(entry)
    return index


def osv_finding(entries):
    if not entries:
        return None
    ids = tuple(sorted({entry[0] for entry in entries}))
    modified = tuple(entry[3] for entry in entries if entry[3] is not None)
    live = [entry for entry in entries if entry[1] is None]
    if not live:
        osv_id, withdrawn, _, _ = min(entries, key=lambda entry: entry[0])
        return OsvFinding(ids, osv_id, withdrawn[:10], None, modified)
    return OsvFinding(ids, None, None, earliest([fix for entry in live for fix in entry[2]]), modified)


def run(context, inputs):
    ingested = inputs["ingest"]
    nvd = {canonical_cve(record.cve_id): record for record in ingested.nvd}
    osv = osv_index(ingested.osv)
    cases = {}  # advisory id -> Case, in order of first appearance

    def case_for(cve, ecosystem, package):
        key = advisory_id(cve, ecosystem, package)
        if key not in cases:
            cases[key] = Case(key, cve, ecosystem, package, [], None, None, None, None)
        return cases[key]

    by_spelling = {}  # (cve, ecosystem, package) as a scanner wrote them -> Case
    for observation in ingested.observations:
        if not observation.weight:
            # zero-weight observations carry no evidence; drop them early
            continue
        spelling = (observation.cve_id, observation.ecosystem, observation.package)
        case = by_spelling.get(spelling)
        if case is None:
            ecosystem = canonical_ecosystem(observation.ecosystem)
            package = canonical_package(observation.package, ecosystem)
            case = by_spelling[spelling] = case_for(canonical_cve(observation.cve_id), ecosystem, package)
        case.evidence.append(observation)

    # the latest decision per advisory wins; on equal timestamps the later row
    for row in sorted(ingested.overrides, key=lambda row: (row.timestamp, row.row)):
        ecosystem = canonical_ecosystem(row.ecosystem)
        case = case_for(canonical_cve(row.cve_id), ecosystem, canonical_package(row.package, ecosystem))
        case.override = Override(row.analyst, row.forced_state, row.reason, row.decided_at, row.timestamp)

    if ingested.state is not None:
        for carried in ingested.state.advisories.values():
            case_for(carried.cve_id, carried.ecosystem, carried.package).carried = carried

    for case in cases.values():
        case.evidence.sort(key=lambda o: (o.timestamp, o.obs_id))
        case.nvd = nvd.get(case.cve_id)
        case.osv = osv_finding(osv.get((case.cve_id, case.ecosystem, case.package)))

    return NormaliseResult(list(cases.values()), ingested.duplicates, ingested.state)
