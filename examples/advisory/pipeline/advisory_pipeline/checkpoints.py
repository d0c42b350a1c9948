"""JSON checkpoints of phase results, written when ``--checkpoint-dir`` is given.

The store writes each result to ``<directory>/<nn>-<phase>.json`` and keeps
``<directory>/manifest.json`` (phase, dependencies, file, seconds) up to date.
A result is serialised with :func:`to_json` (records become objects of their
fields), except that the bulk of the data is written compactly: ingest's
observations and decide's transitions as tables, normalise's evidence as
references to the observations by ``obs_id``.

Checkpoints are for inspecting or debugging a run, so they are only written
when asked for: serialising every phase result costs about a quarter of a
large run's time, and this module is only imported then.  (The checkpoints
that compare with the legacy's stage dumps are :mod:`advisory_pipeline.stages`.)
"""

import json
import os

from .errors import InputError
from .model import DecideResult, ExportResult, IngestResult, NormaliseResult, Observation, Record, Transition


def _table(records, fields):
    return {"columns": fields, "rows": [[getattr(record, name) for name in fields] for record in records]}


VIEWS = {  # result type -> what its checkpoint holds
    IngestResult: lambda r: {"fixture_name": r.fixture_name,
                             "observations": _table(r.observations, Observation.__slots__),
                             "overrides": r.overrides, "nvd": r.nvd, "osv": r.osv, "stats": r.stats,
                             "duplicates": r.duplicates},
    NormaliseResult: lambda r: {"duplicates": r.duplicates, "cases": [
        {"advisory_id": case.advisory_id, "cve_id": case.cve_id, "ecosystem": case.ecosystem, "package": case.package,
         "evidence": [o.obs_id for o in case.evidence], "override": case.override, "osv": case.osv, "nvd": case.nvd}
        for case in r.cases]},
    DecideResult: lambda r: {"outcomes": [{name: getattr(o, name) for name in o.__slots__ if name != "carry"}
                                          for o in r.outcomes],
                             "transitions": _table(r.transitions, Transition.__slots__)},
    ExportResult: lambda r: {"files": r.files, "advisories": r.advisories, "history_rows": r.history_rows,
                             "carried_rows": r.carried_rows},
}


def _encode_default(value):
    """json ``default`` hook: records become objects of their fields, datetimes ISO strings."""
    if isinstance(value, Record):
        return {name: getattr(value, name) for name in value.__slots__}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot checkpoint a {type(value).__name__}")


def to_json(value):
    """Serialise a phase result (records, datetimes) as JSON text."""
    return json.dumps(value, default=_encode_default, ensure_ascii=False)


def write_json(handle, value, batch=1000):
    """Write ``to_json(value)``, long lists (a table's rows) a slice at a time so as to bound memory."""
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        for index, (key, item) in enumerate(value.items()):
            handle.write((", " if index else "{") + to_json(key) + ": ")
            write_json(handle, item, batch)
        handle.write("}" if value else "{}")
    elif isinstance(value, list) and len(value) > batch:
        for start in range(0, len(value), batch):
            handle.write((", " if start else "[") + to_json(value[start:start + batch])[1:-1])
        handle.write("]")
    else:
        handle.write(to_json(value))


class CheckpointStore:
    """Checkpoints in ``directory``, which must not be inside the output directory.  Each file is
    written aside, then renamed, so that a checkpoint file is always complete."""

    def __init__(self, directory, forbidden_parent):
        self.directory = os.path.realpath(directory)
        out = os.path.realpath(forbidden_parent)
        if os.path.commonpath([self.directory, out]) == out:
            raise InputError(
                f"checkpoint directory {directory} must not be inside the output directory {forbidden_parent}"
            )
        os.makedirs(self.directory, exist_ok=True)
        self.manifest = []

    def write(self, phase, result, seconds):
        name = f"{len(self.manifest) + 1:02d}-{phase.name}.json"
        path = os.path.join(self.directory, name)
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            write_json(handle, VIEWS[type(result)](result) if type(result) in VIEWS else result)
        os.replace(path + ".tmp", path)
        self.manifest.append({"phase": phase.name, "requires": list(phase.requires), "file": name,
                              "seconds": round(seconds, 4)})
        with open(os.path.join(self.directory, "manifest.json"), "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.manifest, indent=2))
