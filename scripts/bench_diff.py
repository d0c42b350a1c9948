#!/usr/bin/env python3
"""Measure parity's keyed diff against an anchor measured in the same run, and against the tools
Python teams use today.

1. Two NDJSON files of ~200 MB (records shuffled independently, 1% changed): parity's wall time
   next to a single-threaded serde_json parse of both files (`examples/parse_baseline.rs`), and
   parity's peak RSS at 1x and 4x the size.
   Targets: time <= 1.25x the parse, peak RSS at 4x <= 1.5x the peak RSS at 1x.
2. The peers, installed with pip in a throw-away venv under --workdir (DeepDiff 9, csv-diff 1.2):
   - a JSON document of 50,000 records (~12 MB a side) keyed by id: DeepDiff with
     `group_by="id"` against `parity diff --key '$.advisories=id'`;
     targets: parity >= 50x faster, and a smaller peak RSS than DeepDiff's;
   - a CSV of 700,000 rows (~47 MB a side) keyed by id: `csv-diff --key=id` against
     `parity diff --key id`; target: parity >= 10x faster.
   Every tool must find the same number of changes (500 and 7,000), or the script fails.

Every number comes from this one run on this machine: each tool runs as its own process under
GNU time (/usr/bin/time: wall time, peak RSS), peers and parity alternate, and times are the
median of --repeat runs (peak RSS the largest). parity uses both cores; DeepDiff and csv-diff
one. The machine's load (`uptime`) is printed with the table.

usage: python3 scripts/bench_diff.py [--workdir DIR] [--scale F] [--repeat N] [--peers-only] [--quick]
  --scale F      multiply every input size by F (default 1.0)
  --repeat N     runs of each measurement (default 3)
  --peers-only   skip the NDJSON part (1)
  --quick        tiny inputs, one repeat, targets not enforced: checks that the script works
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
    """A document of n records a side: {"generated_at": ..., "advisories": [...]}, each side
    shuffled on its own, 1% of the records' states changed on the right."""
    left, right, rng = records(n, 11)
    rng.shuffle(left)
    rng.shuffle(right)
    lp, rp = workdir / "left.json", workdir / "right.json"
    lp.write_text(json.dumps({"generated_at": "x", "advisories": left}))
    rp.write_text(json.dumps({"generated_at": "x", "advisories": right}))
    return lp, rp


def gen_csv(workdir, n):
    """n rows a side keyed by id, each side shuffled on its own, 1% of the states changed."""
    left, right, rng = records(n, 13)
    cols = ["id", "advisory_id", "package", "state", "confidence"]

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
    """Runs cmd under GNU time; returns (wall seconds, peak RSS KiB, stdout)."""
    out = subprocess.run([GNU_TIME, "-f", "%e %M", "-o", str(TIME_FILE), *map(str, cmd)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    if out.returncode not in ok:
        sys.exit(f"{cmd[0]} exited {out.returncode}:\n{out.stderr[-2000:]}")
    wall, rss = TIME_FILE.read_text().strip().splitlines()[-1].split()
    return float(wall), int(rss), out.stdout


def median_run(cmd, repeat, ok=(0,), **kwargs):
    runs = [timed(cmd, ok, **kwargs) for _ in range(repeat)]
    return statistics.median(w for w, _, _ in runs), max(r for _, r, _ in runs), runs[-1][2]


def settle():
    """Flushes written files to disk, so a tool that writes (parity's partitions) is not
    throttled by the write-back of the inputs just generated."""
    os.sync()
    time.sleep(2)


def interleaved(a, b, repeat):
    """Runs two commands alternately, `repeat` times each; median time, peak RSS and the last
    output of each."""
    runs_a, runs_b = [], []
    for _ in range(repeat):
        runs_a.append(timed(*a))
        runs_b.append(timed(*b))
    pick = lambda runs: (statistics.median(w for w, _, _ in runs), max(r for _, r, _ in runs), runs[-1][2])
    return pick(runs_a), pick(runs_b)


def ratio(a, b):
    """a / b, with GNU time's 10 ms resolution as the floor of b."""
    return a / max(b, 0.01)


def mib(kib):
    return f"{kib / 1024:.0f} MiB"


def size(path):
    return f"{path.stat().st_size / 1e6:.0f} MB"


PEERS = ["deepdiff==9.1.0", "csv-diff==1.2"]


def venv_python(workdir):
    """A venv under workdir holding the peers at their pinned versions (made once, reused
    while the pins stay the same; delete workdir to start afresh)."""
    venv = workdir / "venv"
    python = venv / "bin" / "python"
    stamp = venv / "peers.txt"
    if not python.exists() or not stamp.exists() or stamp.read_text() != "\n".join(PEERS):
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS], check=True)
        stamp.write_text("\n".join(PEERS))
    return python


# What a Python team runs: load both documents, diff the records grouped by id.
DEEPDIFF = """
import json, sys
from deepdiff import DeepDiff
left = json.load(open(sys.argv[1]))["advisories"]
right = json.load(open(sys.argv[2]))["advisories"]
diff = DeepDiff(left, right, group_by="id")
print(json.dumps({"changes": sum(len(v) for v in diff.values())}))
"""


def parity_total(stdout):
    return json.loads(stdout)["total"]


