"""A small dependency-graph runner.

Phases declare the phases they depend on; :class:`Orchestrator` runs them in
a topological order (ties broken by declaration order), handing each phase
the results of the phases it requires.  Given a checkpoint store (see
:mod:`advisory_pipeline.checkpoints`), it saves each result before running
the next phase.
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
    __slots__ = ("input_dir", "out_dir", "run_id", "generated_at")  # directories are normal paths


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
    """Runs a graph's phases; with a store, each result is checkpointed before the next phase starts."""

    def __init__(self, graph, store=None):
        self.graph = graph
        self.store = store
        self.results = {}

    def run(self, context):
        for phase in self.graph.topological_order():
            started = time.perf_counter()
            result = phase.run(context, {dep: self.results[dep] for dep in phase.requires})
            if self.store is not None:
                self.store.write(phase, result, time.perf_counter() - started)
            self.results[phase.name] = result
        return self.results
