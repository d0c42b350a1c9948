"""A small dependency-graph runner with JSON checkpoints.

Phases declare the phases they depend on; :class:`Orchestrator` runs them in
a topological order (ties broken by declaration order) and writes each
result to ``<checkpoint dir>/<nn>-<phase>.json`` before running the next one.
A result may provide ``checkpoint_view()`` to choose what is written (for
instance to reference records of an earlier checkpoint instead of repeating
them); otherwise the result itself is serialised with :func:`to_json`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from .errors import GraphError, InputError


@dataclass(frozen=True)
class RunContext:
    input_dir: Path
    out_dir: Path
    run_id: str
    generated_at: str


PhaseFn = Callable[[RunContext, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Phase:
    name: str
    run: PhaseFn
    requires: tuple[str, ...] = ()
    description: str = ""


class PhaseGraph:
    def __init__(self, phases: Iterable[Phase] = ()) -> None:
        self._phases: dict[str, Phase] = {}
        for phase in phases:
            self.add(phase)

    def add(self, phase: Phase) -> None:
        if phase.name in self._phases:
            raise GraphError(f"phase declared twice: {phase.name}")
        self._phases[phase.name] = phase

    def __getitem__(self, name: str) -> Phase:
        return self._phases[name]

    def topological_order(self) -> list[Phase]:
        """Kahn's algorithm; among ready phases the earliest declared goes first."""
        declared = list(self._phases)
        for phase in self._phases.values():
            for dep in phase.requires:
                if dep not in self._phases:
                    raise GraphError(f"phase {phase.name!r} requires unknown phase {dep!r}")
        pending = {name: set(self._phases[name].requires) for name in declared}
        order: list[Phase] = []
        while pending:
            ready = [name for name in declared if name in pending and not pending[name]]
            if not ready:
                raise GraphError("dependency cycle between phases: " + ", ".join(sorted(pending)))
            name = ready[0]
            del pending[name]
            for deps in pending.values():
                deps.discard(name)
            order.append(self._phases[name])
        return order


_FIELD_NAMES: dict[type, Optional[tuple[str, ...]]] = {}


def _field_names(kind: type) -> Optional[tuple[str, ...]]:
    """Field names of a dataclass type, None for any other type (memoised)."""
    try:
        return _FIELD_NAMES[kind]
    except KeyError:
        names = tuple(f.name for f in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else None
        _FIELD_NAMES[kind] = names
        return names


def _encode_default(value: Any) -> Any:
    """json ``default`` hook: dataclasses become objects, enums their value, datetimes ISO strings."""
    names = _field_names(type(value))
    if names is not None:
        return {name: getattr(value, name) for name in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot checkpoint a {type(value).__name__}")


def to_json(value: Any) -> str:
    """Serialise a phase result (dataclasses, enums, datetimes, paths) as JSON text."""
    return json.dumps(value, default=_encode_default, ensure_ascii=False)


class CheckpointStore:
    """Where phase results go.  A temporary store is deleted on close."""

    def __init__(self, directory: Optional[Path], forbidden_parent: Path) -> None:
        self._temporary = directory is None
        if directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="advisory-checkpoints-"))
        else:
            self.directory = directory.resolve()
            out = forbidden_parent.resolve()
            if self.directory == out or out in self.directory.parents:
                raise InputError(
                    f"checkpoint directory {directory} must not be inside the output directory {forbidden_parent}"
                )
            self.directory.mkdir(parents=True, exist_ok=True)
        self._index = 0
        self.manifest: list[dict[str, Any]] = []

    def write(self, phase: Phase, result: Any, seconds: float) -> Path:
        self._index += 1
        path = self.directory / f"{self._index:02d}-{phase.name}.json"
        tmp = path.with_suffix(".json.tmp")
        view = result.checkpoint_view() if hasattr(result, "checkpoint_view") else result
        tmp.write_text(to_json(view), encoding="utf-8")
        os.replace(tmp, path)
        self.manifest.append(
            {"phase": phase.name, "requires": list(phase.requires), "file": path.name, "seconds": round(seconds, 4)}
        )
        with (self.directory / "manifest.json").open("w", encoding="utf-8") as handle:
            json.dump(self.manifest, handle, indent=2)
        return path

    def close(self) -> None:
        if self._temporary:
            shutil.rmtree(self.directory, ignore_errors=True)


class Orchestrator:
    def __init__(self, graph: PhaseGraph, store: CheckpointStore) -> None:
        self.graph = graph
        self.store = store
        self.results: dict[str, Any] = {}

    def run(self, context: RunContext) -> dict[str, Any]:
        for phase in self.graph.topological_order():
            inputs = {dep: self.results[dep] for dep in phase.requires}
            started = time.perf_counter()
            result = phase.run(context, inputs)
            self.store.write(phase, result, time.perf_counter() - started)
            self.results[phase.name] = result
        return self.results
