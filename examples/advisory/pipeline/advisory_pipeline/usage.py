"""The command line as argparse defines it: help, the ``phases`` command, usage errors.

:func:`advisory_pipeline.cli.main` parses plain ``run`` command lines itself
and only imports this module for the others, since argparse costs more to
import than a small run takes.
"""

import argparse

from . import cli
from .orchestrator import normal_path
from .phases import build_graph
from .sources import DEFAULT_SOURCE, SOURCES


def parser():
    parser = argparse.ArgumentParser(prog="advisory_pipeline", description="Advisory enrichment pipeline")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every phase on one fixture directory")
    run.add_argument("--input", required=True, type=normal_path, help="directory holding the four input files")
    run.add_argument("--out-dir", required=True, type=normal_path, help="where the outputs are written")
    run.add_argument(
        "--checkpoint-dir",
        type=normal_path,
        default=None,
        help="write debugging checkpoints of every phase here, with timings; not inside the output directory "
        "(default: none are written)",
    )
    run.add_argument(
        "--checkpoints",
        type=normal_path,
        default=None,
        help="write the stage checkpoints 01-ingest.json .. 04-export.json here, comparable with the legacy's "
        "--dump-stages files; may be inside the output directory (default: none are written)",
    )
    run.add_argument(
        "--state",
        type=normal_path,
        default=None,
        help="keep advisories and history in this directory from one run to the next (default: every run "
        "starts afresh)",
    )
    run.add_argument(
        "--source",
        choices=sorted(SOURCES),
        default=DEFAULT_SOURCE,
        help=f"where the observations come from: scanners (observations.json) or feed (vendor_feed.json); "
        f"default {DEFAULT_SOURCE}",
    )
    run.add_argument(
        "--warehouse",
        default=None,
        metavar="SCHEMA",
        help="also load the advisories and the history into this PostgreSQL schema, through psql "
        "(PGHOST, PGPORT, PGUSER, PGDATABASE); default: no database",
    )
    commands.add_parser("phases", help="print the phases in execution order")
    return parser


def main(argv):
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help or a usage error (argparse already printed it)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "phases":
        for phase in build_graph().topological_order():
            requires = ", ".join(phase.requires) or "-"
            print(f"{phase.name:<10} requires {requires:<26} {phase.description}")
        return 0
    return cli.run(
        args.input, args.out_dir, args.checkpoint_dir, args.checkpoints, args.state, args.source, args.warehouse
    )
