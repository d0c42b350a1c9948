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
"""
import json
import os
import signal
import subprocess
import sys
import time


def write(out, name, text):
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        f.write(text)


def record_pids(pids):
    path = os.environ.get("PIDFILE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            for pid in pids:
                f.write(f"{pid}\n")


def main():
    out, behaviour, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if behaviour == "from":
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
    else:
        print(f"unknown behaviour {behaviour}", file=sys.stderr)
        sys.exit(64)


if __name__ == "__main__":
    main()
