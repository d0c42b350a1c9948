"""report: the Markdown run report.

Everything except the ``Generated at`` and ``Run id`` lines is derived from
counts and identifiers only, and every list is sorted, so the report is
byte-for-byte reproducible for the same inputs.
"""

from collections import Counter

from ..model import STATE_ORDER, WITHDRAWAL_REASONS, Reason, ReportResult
from ..orchestrator import child_path

REPORT_FILE = "run_report.md"
DISPUTED_ROWS_SHOWN = 25
BUSY_TRANSITIONS = 3


def _row(cells):
    return "| " + " | ".join(map(str, cells)) + " |"


def table(header, rows, numeric=()):
    """The lines of a Markdown table; the ``numeric`` columns are right-aligned."""
    return [_row(header), _row("---:" if i in numeric else "---" for i in range(len(header))), *map(_row, rows)]


def run(context, inputs):
    ingested, normalised, decided = inputs["ingest"], inputs["normalise"], inputs["decide"]
    outcomes = sorted(decided.outcomes, key=lambda o: o.advisory_id)
    lines = [f"# {context.source.title}", "", f"Generated at: {context.generated_at}", f"Run id: {context.run_id}",
             f"Fixture: {ingested.fixture_name}", ""]

    def section(title, *body):
        lines.extend([f"## {title}", "", *body, ""])

    stats = ingested.stats
    section("Inputs",
            *table(["Input", "Records", "Skipped"], [[n, s.records, s.skipped] for n, s in stats.items()],
                   numeric=(1, 2)),
            "", f"{context.source.duplicates_label}: {normalised.duplicates}")

    carried = decided.state
    history = decided.transitions
    if carried is not None:
        section("State", f"Runs recorded in the state directory: {carried.runs + 1}",
                f"Advisories carried over from earlier runs: {len(carried.advisories)}",
                f"Transitions carried over from earlier runs: {len(carried.history)}")
        history = carried.history + history

    per_state = Counter(o.decision.state for o in outcomes)
    section("Advisories by state", *table(["State", "Advisories"], [*([s, per_state[s]] for s in STATE_ORDER),
                                                                    ["**total**", len(outcomes)]], numeric=(1,)))

    by_ecosystem = {}  # ecosystem -> (packages, Counter of states)
    for o in outcomes:
        packages, states = by_ecosystem.setdefault(o.ecosystem, (set(), Counter()))
        packages.add(o.package)
        states[o.decision.state] += 1
    rows = [[eco, len(packages), states.total(), *(states[s] for s in STATE_ORDER)]
            for eco, (packages, states) in sorted(by_ecosystem.items())]
    section("Advisories by ecosystem", *table(["Ecosystem", "Packages", "Advisories", *STATE_ORDER], rows,
                                              numeric=range(1, 3 + len(STATE_ORDER))) if rows else ["_No advisories._"])

    reasons = sorted(Counter(o.decision.reason for o in outcomes).items())
    section("Reason codes", *table(["Reason code", "Advisories"], reasons, numeric=(1,)) if reasons else
            ["_No advisories._"])

    section("Analyst overrides", *[
        f"- `{o.advisory_id}`: {o.decision.state} by {o.override.analyst} on {o.override.decided_at[:10]} "
        f"({o.override.reason or 'no reason given'})"
        for o in outcomes if o.decision.reason == Reason.ANALYST_OVERRIDE and o.override is not None
    ] or ["_No overrides applied._"])

    section("Withdrawn or rejected", *[
        f"- `{o.advisory_id}` ({o.decision.reason})" for o in outcomes if o.decision.reason in WITHDRAWAL_REASONS
    ] or ["_None._"])

    disputed = [o for o in outcomes if o.decision.dissenting]
    body = [f"Advisories with at least one dissenting source: {len(disputed)}"]
    if disputed:
        body += ["", *table(["Advisory", "State", "Contributing", "Dissenting"],
                            [[f"`{o.advisory_id}`", o.decision.state, len(o.decision.contributing),
                              len(o.decision.dissenting)] for o in disputed[:DISPUTED_ROWS_SHOWN]], numeric=(2, 3))]
        if len(disputed) > DISPUTED_ROWS_SHOWN:
            body += ["", f"... and {len(disputed) - DISPUTED_ROWS_SHOWN} more."]
    section("Disputed advisories", *body)

    busy = sum(1 for o in outcomes if o.transitions >= BUSY_TRANSITIONS)
    body = [f"Total transitions: {len(history)}",
            f"Advisories with {BUSY_TRANSITIONS} or more transitions: {busy}"]
    caused = sorted(Counter(t.source for t in history).items(), key=lambda item: (-item[1], item[0]))
    if caused:
        body += ["", *table(["Source", "Transitions caused"], caused, numeric=(1,))]
    section("State transitions", *body)

    path = child_path(context.out_dir, REPORT_FILE)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    return ReportResult(path, len(lines))
