"""report: the Markdown run report.

Everything except the ``Generated at`` and ``Run id`` lines is derived from
counts and identifiers only, and every list is sorted, so the report is
byte-for-byte reproducible for the same inputs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Iterable, Mapping, Sequence

from ..model import (
    STATE_ORDER,
    WITHDRAWAL_REASONS,
    DecideResult,
    IngestResult,
    NormaliseResult,
    Reason,
    ReportResult,
)
from ..orchestrator import RunContext
from .ingest import INPUT_FILES

REPORT_FILE = "run_report.md"
DISPUTED_ROWS_SHOWN = 25
BUSY_TRANSITIONS = 3


class Markdown:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def heading(self, level: int, text: str) -> "Markdown":
        self.lines += ["#" * level + " " + text, ""]
        return self

    def para(self, *lines: str) -> "Markdown":
        self.lines += [*lines, ""]
        return self

    def bullets(self, items: Sequence[str], empty: str) -> "Markdown":
        self.lines += [f"- {item}" for item in items] if items else [empty]
        self.lines.append("")
        return self

    def table(self, header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Iterable[int] = ()) -> "Markdown":
        numeric = set(numeric)
        align = ["---:" if i in numeric else "---" for i in range(len(header))]
        self.lines.append("| " + " | ".join(header) + " |")
        self.lines.append("| " + " | ".join(align) + " |")
        self.lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
        return self

    def blank(self) -> "Markdown":
        self.lines.append("")
        return self

    def render(self) -> str:
        return "\n".join(self.lines)


def run(context: RunContext, inputs: Mapping[str, Any]) -> ReportResult:
    ingested: IngestResult = inputs["ingest"]
    normalised: NormaliseResult = inputs["normalise"]
    decided: DecideResult = inputs["decide"]
    outcomes = sorted(decided.outcomes, key=lambda o: o.advisory_id)
    states = [s.value for s in STATE_ORDER]

    md = Markdown()
    md.heading(1, "Advisory enrichment report")
    md.para(f"Generated at: {context.generated_at}", f"Run id: {context.run_id}", f"Fixture: {ingested.fixture_name}")

    md.heading(2, "Inputs")
    md.table(
        ["Input", "Records", "Skipped"],
        ([name, ingested.stats[name].records, ingested.stats[name].skipped] for name in INPUT_FILES),
        numeric=(1, 2),
    ).blank()
    md.para(f"Duplicate observations dropped: {normalised.duplicates}")

    md.heading(2, "Advisories by state")
    per_state = Counter(o.decision.state.value for o in outcomes)
    md.table(
        ["State", "Advisories"],
        [[s, per_state[s]] for s in states] + [["**total**", len(outcomes)]],
        numeric=(1,),
    ).blank()

    md.heading(2, "Advisories by ecosystem")
    if outcomes:
        packages: dict[str, set[str]] = defaultdict(set)
        by_state: dict[str, Counter[str]] = defaultdict(Counter)
        for o in outcomes:
            packages[o.ecosystem].add(o.package)
            by_state[o.ecosystem][o.decision.state.value] += 1
        rows = [
            [eco, len(packages[eco]), sum(by_state[eco].values()), *(by_state[eco][s] for s in states)]
            for eco in sorted(packages)
        ]
        md.table(["Ecosystem", "Packages", "Advisories", *states], rows, numeric=range(1, 3 + len(states))).blank()
    else:
        md.para("_No advisories._")

    md.heading(2, "Reason codes")
    reasons = Counter(o.decision.reason.value for o in outcomes)
    if reasons:
        md.table(["Reason code", "Advisories"], sorted(reasons.items()), numeric=(1,)).blank()
    else:
        md.para("_No advisories._")

    md.heading(2, "Analyst overrides")
    md.bullets(
        [
            f"`{o.advisory_id}`: {o.decision.state.value} by {o.override.analyst} on {o.override.decided_at[:10]} "
            f"({o.override.reason or 'no reason given'})"
            for o in outcomes
            if o.decision.reason is Reason.ANALYST_OVERRIDE and o.override is not None
        ],
        empty="_No overrides applied._",
    )

    md.heading(2, "Withdrawn or rejected")
    md.bullets(
        [f"`{o.advisory_id}` ({o.decision.reason.value})" for o in outcomes if o.decision.reason in WITHDRAWAL_REASONS],
        empty="_None._",
    )

    md.heading(2, "Disputed advisories")
    disputed = [o for o in outcomes if o.decision.dissenting]
    md.para(f"Advisories with at least one dissenting source: {len(disputed)}")
    if disputed:
        md.table(
            ["Advisory", "State", "Contributing", "Dissenting"],
            (
                [f"`{o.advisory_id}`", o.decision.state.value, len(o.decision.contributing), len(o.decision.dissenting)]
                for o in disputed[:DISPUTED_ROWS_SHOWN]
            ),
            numeric=(2, 3),
        )
        if len(disputed) > DISPUTED_ROWS_SHOWN:
            md.blank().lines.append(f"... and {len(disputed) - DISPUTED_ROWS_SHOWN} more.")
        md.blank()

    md.heading(2, "State transitions")
    busy = sum(1 for o in outcomes if o.transitions >= BUSY_TRANSITIONS)
    md.para(
        f"Total transitions: {len(decided.transitions)}",
        f"Advisories with {BUSY_TRANSITIONS} or more transitions: {busy}",
    )
    caused = Counter(t.source for t in decided.transitions)
    if caused:
        md.table(
            ["Source", "Transitions caused"],
            sorted(caused.items(), key=lambda item: (-item[1], item[0])),
            numeric=(1,),
        ).blank()

    path = context.out_dir / REPORT_FILE
    text = md.render()
    path.write_text(text, encoding="utf-8")
    return ReportResult(path=str(path), lines=len(md.lines))
