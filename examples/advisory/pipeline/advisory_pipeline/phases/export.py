"""export: write advisory_current.json and state_history.csv."""

from __future__ import annotations

import csv
import json
from typing import Any, Mapping

from ..model import DecideResult, ExportResult, Outcome, Transition
from ..orchestrator import RunContext

CURRENT_FILE = "advisory_current.json"
HISTORY_FILE = "state_history.csv"
HISTORY_COLUMNS = ("seq", "advisory_id", "observed_at", "source", "from_state", "to_state", "reason_code")


def advisory_record(outcome: Outcome) -> dict[str, Any]:
    decision = outcome.decision
    return {
        "advisory_id": outcome.advisory_id,
        "package": outcome.package,
        "ecosystem": outcome.ecosystem,
        "cve_id": outcome.cve_id,
        "state": decision.state.value,
        "reason_code": decision.reason.value,
        "explanation": decision.explanation,
        "confidence": decision.confidence,
        "installed_version": outcome.installed_version,
        "fixed_version": outcome.fixed_version,
        "contributing_sources": list(decision.contributing),
        "dissenting_sources": list(decision.dissenting),
    }


def render_current(run_id: str, generated_at: str, advisories: list[dict[str, Any]]) -> str:
    """The snapshot document, one advisory per line so that it greps and diffs well."""

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = ["{", f'  "run_id": {dump(run_id)},', f'  "generated_at": {dump(generated_at)},']
    if advisories:
        lines.append('  "advisories": [')
        lines.append(",\n".join("    " + dump(record) for record in advisories))
        lines.append("  ]")
    else:
        lines.append('  "advisories": []')
    lines.append("}")
    return "\n".join(lines) + "\n"


def history_row(transition: Transition) -> dict[str, str]:
    return {
        "seq": str(transition.seq),
        "advisory_id": transition.advisory_id,
        "observed_at": transition.observed_at,
        "source": transition.source,
        "from_state": transition.from_state.value if transition.from_state is not None else "none",
        "to_state": transition.to_state.value,
        "reason_code": transition.reason.value,
    }


def run(context: RunContext, inputs: Mapping[str, Any]) -> ExportResult:
    decided: DecideResult = inputs["decide"]
    context.out_dir.mkdir(parents=True, exist_ok=True)

    outcomes = sorted(decided.outcomes, key=lambda o: (o.package, o.cve_id, o.ecosystem))
    current = context.out_dir / CURRENT_FILE
    current.write_text(
        render_current(context.run_id, context.generated_at, [advisory_record(o) for o in outcomes]),
        encoding="utf-8",
    )

    # chronological across all advisories, which is what the audit export wants
    transitions = sorted(decided.transitions, key=lambda t: (t.timestamp, t.advisory_id, t.seq))
    history = context.out_dir / HISTORY_FILE
    with history.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(history_row(t) for t in transitions)

    return ExportResult(
        files={CURRENT_FILE: str(current), HISTORY_FILE: str(history)},
        advisories=len(outcomes),
        history_rows=len(transitions),
    )
