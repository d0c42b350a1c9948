#!/usr/bin/env python3
"""Regenerate every fixture of the bundled advisory example.

    python3 scripts/gen_advisory_fixtures.py

Writes examples/advisory/fixtures/<suite>/<fixture>/ for the suites main,
regressions, performance, history and feed.  The suite directories are
deleted and rewritten.  Output depends only on the fixed seeds below: running
the script twice produces byte-identical files.

A fixture of main, regressions and performance holds the four input files of
the scanner job (observations.json, overrides.csv, nvd.json, osv.json).

Suite `history` is made of scenario fixtures: <fixture>/1-baseline/,
2-override/ and 3-upstream-fix/ are three runs of both programs with one
`--state` directory per side, each a fixture directory of its own (that run's
new observations, the analysts' sheet as it stands then, that day's NVD and
OSV responses).  `triage_week` and `late_delivery` are hand-written edge
cases, `rolling_month` is seeded (5150).

Suite `feed` is the vendor feed (legacy/feed_monolith.py, the pipeline's
`--source feed`): vendor_feed.json replaces observations.json.
`purls_and_revisions` is hand-written, `typical_feed` seeded (6060), `empty`
has no records.

Suite `main` must stay clean (legacy and candidate agree).  The candidate's
known bugs are each triggered by a condition that `main` never contains, and
`check_main_invariants` enforces that:

* every scanner observation has a weight > 0;
* every analyst override is decided after the last observation of its advisory;
* every version is of the form D.DD.D (so comparing version segments as text
  gives the same order as comparing them as numbers);
* every package name has the same NFC and NFKC form.

Suite `regressions` breaks exactly one of those rules per fixture, and keeps the
others (`check_regression_invariants`, by `REGRESSION_RULES`).
`large_override_then_newer_scan` is `main/large` (the same seed and records)
with the records of `override_then_newer_scan` added: a fixture of realistic
size for `parity minimize`.

Suite `performance` keeps them too (legacy and candidate agree), but its
fixtures have the shape that makes the candidate slow: a CI scanner that
rescans the same packages every few minutes, so that one scanner has
thousands of reports about one advisory.

Suites `history` and `feed` keep them as well (the feed's findings read as
observations; a history fixture's steps taken together), and a history
fixture never scans an advisory in a later run than the one whose sheet first
decides on it: the candidate would re-decide it, as in override_then_newer_scan
(`check_history_invariants`).
"""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
import sys
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, unquote

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "examples" / "advisory" / "fixtures"
OVERRIDE_COLUMNS = ["cve_id", "ecosystem", "package", "forced_state", "reason", "analyst", "decided_at"]
OSV_ECOSYSTEM_NAMES = {"pypi": "PyPI", "npm": "npm", "cargo": "crates.io", "maven": "Maven", "go": "Go"}
GHSA_ALPHABET = "23456789cfghjmpqrvwx"
LARGE_OBSERVATIONS = 20500


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


_SHORT_TIME = re.compile(r"^(\d\d-\d\d) (\d\d:\d\d)$")


