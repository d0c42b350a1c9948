#!/usr/bin/env python3
"""How report.html grows with the run: its size, the time parity takes to write it, and the time
headless Chromium takes to load and lay it out, for the bundled example's failing suite and for
runs of 1,000 and 10,000 cases made from it (its cases repeated under new names, a quarter of them
failing, so a large run looks like a large run).

    python3 scripts/report_scale.py                 # needs target/release/parity and chromium
    python3 scripts/report_scale.py --quick         # 1,000 cases at most

Prints one row per size: cases, report.html bytes, parity's time to render it, and Chromium's
time to load it (--dump-dom, which returns once the page is laid out).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARITY = ROOT / "target" / "release" / "parity"


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def timed(cmd, **kw):
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, **kw)
    return time.perf_counter() - start, done


def grow(results, n):
    """`results` with its cases repeated to `n`: a quarter failing (the suite's own), the rest
    passing copies with their differences removed."""
    base = results["cases"]
    cases = []
    for i in range(n):
        case = json.loads(json.dumps(base[i % len(base)]))
        case["fixture"] = f"{case['fixture']}-{i:05d}"
        if i % 4:
            case["verdict"] = {"kind": "equivalent"}
            case["outputs"] = [dict(o, differences=[], clusters=[], total=0, status="equivalent")
                               for o in case["outputs"]]
            case.pop("stages", None)
            case.pop("first_divergence", None)
        cases.append(case)
    grown = dict(results, cases=cases)
    grown["summary"] = dict(results["summary"], cases=n)
    return grown


def main():
    quick = "--quick" in sys.argv
    browser = chromium()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run([str(PARITY), "run", "--suite", "regressions", "--out", str(tmp / "run")],
                       cwd=ROOT, capture_output=True)
        results = json.loads((tmp / "run" / "results.json").read_text())
        sizes = [len(results["cases"]), 1000] + ([] if quick else [10000])
        print(f"{'cases':>7}  {'report.html':>12}  {'parity renders':>15}  {'chromium loads':>15}")
        for n in sizes:
            source = tmp / f"results-{n}.json"
            source.write_text(json.dumps(grow(results, n) if n != len(results["cases"]) else results))
            page = tmp / f"report-{n}.html"
            took, done = timed([str(PARITY), "report", str(source), "--format", "html", "--out", str(page)])
            if done.returncode:
                sys.exit(done.stderr.decode())
            load = "–"
            if browser:
                profile = tempfile.mkdtemp(dir=tmp)
                seconds, _ = timed([browser, "--headless", "--no-sandbox", "--disable-gpu",
                                    "--no-first-run", "--disable-background-networking",
                                    "--disable-component-update", "--disable-sync",
                                    f"--user-data-dir={profile}", "--dump-dom", f"file://{page}"])
                load = f"{seconds:.2f} s"
            size = page.stat().st_size
            print(f"{n:>7,}  {size / 1e6:>9.2f} MB  {took:>13.2f} s  {load:>15}")


if __name__ == "__main__":
    main()
