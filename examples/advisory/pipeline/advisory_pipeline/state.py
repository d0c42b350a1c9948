"""State kept across runs (``--state DIR``), in ``DIR/pipeline_state.sqlite3``.

A run reads the state in ingest and writes the next one in export, after its
outputs: a :class:`StateSnapshot` of every advisory seen so far (state, last
seq, each scanner's latest report, installed version, override in force,
latest event) and every history row so far.  The file is written aside and
renamed, so that a failed run leaves the previous state as it was.

Tables: ``meta`` (format, schema version, source, runs), ``advisories``,
``reports`` (the latest report per scanner, in first-seen order) and
``history``.  A state directory holding anything else the pipeline recognises
— the legacy jobs' ``advisory_state.json``, another source's state, another
schema version, a file that is not such a database — is refused with a
:class:`StateError` (exit 3) rather than guessed at.  sqlite3 is imported only
by runs given ``--state``.
"""

import json
import os
import sqlite3

from .errors import StateError
from .model import CarriedAdvisory, Observation, Override, StateSnapshot, Transition

STATE_FILE = "pipeline_state.sqlite3"
FORMAT = "advisory_pipeline.state"
SCHEMA_VERSION = "1"
FOREIGN_FILES = {"advisory_state.json": "the legacy advisory_enrich job's"}

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisories (advisory_id TEXT PRIMARY KEY, cve_id TEXT NOT NULL, ecosystem TEXT NOT NULL,
    package TEXT NOT NULL, state TEXT NOT NULL, seq INTEGER NOT NULL, installed TEXT NOT NULL,
    override TEXT, last_seen TEXT NOT NULL);
CREATE TABLE reports (advisory_id TEXT NOT NULL, position INTEGER NOT NULL, source TEXT NOT NULL,
    signal TEXT NOT NULL, weight REAL NOT NULL, observed_at TEXT NOT NULL, PRIMARY KEY (advisory_id, position));
CREATE TABLE history (advisory_id TEXT NOT NULL, seq INTEGER NOT NULL, observed_at TEXT NOT NULL,
    from_state TEXT, to_state TEXT NOT NULL, source TEXT NOT NULL, reason_code TEXT NOT NULL,
    PRIMARY KEY (advisory_id, seq));
"""


def _timestamp(text, path):
    from .phases.ingest import parse_timestamp

    moment = parse_timestamp(text)
    if moment is None:
        raise StateError(f"state file {path} is damaged: {text!r} is not a timestamp")
    return moment


def _check_meta(meta, path, source):
    if meta.get("format") != FORMAT:
        raise StateError(f"state file {path} is not {FORMAT} state")
    if meta.get("schema") != SCHEMA_VERSION:
        raise StateError(f"state file {path} has schema version {meta.get('schema')}; "
                         f"this pipeline reads version {SCHEMA_VERSION}")
    if meta.get("source") != source:
        raise StateError(f"state file {path} holds state of source {meta.get('source')!r}, not {source!r}; "
                         "give each source a state directory of its own")


def load_state(directory, source):
    """The :class:`StateSnapshot` in ``directory`` (an empty one when there is none yet)."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise StateError(f"state path is not a directory: {directory}")
    path = os.path.join(directory, STATE_FILE)
    if not os.path.isfile(path):
        for name, whose in FOREIGN_FILES.items():
            if os.path.exists(os.path.join(directory, name)):
                raise StateError(f"state directory {directory} holds {whose} state ({name}), which the pipeline "
                                 "cannot read; give each program a state directory of its own")
        return StateSnapshot(0, {}, [])
    try:
        connection = sqlite3.connect(path)
        try:
            meta = dict(connection.execute("SELECT key, value FROM meta"))
            _check_meta(meta, path, source)
            advisories = connection.execute("SELECT advisory_id, cve_id, ecosystem, package, state, seq, installed, "
                                            "override, last_seen FROM advisories ORDER BY rowid").fetchall()
            reports = connection.execute("SELECT advisory_id, source, signal, weight, observed_at FROM reports "
                                         "ORDER BY advisory_id, position").fetchall()
            history = connection.execute("SELECT advisory_id, seq, observed_at, from_state, to_state, source, "
                                         "reason_code FROM history ORDER BY rowid").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise StateError(f"state file {path} is not a pipeline state database: {exc}") from None
    try:
        runs = int(meta["runs"])
    except (KeyError, ValueError):
        raise StateError(f"state file {path} is damaged: no run count") from None
    kept_reports = {}
    for advisory, scanner, signal, weight, observed_at in reports:
        kept_reports.setdefault(advisory, []).append(Observation(
            "", observed_at, _timestamp(observed_at, path), scanner, "", "", "", "", signal, weight))
    carried = {}
    for advisory, cve_id, ecosystem, package, state, seq, installed, override, last_seen in advisories:
        if override is not None:
            fields = json.loads(override)
            override = Override(fields["analyst"], fields["forced_state"], fields["reason"], fields["decided_at"],
                                _timestamp(fields["decided_at"], path))
        carried[advisory] = CarriedAdvisory(advisory, cve_id, ecosystem, package, state, seq, installed,
                                            kept_reports.get(advisory, []), override, last_seen,
                                            _timestamp(last_seen, path))
    rows = [Transition(advisory, seq, observed_at, _timestamp(observed_at, path), from_state, to_state, source,
                       reason) for advisory, seq, observed_at, from_state, to_state, source, reason in history]
    return StateSnapshot(runs, carried, rows)


def save_state(directory, source, snapshot):
    """Write ``snapshot`` as the state in ``directory`` (created if need be), replacing the previous one."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, STATE_FILE)
    aside = path + ".tmp"
    if os.path.exists(aside):
        os.remove(aside)
    connection = sqlite3.connect(aside)
    try:
        connection.executescript(SCHEMA)
        connection.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("format", FORMAT), ("schema", SCHEMA_VERSION), ("source", source), ("runs", str(snapshot.runs))])
        connection.executemany("INSERT INTO advisories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (a.advisory_id, a.cve_id, a.ecosystem, a.package, a.state, a.seq, a.installed,
             None if a.override is None else json.dumps(
                 {"analyst": a.override.analyst, "forced_state": a.override.forced_state,
                  "reason": a.override.reason, "decided_at": a.override.decided_at}, ensure_ascii=False),
             a.last_seen) for a in snapshot.advisories.values()])
        connection.executemany("INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?)", [
            (a.advisory_id, position, r.source, r.signal, r.weight, r.observed_at)
            for a in snapshot.advisories.values() for position, r in enumerate(a.reports)])
        connection.executemany("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?)", [
            (t.advisory_id, t.seq, t.observed_at, t.from_state, t.to_state, t.source, t.reason)
            for t in snapshot.history])
        connection.commit()
    finally:
        connection.close()
    os.replace(aside, path)
