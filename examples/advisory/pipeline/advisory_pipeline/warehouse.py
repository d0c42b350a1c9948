"""``--warehouse SCHEMA``: load the exported advisories and history into PostgreSQL.

The dashboard reads the tables ``advisories`` and ``state_history`` of the schema. They are
bulk-loaded with ``COPY ... FROM STDIN`` in one psql session (no database driver: psql finds
the server from PGHOST/PGPORT/PGUSER/PGDATABASE), then ``warehouse.pg`` names the schema in the
output directory.
"""

import csv
import json
import os
import subprocess

from .errors import PipelineError
from .phases.export import CURRENT_FILE, HISTORY_FILE

MARKER = "warehouse.pg"

TABLES = {
    "advisories": (
        "advisory_id text PRIMARY KEY, cve_id text, package text, ecosystem text, installed_version text, "
        "state text, fixed_version text, confidence double precision, reason_code text, sources text, "
        "dissenting text"
    ),
    "state_history": (
        "advisory_id text, seq integer, observed_at timestamptz, from_state text, to_state text, "
        "source text, reason_code text"
    ),
}


def _field(value):
    # an absent or empty value is NULL (the unquoted empty field), as the dashboard expects
    return "" if value is None or value == "" else '"' + str(value).replace('"', '""') + '"'


HISTORY_TABLE_COLUMNS = ("advisory_id", "seq", "observed_at", "from_state", "to_state", "source", "reason_code")


def _csv(rows):
    return "".join(",".join(_field(v) for v in row) + "\n" for row in rows)


def _advisory_rows(out_dir):
    with open(os.path.join(out_dir, CURRENT_FILE), encoding="utf-8") as f:
        advisories = json.load(f)["advisories"]
    return [
        (
            a["advisory_id"], a["cve_id"], a["package"], a["ecosystem"], a["installed_version"], a["state"],
            a["fixed_version"], repr(a["confidence"]), a["reason_code"],
            ",".join(sorted(a["contributing_sources"])), ",".join(sorted(a["dissenting_sources"])),
        )
        for a in advisories
    ]


def _history_rows(out_dir):
    with open(os.path.join(out_dir, HISTORY_FILE), encoding="utf-8", newline="") as f:
        return [tuple(row[c] for c in HISTORY_TABLE_COLUMNS) for row in csv.DictReader(f)]


def load(out_dir, schema):
    """Creates SCHEMA with both tables and copies the run's exports into them."""
    quoted = '"' + schema.replace('"', '""') + '"'
    script = [f"CREATE SCHEMA {quoted};", f"SET search_path TO {quoted};", "BEGIN;"]
    for table, columns in TABLES.items():
        script.append(f"CREATE TABLE {table} ({columns});")
    # NULL as an unquoted empty field: fixed_version is often absent
    for table, rows in (("advisories", _advisory_rows(out_dir)), ("state_history", _history_rows(out_dir))):
        script.append(f"COPY {table} FROM STDIN WITH (FORMAT csv);")
        script.append(_csv(rows) + "\\.")
    script.append("COMMIT;")
    try:
        done = subprocess.run(
            ["psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--file", "-"],
            input="\n".join(script).encode("utf-8") + b"\n",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise PipelineError(f"cannot run psql: {exc}") from exc
    if done.returncode != 0:
        raise PipelineError("loading the warehouse failed: " + done.stderr.decode("utf-8", "replace").strip())
    with open(os.path.join(out_dir, MARKER), "w", encoding="utf-8") as f:
        f.write(schema + "\n")
