"""Command line: ``python -m advisory_pipeline run --input DIR --out-dir DIR [--source scanners|feed]
[--state DIR] [--checkpoints DIR] [--checkpoint-dir DIR] [--warehouse SCHEMA]``.

The usual command lines are parsed here; anything else (``--help``, the
``phases`` command, abbreviated options, usage errors) is left to
:mod:`advisory_pipeline.usage` and its argparse parser, imported only then.
"""

import os
import sys
import time

from .errors import PipelineError
from .orchestrator import Orchestrator, RunContext, normal_path
from .phases import build_graph
from .sources import DEFAULT_SOURCE, SOURCES

PATH_OPTIONS = ("--input", "--out-dir", "--checkpoint-dir", "--checkpoints", "--state")


def _run_options(argv):
    """{"--input": ..., "--out-dir": ..., ...} of a plain ``run`` command line, else None."""
    if argv[:1] != ["run"]:
        return None
    options, rest = {}, argv[1:]
    while rest:
        option, equals, value = rest.pop(0).partition("=")
        if not equals:  # "--input DIR" rather than "--input=DIR"
            if not rest:
                return None
            value = rest.pop(0)
        if value[:1] == "-":
            return None
        if option == "--source" and value in SOURCES:
            options[option] = value
        elif option == "--warehouse":
            options[option] = value
        elif option in PATH_OPTIONS:
            options[option] = normal_path(value)
        else:
            return None
    return options if "--input" in options and "--out-dir" in options else None


def uuid4():
    """``str(uuid.uuid4())``, without importing uuid (and what it imports)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def utc_now():
    """``datetime.now(timezone.utc).isoformat()``, without importing datetime."""
    seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + (f".{micros:06d}" if micros else "") + "+00:00"


def run(input_dir, out_dir, checkpoint_dir=None, checkpoints=None, state_dir=None, source=DEFAULT_SOURCE,
        warehouse=None):
    """Run every phase; the exit status (errors are reported on stderr)."""
    try:
        stores = []
        if checkpoint_dir is not None:
            from .checkpoints import CheckpointStore

            stores.append(CheckpointStore(checkpoint_dir, forbidden_parent=out_dir))
        if checkpoints is not None:
            from .stages import StageStore

            stores.append(StageStore(checkpoints))
        context = RunContext(input_dir, out_dir, uuid4(), utc_now(), SOURCES[source], state_dir)
        Orchestrator(build_graph(), stores).run(context)
        if warehouse is not None:
            from . import warehouse as tables

            tables.load(out_dir, warehouse)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    options = _run_options(argv)
    if options is None:
        from .usage import main

        return main(argv)
    return run(options["--input"], options["--out-dir"], options.get("--checkpoint-dir"), options.get("--checkpoints"),
               options.get("--state"), options.get("--source", DEFAULT_SOURCE), options.get("--warehouse"))
