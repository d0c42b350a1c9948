"""Command line: ``python -m advisory_pipeline run --input DIR --out-dir DIR``."""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Sequence

from .errors import PipelineError
from .orchestrator import CheckpointStore, Orchestrator, RunContext
from .phases import build_graph


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="advisory_pipeline", description="Advisory enrichment pipeline")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every phase on one fixture directory")
    run.add_argument("--input", required=True, type=Path, help="directory holding the four input files")
    run.add_argument("--out-dir", required=True, type=Path, help="where the outputs are written")
    run.add_argument(
        "--checkpoint-dir",
        type=Path,
        default=None,
        help="keep phase checkpoints here (default: a temporary directory removed at the end)",
    )
    commands.add_parser("phases", help="print the phases in execution order")
    return parser


def run(input_dir: Path, out_dir: Path, checkpoint_dir: Optional[Path]) -> None:
    context = RunContext(
        input_dir=input_dir,
        out_dir=out_dir,
        run_id=str(uuid.uuid4()),
        generated_at=datetime.now(timezone.utc).isoformat(),
    )
    store = CheckpointStore(checkpoint_dir, forbidden_parent=out_dir)
    try:
        Orchestrator(build_graph(), store).run(context)
    finally:
        store.close()


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help or a usage error (argparse already printed it)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "phases":
        for phase in build_graph().topological_order():
            requires = ", ".join(phase.requires) or "-"
            print(f"{phase.name:<10} requires {requires:<26} {phase.description}")
        return 0
    try:
        run(args.input, args.out_dir, args.checkpoint_dir)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
