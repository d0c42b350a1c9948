"""The pipeline's phases and the graph that connects them."""

from ..orchestrator import Phase, PhaseGraph
from . import decide, export, ingest, normalise, report


def build_graph():
    return PhaseGraph(
        [
            Phase("ingest", ingest.run, requires=(), description="read and validate the inputs (and state)"),
            Phase("normalise", normalise.run, requires=("ingest",), description="canonical names, cases"),
            Phase("decide", decide.run, requires=("normalise",), description="replay evidence, decide states"),
            Phase("export", export.run, requires=("decide",), description="advisory_current.json, state_history.csv"),
            Phase("report", report.run, requires=("ingest", "normalise", "decide"), description="run_report.md"),
        ]
    )
