#!/usr/bin/env python3
"""Validate parity's performance gate with sides of known cost, and print how often it is right.

Sides are `examples/spin.rs`: a fixed integer recurrence (the same instructions every run) and an
optional allocation. Each verdict is one `parity bench` over one fixture with its own seed.

  identical   legacy and candidate do the same work            -> never `exceeded` (<= 1%, >= 100 verdicts)
  +5%         the candidate does 5% more work (the budget edge)  -> reported, no target
  +10%        10% more work                                      -> `exceeded` in >= 95%
  +20%        20% more work                                      -> `exceeded` always
  memory 1x   the same allocation                                -> `within`
  memory 2x   the candidate allocates twice as much              -> `exceeded` always
  pairs       at most 60 pairs per verdict
  peak RSS    parity's figure for a 100 MiB side within +-max(1 MiB, 1%) of GNU time's

Times and memory are measured by parity itself (CPU = user + system time via wait4); the gate runs
with its defaults (10 pairs, up to 60, 1 warm-up, confidence 0.95) on the metric under test.

usage: python3 scripts/validate_gate.py [--verdicts N] [--work MS] [--quick]
  --verdicts N   verdicts for the identical scenario (default 100; others scale from it)
  --work MS      CPU work of the baseline side, in ~milliseconds (default 30)
  --quick        a few verdicts per scenario, targets not enforced: checks that the script works
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARITY = ROOT / "target" / "release" / "parity"
SPIN = ROOT / "target" / "release" / "examples" / "spin"
GNU_TIME = "/usr/bin/time"


def config(workdir, legacy_args, candidate_args):
    """A parity.toml whose sides are `spin` with the given arguments, and one fixture."""
    fixtures = workdir / "fixtures"
    fixtures.mkdir(exist_ok=True)
    (fixtures / "case").write_text("one fixture\n")
    side = lambda args: json.dumps([str(SPIN), *map(str, args), "--out", "{out}"])
    text = f"""
[legacy]
cmd = {side(legacy_args)}
[candidate]
cmd = {side(candidate_args)}
[suites.gate]
root = "fixtures"
include = ["*"]
[[compare]]
output = "result.json"
format = "json"
"""
    path = workdir / "parity.toml"
    path.write_text(text)
    return path


def verdict(cfg, gate, seed, out):
    """One `parity bench`; returns (verdict of the gating metric, pairs used, results)."""
    run = subprocess.run(
        [PARITY, "bench", "--config", cfg, "--gate", gate, "--seed", str(seed), "--out", out, "--format", "json"],
        capture_output=True, text=True)
    if run.returncode not in (0, 3):
        sys.exit(f"parity bench exited {run.returncode}:\n{run.stderr}")
    results = json.loads(run.stdout)
    case = results["cases"][0]["bench"]
    return case["metrics"][gate]["verdict"], len(case["pairs"]), case


def scenario(name, workdir, legacy_args, candidate_args, gate, verdicts, seed0):
    sub = workdir / name.replace(" ", "-").replace("%", "pct").replace("+", "plus")
    sub.mkdir(parents=True, exist_ok=True)
    cfg = config(sub, legacy_args, candidate_args)
    counts = {"within": 0, "inconclusive": 0, "exceeded": 0}
    pairs = []
    last = None
    for i in range(verdicts):
        v, n, last = verdict(cfg, gate, seed0 + i, sub / "out")
        counts[v] += 1
        pairs.append(n)
        print(f"  {name}: {i + 1}/{verdicts} {v} ({n} pairs)", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    return {"name": name, "verdicts": verdicts, **counts, "pairs_median": statistics.median(pairs),
            "pairs_max": max(pairs), "last": last}


def rss_accuracy(workdir, mib):
    """parity's candidate peak RSS for a MIB allocation next to GNU time's, in KiB."""
    out = subprocess.run([GNU_TIME, "-f", "%M", SPIN, "--work", "1", "--alloc", str(mib)],
                         capture_output=True, text=True, check=True)
    gnu = int(out.stderr.strip().splitlines()[-1])
    sub = workdir / "rss"
    sub.mkdir(exist_ok=True)
    cfg = config(sub, ["--work", "1", "--alloc", mib], ["--work", "1", "--alloc", mib])
    _, _, case = verdict(cfg, "memory", 1, sub / "out")
    parity = statistics.median(p["candidate"]["rss_kib"] for p in case["pairs"] if p["valid"])
    return gnu, parity


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verdicts", type=int, default=100)
    ap.add_argument("--work", type=float, default=30.0)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 3 if args.quick else args.verdicts
    w = args.work
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "parity", "--example", "spin"], cwd=ROOT, check=True)
    workdir = Path(tempfile.mkdtemp(prefix="parity-gate-"))
    work = lambda factor: ["--work", f"{w * factor:.3f}"]
    rows = [
        (scenario("identical", workdir, work(1.0), work(1.0), "cpu", n, 1_000), "exceeded", 0.01),
        (scenario("+5%", workdir, work(1.0), work(1.05), "cpu", max(3, n // 5), 2_000), None, None),
        (scenario("+10%", workdir, work(1.0), work(1.10), "cpu", max(3, n * 2 // 5), 3_000), "exceeded", 0.95),
        (scenario("+20%", workdir, work(1.0), work(1.20), "cpu", max(3, n // 5), 4_000), "exceeded", 1.0),
        (scenario("memory 1x", workdir, ["--work", "5", "--alloc", "100"], ["--work", "5", "--alloc", "100"], "memory",
                  max(3, n // 10), 5_000), "within", 1.0),
        (scenario("memory 2x", workdir, ["--work", "5", "--alloc", "100"], ["--work", "5", "--alloc", "200"], "memory",
                  max(3, n // 10), 6_000), "exceeded", 1.0),
    ]
    gnu, parity = rss_accuracy(workdir, 100)
    rss_error = abs(parity - gnu)
    rss_ok = rss_error <= max(1024, 0.01 * gnu)

    print(f"\nparity bench, defaults (10 pairs, up to 60, 1 warm-up, confidence 0.95), sides ~{w:.0f} ms of CPU, "
          f"{os.cpu_count()} cores\n")
    print("| scenario | gate | verdicts | within | inconclusive | exceeded | pairs (median / max) | target | met |")
    print("|---|---|---:|---:|---:|---:|---|---|---|")
    failed = []
    for row, expect, share in rows:
        gate = "memory" if row["name"].startswith("memory") else "cpu"
        if expect == "exceeded" and share == 0.01:
            ok = row["exceeded"] <= share * row["verdicts"]
            target = "exceeded <= 1%"
        elif expect:
            ok = row[expect] >= share * row["verdicts"]
            target = f"{expect} >= {share:.0%}"
        else:
            ok, target = True, "(the budget edge)"
        ok = ok and row["pairs_max"] <= 60
        if not ok:
            failed.append(row["name"])
        print(f"| {row['name']} | {gate} | {row['verdicts']} | {row['within']} | {row['inconclusive']} | "
              f"{row['exceeded']} | {row['pairs_median']:.0f} / {row['pairs_max']} | {target} | {'yes' if ok else 'NO'} |")
    print(f"| peak RSS, 100 MiB side | memory | | | | | | GNU time {gnu} KiB, parity {parity:.0f} KiB "
          f"(off by {rss_error:.0f} KiB) | {'yes' if rss_ok else 'NO'} |")
    if not rss_ok:
        failed.append("peak RSS")
    if failed and not args.quick:
        sys.exit(f"\ntargets missed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
