#!/usr/bin/env python3
"""Measure parity's keyed diff against an anchor measured in the same run, and against the tools
people use today.

1. Two NDJSON files of ~200 MB (records shuffled independently, 1% changed): parity's wall time
   next to a single-threaded serde_json parse of both files (`examples/parse_baseline.rs`), and
   parity's peak RSS at 1x and 4x the size.
   Targets: time <= 1.25x the parse, peak RSS at 4x <= 1.5x the peak RSS at 1x.
2. Python DeepDiff (pip) on a ~10 MB JSON document (records keyed with group_by) and csv-diff (pip)
   on a ~50 MB CSV (--key), against parity on the same inputs; ratios printed.

Every number comes from this one run on this machine. Times are the median of --repeat runs;
peak RSS comes from GNU time (/usr/bin/time).

usage: python3 scripts/bench_diff.py [--workdir DIR] [--scale F] [--repeat N] [--quick]
  --scale F   multiply every input size by F (default 1.0)
  --quick     tiny inputs, one repeat, targets not enforced: checks that the script works
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARITY = ROOT / "target" / "release" / "parity"
BASELINE = ROOT / "target" / "release" / "examples" / "parse_baseline"
GNU_TIME = "/usr/bin/time"

STATES = ["affected", "fixed", "not_affected", "under_investigation"]
SOURCES = ["nvd", "osv", "grype", "trivy", "snyk", "dependabot"]


def record(i, rng):
    return {
        "id": i,
        "advisory_id": f"pypi:pkg-{i % 5000}:CVE-2025-{i:07d}",
        "package": f"pkg-{i % 5000}",
        "state": STATES[i % 4],
        "confidence": round(rng.random(), 6),
        "sources": rng.sample(SOURCES, 3),
        "explanation": f"2 of 3 scanners report pkg-{i % 5000} as vulnerable in 1.{i % 17}.{i % 11}",
    }


def changed(rec):
    out = dict(rec)
    out["state"] = "fixed" if rec["state"] != "fixed" else "affected"
    return out


def records(n, seed):
    """Left and right records: the same n records, 1% changed on the right."""
    rng = random.Random(seed)
    left = [record(i, rng) for i in range(n)]
    right = list(left)
    for i in rng.sample(range(n), max(1, n // 100)):
        right[i] = changed(left[i])
    return left, right, rng


def write_ndjson(path, recs, rng):
    lines = [json.dumps(r, separators=(",", ":")) for r in recs]
    rng.shuffle(lines)
    with open(path, "w") as f:
        f.write("\n".join(lines))
        f.write("\n")


def gen_ndjson(workdir, n, tag):
    left, right, rng = records(n, 7)
    lp, rp = workdir / f"left{tag}.ndjson", workdir / f"right{tag}.ndjson"
    write_ndjson(lp, left, rng)
    write_ndjson(rp, right, rng)
    return lp, rp


def gen_json(workdir, n):
    left, right, rng = records(n, 11)
    rng.shuffle(left)
    rng.shuffle(right)
    lp, rp = workdir / "left.json", workdir / "right.json"
    lp.write_text(json.dumps({"generated_at": "x", "advisories": left}))
    rp.write_text(json.dumps({"generated_at": "x", "advisories": right}))
    return lp, rp


def gen_csv(workdir, n):
    left, right, rng = records(n, 13)
    cols = ["id", "advisory_id", "package", "state", "confidence", "explanation"]

    def write(path, recs):
        rows = [",".join(str(r[c]) for c in cols) for r in recs]
        rng.shuffle(rows)
        with open(path, "w") as f:
            f.write(",".join(cols) + "\n")
            f.write("\n".join(rows))
            f.write("\n")

    lp, rp = workdir / "left.csv", workdir / "right.csv"
    write(lp, left)
    write(rp, right)
    return lp, rp


def timed(cmd, ok=(0,), **kwargs):
    """Runs cmd under GNU time; returns (wall seconds, peak RSS KiB)."""
    out = subprocess.run([GNU_TIME, "-f", "%e %M", *map(str, cmd)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, **kwargs)
    if out.returncode not in ok:
        sys.exit(f"{cmd[0]} exited {out.returncode}:\n{out.stderr}")
    wall, rss = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss)


def median_run(cmd, repeat, ok=(0,), **kwargs):
    runs = [timed(cmd, ok, **kwargs) for _ in range(repeat)]
    return statistics.median(w for w, _ in runs), max(r for _, r in runs)


def settle():
    """Flushes written files to disk, so a tool that writes (parity's partitions) is not
    throttled by the write-back of the inputs just generated."""
    os.sync()
    time.sleep(2)


def interleaved(a, b, repeat):
    """Runs two commands alternately, `repeat` times each; median time and peak RSS of each."""
    runs_a, runs_b = [], []
    for _ in range(repeat):
        runs_a.append(timed(*a))
        runs_b.append(timed(*b))
    pick = lambda runs: (statistics.median(w for w, _ in runs), max(r for _, r in runs))
    return pick(runs_a), pick(runs_b)


def ratio(a, b):
    """a / b, with GNU time's 10 ms resolution as the floor of b."""
    return a / max(b, 0.01)


def mib(kib):
    return f"{kib / 1024:.0f} MiB"


def size(path):
    return f"{path.stat().st_size / 1e6:.0f} MB"


def venv_python(workdir):
    venv = workdir / "venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "deepdiff==8.6.1", "csv-diff==1.2"], check=True)
    return python


DEEPDIFF = """
import json, sys, time
from deepdiff import DeepDiff
t = time.perf_counter()
left = json.load(open(sys.argv[1]))["advisories"]
right = json.load(open(sys.argv[2]))["advisories"]
diff = DeepDiff(left, right, group_by="id")
print(json.dumps({"seconds": time.perf_counter() - t, "changes": sum(len(v) for v in diff.values())}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "parity-bench")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    scale = 0.005 if args.quick else args.scale
    repeat = 1 if args.quick else args.repeat
    if not Path(GNU_TIME).exists():
        sys.exit("GNU time is needed at /usr/bin/time (Debian package `time`)")
    args.workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "parity", "--example", "parse_baseline"],
                   cwd=ROOT, check=True)

    # ~240 bytes a record: 850k records is ~200 MB a side.
    n1 = max(1000, int(850_000 * scale))
    print(f"generating NDJSON: {n1} and {4 * n1} records a side …", file=sys.stderr)
    l1, r1 = gen_ndjson(args.workdir, n1, "1x")
    l4, r4 = gen_ndjson(args.workdir, 4 * n1, "4x")
    settle()
    parity_ndjson = [PARITY, "diff", "--key", "id", "--output", "json"]
    (base_t, _), (par_t, par_rss1) = interleaved(([BASELINE, l1, r1],), ([*parity_ndjson, l1, r1], (1,)), repeat)
    _, par_rss4 = median_run([*parity_ndjson, l4, r4], 1, ok=(1,))
    time_ratio = ratio(par_t, base_t)
    mem_ratio = par_rss4 / par_rss1

    python = venv_python(args.workdir)
    n_json = max(200, int(40_000 * scale))
    lj, rj = gen_json(args.workdir, n_json)
    settle()
    dd = subprocess.run([str(python), "-c", DEEPDIFF, str(lj), str(rj)], capture_output=True, text=True, check=True)
    dd_t = json.loads(dd.stdout)["seconds"]
    pj_t, _ = median_run([PARITY, "diff", "--key", "$.advisories=id", "--output", "json", lj, rj], repeat, ok=(1,))

    n_csv = max(500, int(400_000 * scale))
    lc, rc = gen_csv(args.workdir, n_csv)
    settle()
    csvdiff = shutil.which("csv-diff", path=str(python.parent))
    cd_t, _ = median_run([csvdiff, lc, rc, "--key=id", "--json"], 1, ok=(0, 1))
    pc_t, _ = median_run([PARITY, "diff", "--key", "id", "--output", "json", lc, rc], repeat, ok=(1,))

    rows = [
        ("keyed NDJSON diff vs serde_json parse of both files", f"{size(l1)} a side",
         f"{par_t:.2f} s", f"{base_t:.2f} s (parse)", f"{time_ratio:.2f}x", "<= 1.25x"),
        ("peak RSS at 4x vs 1x the input", f"{size(l4)} vs {size(l1)} a side",
         mib(par_rss4), mib(par_rss1), f"{mem_ratio:.2f}x", "<= 1.5x"),
        ("JSON document, records keyed by id", f"{size(lj)} a side",
         f"{pj_t:.2f} s", f"{dd_t:.2f} s (DeepDiff group_by)", f"{ratio(dd_t, pj_t):.1f}x faster", ""),
        ("CSV, rows keyed by id", f"{size(lc)} a side",
         f"{pc_t:.2f} s", f"{cd_t:.2f} s (csv-diff --key)", f"{ratio(cd_t, pc_t):.1f}x faster", ""),
    ]
    print(f"\nparity {PARITY} on {os.cpu_count()} cores; times are medians of {repeat} run(s)\n")
    print("| measurement | input | parity | reference | ratio | target |")
    print("|---|---|---:|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    failed = [] if args.quick else [
        name for name, ok in [("time", time_ratio <= 1.25), ("memory", mem_ratio <= 1.5)] if not ok
    ]
    if failed:
        sys.exit(f"\ntargets missed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
