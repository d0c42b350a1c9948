"""Stage checkpoints (``--checkpoints DIR``): what each phase produced, comparable with the legacy's.

``DIR/01-ingest.json``, ``02-normalise.json``, ``03-decide.json`` and
``04-export.json`` hold the same logical content as the files the legacy jobs
write with ``--dump-stages`` (``ingest.json`` ... ``export.json``), so that a
tool can compare the two phase by phase and name the first phase that
differs.  Unlike the debugging checkpoints of ``--checkpoint-dir`` (compact
tables, timings, every phase) these leave out everything that differs between
runs or between the two programs by design: no timings, no run id, no report
phase.  The directory may be inside the output directory.

* ingest: the inputs as read (records, skipped, re-deliveries), each valid
  observation, override row, NVD and OSV record as spelled in the input, and a
  summary of the state read with ``--state``;
* normalise: one entry per advisory with its canonical names, its evidence
  (``obs_id`` in replay order), the override of this run's sheet, what OSV and
  NVD say, and where an earlier run left it;
* decide: the decision per advisory, its last seq and this run's transitions;
* export: the advisories as written, row counts, and the state saved.

Each file is one JSON object whose lists hold one element per line.
"""

import json
import os

from .phases.ingest import latest_time

FILES = {"ingest": "01-ingest.json", "normalise": "02-normalise.json", "decide": "03-decide.json",
         "export": "04-export.json"}


def _state(snapshot):
    if snapshot is None:
        return None
    return {"runs": snapshot.runs, "advisories": len(snapshot.advisories), "history_rows": len(snapshot.history)}


def ingest_view(r):
    return {
        "fixture": r.fixture_name,
        "inputs": {name: {"records": stats.records, "skipped": stats.skipped} for name, stats in r.stats.items()},
        "duplicates": r.duplicates,
        "observations": [{"obs_id": o.obs_id, "observed_at": o.observed_at, "source": o.source, "cve_id": o.cve_id,
                          "package": o.package, "ecosystem": o.ecosystem, "version": o.version, "signal": o.signal,
                          "weight": o.weight} for o in r.observations],
        "overrides": [{"row": o.row, "cve_id": o.cve_id, "ecosystem": o.ecosystem, "package": o.package,
                       "forced_state": o.forced_state, "reason": o.reason, "analyst": o.analyst,
                       "decided_at": o.decided_at} for o in r.overrides],
        "nvd": [{"cve_id": n.cve_id, "status": n.status, "base_score": n.base_score,
                 "last_modified": n.last_modified} for n in r.nvd],
        "osv": [{"osv_id": v.osv_id, "cve_ids": list(v.cve_ids), "withdrawn": v.withdrawn, "modified": v.modified,
                 "affected": [{"ecosystem": a.ecosystem, "package": a.package, "fixed": list(a.fixed)}
                              for a in v.affected]} for v in r.osv],
        "state": _state(r.state),
    }


def _case(case):
    override, osv, nvd, carried = case.override, case.osv, case.nvd, case.carried
    return {
        "advisory_id": case.advisory_id, "cve_id": case.cve_id, "ecosystem": case.ecosystem, "package": case.package,
        "evidence": [o.obs_id for o in case.evidence],
        "override": override and {"analyst": override.analyst, "forced_state": override.forced_state,
                                  "reason": override.reason, "decided_at": override.decided_at},
        "osv": osv and {"withdrawn_id": osv.withdrawn_id, "withdrawn_on": osv.withdrawn_on,
                        "fixed_version": osv.fixed_version, "modified": latest_time(osv.modified)[0]},
        "nvd": nvd and {"status": nvd.status, "base_score": nvd.base_score, "last_modified": nvd.last_modified},
        "carried": carried and {"state": carried.state, "seq": carried.seq,
                                "installed_version": carried.installed or None,
                                "pinned": carried.override is not None},
    }


def normalise_view(r):
    return {"advisories": [_case(case) for case in r.cases]}


def decide_view(r):
    rows = {}
    for t in r.transitions:
        rows.setdefault(t.advisory_id, []).append(
            {"seq": t.seq, "observed_at": t.observed_at, "from_state": "none" if t.from_state is None else t.from_state,
             "to_state": t.to_state, "source": t.source, "reason_code": t.reason})
    return {"advisories": [
        {"advisory_id": o.advisory_id, "state": o.decision.state, "reason_code": o.decision.reason,
         "explanation": o.decision.explanation, "confidence": o.decision.confidence,
         "contributing_sources": list(o.decision.contributing), "dissenting_sources": list(o.decision.dissenting),
         "installed_version": o.installed_version, "fixed_version": o.fixed_version, "seq": o.transitions,
         "transitions": rows.get(o.advisory_id, [])} for o in r.outcomes]}


def export_view(r):
    return {"files": {"advisory_current.json": {"advisories": r.advisories},
                      "state_history.csv": {"rows": r.history_rows, "carried": r.carried_rows}},
            "state": _state(r.saved), "advisories": r.records}


VIEWS = {"ingest": ingest_view, "normalise": normalise_view, "decide": decide_view, "export": export_view}


def render(document):
    """JSON text of ``document``, one element of each of its lists per line."""
    parts = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            items = ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in value)
            parts.append(f"{json.dumps(key)}: [\n{items}\n]")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


class StageStore:
    """Writes the stage checkpoints of the phases in :data:`FILES`, each aside and then renamed.

    The directory is created with the first file, as the legacy creates its own after reading its
    inputs: a run that fails in ingest leaves no trace of it (nor of the output directory above it).
    """

    def __init__(self, directory):
        self.directory = directory

    def write(self, phase, result, seconds):
        name = FILES.get(phase.name)
        if name is None:
            return
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, name)
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(render(VIEWS[phase.name](result)))
        os.replace(path + ".tmp", path)
