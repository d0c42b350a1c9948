#!/usr/bin/env python3
"""parity's own cost per run, against a bare spawn of the same program measured in the same run.

For each size N, a throw-away project with N fixtures whose two sides are both `true` (no
output, nothing to compare), run with `parity run --jobs 1`; and, as the anchor, the same 2N
runs of `true` spawned one after the other with `os.posix_spawn` + `os.waitpid` from this
script. The harness overhead per run is

    (parity wall - anchor wall) / 2N

and the ratio is parity's wall per run over the anchor's. parity's wall includes what it does
once per run of the whole command (reading the config, finding fixtures, writing the reports),
so the overhead at small N carries that fixed cost; the `marginal` line is the slope between
the smallest and the largest size: what one more run costs. CPU time (user + system, parity and
every process it started, from `getrusage(RUSAGE_CHILDREN)`) is printed beside wall time: on a
busy machine it moves less than wall time.

The anchor is Python's posix_spawn: glibc's posix_spawn (a `clone(CLONE_VM|CLONE_VFORK)`, so
the cost does not depend on the size of the Python process) plus a few microseconds of
interpreter per iteration, against hundreds of microseconds for the exec of `true` itself; a C
helper would change the anchor by less than the run-to-run noise. Both sides and the anchor use
the same absolute path of `true`, so neither pays for a PATH search.

Measurements alternate (anchor, parity, anchor, parity, ...) and each figure is the median of
--repeat rounds. The machine's load (`uptime`) is printed with the table.

    python3 scripts/overhead.py                        # sizes 100, 300, 1000; 3 rounds
    python3 scripts/overhead.py --sizes 300 --repeat 5
    python3 scripts/overhead.py --profile strace       # + system calls per run (strace -c -f)
    python3 scripts/overhead.py --quick                # CI: one small size, one round

Nothing is asserted: timings depend on the machine. Exit status 0 unless parity fails.
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARITY = ROOT / "target" / "release" / "parity"


def make_project(root: Path, n: int, true: str) -> Path:
    project = root / f"n{n}"
    if project.exists():
        shutil.rmtree(project)
    fixtures = project / "fixtures"
    fixtures.mkdir(parents=True)
    for i in range(n):
        (fixtures / f"f{i:06d}.txt").write_bytes(b"")
    (project / "parity.toml").write_text(
        f'[legacy]\ncmd = ["{true}"]\n\n[candidate]\ncmd = ["{true}"]\n\n'
        '[suites.s]\nroot = "fixtures"\ninclude = ["*.txt"]\n'
    )
    return project


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def anchor(runs: int, true: str) -> tuple[float, float]:
    """Wall and CPU seconds of `runs` bare spawns of `true`, one after the other."""
    argv = [true]
    env = dict(os.environ)
    cpu = children_cpu()
    start = time.perf_counter()
    for _ in range(runs):
        pid = os.posix_spawn(true, argv, env)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            sys.exit(f"{true} exited with status {status}")
    return time.perf_counter() - start, children_cpu() - cpu


def parity_run(parity: Path, project: Path, prefix: list[str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of `parity run --jobs 1` on `project`."""
    out = project / "reports"
    cmd = (prefix or []) + [str(parity), "run", "--jobs", "1", "--out", str(out)]
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"parity run exited {done.returncode}:\n{done.stderr.decode(errors='replace')[-2000:]}")
    return wall, children_cpu() - cpu


def measure(parity: Path, project: Path, n: int, repeat: int, true: str) -> dict:
    runs = 2 * n
    samples = {"anchor": [], "parity": [], "anchor_cpu": [], "parity_cpu": []}
    for _ in range(repeat):
        wall, cpu = anchor(runs, true)
        samples["anchor"].append(wall)
        samples["anchor_cpu"].append(cpu)
        wall, cpu = parity_run(parity, project)
        samples["parity"].append(wall)
        samples["parity_cpu"].append(cpu)
    row = {key: statistics.median(values) for key, values in samples.items()}
    row["n"] = n
    row["runs"] = runs
    return row


def ms_per_run(seconds: float, runs: int) -> float:
    return seconds / runs * 1000


