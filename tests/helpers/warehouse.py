"""A side that loads a SQLite warehouse, and the converters that dump it, for parity's tests.

    warehouse.py write SIDE FIXTURE DB   load DB as fixture (JSON) says for SIDE
    warehouse.py dump DB TABLE           print TABLE as CSV with a header, rows as stored
    warehouse.py hang PIDFILE            start a child, write both pids, sleep (a converter that hangs)

A fixture: {"rows": N, "legacy": {...}, "candidate": {...}} where each side may say
"reverse": true (insert rows in the other order), "change": {"id": ID, "severity": "...",
"score": X} or a list of such changes (either field may be left out), "drop": ID (leave a row
out), "add": ID (one more row), "fail": true (exit 3 without a database).
"""
import csv
import json
import os
import sqlite3
import subprocess
import sys
import time


def write(side, fixture, path):
    spec = json.load(open(fixture))
    mine = spec.get(side, {})
    if mine.get("fail"):
        sys.exit(3)
    ids = [i for i in range(spec["rows"]) if i != mine.get("drop")]
    if "add" in mine:
        ids.append(mine["add"])
    if mine.get("reverse"):
        ids.reverse()
    changes = mine.get("change", [])
    changes = {c["id"]: c for c in ([changes] if isinstance(changes, dict) else changes)}
    db = sqlite3.connect(path)
    # No primary key: rows come back in the order they were loaded, as from many warehouses.
    db.execute("create table advisories (id integer not null, package text, severity text, score real)")
    db.execute("create table history (id integer not null, advisory integer, state text)")
    rows = []
    for i in ids:
        change = changes.get(i, {})
        severity = change.get("severity", "high" if i % 3 else "low")
        score = change.get("score", (i % 100) / 10)
        rows.append((i, "pkg-%d" % (i % 5000), severity, score))
    db.executemany("insert into advisories values (?,?,?,?)", rows)
    db.executemany("insert into history values (?,?,?)", [(i, i, "open") for i in sorted(ids)[:10]])
    db.commit()


def dump(path, table):
    db = sqlite3.connect(path)
    cursor = db.execute('select * from "%s"' % table.replace('"', '""'))
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow([d[0] for d in cursor.description])
    out.writerows(cursor)


def hang(pidfile):
    child = subprocess.Popen(["sleep", "300"])
    with open(pidfile, "a") as f:
        f.write("%d\n%d\n" % (os.getpid(), child.pid))
    time.sleep(300)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"write": write, "dump": dump, "hang": hang}[command](*args)
