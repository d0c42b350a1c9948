"""A small dependency-graph runner.

Phases declare the phases they depend on; :class:`Orchestrator` runs them in
a topological order (ties broken by declaration order), handing each phase
the results of the phases it requires.  Given checkpoint stores (see
:mod:`advisory_pipeline.checkpoints`), it saves each result in each of them
before running the next phase.
"""

import os
import time

from .errors import GraphError
from .model import Record


def normal_path(text):
    """``text`` as pathlib spells it: no empty or "." components, no trailing slash; "" is "."."""
    lead = "//" if text[:2] == "//" and text[2:3] != "/" else "/" if text[:1] == "/" else ""
    return lead + "/".join(part for part in text.split("/") if part not in ("", ".")) or "."


def child_path(directory, name):
    """``directory / name`` as pathlib spells it (``directory`` is a normal path)."""
    return name if directory == "." else os.path.join(directory, name)


class RunContext(Record):
    """``source``: a :class:`advisory_pipeline.sources.Source`; ``state_dir``: ``--state`` or None."""

    __slots__ = ("input_dir", "out_dir", "run_id", "generated_at", "source", "state_dir")  # directories: normal paths


class Phase(Record):
    """A step: ``run(context, inputs)`` gets the results of the phases it ``requires``, by name."""

    __slots__ = ("name", "run", "requires", "description")


class PhaseGraph:
    def __init__(self, phases):
        self.phases = {}
        for phase in phases:
            if phase.name in self.phases:
                raise GraphError(f"phase declared twice: {phase.name}")
            self.phases[phase.name] = phase

    def topological_order(self):
        """Kahn's algorithm; among ready phases the earliest declared goes first."""
        pending = {}
        for phase in self.phases.values():
            for dep in phase.requires:
                if dep not in self.phases:
                    raise GraphError(f"phase {phase.name!r} requires unknown phase {dep!r}")
            pending[phase.name] = set(phase.requires)
        order = []
        while pending:
            name = next((name for name, deps in pending.items() if not deps), None)
            if name is None:
                raise GraphError("dependency cycle between phases: " + ", ".join(sorted(pending)))
            del pending[name]
            for deps in pending.values():
                deps.discard(name)
            order.append(self.phases[name])
        return order


class Orchestrator:
    """Runs a graph's phases; each result is checkpointed in every store before the next phase starts."""

    def __init__(self, graph, stores=()):
        self.graph = graph
        self.stores = stores
        self.results = {}

    def run(self, context):
        for phase in self.graph.topological_order():
            started = time.perf_counter()
            result = phase.run(context, {dep: self.results[dep] for dep in phase.requires})
            for store in self.stores:
                store.write(phase, result, time.perf_counter() - started)
            self.results[phase.name] = result
        return self.results