def ndjson_rows(args, scale, repeat):
    """The NDJSON rows: parity against a parse of both files, and its memory at 4x the size."""
    # ~240 bytes a record: 850k records is ~200 MB a side.
    n1 = max(1000, int(850_000 * scale))
    print(f"generating NDJSON: {n1} and {4 * n1} records a side …", file=sys.stderr)
    l1, r1 = gen_ndjson(args.workdir, n1, "1x")
    l4, r4 = gen_ndjson(args.workdir, 4 * n1, "4x")
    settle()
    parity_ndjson = [PARITY, "diff", "--key", "id", "--output", "json"]
    (base_t, _, _), (par_t, par_rss1, _) = interleaved(([BASELINE, l1, r1],), ([*parity_ndjson, l1, r1], (1,)), repeat)
    _, par_rss4, _ = median_run([*parity_ndjson, l4, r4], 1, ok=(1,))
    for path in (l4, r4):
        path.unlink()
    time_ratio = ratio(par_t, base_t)
    mem_ratio = par_rss4 / par_rss1
    rows = [
        ("keyed NDJSON diff vs serde_json parse of both files", f"{size(l1)} a side",
         f"{par_t:.2f} s", f"{base_t:.2f} s (parse)", f"{time_ratio:.2f}x", "<= 1.25x"),
        ("peak RSS at 4x vs 1x the input", f"{4 * l1.stat().st_size / 1e6:.0f} MB vs {size(l1)} a side",
         mib(par_rss4), mib(par_rss1), f"{mem_ratio:.2f}x", "<= 1.5x"),
    ]
    checks = [("NDJSON time", time_ratio <= 1.25), ("NDJSON memory", mem_ratio <= 1.5)]
    return rows, checks


def peer_rows(args, scale, repeat):
    """The peers on the issue's inputs, each alternating with parity on the same files."""
    python = venv_python(args.workdir)
    n_json = max(200, int(50_000 * scale))
    print(f"generating JSON: {n_json} records a side …", file=sys.stderr)
    lj, rj = gen_json(args.workdir, n_json)
    settle()
    (dd_t, dd_rss, dd_out), (pj_t, pj_rss, pj_out) = interleaved(
        ([python, "-c", DEEPDIFF, lj, rj],),
        ([PARITY, "diff", "--key", "$.advisories=id", "--output", "json", lj, rj], (1,)),
        repeat,
    )
    dd_changes, pj_changes = json.loads(dd_out)["changes"], parity_total(pj_out)

    n_csv = max(500, int(700_000 * scale))
    print(f"generating CSV: {n_csv} rows a side …", file=sys.stderr)
    lc, rc = gen_csv(args.workdir, n_csv)
    settle()
    csvdiff = shutil.which("csv-diff", path=str(python.parent))
    (cd_t, cd_rss, cd_out), (pc_t, pc_rss, pc_out) = interleaved(
        ([csvdiff, lc, rc, "--key=id", "--json"], (0, 1)),
        ([PARITY, "diff", "--key", "id", "--output", "json", lc, rc], (1,)),
        repeat,
    )
    cd_changes, pc_changes = len(json.loads(cd_out)["changed"]), parity_total(pc_out)

    json_speed, csv_speed = ratio(dd_t, pj_t), ratio(cd_t, pc_t)
    input_kib = lj.stat().st_size / 1024
    rows = [
        ("JSON document, records keyed by id", f"{size(lj)} a side, {n_json} records",
         f"{pj_t:.2f} s, {mib(pj_rss)}", f"{dd_t:.2f} s, {mib(dd_rss)} (DeepDiff 9 `group_by`)",
         f"{json_speed:.0f}x faster, {pj_rss / dd_rss:.2f}x the memory ({pj_rss / input_kib:.1f}x one input)",
         ">= 50x, less memory"),
        ("CSV, rows keyed by id", f"{size(lc)} a side, {n_csv} rows",
         f"{pc_t:.2f} s, {mib(pc_rss)}", f"{cd_t:.2f} s, {mib(cd_rss)} (csv-diff 1.2 `--key`)",
         f"{csv_speed:.1f}x faster", ">= 10x"),
    ]
    checks = [
        (f"same changes found in JSON (DeepDiff {dd_changes}, parity {pj_changes})", dd_changes == pj_changes),
        (f"same changes found in CSV (csv-diff {cd_changes}, parity {pc_changes})", cd_changes == pc_changes),
        ("JSON speed", json_speed >= 50),
        ("JSON memory", pj_rss < dd_rss),
        ("CSV speed", csv_speed >= 10),
    ]
    return rows, checks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "parity-bench")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--peers-only", action="store_true")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    scale = 0.005 if args.quick else args.scale
    repeat = 1 if args.quick else args.repeat
    if not Path(GNU_TIME).exists():
        sys.exit("GNU time is needed at /usr/bin/time (Debian package `time`: apt-get install time)")
    args.workdir.mkdir(parents=True, exist_ok=True)
    global TIME_FILE
    TIME_FILE = args.workdir / "time.txt"
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "parity", "--example", "parse_baseline"],
                   cwd=ROOT, check=True)

    rows, checks = [], []
    if not args.peers_only:
        more_rows, more_checks = ndjson_rows(args, scale, repeat)
        rows += more_rows
        checks += more_checks
    more_rows, more_checks = peer_rows(args, scale, repeat)
    rows += more_rows
    checks += more_checks

    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"\nparity {PARITY} on {os.cpu_count()} cores; times are medians of {repeat} run(s), "
          f"memory the peak RSS; {load}\n")
    print("| measurement | input | parity | reference | ratio | target |")
    print("|---|---|---:|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    # Agreement is checked even on tiny inputs; the targets only on real ones.
    failed = [name for name, ok in checks if not ok and (not args.quick or name.startswith("same"))]
    if failed:
        sys.exit("\ntargets missed: " + "; ".join(failed))


TIME_FILE = Path("/dev/null")

if __name__ == "__main__":
    main()
