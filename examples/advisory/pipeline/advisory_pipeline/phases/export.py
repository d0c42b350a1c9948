"""export: write advisory_current.json and state_history.csv (and, with ``--state``, the state).

With ``--state`` the history holds the rows of every run so far, and the state
for the next run is saved after the two files are written.
"""

import csv
import json
import os

from ..model import ExportResult, StateSnapshot
from ..orchestrator import child_path

CURRENT_FILE = "advisory_current.json"
HISTORY_FILE = "state_history.csv"
HISTORY_COLUMNS = ("seq", "advisory_id", "observed_at", "source", "from_state", "to_state", "reason_code")

_dump = json.JSONEncoder(ensure_ascii=False).encode


def advisory_record(outcome):
    decision = outcome.decision
    return {
        "advisory_id": outcome.advisory_id,
        "package": outcome.package,
        "ecosystem": outcome.ecosystem,
        "cve_id": outcome.cve_id,
        "state": decision.state,
        "reason_code": decision.reason,
        "explanation": decision.explanation,
        "confidence": decision.confidence,
        "installed_version": outcome.installed_version,
        "fixed_version": outcome.fixed_version,
        "contributing_sources": list(decision.contributing),
        "dissenting_sources": list(decision.dissenting),
    }


def render_current(run_id, generated_at, advisories):
    """The snapshot document, one advisory per line so that it greps and diffs well."""
    lines = ["{", f'  "run_id": {_dump(run_id)},', f'  "generated_at": {_dump(generated_at)},']
    if advisories:
        lines.append('  "advisories": [')
        lines.append(",\n".join("    " + _dump(record) for record in advisories))
        lines.append("  ]")
    else:
        lines.append('  "advisories": []')
    lines.append("}")
    return "\n".join(lines) + "\n"


def history_row(transition):
    """A row of HISTORY_COLUMNS."""
    return (
        transition.seq,
        transition.advisory_id,
        transition.observed_at,
        transition.source,
        "none" if transition.from_state is None else transition.from_state,
        transition.to_state,
        transition.reason,
    )


def run(context, inputs):
    decided = inputs["decide"]
    os.makedirs(context.out_dir, exist_ok=True)

    outcomes = sorted(decided.outcomes, key=lambda o: (o.package, o.cve_id, o.ecosystem))
    records = [advisory_record(o) for o in outcomes]
    current = child_path(context.out_dir, CURRENT_FILE)
    with open(current, "w", encoding="utf-8") as handle:
        handle.write(render_current(context.run_id, context.generated_at, records))

    earlier = decided.state.history if decided.state is not None else []
    # chronological across all advisories, which is what the audit export wants
    transitions = sorted(earlier + decided.transitions if earlier else decided.transitions,
                         key=lambda t: (t.timestamp, t.advisory_id, t.seq))
    history = child_path(context.out_dir, HISTORY_FILE)
    with open(history, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HISTORY_COLUMNS)
        writer.writerows(map(history_row, transitions))

    saved = None
    if context.state_dir is not None:
        from ..state import save_state

        saved = StateSnapshot(decided.state.runs + 1, {o.advisory_id: o.carry for o in decided.outcomes}, transitions)
        save_state(context.state_dir, context.source.name, saved)

    return ExportResult(files={CURRENT_FILE: current, HISTORY_FILE: history}, advisories=len(outcomes),
                        history_rows=len(transitions), records=records, carried_rows=len(earlier), saved=saved)