def ts(text: str) -> str:
    """'03-01 10:00' -> '2026-03-01T10:00:00Z'; anything else is kept verbatim."""
    match = _SHORT_TIME.match(text)
    return f"2026-{match[1]}T{match[2]}:00Z" if match else text


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Fixture:
    """Accumulates the records of one fixture directory."""

    def __init__(self, name: str, prefix: str) -> None:
        self.name = name
        self.prefix = prefix
        self.observations: list[object] = []
        self.overrides: list[list[str]] = []
        self.nvd: list[dict] = []
        self.osv: list[dict] = []
        self._next = 0

    def obs(self, at: str, source: str, cve: str, package: str, ecosystem: str, version: str, signal: str,
            weight: float | None = 0.7, obs_id: str | None = None) -> dict:
        self._next += 1
        record = {
            "obs_id": obs_id or f"{self.prefix}-{self._next:05d}",
            "observed_at": ts(at),
            "source": source,
            "cve_id": cve,
            "package": package,
            "ecosystem": ecosystem,
            "version": version,
            "signal": signal,
        }
        if weight is not None:
            record["weight"] = weight
        self.observations.append(record)
        return record

    def raw(self, record: object) -> None:
        self.observations.append(record)

    def override(self, cve: str, ecosystem: str, package: str, state: str, reason: str, analyst: str,
                 decided_at: str) -> None:
        self.overrides.append([cve, ecosystem, package, state, reason, analyst, ts(decided_at)])

    def nvd_cve(self, cve: str, status: str = "Analyzed", score: float | None = 7.5, description: str | None = None,
                published: str = "2025-11-04T15:15:00.000", last_modified: str = "2026-02-20T09:12:44.310") -> None:
        record: dict = {
            "id": cve,
            "sourceIdentifier": "cve@mitre.org",
            "published": published,
            "lastModified": last_modified,
            "vulnStatus": status,
            "descriptions": [{"lang": "en", "value": description or f"Issue tracked as {cve}."}],
            "metrics": {},
        }
        if status.lower() == "rejected":
            record["descriptions"] = [{"lang": "en", "value": "** REJECT ** DO NOT USE THIS CANDIDATE NUMBER. "
                                       "Reason: this candidate was withdrawn by its CNA."}]
        if score is not None:
            severity = "CRITICAL" if score >= 9 else "HIGH" if score >= 7 else "MEDIUM" if score >= 4 else "LOW"
            record["metrics"] = {"cvssMetricV31": [{
                "source": "nvd@nist.gov", "type": "Primary",
                "cvssData": {"version": "3.1", "baseScore": score, "baseSeverity": severity},
            }]}
        self.nvd.append({"cve": record})

    def osv_vuln(self, osv_id: str, cves: list[str], affected: list[tuple], withdrawn: str | None = None,
                 summary: str = "", modified: str = "2026-02-27T18:30:00Z") -> None:
        entries = []
        for ecosystem, name, *fixes in affected:
            events: list[dict] = [{"introduced": "0"}]
            events += [{"fixed": fix} for fix in fixes if fix]
            entries.append({
                "package": {"ecosystem": OSV_ECOSYSTEM_NAMES.get(ecosystem, ecosystem), "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            })
        record: dict = {
            "schema_version": "1.6.0",
            "id": osv_id,
            "modified": modified,
            "published": "2025-12-01T12:00:00Z",
            "aliases": cves,
            "summary": summary or f"Vulnerability in {affected[0][1] if affected else 'unknown'}",
            "affected": entries,
        }
        if withdrawn:
            record["withdrawn"] = withdrawn
        self.osv.append(record)

    # -- writing ------------------------------------------------------------

    def write(self, suite_dir: Path) -> None:
        directory = suite_dir / self.name
        directory.mkdir(parents=True)
        self.write_observations(directory)
        self.write_shared(directory)

    def write_observations(self, directory: Path) -> None:
        with (directory / "observations.json").open("w", encoding="utf-8", newline="\n") as handle:
            if self.observations:
                handle.write("[\n")
                handle.write(",\n".join("  " + json.dumps(o, ensure_ascii=False) for o in self.observations))
                handle.write("\n]\n")
            else:
                handle.write("[]\n")

    def write_shared(self, directory: Path) -> None:
        """overrides.csv, nvd.json and osv.json, which every source reads."""
        with (directory / "overrides.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(OVERRIDE_COLUMNS)
            writer.writerows(self.overrides)
        nvd = {
            "resultsPerPage": len(self.nvd),
            "startIndex": 0,
            "totalResults": len(self.nvd),
            "format": "NVD_CVE",
            "version": "2.0",
            "timestamp": "2026-03-31T00:05:12.000",
            "vulnerabilities": self.nvd,
        }
        for name, payload in (("nvd.json", nvd), ("osv.json", {"vulns": self.osv})):
            with (directory / name).open("w", encoding="utf-8", newline="\n") as handle:
                json.dump(payload, handle, indent=1, ensure_ascii=False)
                handle.write("\n")


# ---------------------------------------------------------------------------
# suite main: hand-written edge cases
# ---------------------------------------------------------------------------


def fx_empty() -> Fixture:
    return Fixture("empty", "e")


def fx_conflicting_sources() -> Fixture:
    f = Fixture("conflicting_sources", "cs")
    # two scanners of similar weight disagree -> under_investigation
    f.obs("03-01 08:00", "trivy", "CVE-2025-21001", "requests", "pypi", "2.31.0", "vulnerable", 0.62)
    f.obs("03-01 08:05", "grype", "CVE-2025-21001", "requests", "pypi", "2.31.0", "patched", 0.58)
    # clear majority with two dissenters
    f.obs("03-01 09:00", "trivy", "CVE-2025-21002", "lodash", "npm", "4.17.2", "vulnerable", 0.91)
    f.obs("03-01 09:01", "grype", "CVE-2025-21002", "lodash", "npm", "4.17.2", "vulnerable", 0.7)
    f.obs("03-01 09:02", "snyk", "CVE-2025-21002", "lodash", "npm", "4.17.2", "patched", 0.8)
    f.obs("03-01 09:03", "dependabot", "CVE-2025-21002", "lodash", "npm", "4.17.2", "not_present", 0.4)
    f.obs("03-01 09:04", "mend", "CVE-2025-21002", "lodash", "npm", "4.17.2", "inconclusive", 0.5)
    f.nvd_cve("CVE-2025-21002", score=7.5)
    # flip-flop over time, ends fixed once the upgrade is seen by everybody
    for at, src, ver, sig, w in [
        ("03-01 10:00", "trivy", "0.10.2", "vulnerable", 0.8),
        ("03-01 10:30", "grype", "0.10.2", "vulnerable", 0.66),
        ("03-02 11:00", "trivy", "0.11.0", "patched", 0.8),
        ("03-02 12:00", "snyk", "0.11.0", "vulnerable", 0.35),
        ("03-03 09:00", "grype", "0.11.0", "patched", 0.66),
        ("03-03 09:30", "snyk", "0.11.0", "patched", 0.35),
    ]:
        f.obs(at, src, "CVE-2025-21003", "serde-yaml", "cargo", ver, sig, w)
    f.osv_vuln("GHSA-3x7q-9wcm-2hpv", ["CVE-2025-21003"], [("cargo", "serde-yaml", "0.11.0")])
    f.nvd_cve("CVE-2025-21003", score=5.3)
    # scanners say vulnerable, OSV says the installed version is fixed
    f.obs("03-02 08:00", "trivy", "CVE-2025-21004", "org.apache.commons:commons-text", "maven", "1.10.0",
          "vulnerable", 0.45)
    f.obs("03-02 08:10", "mend", "CVE-2025-21004", "org.apache.commons:commons-text", "maven", "1.10.0",
          "vulnerable", 0.31)
    f.osv_vuln("GHSA-599f-7c49-w659", ["CVE-2025-21004"],
               [("maven", "org.apache.commons:commons-text", "1.10.0")])
    f.nvd_cve("CVE-2025-21004", score=9.8)
    # only inconclusive signals
    f.obs("03-02 13:00", "trivy", "CVE-2025-21005", "golang.org/x/net", "go", "0.17.0", "inconclusive", 0.5)
    f.obs("03-02 13:30", "grype", "CVE-2025-21005", "golang.org/x/net", "go", "0.17.0", "inconclusive", 0.5)
    f.nvd_cve("CVE-2025-21005", status="Awaiting Analysis", score=None)
    # three-way split where the leader is clear only after the last scan
    f.obs("03-03 07:00", "trivy", "CVE-2025-21006", "pyjwt", "pypi", "2.10.1", "vulnerable", 0.5)
    f.obs("03-03 07:10", "grype", "CVE-2025-21006", "PyJWT", "pypi", "2.10.1", "not_present", 0.45)
    f.obs("03-03 07:20", "snyk", "CVE-2025-21006", "pyJWT", "pypi", "2.10.1", "patched", 0.44)
    f.obs("03-03 07:30", "mend", "CVE-2025-21006", "pyjwt", "pypi", "2.10.1", "vulnerable", 0.3)
    return f


def fx_analyst_overrides() -> Fixture:
    f = Fixture("analyst_overrides", "ao")
    for src, w in (("trivy", 0.8), ("grype", 0.7)):
        f.obs("03-01 10:00", src, "CVE-2025-22001", "jinja2", "pypi", "3.14.2", "vulnerable", w)
        f.obs("03-01 10:05", src, "CVE-2025-22002", "pyyaml", "pypi", "6.10.1", "vulnerable", w)
        f.obs("03-02 10:00", src, "CVE-2025-22003", "express", "npm", "4.18.2", "vulnerable", w)
        f.obs("03-02 11:00", src, "CVE-2025-22004", "axios", "npm", "1.16.0", "patched", w)
    f.obs("03-03 09:00", "snyk", "CVE-2025-22003", "express", "npm", "4.18.2", "not_present", 0.9)
    f.obs("03-04 09:00", "trivy", "CVE-2025-22005", "tokio", "cargo", "1.28.1", "vulnerable", 0.8)
    f.nvd_cve("CVE-2025-22001", score=6.1)
    f.nvd_cve("CVE-2025-22003", score=7.3)
    f.nvd_cve("CVE-2025-22005", status="Rejected", score=None)
    f.osv_vuln("GHSA-h75v-3vvj-5mfj", ["CVE-2025-22001"], [("pypi", "Jinja2", "3.15.0")])
    # all decisions are made after the last scan of the fixture (03-04 09:00)
    f.override("CVE-2025-22001", "pypi", "Jinja2", "not_affected", "template sandbox not used in prod", "akumar",
               "03-05 14:00")
    # superseded: a newer decision for the same advisory follows
    f.override("cve-2025-22002", "PyPI", "PyYAML", "affected", "first triage", "jlee", "03-05 09:00")
    f.override("CVE-2025-22002", "pypi", "pyyaml", "fixed", "backport 6.10.1-post1 deployed, see CHG-4411", "jlee",
               "03-06 16:30")
    # same timestamp twice: the later row wins
    f.override("CVE-2025-22003", "npm", "express", "affected", "needs vendor confirmation", "mrossi", "03-07 10:00")
    f.override("CVE-2025-22003", "npm", "express", "under_investigation", 'vendor says "maybe", reopened',
               "mrossi", "03-07 10:00")
    # agrees with the scanners: no new transition
    f.override("CVE-2025-22004", "npm", "axios", "fixed", "confirmed in staging", "", "03-07 11:00")
    # analyst overrides a rejected CVE
    f.override("CVE-2025-22005", "cargo", "tokio", "affected", "rejection disputed, same bug as CVE-2025-22099",
               "akumar", "03-08 08:00")
    # advisory nobody has scanned yet
    f.override("CVE-2025-22006", "pypi", "Internal_Auth.Lib", "affected", "found in code review", "jlee",
               "03-08 12:00")
    # ignored rows: unknown state, broken timestamp, missing package
    f.override("CVE-2025-22004", "npm", "axios", "ignore", "typo in state", "jlee", "03-08 13:00")
    f.override("CVE-2025-22004", "npm", "axios", "affected", "bad date", "jlee", "08/03/2026")
    f.override("CVE-2025-22004", "npm", "", "affected", "no package", "jlee", "03-08 13:00")
    return f


def fx_withdrawn_rejected() -> Fixture:
    f = Fixture("withdrawn_rejected", "wr")
    for src, w in (("trivy", 0.8), ("grype", 0.6), ("snyk", 0.55)):
        f.obs("03-01 10:00", src, "CVE-2025-23001", "left-pad", "npm", "1.13.0", "vulnerable", w)
        f.obs("03-01 10:10", src, "CVE-2025-23002", "urllib3", "pypi", "1.26.5", "vulnerable", w)
        f.obs("03-01 10:20", src, "CVE-2025-23003", "openssl", "cargo", "0.10.5", "vulnerable", w)
        f.obs("03-01 10:30", src, "CVE-2025-23004", "minimist", "npm", "1.22.5", "vulnerable", w)
        f.obs("03-01 10:40", src, "CVE-2025-23005", "github.com/gin-gonic/gin", "go", "1.19.0", "vulnerable", w)
    f.obs("03-02 10:00", "grype", "CVE-2025-23001", "left-pad", "npm", "1.13.0", "patched", 0.6)
    f.obs("03-02 10:00", "trivy", "CVE-2025-23006", "certifi", "pypi", "2.22.0", "inconclusive", 0.5)
    # NVD rejected
    f.nvd_cve("CVE-2025-23001", status="Rejected", score=None)
    # OSV withdrawn (only OSV record for the package)
    f.nvd_cve("CVE-2025-23002", status="Awaiting Analysis", score=None)
    f.osv_vuln("GHSA-v845-jxx5-vc9f", ["CVE-2025-23002"], [("pypi", "urllib3", "1.26.6")],
               withdrawn="2026-02-11T08:00:00Z")
    # both rejected and withdrawn; the OSV record is keyed by the CVE itself
    f.nvd_cve("CVE-2025-23003", status="REJECTED", score=None)
    f.osv_vuln("CVE-2025-23003", [], [("cargo", "openssl", "0.10.6")], withdrawn="2026-01-30T00:00:00Z")
    # two GHSAs, one withdrawn: not withdrawn, fixed version from the live one
    f.nvd_cve("CVE-2025-23004", status="Modified", score=5.6)
    f.osv_vuln("GHSA-xvch-5gv4-984h", ["CVE-2025-23004"], [("npm", "minimist", "1.22.6")],
               withdrawn="2026-02-01T10:00:00Z")
    f.osv_vuln("GHSA-vh95-rmgr-6w4m", ["CVE-2025-23004"], [("npm", "minimist", "1.22.8", "1.23.0")])
    # two withdrawn GHSAs: the lowest id is reported
    f.osv_vuln("GHSA-qppj-fm5r-hxr3", ["CVE-2025-23005"], [("go", "github.com/gin-gonic/gin", "1.19.1")],
               withdrawn="2026-02-15T00:00:00Z")
    f.osv_vuln("GHSA-2c4m-59x9-fr2g", ["CVE-2025-23005"], [("go", "github.com/gin-gonic/gin", "1.19.1")],
               withdrawn="2026-02-03T00:00:00Z")
    # rejected with no other evidence than an inconclusive scan
    f.nvd_cve("CVE-2025-23006", status="Rejected", score=None)
    # upstream records nobody observed
    f.nvd_cve("CVE-2025-23099", status="Rejected", score=None)
    f.osv_vuln("GHSA-jfhm-5ghh-2f97", ["CVE-2025-23098"], [("npm", "unused-pkg", "2.10.0")],
               withdrawn="2026-02-03T00:00:00Z")
    return f


def fx_unicode_packages() -> Fixture:
    f = Fixture("unicode_packages", "un")
    cafe = "café-utils"
    # same name composed (NFC) and decomposed (NFD), with PEP 503 spelling variants
    f.obs("03-01 09:00", "trivy", "CVE-2025-24001", cafe, "pypi", "1.12.0", "vulnerable", 0.8)
    f.obs("03-01 09:05", "grype", "CVE-2025-24001", nfd(cafe), "pypi", "1.12.0", "vulnerable", 0.6)
    f.obs("03-01 09:10", "snyk", "CVE-2025-24001", nfd("Café_Utils"), "pypi", "1.12.0", "patched", 0.3)
    f.obs("03-01 09:15", "mend", "CVE-2025-24001", " café.utils ", "pypi", "1.12.0", "vulnerable", 0.25)
    f.osv_vuln("GHSA-c4fe-8uq2-xq9p", ["CVE-2025-24001"], [("pypi", nfd("Café-Utils"), "1.13.0")])
    f.nvd_cve("CVE-2025-24001", score=6.5)
    # npm, decomposed only in OSV
    f.obs("03-01 10:00", "trivy", "CVE-2025-24002", "naïve-date", "npm", "2.10.3", "patched", 0.7)
    f.obs("03-01 10:05", "grype", "CVE-2025-24002", nfd("naïve-date"), "npm", "2.11.0", "patched", 0.7)
    f.osv_vuln("GHSA-n41v-d4t3-7x2m", ["CVE-2025-24002"], [("npm", nfd("naïve-date"), "2.11.0")])
    # Ångström: precomposed, decomposed and the ANGSTROM SIGN (canonical singleton)
    for src, name in (("trivy", "ångström-units"), ("grype", nfd("ångström-units")),
                      ("snyk", "\u212bngström-units")):
        f.obs("03-01 11:00", src, "CVE-2025-24003", name, "pypi", "3.14.1", "not_present", 0.6)
    # non-Latin scripts
    f.obs("03-01 12:00", "trivy", "CVE-2025-24004", "日本語-tokenizer", "pypi", "0.19.2", "vulnerable", 0.9)
    f.obs("03-01 12:00", "grype", "CVE-2025-24004", "日本語_Tokenizer", "pypi", "0.19.2", "vulnerable", 0.5)
    f.obs("03-01 12:30", "trivy", "CVE-2025-24005", "пакет-логов", "npm", "5.10.0", "vulnerable", 0.7)
    f.obs("03-01 12:35", "snyk", "CVE-2025-24005", "ПАКЕТ-ЛОГОВ", "npm", "5.10.0", "patched", 0.65)
    f.obs("03-01 13:00", "trivy", "CVE-2025-24006", "straße-geo", "cargo", "0.12.4", "vulnerable", 0.7)
    f.obs("03-01 13:00", "grype", "CVE-2025-24006", "Straße-Geo", "cargo", "0.12.4", "vulnerable", 0.6)
    f.osv_vuln("GHSA-5tr4-55e9-9e0q", ["CVE-2025-24006"], [("cargo", "straße-geo", "0.12.4")])
    f.nvd_cve("CVE-2025-24006", score=8.1)
    # override written with the decomposed spelling
    f.override("CVE-2025-24003", "pypi", nfd("Ångström_Units"), "affected", "bundled C extension is affected",
               "élodie", "03-02 09:00")
    return f


def fx_multi_cve_package() -> Fixture:
    f = Fixture("multi_cve_package", "mc")
    pkg = "django"
    # the upgrade from 4.12.3 to 4.21.1 happens on 03-03
    plan = {
        "CVE-2024-31001": [("vulnerable", "vulnerable"), ("vulnerable", "vulnerable")],
        "CVE-2024-31002": [("vulnerable", "vulnerable"), ("patched", "patched")],
        "CVE-2024-31003": [("vulnerable", "vulnerable"), ("patched", "patched")],
        "CVE-2024-31004": [("not_present", "not_present"), ("not_present", "not_present")],
        "CVE-2024-31005": [("vulnerable", "vulnerable"), ("vulnerable", "patched")],
        "CVE-2024-31006": [("vulnerable", "inconclusive"), ("vulnerable", "vulnerable")],
        "CVE-2024-31007": [("inconclusive", "vulnerable"), ("patched", "vulnerable")],
    }
    for cve, phases in plan.items():
        for day, version, (sig_a, sig_b) in (("03-01", "4.12.3", phases[0]), ("03-04", "4.21.1", phases[1])):
            f.obs(f"{day} 06:00", "trivy", cve, pkg, "pypi", version, sig_a, 0.7)
            f.obs(f"{day} 06:00", "grype", cve, "Django", "pypi", version, sig_b, 0.55)
    f.osv_vuln("GHSA-9g4c-7r5q-6mwq", ["CVE-2024-31001"], [("pypi", "Django", "4.22.0")])
    f.osv_vuln("GHSA-2m3w-hq7m-6cjm", ["CVE-2024-31002"], [("pypi", "Django", "4.20.0")])
    f.osv_vuln("GHSA-fq8h-cw4c-84pp", ["CVE-2024-31005"], [("pypi", "Django", "4.21.1")])
    f.osv_vuln("GHSA-wv6m-7v3q-2j9f", ["CVE-2024-31006", "CVE-2024-31007"], [("pypi", "django", "4.21.0")])
    for cve, score in (("CVE-2024-31001", 7.5), ("CVE-2024-31002", 5.3), ("CVE-2024-31003", 4.3),
                       ("CVE-2024-31005", 9.1), ("CVE-2024-31006", 6.5)):
        f.nvd_cve(cve, score=score)
    f.nvd_cve("CVE-2024-31004", status="Rejected", score=None)
    # the same CVE also affects a second package
    f.obs("03-02 06:00", "trivy", "CVE-2024-31001", "djangorestframework", "pypi", "3.14.0", "vulnerable", 0.7)
    f.osv_vuln("GHSA-8r9p-2jw2-hg6h", ["CVE-2024-31001"], [("pypi", "djangorestframework", "3.15.2")])
    return f


def fx_upstream_decides() -> Fixture:
    f = Fixture("upstream_decides", "ud")
    # OSV alone: installed >= fixed
    f.obs("03-01 08:00", "trivy", "CVE-2025-25001", "jsonwebtoken", "npm", "9.10.2", "inconclusive", 0.5)
    f.osv_vuln("GHSA-8cf7-32gw-wr33", ["CVE-2025-25001"], [("npm", "jsonwebtoken", "9.10.0")])
    # OSV + NVD against one weak scanner
    f.obs("03-01 08:10", "dependabot", "CVE-2025-25002", "tar", "npm", "6.12.0", "patched", 0.35)
    f.osv_vuln("GHSA-r628-mhmh-qjhw", ["CVE-2025-25002"], [("npm", "tar", "6.13.0")])
    f.nvd_cve("CVE-2025-25002", status="Modified", score=8.8)
    # installed exactly the fixed version
    f.obs("03-01 08:20", "trivy", "CVE-2025-25003", "regex", "cargo", "1.15.3", "vulnerable", 0.4)
    f.osv_vuln("GHSA-m5pq-gvj9-9vr8", ["CVE-2025-25003"], [("cargo", "regex", "1.15.3")])
    # no version reported: OSV cannot say fixed
    f.obs("03-01 08:30", "trivy", "CVE-2025-25004", "log4j-core", "maven", "", "inconclusive", 0.5)
    f.osv_vuln("GHSA-jfh8-c2jp-5v3q", ["CVE-2025-25004"], [("maven", "log4j-core", "2.15.0")])
    # weight missing -> default weight
    f.obs("03-01 08:40", "grype", "CVE-2025-25005", "protobuf", "go", "1.33.0", "vulnerable", None)
    f.obs("03-01 08:45", "trivy", "CVE-2025-25005", "protobuf", "go", "1.33.0", "patched", 0.3)
    f.osv_vuln("GHSA-8r3f-844c-mc37", ["CVE-2025-25005"], [("go", "protobuf", "1.33.0", "1.32.9")])
    # lowest of several fixed versions across ranges
    f.obs("03-01 09:00", "trivy", "CVE-2025-25006", "pillow", "pypi", "9.40.1", "vulnerable", 0.6)
    f.osv_vuln("GHSA-44wm-f244-xhp3", ["CVE-2025-25006"], [("pypi", "Pillow", "9.50.0", "9.41.0", "9.45.2")])
    return f


def random_fixture(name: str, seed: int, n_observations: int, start: datetime, span_hours: float,
                   n_cves: int, n_overrides: int, noise: bool) -> Fixture:
    """A realistic mixed workload: many packages, several scanners, upgrades over time."""
    rng = random.Random(seed)
    f = Fixture(name, "o")
    syllables = ["ka", "lo", "mi", "ra", "te", "zu", "po", "ne", "vi", "so", "da", "qu", "fer", "bin", "tox", "lyn"]
    suffixes = ["", "", "-core", "-utils", "-client", "-parser", "js", "-cli", "-io", "-lite"]
    ecosystems = ["pypi"] * 7 + ["npm"] * 7 + ["cargo"] * 2 + ["maven"] * 2 + ["go"] * 2
    scanners = [("trivy", 0.85), ("grype", 0.75), ("snyk", 0.7), ("dependabot", 0.45), ("mend", 0.6),
                ("sbom-inventory", 0.3)]
    accented = ["résumé", "façade", "señal", "crème", "über", "smørrebrød"]

    def package_name(ecosystem: str) -> str:
        base = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))) + rng.choice(suffixes)
        if rng.random() < 0.02:
            base = rng.choice(accented) + "-" + base
        if ecosystem == "maven":
            return f"org.{rng.choice(syllables)}{rng.choice(syllables)}:{base}"
        if ecosystem == "go":
            return f"github.com/{rng.choice(syllables)}{rng.choice(syllables)}/{base}"
        if ecosystem == "npm" and rng.random() < 0.2:
            return f"@{rng.choice(syllables)}{rng.choice(syllables)}/{base}"
        return base

    def spelling(name: str, ecosystem: str) -> str:
        """How one scanner happens to write the name."""
        roll = rng.random()
        if roll < 0.05:
            return nfd(name)
        if ecosystem == "pypi" and roll < 0.12:
            return name.replace("-", "_").title()
        if roll < 0.15:
            return name.upper()
        return name

    packages: list[tuple[str, str]] = []
    seen_names: set[tuple[str, str]] = set()
    while len(packages) < max(8, n_cves // 3):
        ecosystem = rng.choice(ecosystems)
        name = package_name(ecosystem)
        if (ecosystem, name) not in seen_names:
            seen_names.add((ecosystem, name))
            packages.append((ecosystem, name))

    cve_ids: list[str] = []
    while len(cve_ids) < n_cves:
        cve = f"CVE-{rng.randint(2022, 2025)}-{rng.randint(1000, 59999)}"
        if cve not in cve_ids:
            cve_ids.append(cve)

    advisories = []  # (cve, ecosystem, name, scenario, v_old, fixed, v_new, upgrade_at, sources)
    for cve in cve_ids:
        for ecosystem, name in rng.sample(packages, rng.choice([1, 1, 1, 2, 2, 3])):
            major, minor, patch = rng.randint(1, 9), rng.randint(10, 97), rng.randint(0, 9)
            v_old = f"{major}.{minor}.{patch}"
            fixed = f"{major}.{minor + 1}.0"
            v_new = f"{major}.{minor + rng.choice([1, 1, 2])}.{rng.randint(0, 9)}"
            scenario = rng.choices(["upgrade", "vulnerable", "not_present", "noisy", "quiet"],
                                   weights=[40, 30, 12, 13, 5])[0]
            upgrade_at = rng.uniform(0.2, 0.8) * span_hours
            sources = rng.sample(scanners, rng.randint(2, 6))
            advisories.append((cve, ecosystem, name, scenario, v_old, fixed, v_new, upgrade_at, sources))

    per_advisory = n_observations / len(advisories)
    count = 0
    for index, (cve, ecosystem, name, scenario, v_old, fixed, v_new, upgrade_at, sources) in enumerate(advisories):
        target = round(per_advisory * (index + 1)) - count
        for _ in range(max(1, target)):
            source, base = rng.choice(sources)
            hours = rng.uniform(0, span_hours)
            upgraded = scenario == "upgrade" and hours >= upgrade_at
            version = v_new if upgraded else v_old
            if scenario == "upgrade":
                signal = "patched" if upgraded else "vulnerable"
            elif scenario == "vulnerable":
                signal = "vulnerable"
            elif scenario == "not_present":
                signal = "not_present"
            elif scenario == "quiet":
                signal = "inconclusive"
            else:
                signal = rng.choice(["vulnerable", "patched", "not_present", "inconclusive"])
            if rng.random() < 0.08:
                signal = rng.choice(["vulnerable", "patched", "not_present", "inconclusive"])
            if rng.random() < 0.03:
                version = ""
            weight = round(base * rng.uniform(0.55, 1.0), 3)
            at = iso(start + timedelta(seconds=int(hours * 3600)))
            record = f.obs(at, source, cve, spelling(name, ecosystem), ecosystem, version, signal, weight)
            count += 1
            if noise and rng.random() < 0.01:
                f.raw(dict(record))  # scanner re-delivery with the same obs_id
        if noise and rng.random() < 0.03:
            broken = {"obs_id": f"bad-{index}", "observed_at": "yesterday", "source": "trivy", "cve_id": cve,
                      "package": name, "ecosystem": ecosystem, "signal": "vulnerable", "weight": 0.5}
            f.raw(rng.choice([broken, {**broken, "observed_at": iso(start), "signal": "maybe"},
                              {**broken, "observed_at": iso(start), "weight": "high"},
                              {**broken, "observed_at": iso(start), "weight": 1.7},
                              {k: v for k, v in broken.items() if k != "source"}]))

    # NVD: most CVEs, a few rejected, some not analysed yet
    for cve in cve_ids:
        if rng.random() < 0.9:
            status = rng.choices(["Analyzed", "Modified", "Awaiting Analysis", "Received", "Rejected"],
                                 weights=[62, 18, 10, 5, 5])[0]
            score = None if status in ("Rejected", "Received") else round(rng.uniform(2.0, 9.9), 1)
            f.nvd_cve(cve, status=status, score=score)

    # OSV: one GHSA per CVE listing the affected packages it knows about
    def ghsa() -> str:
        return "GHSA-" + "-".join("".join(rng.choice(GHSA_ALPHABET) for _ in range(4)) for _ in range(3))

    by_cve: dict[str, list[tuple]] = {}
    for cve, ecosystem, name, _scenario, _v_old, fixed, *_rest in advisories:
        if rng.random() < 0.8:
            display = name if rng.random() < 0.7 else spelling(name, ecosystem)
            by_cve.setdefault(cve, []).append((ecosystem, display, fixed))
    for cve, affected in by_cve.items():
        withdrawn = "2026-02-1%dT00:00:00Z" % rng.randint(0, 9) if rng.random() < 0.02 else None
        f.osv_vuln(ghsa(), [cve], affected, withdrawn=withdrawn)

    # analyst overrides, all decided after the last scan
    decided = start + timedelta(hours=span_hours + 24)
    analysts = ["akumar", "jlee", "mrossi", "élodie", "tnakamura"]
    reasons = {
        "affected": ["vendor confirmed impact", "exploit path reachable from the public API"],
        "fixed": ["fixed by backport, see CHG ticket", "patched build deployed"],
        "not_affected": ["not reachable from public endpoints", "false positive, test dependency only"],
        "under_investigation": ["awaiting vendor statement", "scanner results contradict each other"],
        "withdrawn": ["duplicate of an older CVE", "upstream disputes the report"],
    }
    for cve, ecosystem, name, *_rest in rng.sample(advisories, min(n_overrides, len(advisories))):
        decided += timedelta(minutes=rng.randint(1, 90))
        state = rng.choice(sorted(reasons))
        f.override(cve, ecosystem, spelling(name, ecosystem), state, rng.choice(reasons[state]),
                   rng.choice(analysts), iso(decided))
    return f


def fx_typical_day() -> Fixture:
    return random_fixture("typical_day", seed=1103, n_observations=450, start=datetime(2026, 3, 9, 0, 0),
                          span_hours=24, n_cves=35, n_overrides=4, noise=True)


def fx_large() -> Fixture:
    return random_fixture("large", seed=20260301, n_observations=LARGE_OBSERVATIONS,
                          start=datetime(2026, 3, 1, 0, 0), span_hours=27 * 24, n_cves=900, n_overrides=60,
                          noise=True)


# ---------------------------------------------------------------------------
# suite regressions: each breaks one main invariant
# ---------------------------------------------------------------------------


def background(f: Fixture) -> None:
    """A few unremarkable advisories so that a regression fixture is not just the bug."""
    f.obs("03-01 08:00", "trivy", "CVE-2025-30001", "flask", "pypi", "2.13.0", "vulnerable", 0.8)
    f.obs("03-01 08:05", "grype", "CVE-2025-30001", "Flask", "pypi", "2.13.0", "vulnerable", 0.7)
    f.obs("03-01 08:10", "trivy", "CVE-2025-30002", "chalk", "npm", "5.30.0", "not_present", 0.8)
    f.obs("03-02 08:10", "grype", "CVE-2025-30002", "chalk", "npm", "5.30.0", "not_present", 0.5)
    f.nvd_cve("CVE-2025-30001", score=6.8)


def override_then_newer_scan(f: Fixture) -> None:
    """The records of the bug: an analyst override of pypi:urllib3:CVE-2025-31001, then a scan."""
    f.obs("03-01 09:00", "trivy", "CVE-2025-31001", "urllib3", "pypi", "1.26.5", "vulnerable", 0.8)
    f.obs("03-01 09:05", "grype", "CVE-2025-31001", "urllib3", "pypi", "1.26.5", "vulnerable", 0.7)
    f.override("CVE-2025-31001", "pypi", "urllib3", "not_affected", "vendored copy is never imported", "akumar",
               "03-02 12:00")
    # the nightly scan after the analyst's decision still says vulnerable
    f.obs("03-03 02:00", "trivy", "CVE-2025-31001", "urllib3", "pypi", "1.26.5", "vulnerable", 0.8)
    f.nvd_cve("CVE-2025-31001", score=6.1)


def fx_reg_override_then_newer_scan() -> Fixture:
    f = Fixture("override_then_newer_scan", "r1")
    background(f)
    override_then_newer_scan(f)
    return f


def fx_reg_large_override_then_newer_scan() -> Fixture:
    """main/large (same seed, same records) with the bug's records added after its own: a fixture as
    big as real ones, for `parity minimize` to shrink to the override and the later scan."""
    f = fx_large()
    f.name = "large_override_then_newer_scan"
    override_then_newer_scan(f)
    return f


def fx_reg_zero_weight_dissent() -> Fixture:
    f = Fixture("zero_weight_dissent", "r2")
    background(f)
    f.obs("03-01 09:00", "trivy", "CVE-2025-31002", "minimist", "npm", "1.22.8", "patched", 0.7)
    f.obs("03-01 09:05", "grype", "CVE-2025-31002", "minimist", "npm", "1.22.8", "patched", 0.6)
    # the SBOM inventory has no confidence model and sends weight 0
    f.obs("03-02 09:00", "sbom-inventory", "CVE-2025-31002", "minimist", "npm", "1.22.8", "vulnerable", 0.0)
    f.osv_vuln("GHSA-xvch-5gv4-984h", ["CVE-2025-31002"], [("npm", "minimist", "1.22.6")])
    return f


def fx_reg_version_digit_rollover() -> Fixture:
    f = Fixture("version_digit_rollover", "r3")
    background(f)
    # 1.9.4 is older than 1.10.0
    f.obs("03-01 09:00", "dependabot", "CVE-2025-31003", "pillow", "pypi", "1.9.4", "vulnerable", 0.3)
    f.osv_vuln("GHSA-56pw-mpj4-fxww", ["CVE-2025-31003"], [("pypi", "Pillow", "1.10.0")])
    # two release branches fixed: the lowest fix is 2.9.3, not 2.10.1
    f.obs("03-01 09:30", "trivy", "CVE-2025-31004", "markdown-it-py", "pypi", "2.12.0", "patched", 0.8)
    f.osv_vuln("GHSA-jrwr-5x3p-hvc3", ["CVE-2025-31004"], [("pypi", "markdown-it-py", "2.10.1", "2.9.3")])
    return f


def fx_reg_fullwidth_package_name() -> Fixture:
    f = Fixture("fullwidth_package_name", "r4")
    background(f)
    f.obs("03-01 09:00", "trivy", "CVE-2025-31005", "requests", "pypi", "2.31.0", "vulnerable", 0.8)
    # the JP mirror writes fullwidth latin letters
    f.obs("03-01 09:05", "jp-mirror", "CVE-2025-31005", "ｒｅｑｕｅｓｔｓ", "pypi", "2.31.0", "vulnerable", 0.6)
    f.obs("03-01 09:10", "grype", "CVE-2025-31005", "requests", "pypi", "2.31.0", "patched", 0.65)
    # and a ligature
    f.obs("03-01 10:00", "trivy", "CVE-2025-31006", "filelock", "pypi", "3.13.1", "vulnerable", 0.7)
    f.obs("03-01 10:05", "jp-mirror", "CVE-2025-31006", "\ufb01lelock", "pypi", "3.13.1", "patched", 0.9)
    f.osv_vuln("GHSA-w853-jp5j-5j7f", ["CVE-2025-31006"], [("pypi", "filelock", "3.13.3")])
    return f


# ---------------------------------------------------------------------------
# suite performance: outputs agree, but the candidate is slow on this shape
# ---------------------------------------------------------------------------


def ci_rescans(name: str, seed: int, packages: list[tuple[str, str, str, str, str, str]], every_minutes: int,
               days: int) -> Fixture:
    """A CI job rescans a lockfile's packages every `every_minutes` for `days` days, and upgrades them.

    packages: (cve, ecosystem, name, installed, fixed, upgraded) -- the upgrade to `upgraded` lands at a
    random point of the period; before it the CI scanner reports vulnerable, after it patched, with the odd
    inconclusive scan.  Two other scanners report once a day.
    """
    rng = random.Random(seed)
    f = Fixture(name, "p")
    start = datetime(2026, 3, 1, 0, 0)
    scans = days * 24 * 60 // every_minutes
    upgrades = {cve: rng.randrange(scans // 4, scans * 3 // 4) for cve, *_ in packages}
    for scan in range(scans):
        at = start + timedelta(minutes=scan * every_minutes, seconds=rng.randrange(0, 60))
        for cve, ecosystem, package, installed, _fixed, upgraded in packages:
            done = scan >= upgrades[cve]
            signal = "inconclusive" if rng.random() < 0.03 else "patched" if done else "vulnerable"
            f.obs(iso(at), "ci-trivy", cve, package, ecosystem, upgraded if done else installed, signal,
                  round(rng.uniform(0.75, 0.85), 3))
        if scan % (24 * 60 // every_minutes) == 0:
            for source, weight in (("grype", 0.6), ("dependabot", 0.45)):
                for cve, ecosystem, package, installed, _fixed, upgraded in packages:
                    done = scan >= upgrades[cve]
                    f.obs(iso(at + timedelta(minutes=7)), source, cve, package, ecosystem,
                          upgraded if done else installed, "patched" if done else "vulnerable", weight)
    for cve, ecosystem, package, _installed, fixed, _upgraded in packages:
        f.osv_vuln("GHSA-" + "-".join("".join(rng.choice(GHSA_ALPHABET) for _ in range(4)) for _ in range(3)),
                   [cve], [(ecosystem, package, fixed)])
        f.nvd_cve(cve, score=round(rng.uniform(4.0, 9.8), 1))
    # an analyst decision after the last scan, as in suite main
    cve, ecosystem, package, *_rest = packages[-1]
    f.override(cve, ecosystem, package, "fixed", "upgrade verified in production", "jlee",
               iso(start + timedelta(days=days, hours=6)))
    return f


def fx_perf_ci_rescans_one_package() -> Fixture:
    return ci_rescans("ci_rescans_one_package", seed=4242, every_minutes=7, days=30, packages=[
        ("CVE-2025-41001", "pypi", "urllib3", "1.26.5", "1.26.8", "1.26.9"),
    ])


def fx_perf_ci_rescans_lockfile() -> Fixture:
    return ci_rescans("ci_rescans_lockfile", seed=4343, every_minutes=15, days=30, packages=[
        ("CVE-2025-42001", "npm", "express", "4.18.2", "4.19.2", "4.21.1"),
        ("CVE-2025-42002", "npm", "axios", "1.16.0", "1.17.0", "1.17.4"),
        ("CVE-2025-42003", "npm", "ws", "8.16.0", "8.17.1", "8.18.0"),
        ("CVE-2025-42004", "pypi", "jinja2", "3.14.2", "3.14.4", "3.15.0"),
    ])


# ---------------------------------------------------------------------------
# suite history: three runs with one state directory per side
# ---------------------------------------------------------------------------

HISTORY_STEPS = ("1-baseline", "2-override", "3-upstream-fix")


class History:
    """A scenario fixture: one Fixture per step (a run of its own), written to <fixture>/<step>/.

    Each step holds that run's new observations, the analysts' sheet as it is then (it grows, so
    each step repeats the rows of the earlier ones unless a builder says otherwise) and the NVD
    and OSV responses of that day.
    """

    def __init__(self, name: str, prefix: str) -> None:
        self.name = name
        self.steps = [Fixture(step, f"{prefix}{index + 1}") for index, step in enumerate(HISTORY_STEPS)]

    def write(self, suite_dir: Path) -> None:
        for step in self.steps:
            step.write(suite_dir / self.name)

    @property
    def observations(self) -> list[object]:
        return [o for step in self.steps for o in step.observations]


def fx_hist_triage_week() -> History:
    h = History("triage_week", "hw")
    s1, s2, s3 = h.steps
    # 1-baseline: five advisories as the scanners see them on Monday and Tuesday
    s1.obs("03-09 08:00", "trivy", "CVE-2025-51001", "urllib3", "pypi", "1.26.5", "vulnerable", 0.8)
    s1.obs("03-09 08:05", "grype", "CVE-2025-51001", "urllib3", "pypi", "1.26.5", "vulnerable", 0.7)
    s1.obs("03-09 09:00", "trivy", "CVE-2025-51002", "lodash", "npm", "4.17.2", "vulnerable", 0.62)
    s1.obs("03-09 09:05", "snyk", "CVE-2025-51002", "lodash", "npm", "4.17.2", "patched", 0.58)
    s1.obs("03-09 10:00", "trivy", "CVE-2025-51003", "serde-yaml", "cargo", "0.11.0", "vulnerable", 0.5)
    s1.obs("03-09 11:00", "dependabot", "CVE-2025-51004", "Jinja2", "pypi", "3.14.2", "vulnerable", 0.3)
    s1.obs("03-10 08:00", "trivy", "CVE-2025-51005", "left-pad", "npm", "1.13.0", "vulnerable", 0.8)
    s1.obs("03-10 08:00", "grype", "CVE-2025-51005", "left-pad", "npm", "1.13.0", "vulnerable", 0.6)
    # 2-override: the nightly scans change nothing; analysts settle the disputed lodash advisory and
    # confirm serde-yaml, and a new advisory appears
    s2.obs("03-11 02:00", "trivy", "CVE-2025-51001", "urllib3", "pypi", "1.26.5", "vulnerable", 0.8)
    s2.obs("03-11 02:10", "snyk", "CVE-2025-51005", "left-pad", "npm", "1.13.0", "vulnerable", 0.55)
    s2.obs("03-11 03:00", "trivy", "CVE-2025-51006", "express", "npm", "4.18.2", "not_present", 0.7)
    for step in (s2, s3):
        step.override("CVE-2025-51002", "npm", "lodash", "not_affected", "lodash only ships in build tooling",
                      "mrossi", "03-11 10:00")
        step.override("CVE-2025-51003", "cargo", "serde-yaml", "affected", "exploitable with our YAML loader",
                      "akumar", "03-11 11:00")
    # 3-upstream-fix: urllib3 is upgraded past OSV's fix; OSV learns that jinja2 3.14.2 has the
    # backported fix (upstream alone decides: no scan), and serde-yaml's fix (but the analyst's
    # decision stands); NVD rejects the left-pad CVE
    s3.obs("03-12 08:00", "trivy", "CVE-2025-51001", "urllib3", "pypi", "1.26.9", "patched", 0.8)
    s3.obs("03-12 08:05", "grype", "CVE-2025-51001", "urllib3", "pypi", "1.26.9", "patched", 0.7)
    s3.obs("03-12 08:10", "grype", "CVE-2025-51006", "express", "npm", "4.18.2", "not_present", 0.6)
    s3.obs("03-12 09:00", "snyk", "CVE-2025-51007", "axios", "npm", "1.16.0", "vulnerable", 0.7)
    for number, step in enumerate(h.steps, 1):
        fixed = number == 3
        step.nvd_cve("CVE-2025-51001", score=7.5)
        step.osv_vuln("GHSA-5v2h-q9m4-7c3x", ["CVE-2025-51001"], [("pypi", "urllib3", "1.26.8")])
        step.nvd_cve("CVE-2025-51003", score=5.3)
        step.osv_vuln("GHSA-r7wq-2hgc-x9mp", ["CVE-2025-51003"], [("cargo", "serde-yaml", "0.11.0" if fixed else "")],
                      modified="2026-03-12T06:00:00Z" if fixed else "2026-03-02T10:00:00Z")
        step.nvd_cve("CVE-2025-51004", status="Awaiting Analysis", score=None)
        step.osv_vuln("GHSA-jq3c-8f4v-w6h2", ["CVE-2025-51004"], [("pypi", "jinja2", "3.14.2" if fixed else "3.14.4")],
                      modified="2026-03-12T06:30:00Z" if fixed else "2026-03-02T10:00:00Z")
        if fixed:
            step.nvd_cve("CVE-2025-51005", status="Rejected", score=None, last_modified="2026-03-12T09:30:00.000")
        else:
            step.nvd_cve("CVE-2025-51005", score=6.1)
    return h


def fx_hist_late_delivery() -> History:
    h = History("late_delivery", "hl")
    s1, s2, s3 = h.steps
    s1.obs("03-09 09:00", "trivy", "CVE-2025-53001", "requests", "pypi", "2.31.0", "vulnerable", 0.8)
    s1.obs("03-09 09:05", "grype", "CVE-2025-53001", "requests", "pypi", "2.31.0", "vulnerable", 0.6)
    s1.obs("03-09 10:00", "trivy", "CVE-2025-53002", "chalk", "npm", "5.30.0", "not_present", 0.8)
    s1.obs("03-09 11:00", "trivy", "CVE-2025-53004", "left-pad", "npm", "1.13.0", "vulnerable", 0.3)
    # an advisory that only the analysts know about
    first = ["CVE-2025-53003", "cargo", "tokio", "affected", "found in code review", "jlee", ts("03-09 12:00")]
    s1.overrides.append(first)
    # 2-override: grype delivers a report late, older than the one the state kept: it updates the
    # installed version but not grype's vote; the upgrade is then confirmed by trivy (re-delivered)
    s2.obs("03-09 08:00", "grype", "CVE-2025-53001", "requests", "pypi", "2.32.0", "patched", 0.6)
    confirmed = s2.obs("03-10 09:00", "trivy", "CVE-2025-53001", "requests", "pypi", "2.32.0", "patched", 0.8)
    s2.raw(dict(confirmed))
    s2.obs("03-10 10:00", "grype", "CVE-2025-53002", "chalk", "npm", "5.30.0", "patched", 0.3)
    s2.overrides.append(first)
    s2.override("CVE-2025-53003", "cargo", "tokio", "under_investigation", "vendor asked for more time", "jlee",
                "03-10 12:00")
    s2.override("CVE-2025-53002", "npm", "chalk", "fixed", "bad date", "jlee", "10/03/2026")
    # 3-upstream-fix: the sheet was restored from an old copy and lists only the first decision,
    # which is older than the one in force; NVD rejects chalk's CVE with a modification time
    # before the last scan; OSV withdraws left-pad's advisory and drops requests' record
    s3.overrides.append(first)
    s3.obs("03-11 09:00", "trivy", "CVE-2025-53005", "minimist", "npm", "1.22.8", "patched", None)
    for number, step in enumerate(h.steps, 1):
        if number < 3:
            step.osv_vuln("GHSA-9m2x-4hvq-c7f3", ["CVE-2025-53001"], [("pypi", "requests", "2.32.0")])
        step.nvd_cve("CVE-2025-53004", score=5.0)
        step.osv_vuln("GHSA-w4pc-3j8r-m6q9", ["CVE-2025-53004"], [("npm", "left-pad", "")],
                      withdrawn="2026-03-11T00:00:00Z" if number == 3 else None,
                      modified="2026-03-11T00:05:00Z" if number == 3 else "2026-03-01T00:00:00Z")
        if number == 3:
            step.nvd_cve("CVE-2025-53002", status="Rejected", score=None, last_modified="2026-03-01T00:00:00.000")
    return h


def fx_hist_rolling_month() -> History:
    """Three weekly runs over a seeded mix of advisories: upgrades, analysts' decisions after week 2,
    and upstream news in week 3 (fixes that cover the installed version, rejections, a withdrawal)."""
    rng = random.Random(5150)
    h = History("rolling_month", "hr")
    start = datetime(2026, 3, 1, 0, 0)
    scanners = [("trivy", 0.85), ("grype", 0.75), ("snyk", 0.7), ("dependabot", 0.45), ("mend", 0.6)]
    names = {"pypi": ["flask", "pyyaml", "pillow", "cryptography", "jinja2", "urllib3", "idna"],
             "npm": ["express", "lodash", "axios", "ws", "minimist", "semver", "tar"],
             "cargo": ["tokio", "hyper", "regex"], "maven": ["org.apache.commons:commons-text"]}
    advisories = []
    for index in range(32):
        ecosystem = rng.choice(["pypi"] * 3 + ["npm"] * 3 + ["cargo", "maven"])
        package = rng.choice(names[ecosystem])
        cve = f"CVE-2025-{55000 + index}"
        major, minor, patch = rng.randint(1, 9), rng.randint(10, 90), rng.randint(0, 9)
        advisories.append({
            "cve": cve, "ecosystem": ecosystem, "package": package, "old": f"{major}.{minor}.{patch}",
            "fixed": f"{major}.{minor + 1}.0", "new": f"{major}.{minor + rng.choice([1, 2])}.{rng.randint(0, 9)}",
            "scenario": rng.choices(["upgrade", "vulnerable", "not_present", "noisy"], weights=[40, 30, 15, 15])[0],
            "upgrade_week": rng.choice([1, 2]), "sources": rng.sample(scanners, rng.randint(1, 4)),
        })
    decided = rng.sample(advisories, 5)  # analysts decide on these after week 2; nobody scans them again
    upstream_news = rng.sample([a for a in advisories if a not in decided], 9)
    rows = []
    for week, step in enumerate(h.steps):
        for a in advisories:
            if week == 2 and a in decided:
                continue
            for _ in range(rng.randint(0 if week else 1, 4)):
                moment = start + timedelta(days=7 * week, seconds=rng.randrange(0, 6 * 24 * 3600))
                source, base = rng.choice(a["sources"])
                upgraded = a["scenario"] == "upgrade" and week >= a["upgrade_week"]
                signal = {"upgrade": "patched" if upgraded else "vulnerable", "vulnerable": "vulnerable",
                          "not_present": "not_present"}.get(a["scenario"]) or rng.choice(
                              ["vulnerable", "patched", "not_present", "inconclusive"])
                version = a["new"] if upgraded else a["old"]
                step.obs(iso(moment), source, a["cve"], a["package"], a["ecosystem"], version, signal,
                         round(base * rng.uniform(0.6, 1.0), 3))
        if week == 1:
            moment = start + timedelta(days=14, hours=6)
            for a in decided:
                moment += timedelta(minutes=rng.randint(5, 120))
                state = rng.choice(["affected", "fixed", "not_affected", "under_investigation"])
                rows.append([a["cve"], a["ecosystem"], a["package"], state, "decided in the weekly triage",
                             rng.choice(["akumar", "jlee", "mrossi"]), iso(moment)])
        step.overrides.extend(rows)
        for a in advisories:
            news = week == 2 and a in upstream_news
            kind = upstream_news.index(a) % 3 if news else None
            if kind == 1:  # NVD rejects the CVE
                step.nvd_cve(a["cve"], status="Rejected", score=None,
                             last_modified=iso(start + timedelta(days=15, hours=upstream_news.index(a))))
            else:
                step.nvd_cve(a["cve"], score=round(2.0 + (int(a["cve"][-2:]) % 78) / 10, 1))
            osv_id = f"GHSA-{a['cve'][-4:]}-hrmx-2c4m"
            if kind == 0:  # OSV learns the fix was backported into the installed version
                step.osv_vuln(osv_id, [a["cve"]], [(a["ecosystem"], a["package"], a["old"])],
                              modified=iso(start + timedelta(days=15, hours=2 + upstream_news.index(a))))
            elif kind == 2:  # OSV withdraws its advisory
                step.osv_vuln(osv_id, [a["cve"]], [(a["ecosystem"], a["package"], a["fixed"])],
                              withdrawn=iso(start + timedelta(days=15)),
                              modified=iso(start + timedelta(days=15, hours=1)))
            else:
                step.osv_vuln(osv_id, [a["cve"]], [(a["ecosystem"], a["package"], a["fixed"])])
    return h


# ---------------------------------------------------------------------------
# suite feed: the vendor feed (legacy/feed_monolith.py, the pipeline's --source feed)
# ---------------------------------------------------------------------------

FEED_STATUS = {"vulnerable": "EXPLOITABLE", "patched": "REMEDIATED", "not_present": "NOT_DETECTED",
               "inconclusive": "UNDETERMINED"}
PURL_TYPES = {"pypi": "pypi", "npm": "npm", "cargo": "cargo", "maven": "maven", "go": "golang", "rubygems": "gem"}


def purl(ecosystem: str, package: str, version: str) -> str:
    """A package URL, names percent-encoded: ('npm', '@babel/core', '7.24.0') -> 'pkg:npm/%40babel/core@7.24.0'."""
    if ecosystem == "maven":
        parts = package.split(":")
    elif ecosystem in ("npm", "go"):
        parts = package.split("/")
    else:
        parts = [package]
    path = "/".join(quote(part, safe="") for part in parts)
    return f"pkg:{PURL_TYPES[ecosystem]}/{path}" + (f"@{quote(version, safe='')}" if version else "")


def ms(text: str) -> int:
    """'03-01 10:00' (see ts) or ISO 8601 UTC -> epoch milliseconds."""
    moment = datetime.fromisoformat(ts(text).replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)


class FeedFixture(Fixture):
    """A fixture of the vendor feed: vendor_feed.json instead of observations.json."""

    def __init__(self, name: str, prefix: str) -> None:
        super().__init__(name, prefix)
        self.findings: list[object] = []

    def finding(self, at: str, detector: str, cve: str, package: str, ecosystem: str, version: str, signal: str,
                confidence: float | None = 70, rev: int | None = None, finding_id: str | None = None,
                extra_ms: int = 0, component: str | None = None) -> dict:
        if finding_id is None:
            self._next += 1
            finding_id = f"ACME-F-{self.prefix}{self._next:05d}"
        record: dict = {"finding_id": finding_id}
        if rev is not None:
            record["rev"] = rev
        record |= {"reported_at_ms": ms(at) + extra_ms, "detector": detector, "vuln_id": cve,
                   "component": {"purl": component or purl(ecosystem, package, version)},
                   "status": FEED_STATUS[signal]}
        if confidence is not None:
            record["confidence"] = confidence
        self.findings.append(record)
        return record

    def write_observations(self, directory: Path) -> None:
        feed = {"feed": "acme-vuln-intel", "schema": "2.1", "exported_at": "2026-03-31T00:00:00Z"}
        with (directory / "vendor_feed.json").open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(json.dumps(feed, ensure_ascii=False)[:-1] + ', "findings": [\n')
            handle.write(",\n".join("  " + json.dumps(f, ensure_ascii=False) for f in self.findings))
            handle.write("\n]}\n")

    def as_observations(self) -> list[dict]:
        """The findings the jobs read, as scanner observations, for the invariants of a clean suite."""
        ecosystems = {purl_type: ecosystem for ecosystem, purl_type in PURL_TYPES.items()}
        out = []
        for f in self.findings:
            if not isinstance(f, dict) or f.get("reported_at_ms").__class__ is not int:
                continue
            path = f["component"]["purl"].removeprefix("pkg:").split("?")[0].split("#")[0]
            purl_type, _, path = path.partition("/")
            if purl_type not in ecosystems or not path:
                continue
            name, _, version = path.rpartition("@") if "@" in path else (path, "", "")
            ecosystem = ecosystems[purl_type]
            name = unquote(name).replace("/", ":") if ecosystem == "maven" else unquote(name)
            at = datetime.fromtimestamp(f["reported_at_ms"] / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            out.append({"obs_id": f["finding_id"], "observed_at": at, "source": f["detector"], "cve_id": f["vuln_id"],
                        "package": name, "ecosystem": ecosystem, "version": unquote(version),
                        "weight": None if f.get("confidence") is None else f["confidence"] / 100})
        return out

    def as_fixture(self) -> Fixture:
        shim = Fixture(self.name, self.prefix)
        shim.observations, shim.overrides, shim.osv = self.as_observations(), self.overrides, self.osv
        return shim


def fx_feed_purls_and_revisions() -> FeedFixture:
    f = FeedFixture("purls_and_revisions", "p")
    # package URLs of every kind the feed sends, percent-encoding and qualifiers included
    f.finding("03-02 08:00", "acme-agent", "CVE-2025-61001", "requests", "pypi", "2.31.0", "vulnerable", 80)
    f.finding("03-02 08:01", "acme-sca", "CVE-2025-61001", "Requests", "pypi", "2.31.0", "vulnerable", 55)
    f.finding("03-02 08:02", "acme-agent", "CVE-2025-61002", "@babel/core", "npm", "7.24.0", "vulnerable", 70)
    f.finding("03-02 08:03", "acme-agent", "CVE-2025-61003", "org.apache.commons:commons-text", "maven", "1.10.0",
              "vulnerable", 60)
    f.finding("03-02 08:04", "acme-agent", "CVE-2025-61004", "github.com/gin-gonic/gin", "go", "1.19.0", "patched", 75)
    f.finding("03-02 08:05", "acme-sca", "CVE-2025-61005", "serde-yaml", "cargo", "0.11.0", "not_present", 65)
    f.finding("03-02 08:06", "acme-sca", "CVE-2025-61006", "rack", "rubygems", "2.20.1", "vulnerable", 90)
    f.finding("03-02 08:07", "acme-agent", "CVE-2025-61007", "lodash", "npm", "4.17.2", "vulnerable", 66,
              component="pkg:npm/lodash@4.17.2?repository_url=https://registry.example.com#dist")
    f.finding("03-02 08:08", "acme-agent", "CVE-2025-61008", "café-utils", "pypi", "1.12.0", "vulnerable", 70)
    f.finding("03-02 08:09", "acme-sca", "CVE-2025-61008", "Café_Utils", "pypi", "1.12.0", "patched", 30)
    # milliseconds matter: the same second, in order
    f.finding("03-02 09:00", "acme-agent", "CVE-2025-61009", "ws", "npm", "8.16.0", "vulnerable", 50, extra_ms=250)
    f.finding("03-02 09:00", "acme-sca", "CVE-2025-61009", "ws", "npm", "8.16.0", "patched", 50, extra_ms=900)
    # revisions: the vendor re-issues a finding with a higher rev; a stale re-issue loses
    f.finding("03-03 10:00", "acme-agent", "CVE-2025-61010", "axios", "npm", "1.16.0", "vulnerable", 70, rev=1,
              finding_id="ACME-F-REV-1")
    f.finding("03-04 10:00", "acme-agent", "CVE-2025-61010", "axios", "npm", "1.17.4", "patched", 85, rev=3,
              finding_id="ACME-F-REV-1")
    f.finding("03-05 10:00", "acme-agent", "CVE-2025-61010", "axios", "npm", "1.16.0", "vulnerable", 70, rev=2,
              finding_id="ACME-F-REV-1")
    f.finding("03-03 11:00", "acme-sca", "CVE-2025-61010", "axios", "npm", "1.16.0", "vulnerable", 40, rev=2,
              finding_id="ACME-F-REV-2")
    f.finding("03-03 11:30", "acme-sca", "CVE-2025-61010", "axios", "npm", "1.16.0", "not_present", 40, rev=2,
              finding_id="ACME-F-REV-2")
    # no confidence: the feed job's "medium" (0.4); undetermined is inconclusive
    f.finding("03-03 12:00", "acme-agent", "CVE-2025-61011", "tar", "npm", "6.12.0", "vulnerable", None)
    f.finding("03-03 12:05", "acme-sca", "CVE-2025-61011", "tar", "npm", "6.12.0", "inconclusive", 90)
    # findings the jobs skip
    bad = {"finding_id": "ACME-F-BAD", "reported_at_ms": ms("03-03 13:00"), "detector": "acme-agent",
           "vuln_id": "CVE-2025-61012", "component": {"purl": "pkg:pypi/flask@2.13.0"}, "status": "EXPLOITABLE",
           "confidence": 50}
    f.findings += [{**bad, "component": {"purl": "pkg:conan/zlib@1.3.0"}}, {**bad, "component": {"purl": "flask"}},
                   {**bad, "status": "MAYBE"}, {**bad, "reported_at_ms": "yesterday"}, {**bad, "rev": 0},
                   {**bad, "confidence": 150}, {**bad, "confidence": True}, {**bad, "detector": " "}, "not a finding"]
    f.nvd_cve("CVE-2025-61001", score=6.1)
    f.nvd_cve("CVE-2025-61003", score=9.8)
    f.nvd_cve("CVE-2025-61006", status="Rejected", score=None)
    f.osv_vuln("GHSA-c3rp-9x4m-v2qh", ["CVE-2025-61002"], [("npm", "@babel/core", "7.24.1")])
    f.osv_vuln("GHSA-6f8w-2j9q-m4cv", ["CVE-2025-61004"], [("go", "github.com/gin-gonic/gin", "1.19.0")])
    f.osv_vuln("GHSA-h2v9-q7cx-8m3w", ["CVE-2025-61010"], [("npm", "axios", "1.17.0")])
    f.osv_vuln("GHSA-m9x4-7r2c-qv8f", ["CVE-2025-61008"], [("pypi", "Café-Utils", "1.13.0")])
    f.override("CVE-2025-61007", "npm", "lodash", "not_affected", "only in the build image", "akumar", "03-06 09:00")
    return f


def fx_feed_typical_feed() -> FeedFixture:
    """A seeded month of the feed: two detectors, revisions, upgrades, the odd finding without confidence."""
    rng = random.Random(6060)
    f = FeedFixture("typical_feed", "t")
    start = datetime(2026, 3, 1, 0, 0)
    packages = [("pypi", "requests"), ("pypi", "pyyaml"), ("pypi", "jinja2"), ("npm", "express"),
                ("npm", "@types/node"), ("npm", "ws"), ("maven", "com.fasterxml.jackson.core:jackson-databind"),
                ("go", "golang.org/x/net"), ("cargo", "hyper"), ("rubygems", "nokogiri")]
    advisories = []
    for index in range(45):
        ecosystem, package = rng.choice(packages)
        major, minor, patch = rng.randint(1, 9), rng.randint(10, 90), rng.randint(0, 9)
        advisories.append((f"CVE-2025-{62000 + index}", ecosystem, package, f"{major}.{minor}.{patch}",
                           f"{major}.{minor + 1}.0", f"{major}.{minor + 2}.{rng.randint(0, 9)}",
                           rng.choices(["upgrade", "vulnerable", "absent", "noisy"], weights=[40, 35, 10, 15])[0],
                           rng.uniform(0.3, 0.8)))
    for cve, ecosystem, package, old, fixed, new, scenario, upgrade_at in advisories:
        for _ in range(rng.randint(2, 14)):
            when = rng.uniform(0, 1)
            upgraded = scenario == "upgrade" and when >= upgrade_at
            signal = {"upgrade": "patched" if upgraded else "vulnerable", "vulnerable": "vulnerable",
                      "absent": "not_present"}.get(scenario) or rng.choice(list(FEED_STATUS))
            confidence = None if rng.random() < 0.05 else rng.randint(35, 95)
            at = iso(start + timedelta(seconds=int(when * 28 * 24 * 3600)))
            record = f.finding(at, rng.choice(["acme-agent", "acme-sca"]), cve, package, ecosystem,
                               new if upgraded else old, signal, confidence, extra_ms=rng.randrange(0, 1000))
            if rng.random() < 0.1:  # the vendor revises the finding: a later report, a higher rev
                later = record["reported_at_ms"] + rng.randrange(60_000, 7_200_000)
                revised = dict(record, rev=2, reported_at_ms=later, status=rng.choice(list(FEED_STATUS.values())))
                f.findings.append(revised)
        if rng.random() < 0.75:
            f.osv_vuln(f"GHSA-{cve[-4:]}-ft9x-{rng.choice(GHSA_ALPHABET)}2c4", [cve], [(ecosystem, package, fixed)])
        if rng.random() < 0.85:
            status = rng.choices(["Analyzed", "Modified", "Awaiting Analysis", "Rejected"], weights=[70, 15, 10, 5])[0]
            f.nvd_cve(cve, status=status, score=None if status == "Rejected" else round(rng.uniform(3.0, 9.8), 1))
    for cve, ecosystem, package, *_rest in rng.sample(advisories, 4):
        f.override(cve, ecosystem, package, rng.choice(["fixed", "not_affected", "affected"]),
                   "triaged from the vendor portal", rng.choice(["akumar", "jlee"]),
                   iso(start + timedelta(days=29, minutes=rng.randint(0, 600))))
    return f


def fx_feed_empty() -> FeedFixture:
    return FeedFixture("empty", "e")


MAIN = [fx_empty, fx_conflicting_sources, fx_analyst_overrides, fx_withdrawn_rejected, fx_unicode_packages,
        fx_multi_cve_package, fx_upstream_decides, fx_typical_day, fx_large]
REGRESSIONS = [fx_reg_override_then_newer_scan, fx_reg_zero_weight_dissent, fx_reg_version_digit_rollover,
               fx_reg_fullwidth_package_name, fx_reg_large_override_then_newer_scan]
PERFORMANCE = [fx_perf_ci_rescans_one_package, fx_perf_ci_rescans_lockfile]
HISTORY = [fx_hist_triage_week, fx_hist_late_delivery, fx_hist_rolling_month]
FEED = [fx_feed_purls_and_revisions, fx_feed_typical_feed, fx_feed_empty]


# ---------------------------------------------------------------------------
# invariants of suite main
# ---------------------------------------------------------------------------

_MAIN_VERSION = re.compile(r"^\d\.\d\d\.\d$")


def _epoch(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return None


def _key(cve: str, ecosystem: str, package: str) -> tuple[str, str, str]:
    ecosystem = ecosystem.strip().lower()
    name = unicodedata.normalize("NFC", package).strip().lower()
    if ecosystem == "pypi":
        name = re.sub(r"[-_.]+", "-", name)
    return cve.strip().upper(), ecosystem, name


def check_main_invariants(f: Fixture) -> list[str]:
    problems = []
    last_seen: dict[tuple[str, str, str], datetime] = {}
    names = []
    for record in f.observations:
        if not isinstance(record, dict) or not all(isinstance(record.get(k), str) and record.get(k).strip() for k in
                                                   ("obs_id", "source", "cve_id", "package", "ecosystem")):
            continue
        moment = _epoch(record.get("observed_at", ""))
        if moment is None:
            continue
        weight = record.get("weight")
        if isinstance(weight, (int, float)) and not isinstance(weight, bool) and weight <= 0:
            problems.append(f"{f.name}: observation {record['obs_id']} has weight {weight}")
        version = record.get("version") or ""
        if version and not _MAIN_VERSION.match(version):
            problems.append(f"{f.name}: observation {record['obs_id']} has version {version!r}")
        key = _key(record["cve_id"], record["ecosystem"], record["package"])
        last_seen[key] = max(last_seen.get(key, moment), moment)
        names.append(record["package"])
    for row in f.overrides:
        cve, ecosystem, package, *_rest, decided_at = row
        moment = _epoch(decided_at)
        key = _key(cve, ecosystem, package)
        if moment is not None and key in last_seen and moment <= last_seen[key]:
            problems.append(f"{f.name}: override for {key} is not newer than its last observation")
        names.append(package)
    for vuln in f.osv:
        for affected in vuln["affected"]:
            names.append(affected["package"]["name"])
            for rng in affected["ranges"]:
                for event in rng["events"]:
                    if "fixed" in event and not _MAIN_VERSION.match(event["fixed"]):
                        problems.append(f"{f.name}: OSV fixed version {event['fixed']!r}")
    for name in names:
        if unicodedata.normalize("NFC", name) != unicodedata.normalize("NFKC", name):
            problems.append(f"{f.name}: package name {name!r} changes under NFKC")
    return problems


def check_history_invariants(h: History) -> list[str]:
    """The main invariants over all steps together, and: an advisory is never scanned again in a later
    run than the one whose sheet first decides on it (the candidate would re-decide it)."""
    merged = Fixture(h.name, "x")
    first_decided: dict[tuple[str, str, str], int] = {}
    for number, step in enumerate(h.steps):
        merged.observations += step.observations
        merged.osv += step.osv
        for row in step.overrides:
            if row not in merged.overrides:
                merged.overrides.append(row)
            first_decided.setdefault(_key(row[0], row[1], row[2]), number)
    problems = check_main_invariants(merged)
    for number, step in enumerate(h.steps):
        for record in step.observations:
            if isinstance(record, dict) and first_decided.get(
                    _key(record["cve_id"], record["ecosystem"], record["package"]), number) < number:
                problems.append(f"{h.name}/{step.name}: observation {record['obs_id']} after the run that "
                                "decided on its advisory")
    return problems


# The main invariant each regression fixture breaks, as check_main_invariants words its problems.
OVERRIDE_RULE = "is not newer than its last observation"
REGRESSION_RULES = {
    "override_then_newer_scan": (OVERRIDE_RULE,),
    "zero_weight_dissent": ("has weight",),
    "version_digit_rollover": ("has version", "OSV fixed version"),
    "fullwidth_package_name": ("changes under NFKC",),
    "large_override_then_newer_scan": (OVERRIDE_RULE,),
}


def check_regression_invariants(f: Fixture) -> list[str]:
    """A regression fixture breaks the main invariant of its bug, and keeps every other one."""
    rule = REGRESSION_RULES.get(f.name)
    if rule is None:
        return [f"{f.name}: no entry in REGRESSION_RULES"]
    broken = check_main_invariants(f)
    problems = [p for p in broken if not any(fragment in p for fragment in rule)]
    if len(problems) == len(broken):
        problems.append(f"{f.name}: breaks no main invariant of its bug ({' / '.join(rule)})")
    return problems


def describe(fixture: Fixture) -> str:
    if isinstance(fixture, FeedFixture):
        return f"{len(fixture.findings)} findings, {len(fixture.overrides)} overrides, {len(fixture.nvd)} NVD, " \
               f"{len(fixture.osv)} OSV"
    return f"{len(fixture.observations)} observations, {len(fixture.overrides)} overrides, {len(fixture.nvd)} NVD, " \
           f"{len(fixture.osv)} OSV"


def main() -> int:
    problems = []
    suites = (("main", MAIN), ("regressions", REGRESSIONS), ("performance", PERFORMANCE), ("history", HISTORY),
              ("feed", FEED))
    for suite, builders in suites:
        suite_dir = FIXTURES / suite
        if suite_dir.exists():
            shutil.rmtree(suite_dir)
        suite_dir.mkdir(parents=True)
        for build in builders:
            fixture = build()
            if isinstance(fixture, History):
                problems += check_history_invariants(fixture)
                fixture.write(suite_dir)
                for step in fixture.steps:
                    print(f"{suite}/{fixture.name}/{step.name}: {describe(step)}")
                continue
            if isinstance(fixture, FeedFixture):
                problems += check_main_invariants(fixture.as_fixture())
            elif suite == "regressions":
                problems += check_regression_invariants(fixture)
            else:
                problems += check_main_invariants(fixture)
            fixture.write(suite_dir)
            print(f"{suite}/{fixture.name}: {describe(fixture)}")
    if problems:
        print("the fixtures break their invariants:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
