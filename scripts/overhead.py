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

The anchor is a 20-line C program, compiled with `cc` into the work directory: a loop of
posix_spawn (glibc's, a `clone(CLONE_VM|CLONE_VFORK)`) and waitpid, timed with CLOCK_MONOTONIC.
Python's own os.posix_spawn + os.waitpid was measured at about 0.2 ms more per spawn on the
project's machine (argument and environment conversion, the interpreter loop): ~10% of a spawn
of `true` there, the size of the goal itself, so it would flatter parity. Without a C compiler
the script falls back to Python and says so in the header. Both sides and the anchor use the
same absolute path of `true`, so neither pays for a PATH search.

Measurements alternate (anchor, parity, anchor, parity, ...) and each figure is the median of
--repeat rounds. The machine's load (`uptime`) is printed with the table.

    python3 scripts/overhead.py                        # sizes 100, 300, 1000; 3 rounds
    python3 scripts/overhead.py --sizes 300 --repeat 5
    python3 scripts/overhead.py --profile strace       # + system calls per run (strace -c -f)
    python3 scripts/overhead.py --quick                # CI: one small size, one round

Nothing is asserted: timings depend on the machine. Exit status 0 unless parity fails.
"""
import argparse
import ctypes
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


ANCHOR_C = r"""
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
int main(int argc, char **argv) {
    if (argc != 3) return 2;
    long n = atol(argv[1]);
    char *args[] = {argv[2], NULL};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        pid_t pid;
        int status;
        if (posix_spawn(&pid, argv[2], NULL, NULL, args, environ) != 0) return 1;
        if (waitpid(pid, &status, 0) != pid || status != 0) return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.9f\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
"""


def build_anchor(workdir: Path) -> Path | None:
    """The C anchor, compiled; `None` without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        return None
    source = workdir / "anchor.c"
    binary = workdir / "anchor"
    source.write_text(ANCHOR_C)
    done = subprocess.run([cc, "-O2", "-o", str(binary), str(source)], capture_output=True)
    return binary if done.returncode == 0 else None


# A command prefix for the anchor and parity alike (`taskset -c CPU` with --pin).
PREFIX: list[str] = []


def anchor(runs: int, true: str, binary: Path | None) -> tuple[float, float]:
    """Wall and CPU seconds of `runs` bare spawns of `true`, one after the other."""
    cpu = children_cpu()
    if binary:
        done = subprocess.run(PREFIX + [str(binary), str(runs), true], capture_output=True,
                              text=True)
        if done.returncode != 0:
            sys.exit(f"the anchor failed: {done.stdout}{done.stderr}")
        return float(done.stdout), children_cpu() - cpu
    argv = [true]
    env = dict(os.environ)
    start = time.perf_counter()
    for _ in range(runs):
        pid = os.posix_spawn(true, argv, env)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            sys.exit(f"{true} exited with status {status}")
    return time.perf_counter() - start, children_cpu() - cpu


def become_subreaper() -> None:
    """Makes this script the reaper of parity's orphans, so their CPU time is counted.

    parity's measuring helpers outlive it by a moment (they end when its socket closes); the
    CPU time of a process only reaches its parent's RUSAGE_CHILDREN when that parent waits for
    it. As a child subreaper this script inherits the helpers and waits for them."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("warning: cannot become a child subreaper: helpers' CPU time is not counted",
              file=sys.stderr)


def reap_orphans() -> None:
    """Waits for every child left (parity's helpers, reparented here)."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def parity_run(parity: Path, project: Path, prefix: list[str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of `parity run --jobs 1` on `project` (CPU: parity, its helpers and
    the sides)."""
    out = project / "reports"
    cmd = (prefix or []) + PREFIX + [str(parity), "run", "--jobs", "1", "--out", str(out)]
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    reap_orphans()
    if done.returncode != 0:
        sys.exit(f"parity run exited {done.returncode}:\n{done.stderr.decode(errors='replace')[-2000:]}")
    return wall, children_cpu() - cpu


def measure(binaries: list[Path], project: Path, n: int, repeat: int, true: str,
            anchor_binary: Path | None) -> list[dict]:
    """One row per binary: the medians of `repeat` rounds, each round the anchor then every
    binary in turn, so all of them see the same machine."""
    runs = 2 * n
    samples = [{"anchor": [], "parity": [], "anchor_cpu": [], "parity_cpu": []} for _ in binaries]
    for _ in range(repeat):
        for binary, sample in zip(binaries, samples):
            wall, cpu = anchor(runs, true, anchor_binary)
            sample["anchor"].append(wall)
            sample["anchor_cpu"].append(cpu)
            wall, cpu = parity_run(binary, project)
            sample["parity"].append(wall)
            sample["parity_cpu"].append(cpu)
    rows = []
    for binary, sample in zip(binaries, samples):
        row = {key: statistics.median(values) for key, values in sample.items()}
        row.update(n=n, runs=runs, binary=binary)
        rows.append(row)
    return rows


def ms_per_run(seconds: float, runs: int) -> float:
    return seconds / runs * 1000


def print_table(rows: list[dict], labels: dict) -> None:
    several = len(labels) > 1
    print(("| binary " if several else "")
          + "| fixtures | runs | anchor ms/run | parity ms/run | overhead ms/run | ratio "
          "| anchor CPU ms/run | parity CPU ms/run | CPU overhead ms/run |")
    print(("|---" if several else "") + "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        a, p = ms_per_run(r["anchor"], r["runs"]), ms_per_run(r["parity"], r["runs"])
        ac, pc = ms_per_run(r["anchor_cpu"], r["runs"]), ms_per_run(r["parity_cpu"], r["runs"])
        print((f"| {labels[r['binary']]} " if several else "")
              + f"| {r['n']:,} | {r['runs']:,} | {a:.2f} | {p:.2f} | {p - a:.2f} | {p / a:.2f}x "
              f"| {ac:.2f} | {pc:.2f} | {pc - ac:.2f} |")
    for binary, label in labels.items():
        mine = [r for r in rows if r["binary"] == binary]
        if len(mine) < 2:
            continue
        lo, hi = mine[0], mine[-1]
        extra = hi["runs"] - lo["runs"]
        slope = (hi["parity"] - lo["parity"]) / extra * 1000
        slope_cpu = (hi["parity_cpu"] - lo["parity_cpu"]) / extra * 1000
        a = ms_per_run(hi["anchor"], hi["runs"])
        ac = ms_per_run(hi["anchor_cpu"], hi["runs"])
        print(f"\n{label + ': ' if several else ''}marginal (from {lo['n']:,} to {hi['n']:,} "
              f"fixtures): {slope:.2f} ms wall per run ({slope - a:+.2f} ms over the anchor, "
              f"{slope / a:.2f}x), {slope_cpu:.2f} ms CPU per run ({slope_cpu - ac:+.2f} ms over "
              "the anchor)")


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
    ap.add_argument("--parity", type=Path, action="append",
                    help=f"the binary (default {PARITY.relative_to(ROOT)}); repeat it to compare "
                         "builds in the same rounds")
    ap.add_argument("--workdir", type=Path, default=None, help="where the projects go")
    ap.add_argument("--profile", choices=["strace"], help="also break one run down")
    ap.add_argument("--pin", metavar="CPU", help="run the anchor and parity on this one CPU "
                    "(taskset -c): no wake-ups across CPUs, which a VM makes dear")
    ap.add_argument("--quick", action="store_true", help="one small size, one round (CI)")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.repeat = "50", 1
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    # Absolute: parity runs in each project's directory.
    binaries = [b.resolve() for b in (args.parity or [PARITY])]
    for binary in binaries:
        if not binary.is_file():
            sys.exit(f"{binary} not found: cargo build --release")
    labels = {b: (b.name if len({x.name for x in binaries}) == len(binaries) else str(b))
              for b in binaries}
    become_subreaper()
    if args.pin is not None:
        if not shutil.which("taskset"):
            sys.exit("--pin needs taskset (util-linux)")
        PREFIX.extend(["taskset", "-c", args.pin])
    true = shutil.which("true")
    if not true:
        sys.exit("true(1) is not on PATH")
    true = os.path.realpath(true)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="parity-overhead-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        anchor_binary = build_anchor(workdir)
        rows = []
        for n in sizes:
            project = make_project(workdir, n, true)
            for binary in binaries:
                parity_run(binary, project)  # warm the page cache and the binary
            rows.extend(measure(binaries, project, n, args.repeat, true, anchor_binary))
        rows.sort(key=lambda r: (binaries.index(r["binary"]), r["n"]))
        load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        how = ("posix_spawn + waitpid in C" if anchor_binary
               else "os.posix_spawn + os.waitpid in Python (no C compiler found)")
        pinned = f"; both pinned to CPU {args.pin}" if args.pin is not None else ""
        print(f"parity run --jobs 1, both sides `{true}`; anchor: {how}, of the same{pinned}; "
              f"median of {args.repeat} round(s); {os.cpu_count()} cores; {load}\n")
        print_table(rows, labels)
        if args.profile == "strace":
            n = sizes[0]
            for binary in binaries:
                if len(binaries) > 1:
                    print(f"\n{labels[binary]}:")
                profile_strace(binary, make_project(workdir, n, true), n, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
