#!/usr/bin/env python3
"""A side with chosen behaviour, for parity's integration tests.

usage: side.py OUT_DIR BEHAVIOUR [ARG...]
       side.py OUT_DIR from FIXTURE_FILE SIDE   (behaviour = FIXTURE_FILE's JSON object [SIDE])

Behaviours:
  json TEXT            write TEXT to OUT_DIR/result.json and print it on stdout
  csv TEXT             write TEXT (\\n for newlines) to OUT_DIR/table.csv
  text TEXT            write TEXT (\\n for newlines) to OUT_DIR/notes.txt
  crash CODE           write a partial result, print a traceback-like message, exit CODE
  segfault             kill itself with SIGSEGV
  hang                 start two grandchildren that sleep, record all pids in $PIDFILE, sleep
  leak                 start a background grandchild holding stdout, exit 0 at once
  flood                write to stdout without end
  garbage              write invalid JSON to OUT_DIR/result.json
  nothing              write nothing, exit 0
  alloc MIB            allocate and touch MIB mebibytes, then exit 0
  sleep SECONDS        sleep, then write {"slept": SECONDS}
  env NAME...          write {"NAME": value of $NAME, ...} and print the extra arguments
  spin N               N iterations of deterministic arithmetic, then write {"spun": true}
  shuffle              write {"items": [{"id": "item-1", "value": 1}, ... 8 items]} to
                       OUT_DIR/result.json in a fresh random order (unseeded random.shuffle)
  stamp                write what varies between runs of a real program: OUT_DIR/stamp.json with
                       the current time (microseconds), a fresh uuid4 run id and the eight items in
                       a fresh random order; OUT_DIR/stamp.txt with the same time and run id on
                       their own lines between lines that never change; and OUT_DIR/stamp.csv,
                       rows id,value,seen in a fresh random order, seen being the current time
  flaky RUN CODE       count runs per fixture and side (in FIXTURE_FILE.SIDE.runs, "from" mode
                       only); run number RUN exits CODE, every other run writes {"ok": true}
"""
import datetime
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid


def write(out, name, text):
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        f.write(text)


def record_pids(pids):
    path = os.environ.get("PIDFILE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            for pid in pids:
                f.write(f"{pid}\n")


def shuffled_items():
    items = [{"id": f"item-{i}", "value": i} for i in range(1, 9)]
    random.shuffle(items)
    return items


def count_run(counter):
    """This run's number, counted in the file `counter` (1 for the first run)."""
    try:
        with open(counter, encoding="utf-8") as f:
            done = int(f.read().strip() or 0)
    except FileNotFoundError:
        done = 0
    with open(counter, "w", encoding="utf-8") as f:
        f.write(str(done + 1))
    return done + 1


def main():
    out, behaviour, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    counter = None
    if behaviour == "from":
        counter = f"{args[0]}.{args[1]}.runs"
        with open(args[0], encoding="utf-8") as f:
            spec = json.load(f)[args[1]]
        behaviour, args = spec[0], spec[1:] + args[2:]
    if behaviour == "json":
        write(out, "result.json", args[0])
        print(args[0])
    elif behaviour == "csv":
        write(out, "table.csv", args[0].replace("\\n", "\n"))
    elif behaviour == "text":
        write(out, "notes.txt", args[0].replace("\\n", "\n"))
    elif behaviour == "crash":
        write(out, "result.json", '{"partial": ')
        print("Traceback (most recent call last):\nValueError: fixture broke the parser", file=sys.stderr)
        sys.exit(int(args[0]))
    elif behaviour == "segfault":
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGSEGV)
    elif behaviour == "hang":
        children = [subprocess.Popen(["sleep", "1000"]) for _ in range(2)]
        record_pids([os.getpid()] + [c.pid for c in children])
        time.sleep(1000)
    elif behaviour == "leak":
        child = subprocess.Popen(["sleep", "1000"])
        record_pids([child.pid])
        write(out, "result.json", "{}")
    elif behaviour == "flood":
        line = "x" * 1023 + "\n"
        chunk = line * 1024
        while True:
            sys.stdout.write(chunk)
    elif behaviour == "garbage":
        write(out, "result.json", '{"advisories": [1, 2,, 3]}')
    elif behaviour == "nothing":
        pass
    elif behaviour == "alloc":
        block = bytearray(int(args[0]) * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        write(out, "result.json", json.dumps({"allocated_mib": int(args[0])}))
    elif behaviour == "sleep":
        time.sleep(float(args[0]))
        write(out, "result.json", json.dumps({"slept": float(args[0])}))
    elif behaviour == "spin":
        x = 1
        for i in range(int(args[0])):
            x = (x * 1103515245 + i) % 2147483647
        write(out, "result.json", json.dumps({"spun": True}))
    elif behaviour == "env":
        names = [a for a in args if not a.startswith("--")]
        write(out, "result.json", json.dumps({n: os.environ.get(n) for n in names}, sort_keys=True))
        print(" ".join(a for a in sys.argv[3:] if a.startswith("--")))
    elif behaviour == "shuffle":
        write(out, "result.json", json.dumps({"items": shuffled_items()}))
    elif behaviour == "stamp":
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        run_id = str(uuid.uuid4())
        doc = {"generated_at": now, "run_id": run_id, "count": 8, "items": shuffled_items()}
        write(out, "stamp.json", json.dumps(doc, indent=2))
        write(out, "stamp.txt", f"Stamp report\nGenerated at: {now}\nRun id: {run_id}\nItems: 8\n")
        rows = "".join(f"{item['id']},{item['value']},{now}\n" for item in shuffled_items())
        write(out, "stamp.csv", "id,value,seen\n" + rows)
    elif behaviour == "flaky":
        if counter is None:
            print("flaky needs \"from\" mode to count its runs", file=sys.stderr)
            sys.exit(64)
        if count_run(counter) == int(args[0]):
            print("flaky: failing this run on purpose", file=sys.stderr)
            sys.exit(int(args[1]))
        write(out, "result.json", json.dumps({"ok": True}))
    else:
        print(f"unknown behaviour {behaviour}", file=sys.stderr)
        sys.exit(64)


if __name__ == "__main__":
    main()