def print_table(rows: list[dict]) -> None:
    print("| fixtures | runs | anchor ms/run | parity ms/run | overhead ms/run | ratio "
          "| anchor CPU ms/run | parity CPU ms/run | CPU overhead ms/run |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        a, p = ms_per_run(r["anchor"], r["runs"]), ms_per_run(r["parity"], r["runs"])
        ac, pc = ms_per_run(r["anchor_cpu"], r["runs"]), ms_per_run(r["parity_cpu"], r["runs"])
        print(f"| {r['n']:,} | {r['runs']:,} | {a:.2f} | {p:.2f} | {p - a:.2f} | {p / a:.2f}x "
              f"| {ac:.2f} | {pc:.2f} | {pc - ac:.2f} |")
    if len(rows) >= 2:
        lo, hi = rows[0], rows[-1]
        extra = hi["runs"] - lo["runs"]
        slope = (hi["parity"] - lo["parity"]) / extra * 1000
        slope_cpu = (hi["parity_cpu"] - lo["parity_cpu"]) / extra * 1000
        a = ms_per_run(hi["anchor"], hi["runs"])
        ac = ms_per_run(hi["anchor_cpu"], hi["runs"])
        print(f"\nmarginal (from {lo['n']:,} to {hi['n']:,} fixtures): {slope:.2f} ms wall per run "
              f"({slope - a:+.2f} ms over the anchor, {slope / a:.2f}x), "
              f"{slope_cpu:.2f} ms CPU per run ({slope_cpu - ac:+.2f} ms over the anchor)")


def profile_strace(parity: Path, project: Path, n: int, workdir: Path) -> None:
    """System calls per run of parity and everything it starts, from `strace -c -f`."""
    if not shutil.which("strace"):
        print("\n(profile: strace is not installed)")
        return
    summary = workdir / "strace.txt"
    parity_run(parity, project, ["strace", "-f", "-c", "-o", str(summary)])
    lines = summary.read_text().splitlines()
    runs = 2 * n
    print(f"\nsystem calls per run (strace -c -f over {n:,} fixtures, {runs:,} runs; "
          "the sides' own calls included: `true` makes about 30):\n")
    print("| call | per run | errors per run |")
    print("|---|---:|---:|")
    rows = []
    for line in lines:
        parts = line.split()
        if len(parts) < 5 or not parts[3].isdigit():
            continue
        calls = int(parts[3])
        errors = int(parts[4]) if len(parts) == 6 else 0
        rows.append((calls, errors, parts[-1]))
    total = next((r for r in rows if r[2] == "total"), None)
    for calls, errors, name in sorted((r for r in rows if r[2] != "total"), reverse=True)[:15]:
        print(f"| {name} | {calls / runs:.1f} | {errors / runs:.1f} |")
    if total:
        print(f"| **total** | {total[0] / runs:.1f} | {total[1] / runs:.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,300,1000", help="fixture counts, comma-separated")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; each figure is the median")
    ap.add_argument("--parity", type=Path, default=PARITY, help="the binary")
    ap.add_argument("--workdir", type=Path, default=None, help="where the projects go")
    ap.add_argument("--profile", choices=["strace"], help="also break one run down")
    ap.add_argument("--quick", action="store_true", help="one small size, one round (CI)")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.repeat = "50", 1
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not args.parity.is_file():
        sys.exit(f"{args.parity} not found: cargo build --release")
    true = shutil.which("true")
    if not true:
        sys.exit("true(1) is not on PATH")
    true = os.path.realpath(true)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="parity-overhead-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        rows = []
        for n in sizes:
            project = make_project(workdir, n, true)
            parity_run(args.parity, project)  # warm the page cache and the binary
            rows.append(measure(args.parity, project, n, args.repeat, true))
        load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(f"parity run --jobs 1, both sides `{true}`; anchor: os.posix_spawn + os.waitpid "
              f"of the same; median of {args.repeat} round(s); {os.cpu_count()} cores; {load}\n")
        print_table(rows)
        if args.profile == "strace":
            n = sizes[0]
            profile_strace(args.parity, make_project(workdir, n, true), n, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
