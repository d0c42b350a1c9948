#!/usr/bin/env python3
"""parity's peak memory against the size of what it compares.

Runs `parity run` on sides that write very large outputs against tiny ones, at growing sizes,
and prints parity's own peak resident set size next to the input size, so the reader sees
whether memory stays flat. The sides are coreutils pipelines (a few MiB each); parity's peak is
read from /proc/PID/status (VmHWM) while it runs and from its own report in results.json
(`measurement.parity_peak_rss_kib`, getrusage of parity alone), and the larger is shown.

    python3 scripts/measure_memory.py            # the documented run (writes ~25 GB, minutes)
    python3 scripts/measure_memory.py --quick    # small sizes, for CI: fails above the goal

Exit status: 0 when every peak is under the goal (200 MiB), 1 otherwise.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

GOAL_MIB = 200
MIB = 1 << 20
GIB = 1 << 30

# Each case: a name, what the large side writes (a shell command; $1 is {out}, $SIZE the
# size in bytes), what the small side writes, and an extra [[compare]] block.
CASES = [
    (
        "text vs 2 lines",
        'yes "a line of text that goes on for a while, the same each time" | head -c "$SIZE" > "$1/big.txt"',
        'printf "one\\ntwo\\n" > "$1/big.txt"',
        "",
    ),
    (
        "text vs an edited copy",
        'seq 1 200000000 | head -c "$SIZE" > "$1/big.txt"',
        'seq 1 200000000 | sed "s/77$/seventy-seven/" | head -c "$SIZE" > "$1/big.txt"',
        "",
    ),
    (
        "binary vs 3 bytes",
        'head -c "$SIZE" /dev/zero > "$1/blob.bin"',
        'printf "abc" > "$1/blob.bin"',
        "",
    ),
    (
        "one JSON string vs a short one",
        'printf \'{"s": "\' > "$1/doc.json"; head -c "$SIZE" /dev/zero | tr "\\0" "x" >> "$1/doc.json"; printf \'"}\' >> "$1/doc.json"',
        'printf \'{"s": "short"}\' > "$1/doc.json"',
        "",
    ),
    (
        "stdout flood vs 2 lines",
        'head -c "$SIZE" /dev/zero | tr "\\0" "y" | fold -w 80',
        'printf "one\\ntwo\\n"',
        '[[compare]]\noutput = "stdout"\nformat = "text"\n',
    ),
]

FULL_SIZES = {
    "text vs 2 lines": [64 * MIB, 256 * MIB, GIB],
    "text vs an edited copy": [64 * MIB, 256 * MIB, GIB],
    "binary vs 3 bytes": [64 * MIB, GIB, 5 * 10**9],
    "one JSON string vs a short one": [64 * MIB, 256 * MIB, 10**9],
    "stdout flood vs 2 lines": [GIB, 5 * 10**9],
}
QUICK_SIZES = {name: [16 * MIB, 128 * MIB] for name, *_ in CASES}


def human(n):
    if n >= 10**9 and n % 10**9 == 0:
        return f"{n // 10**9} GB"
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}" if n % size else f"{n // size} {unit}"
    return f"{n} B"


def config(large, small, extra, size):
    def side(name, script):
        return (
            f"[{name}]\ncmd = [\"sh\", \"-c\", '''SIZE={size}; {script}''', \"side\", \"{{out}}\"]\n"
            'timeout = "30m"\n'
        )

    return (
        side("legacy", large)
        + side("candidate", small)
        + '[suites.main]\nroot = "fixtures"\ninclude = ["*.json"]\n\n'
        + extra
    )


def peak_of(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(parity, workdir, case, size):
    name, large, small, extra = case
    project = os.path.join(workdir, "project")
    shutil.rmtree(project, ignore_errors=True)
    os.makedirs(os.path.join(project, "fixtures"))
    with open(os.path.join(project, "fixtures", "case.json"), "w", encoding="utf-8") as f:
        f.write("{}")
    with open(os.path.join(project, "parity.toml"), "w", encoding="utf-8") as f:
        f.write(config(large, small, extra, size))
    started = time.monotonic()
    process = subprocess.Popen(
        [parity, "run", "--jobs", "2"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    polled = 0
    while process.poll() is None:
        polled = max(polled, peak_of(process.pid))
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    stderr = process.stderr.read().decode("utf-8", "replace")
    results_path = os.path.join(project, "reports", "latest", "results.json")
    try:
        with open(results_path, encoding="utf-8") as f:
            results = json.load(f)
    except (OSError, ValueError):
        sys.exit(f"{name} at {human(size)}: no results.json (exit {process.returncode})\n{stderr}")
    reported = results.get("measurement", {}).get("parity_peak_rss_kib") or 0
    verdict = results["cases"][0]["verdict"]["kind"] if results["cases"] else "none"
    return {
        "case": name,
        "size": size,
        "peak_kib": max(polled, reported),
        "seconds": elapsed,
        "results_bytes": os.path.getsize(results_path),
        "verdict": verdict,
        "exit": process.returncode,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument("--parity", default="target/release/parity", help="the binary")
    parser.add_argument("--workdir", default=None, help="where outputs go (needs the space)")
    args = parser.parse_args()
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    parity = os.path.abspath(args.parity)
    workdir = args.workdir or tempfile.mkdtemp(prefix="parity-memory-")
    os.makedirs(workdir, exist_ok=True)
    rows = []
    try:
        for case in CASES:
            for size in sizes[case[0]]:
                row = measure(parity, workdir, case, size)
                rows.append(row)
                print(
                    f"  {row['case']:<32} {human(row['size']):>9}: peak {row['peak_kib'] / 1024:6.1f} MiB "
                    f"in {row['seconds']:5.1f} s, results.json {human(row['results_bytes'])}, "
                    f"{row['verdict']} (exit {row['exit']})",
                    file=sys.stderr,
                )
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print("| case | input (large side) | parity peak RSS | time | results.json | verdict |")
    print("|---|---:|---:|---:|---:|---|")
    for row in rows:
        print(
            f"| {row['case']} | {human(row['size'])} | {row['peak_kib'] / 1024:.1f} MiB | "
            f"{row['seconds']:.1f} s | {human(row['results_bytes'])} | {row['verdict']} |"
        )
    worst = max(row["peak_kib"] for row in rows) / 1024
    wrong = [r for r in rows if r["verdict"] != "different" or r["exit"] != 1]
    print(f"\nlargest peak {worst:.1f} MiB; goal under {GOAL_MIB} MiB")
    if wrong:
        print(f"unexpected verdicts: {wrong}", file=sys.stderr)
    sys.exit(0 if worst < GOAL_MIB and not wrong else 1)


if __name__ == "__main__":
    main()
