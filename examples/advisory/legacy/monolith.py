#!/usr/bin/env python3
# -*- coding: utf-8 -*-
#
# advisory_enrich.py  --  nightly advisory enrichment job
#
# Reads scanner observations plus analyst overrides plus the cached NVD / OSV
# responses for one run directory and writes the "current advisories"
# snapshot, the state history and the run report that the dashboard scrapes.
#
# Usage:
#     python3 monolith.py --input RUN_DIR --out OUT_DIR [--state DIR] [--dump-stages DIR]
#                         [--warehouse SCHEMA] [--verbose]
#
# History (abridged, see the wiki page "Advisory job" for the full story):
#   2019-04  v1   first version, only scanner-a, state = last signal wins
#   2020-02  v2   weighted voting across scanners (SEC-201)
#   2020-11       NVD rejected CVEs become "withdrawn" (SEC-288)
#   2021-06  v3   OSV fixed versions, analyst overrides csv (SEC-340, SEC-351)
#   2022-01       NFKC package names, scanner-c sends fullwidth names (SEC-412)
#   2022-09       fsum for voting, decisions flapped between nightly runs when
#                 the scanner feeds arrived in a different order (OPS-1182)
#   2023-05       state_history.csv for the audit people (AUD-77)
#   2024-02       run report in markdown instead of the html email (OPS-1530)
#   2026-03       --state DIR: carry advisories and history from one run to the
#                 next (OPS-1702); --dump-stages DIR for the pipeline migration
#                 (MIG-12), see the README of the example
#   2026-11       --warehouse SCHEMA: also load the advisories and the history
#                 into PostgreSQL for the dashboard (DASH-9), through psql
#
# Nobody remembers why some of the constants have the values they have.
# Do not "clean up" the voting without talking to the security team first.
#

import csv
import datetime
import json
import math
import os
import re
import subprocess
import sys
import time
import unicodedata

VERSION = "3.9.1"

# ---------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------

STATES = ["affected", "fixed", "not_affected", "under_investigation", "withdrawn"]

# scanner signal -> state it argues for.  inconclusive argues for nothing.
SIGNAL_TO_STATE = {
    "vulnerable": "affected",
    "patched": "fixed",
    "not_present": "not_affected",
    "inconclusive": None,
}

# weight used when a scanner does not send one (old scanner-a builds)
DEFAULT_WEIGHT = 0.5

# OSV is trusted a bit more than a single scanner (SEC-340)
OSV_WEIGHT = 0.6

# NVD only ever says "affected"; weight grows with the CVSS base score
NVD_BASE_WEIGHT = 0.2
NVD_CVSS_FACTOR = 0.02
NVD_VOTING_STATUSES = ("analyzed", "modified")

# if the two strongest states are closer than this we do not decide (SEC-201)
CONFLICT_MARGIN = 0.15

# OSV ecosystem names -> ours
OSV_ECOSYSTEMS = {
    "pypi": "pypi",
    "npm": "npm",
    "crates.io": "cargo",
    "maven": "maven",
    "go": "go",
    "rubygems": "rubygems",
    "nuget": "nuget",
}

REQUIRED_OBS_FIELDS = ["obs_id", "observed_at", "source", "cve_id", "package", "ecosystem", "signal"]
OVERRIDE_COLUMNS = ["cve_id", "ecosystem", "package", "forced_state", "reason", "analyst", "decided_at"]

INPUT_FILES = ["observations.json", "overrides.csv", "nvd.json", "osv.json"]

HISTORY_COLUMNS = ["advisory_id", "seq", "observed_at", "from_state", "to_state", "source", "reason_code"]

# the disputed table in the report got too long for the email (OPS-1530)
MAX_DISPUTED_ROWS = 25

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_BAD_STATE = 3

# --state DIR (OPS-1702).  Which job wrote a state file matters: the vendor
# feed job (feed_monolith.py) keeps the same kind of file for another source.
JOB = "observations"
STATE_FILE = "advisory_state.json"
STATE_FORMAT = "advisory_enrich.state"
STATE_VERSION = 1
# what the pipeline that replaces us keeps in a state directory
FOREIGN_STATE_FILES = {"pipeline_state.sqlite3": "advisory_pipeline"}
UPSTREAM_SOURCE = "upstream"

# --dump-stages DIR (MIG-12): when set, the loaders and process() also keep
# what they read and decided, by the pipeline's phase names, in STAGE
DUMP_DIR = None
STAGE = {}

VERBOSE = False

# old scoring switch, kept because the on-call runbook still mentions it
USE_OLD_SCORING = False

class InputProblem(Exception):
    pass

class StateProblem(Exception):
    pass

def log(msg):
    if VERBOSE:
        sys.stderr.write("[advisory_enrich] " + msg + "\n")

# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

def parse_ts(s):
    """ISO-8601 timestamp -> seconds since epoch (float), None if garbage.

    We do this by hand because the jump host ran python 3.6 for years and
    fromisoformat did not understand 'Z' there (SEC-88).
    """
    if not isinstance(s, str):
        return None
    s = s.strip()
    if len(s) < 19:
        return None
    base = s[:19]
    rest = s[19:]
    try:
        dt = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        try:
            dt = datetime.datetime.strptime(base, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
    frac = 0.0
    if rest.startswith("."):
        j = 1
        while j < len(rest) and rest[j].isdigit():
            j += 1
        try:
            frac = float("0" + rest[:j])
        except ValueError:
            return None
        rest = rest[j:]
    offset = 0
    if rest == "" or rest == "Z" or rest == "z":
        offset = 0
    elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
        try:
            hh = int(rest[1:3])
            mm = int(rest[4:6])
        except ValueError:
            return None
        offset = hh * 3600 + mm * 60
        if rest[0] == "-":
            offset = -offset
    else:
        return None
    epoch = (dt - datetime.datetime(1970, 1, 1)).total_seconds()
    return epoch - offset + frac

def norm_package(name, ecosystem):
    # SEC-412: scanner-c (the JP mirror) sends fullwidth latin letters, so
    # NFKC rather than NFC.  PyPI names are also PEP 503 normalised.
    n = unicodedata.normalize("NFKC", name).strip().lower()
    if ecosystem == "pypi":
        n = re.sub(r"[-_.]+", "-", n)
    return n

def norm_ecosystem(eco):
    e = eco.strip().lower()
    if e in OSV_ECOSYSTEMS:
        return OSV_ECOSYSTEMS[e]
    return e

def make_advisory_id(cve, eco, pkg):
    return eco + ":" + pkg + ":" + cve

def vercmp(a, b):
    """compare two version strings numerically, 1.10 > 1.9, 1.2 == 1.2.0"""
    na = [int(x) for x in re.findall(r"\d+", a)]
    nb = [int(x) for x in re.findall(r"\d+", b)]
    while len(na) < len(nb):
        na.append(0)
    while len(nb) < len(na):
        nb.append(0)
    if na < nb:
        return -1
    if na > nb:
        return 1
    return 0

def read_json_file(path):
    if not os.path.isfile(path):
        raise InputProblem("missing input file: " + path)
    try:
        f = open(path, "r", encoding="utf-8")
    except OSError as e:
        raise InputProblem("cannot read input file: " + path + " (" + str(e) + ")")
    try:
        try:
            return json.load(f)
        except (ValueError, UnicodeDecodeError) as e:
            raise InputProblem("malformed JSON in " + path + ": " + str(e))
    finally:
        f.close()

# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------

def load_observations(path):
    raw = read_json_file(path)
    if not isinstance(raw, list):
        raise InputProblem("malformed observations in " + path + ": expected a JSON list")
    stats = {"records": len(raw), "skipped": 0, "duplicates": 0}
    seen = set()
    out = []
    for item in raw:
        if not isinstance(item, dict):
            stats["skipped"] += 1
            continue
        bad = False
        for k in REQUIRED_OBS_FIELDS:
            v = item.get(k)
            if not isinstance(v, str) or v.strip() == "":
                bad = True
                break
        if bad:
            stats["skipped"] += 1
            continue
        sig = item["signal"].strip().lower()
        if sig not in SIGNAL_TO_STATE:
            stats["skipped"] += 1
            continue
        ts = parse_ts(item["observed_at"])
        if ts is None:
            stats["skipped"] += 1
            continue
        w = item.get("weight", None)
        if w is None:
            w = DEFAULT_WEIGHT
        if isinstance(w, bool) or not isinstance(w, (int, float)):
            stats["skipped"] += 1
            continue
        w = float(w)
        if not (0.0 <= w <= 1.0):
            stats["skipped"] += 1
            continue
        ver = item.get("version")
        if not isinstance(ver, str):
            ver = ""
        oid = item["obs_id"].strip()
        if oid in seen:
            # scanner-b re-delivers the last batch after a timeout (OPS-977)
            stats["duplicates"] += 1
            continue
        seen.add(oid)
        if DUMP_DIR is not None:
            STAGE.setdefault("observations", []).append({
                "obs_id": oid, "observed_at": item["observed_at"].strip(), "source": item["source"].strip(),
                "cve_id": item["cve_id"].strip(), "package": item["package"], "ecosystem": item["ecosystem"].strip(),
                "version": ver.strip(), "signal": sig, "weight": w})
        eco = norm_ecosystem(item["ecosystem"])
        out.append({"obs_id": oid, "observed_at": item["observed_at"].strip(), "ts": ts,
                    "source": item["source"].strip(), "cve_id": item["cve_id"].strip().upper(),
                    "package": norm_package(item["package"], eco), "ecosystem": eco, "version": ver.strip(),
                    "signal": sig, "weight": w})
    log("observations: %d read, %d skipped, %d duplicates" % (len(out), stats["skipped"], stats["duplicates"]))
    return out, stats

def load_overrides(path):
    if not os.path.isfile(path):
        raise InputProblem("missing input file: " + path)
    stats = {"records": 0, "skipped": 0}
    overrides = {}
    try:
        f = open(path, "r", encoding="utf-8", newline="")
    except OSError as e:
        raise InputProblem("cannot read input file: " + path + " (" + str(e) + ")")
    try:
        try:
            rdr = csv.reader(f)
            header = None
            rowno = 0
            for row in rdr:
                if header is None:
                    header = [h.strip().lower() for h in row]
                    for c in OVERRIDE_COLUMNS:
                        if c not in header:
                            raise InputProblem("malformed CSV in " + path + ": missing column " + c)
                    continue
                if len(row) == 0 or (len(row) == 1 and row[0].strip() == ""):
                    continue
                rowno += 1
                stats["records"] += 1
                rec = {}
                for i, h in enumerate(header):
                    rec[h] = row[i].strip() if i < len(row) else ""
                cve = rec["cve_id"].upper()
                eco = norm_ecosystem(rec["ecosystem"])
                pkg = rec["package"]
                st = rec["forced_state"].lower()
                ts = parse_ts(rec["decided_at"])
                if cve == "" or eco == "" or pkg == "" or st not in STATES or ts is None:
                    stats["skipped"] += 1
                    continue
                pkg = norm_package(pkg, eco)
                aid = make_advisory_id(cve, eco, pkg)
                analyst = rec["analyst"] if rec["analyst"] else "unknown"
                if DUMP_DIR is not None:
                    STAGE.setdefault("overrides", []).append({
                        "row": rowno, "cve_id": rec["cve_id"], "ecosystem": rec["ecosystem"], "package": rec["package"],
                        "forced_state": st, "reason": rec["reason"], "analyst": analyst, "decided_at": rec["decided_at"]})
                ov = {"advisory_id": aid, "cve_id": cve, "ecosystem": eco, "package": pkg, "state": st,
                      "reason": rec["reason"], "analyst": analyst, "decided_at": rec["decided_at"], "ts": ts,
                      "row": rowno}
                # newest decision wins, same timestamp -> later row wins
                if aid not in overrides or ts >= overrides[aid]["ts"]:
                    overrides[aid] = ov
            if header is None:
                raise InputProblem("malformed CSV in " + path + ": no header row")
        except csv.Error as e:
            raise InputProblem("malformed CSV in " + path + ": " + str(e))
        except UnicodeDecodeError as e:
            raise InputProblem("malformed CSV in " + path + ": " + str(e))
    finally:
        f.close()
    log("overrides: %d rows, %d skipped" % (stats["records"], stats["skipped"]))
    return overrides, stats

def load_nvd(path):
    raw = read_json_file(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("vulnerabilities", None), list):
        raise InputProblem("malformed NVD response in " + path + ": no 'vulnerabilities' list")
    stats = {"records": len(raw["vulnerabilities"]), "skipped": 0}
    nvd = {}
    for v in raw["vulnerabilities"]:
        c = v.get("cve") if isinstance(v, dict) else None
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or c["id"].strip() == "":
            stats["skipped"] += 1
            continue
        cid = c["id"].strip().upper()
        status = c.get("vulnStatus") or ""
        score = None
        metrics = c.get("metrics") or {}
        # prefer 3.1, then 3.0, then the old v2 score (SEC-290)
        for mk in ("cvssMetricV31", "cvssMetricV30", "cvssMetricV2"):
            lst = metrics.get(mk)
            if isinstance(lst, list) and len(lst) > 0:
                try:
                    score = float(lst[0]["cvssData"]["baseScore"])
                except (KeyError, TypeError, ValueError):
                    score = None
                if score is not None:
                    break
        desc = ""
        for d in c.get("descriptions") or []:
            if isinstance(d, dict) and d.get("lang") == "en":
                desc = d.get("value") or ""
                break
        lm = c.get("lastModified")
        lm = lm.strip() if isinstance(lm, str) and lm.strip() != "" else None
        nvd[cid] = {"id": cid, "status": status, "score": score, "description": desc,
                    "published": c.get("published") or "", "last_modified": lm}
        if DUMP_DIR is not None:
            STAGE.setdefault("nvd", []).append({"cve_id": c["id"].strip(), "status": status, "base_score": score,
                                                "last_modified": lm})
    log("nvd: %d records" % len(nvd))
    return nvd, stats

def load_osv(path):
    raw = read_json_file(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("vulns", None), list):
        raise InputProblem("malformed OSV response in " + path + ": no 'vulns' list")
    stats = {"records": len(raw["vulns"]), "skipped": 0}
    by_cve = {}
    for v in raw["vulns"]:
        if not isinstance(v, dict) or not isinstance(v.get("id"), str) or v["id"].strip() == "":
            stats["skipped"] += 1
            continue
        vid = v["id"].strip()
        cves = []
        if vid.upper().startswith("CVE-"):
            cves.append(vid.upper())
        for a in v.get("aliases") or []:
            if isinstance(a, str) and a.strip().upper().startswith("CVE-"):
                if a.strip().upper() not in cves:
                    cves.append(a.strip().upper())
        withdrawn = v.get("withdrawn")
        if not isinstance(withdrawn, str) or withdrawn.strip() == "":
            withdrawn = None
        affected = []
        for a in v.get("affected") or []:
            if not isinstance(a, dict):
                continue
            p = a.get("package") or {}
            if not isinstance(p.get("name"), str) or not isinstance(p.get("ecosystem"), str):
                continue
            eco = norm_ecosystem(p["ecosystem"])
            fixed = []
            for r in a.get("ranges") or []:
                for ev in (r.get("events") or []) if isinstance(r, dict) else []:
                    if isinstance(ev, dict) and isinstance(ev.get("fixed"), str):
                        fixed.append(ev["fixed"].strip())
            affected.append({"ecosystem": eco, "package": norm_package(p["name"], eco), "fixed": fixed})
        modified = v.get("modified")
        modified = modified.strip() if isinstance(modified, str) and modified.strip() != "" else None
        rec = {"id": vid, "withdrawn": withdrawn, "affected": affected, "modified": modified}
        if DUMP_DIR is not None:
            as_read = [vid] if vid.upper().startswith("CVE-") else []
            as_read += [a for a in v.get("aliases") or [] if isinstance(a, str) and a.strip().upper().startswith("CVE-")]
            raw_affected = []
            for a in v.get("affected") or []:
                p = a.get("package") or {} if isinstance(a, dict) else {}
                if isinstance(p.get("name"), str) and isinstance(p.get("ecosystem"), str):
                    raw_affected.append({"ecosystem": p["ecosystem"], "package": p["name"],
                                         "fixed": affected[len(raw_affected)]["fixed"]})
            STAGE.setdefault("osv", []).append({"osv_id": vid, "cve_ids": as_read, "withdrawn": withdrawn,
                                                "modified": modified, "affected": raw_affected})
        for c in cves:
            by_cve.setdefault(c, []).append(rec)
    log("osv: %d cves covered" % len(by_cve))
    return by_cve, stats

# ---------------------------------------------------------------------------
# the actual logic
# ---------------------------------------------------------------------------

def osv_info_for(osv_by_cve, cve, eco, pkg):
    """what OSV says about one (cve, package); None if it says nothing"""
    matches = []
    for rec in osv_by_cve.get(cve, []):
        for a in rec["affected"]:
            if a["ecosystem"] == eco and a["package"] == pkg:
                matches.append((rec, a))
    if not matches:
        return None
    live = [m for m in matches if m[0]["withdrawn"] is None]
    info = {"all_withdrawn": False, "fixed": None, "withdrawn_id": None, "withdrawn_on": None,
            "modified": [m[0]["modified"] for m in matches if m[0]["modified"] is not None]}
    if not live:
        info["all_withdrawn"] = True
        first = None
        for rec, a in matches:
            if first is None or rec["id"] < first["id"]:
                first = rec
        info["withdrawn_id"] = first["id"]
        info["withdrawn_on"] = first["withdrawn"][:10]
        return info
    best = None
    for rec, a in live:
        for fx in a["fixed"]:
            if fx == "":
                continue
            if best is None:
                best = fx
            else:
                c = vercmp(fx, best)
                if c < 0 or (c == 0 and fx < best):
                    best = fx
    info["fixed"] = best
    return info

def nvd_weight(rec):
    if rec["score"] is None:
        return NVD_BASE_WEIGHT
    return NVD_BASE_WEIGHT + rec["score"] * NVD_CVSS_FACTOR

def collect_votes(latest, order, installed, osv_info, nvd_rec):
    votes = []
    for src in order:
        st = SIGNAL_TO_STATE[latest[src]["signal"]]
        if st is None:
            continue
        votes.append((src, st, latest[src]["weight"]))
    if osv_info is not None:
        if osv_info["all_withdrawn"]:
            votes.append(("osv", "withdrawn", OSV_WEIGHT))
        elif installed != "" and osv_info["fixed"] is not None and vercmp(installed, osv_info["fixed"]) >= 0:
            votes.append(("osv", "fixed", OSV_WEIGHT))
        else:
            votes.append(("osv", "affected", OSV_WEIGHT))
    if nvd_rec is not None:
        s = nvd_rec["status"].strip().lower()
        if s == "rejected":
            votes.append(("nvd", "withdrawn", nvd_weight(nvd_rec)))
        elif s in NVD_VOTING_STATUSES:
            votes.append(("nvd", "affected", nvd_weight(nvd_rec)))
    return votes

def decide(adv, latest, order, installed, osv_info, nvd_rec, override):
    """returns the decision dict for the evidence seen so far"""
    votes = collect_votes(latest, order, installed, osv_info, nvd_rec)
    pkg = adv["package"]
    cve = adv["cve_id"]
    ver_text = installed if installed != "" else "unknown version"
    d = {"state": None, "reason_code": None, "explanation": None, "confidence": 0.0,
         "contributing": [], "dissenting": []}
    if override is not None:
        st = override["state"]
        d["state"] = st
        d["reason_code"] = "ANALYST_OVERRIDE"
        reason = override["reason"] if override["reason"] else "no reason given"
        d["explanation"] = "Analyst " + override["analyst"] + " set state to " + st + ": " + reason
        d["confidence"] = 1.0
        d["contributing"].append("analyst:" + override["analyst"])
        for src, vs, w in votes:
            if vs == st:
                d["contributing"].append(src)
            else:
                d["dissenting"].append(src)
        return d

    rejected = nvd_rec is not None and nvd_rec["status"].strip().lower() == "rejected"
    if rejected or (osv_info is not None and osv_info["all_withdrawn"]):
        d["state"] = "withdrawn"
        if rejected:
            # SEC-288: NVD wins over OSV when both say so
            d["reason_code"] = "NVD_REJECTED"
            d["explanation"] = "NVD lists " + cve + " as Rejected"
        else:
            d["reason_code"] = "OSV_WITHDRAWN"
            d["explanation"] = "OSV advisory " + osv_info["withdrawn_id"] + " was withdrawn on " + osv_info["withdrawn_on"]
        d["confidence"] = 1.0
        for src, vs, w in votes:
            if vs == "withdrawn":
                d["contributing"].append(src)
            else:
                d["dissenting"].append(src)
        return d

    # --- weighted vote -----------------------------------------------------
    tally = {}
    for src, vs, w in votes:
        tally.setdefault(vs, []).append(w)
    # OPS-1182: fsum so that feed order can never flip a decision
    sums = dict((k, math.fsum(tally[k])) for k in tally)
    total_exact = math.fsum([w for _, _, w in votes])
    if len(votes) == 0 or total_exact == 0.0:
        d["state"] = "under_investigation"
        d["reason_code"] = "INSUFFICIENT_EVIDENCE"
        d["explanation"] = "No conclusive signal from any source yet"
        d["confidence"] = 0.0
        for src, vs, w in votes:
            d["dissenting"].append(src)
        return d

    ranked = sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))
    lead, lead_w = ranked[0]
    second_w = ranked[1][1] if len(ranked) > 1 else 0.0

    # confidence = share of the weight behind the leading state.
    # NOTE: plain running sums here, this predates OPS-1182 and the
    # dashboard people complained when we touched it.
    agree = 0.0
    total = 0.0
    for src, vs, w in votes:
        total += w
        if vs == lead:
            agree += w
    conf = agree if USE_OLD_SCORING else agree / total

    for src, vs, w in votes:
        if vs == lead:
            d["contributing"].append(src)
        else:
            d["dissenting"].append(src)

    n_scanners = len(latest)
    n_lead = len([1 for src, vs, w in votes if vs == lead and src in latest])

    if len(ranked) > 1 and lead_w - second_w < CONFLICT_MARGIN:
        d["state"] = "under_investigation"
        d["reason_code"] = "CONFLICTING_SIGNALS"
        d["explanation"] = "Sources disagree (" + lead + " vs " + ranked[1][0] + ")"
        d["confidence"] = conf
        return d

    d["state"] = lead
    d["confidence"] = conf
    if lead == "affected":
        if n_lead > 0:
            d["reason_code"] = "SCANNER_CONFIRMED"
            d["explanation"] = "%d of %d scanners report %s %s as vulnerable" % (n_lead, n_scanners, pkg, ver_text)
        else:
            d["reason_code"] = "UPSTREAM_AFFECTED"
            d["explanation"] = "Upstream data lists " + pkg + " " + ver_text + " as affected"
    elif lead == "fixed":
        osv_says_fixed = False
        for src, vs, w in votes:
            if src == "osv" and vs == "fixed":
                osv_says_fixed = True
        if osv_says_fixed:
            d["reason_code"] = "FIXED_UPSTREAM"
            d["explanation"] = "Fixed in " + osv_info["fixed"] + " according to OSV (installed " + installed + ")"
        else:
            d["reason_code"] = "SCANNER_PATCHED"
            d["explanation"] = "%d of %d scanners report %s %s as patched" % (n_lead, n_scanners, pkg, ver_text)
    elif lead == "not_affected":
        d["reason_code"] = "NOT_PRESENT"
        d["explanation"] = "%d of %d scanners did not find %s" % (n_lead, n_scanners, pkg)
    else:
        # cannot happen, withdrawn votes are handled above
        d["reason_code"] = "UNKNOWN"
        d["explanation"] = "unexpected state " + lead
    return d

def latest_time(texts, since=None):
    """the latest of some timestamps as (epoch, text); ties go to the earlier one.  `since` is an
    (epoch, text) pair that counts first; unparsable texts do not count."""
    best = since
    for t in texts:
        e = parse_ts(t)
        if e is not None and (best is None or e > best[0]):
            best = (e, t)
    return best

def upstream_times(osv_info, nvd_rec):
    texts = []
    if nvd_rec is not None and nvd_rec["last_modified"] is not None:
        texts.append(nvd_rec["last_modified"])
    if osv_info is not None:
        texts.extend(osv_info["modified"])
    return texts

def process(observations, overrides, nvd, osv_by_cve, carried=None):
    """replay everything per advisory; returns (advisories, history rows, state to keep)

    carried is what --state kept from the previous run (None without --state):
    each advisory starts from its saved evidence, state and seq, is first
    re-judged against today's NVD/OSV data (a change is an "upstream"
    transition, dated by the upstream record that changed), then replays
    today's events.  history then holds every run's rows.
    """
    # group observations per advisory
    groups = {}
    meta = {}
    for o in observations:
        aid = make_advisory_id(o["cve_id"], o["ecosystem"], o["package"])
        if aid not in groups:
            groups[aid] = []
            meta[aid] = {"advisory_id": aid, "cve_id": o["cve_id"], "package": o["package"],
                         "ecosystem": o["ecosystem"]}
        groups[aid].append(o)
    # overrides can create advisories nobody scanned yet (SEC-351)
    for aid, ov in overrides.items():
        if aid not in groups:
            groups[aid] = []
            meta[aid] = {"advisory_id": aid, "cve_id": ov["cve_id"], "package": ov["package"],
                         "ecosystem": ov["ecosystem"]}
    # and so does the state of earlier runs
    kept = {} if carried is None else carried["advisories"]
    for aid, c in kept.items():
        if aid not in groups:
            groups[aid] = []
            meta[aid] = {"advisory_id": aid, "cve_id": c["cve_id"], "package": c["package"],
                         "ecosystem": c["ecosystem"]}

    advisories = []
    history = []
    new_state = None if carried is None else {}
    for aid in sorted(groups.keys()):
        adv = meta[aid]
        obs = sorted(groups[aid], key=lambda o: (o["ts"], o["obs_id"]))
        ov = overrides.get(aid)
        osv_info = osv_info_for(osv_by_cve, adv["cve_id"], adv["ecosystem"], adv["package"])
        nvd_rec = nvd.get(adv["cve_id"])
        c = kept.get(aid)
        if DUMP_DIR is not None:
            STAGE.setdefault("cases", []).append(dump_case(adv, obs, ov, osv_info, nvd_rec, c))
        first_row = len(history)

        # timeline: observations in time order, the override goes after any
        # observation with the same timestamp
        timeline = []
        for o in obs:
            timeline.append((o["ts"], 0, o["obs_id"], "obs", o))
        if ov is not None:
            timeline.append((ov["ts"], 1, "", "override", ov))
        timeline.sort(key=lambda t: (t[0], t[1], t[2]))

        latest = {}
        order = []
        installed = ""
        state = None
        pinned = None
        seq = 0
        seen = None
        if c is not None:
            for s in c["sources"]:
                latest[s["source"]] = {"signal": s["signal"], "weight": s["weight"], "ts": s["ts"],
                                       "observed_at": s["observed_at"]}
                order.append(s["source"])
            installed = c["installed"]
            state = c["state"]
            seq = c["seq"]
            pinned = c["pinned"]
            seen = (c["last_seen_ts"], c["last_seen"])
            if ov is not None and pinned is not None and ov["ts"] < pinned["ts"]:
                # the sheet still lists an older decision than the one in force
                timeline = [t for t in timeline if t[3] != "override"]
            d = decide(adv, latest, order, installed, osv_info, nvd_rec, pinned)
            if d["state"] != state:
                seen = latest_time(upstream_times(osv_info, nvd_rec), seen)
                seq += 1
                history.append({"advisory_id": aid, "seq": seq, "observed_at": seen[1], "from_state": state,
                                "to_state": d["state"], "source": UPSTREAM_SOURCE, "reason_code": d["reason_code"]})
                state = d["state"]
        for ts, _k, _id, kind, ev in timeline:
            if kind == "obs":
                prev = latest.get(ev["source"])
                if prev is None or ev["ts"] >= prev["ts"]:
                    # (a report delivered late, older than what we kept, does not change the vote)
                    latest[ev["source"]] = {"signal": ev["signal"], "weight": ev["weight"], "ts": ev["ts"],
                                            "observed_at": ev["observed_at"]}
                if ev["source"] not in order:
                    order.append(ev["source"])
                if ev["version"] != "":
                    installed = ev["version"]
                if pinned is not None:
                    # analyst decision stands, later scans only update the evidence
                    continue
                d = decide(adv, latest, order, installed, osv_info, nvd_rec, None)
                src = ev["source"]
                when = ev["observed_at"]
            else:
                pinned = ev
                d = decide(adv, latest, order, installed, osv_info, nvd_rec, ev)
                src = "analyst:" + ev["analyst"]
                when = ev["decided_at"]
            if d["state"] != state:
                seq += 1
                history.append({"advisory_id": aid, "seq": seq, "observed_at": when,
                                "from_state": state if state is not None else "none", "to_state": d["state"],
                                "source": src, "reason_code": d["reason_code"]})
                state = d["state"]

        final = decide(adv, latest, order, installed, osv_info, nvd_rec, pinned)
        if new_state is not None:
            if timeline:
                # the latest event; of several at that time, the first replayed
                last = timeline[-1][0]
                for t in timeline:
                    if t[0] == last:
                        seen = latest_time([t[4]["observed_at"] if t[3] == "obs" else t[4]["decided_at"]], seen)
                        break
            new_state[aid] = {"cve_id": adv["cve_id"], "package": adv["package"], "ecosystem": adv["ecosystem"],
                              "state": state, "seq": seq, "installed": installed,
                              "sources": [dict(latest[s], source=s) for s in order],
                              "pinned": pinned, "last_seen": seen[1], "last_seen_ts": seen[0]}
        if DUMP_DIR is not None:
            STAGE.setdefault("decisions", []).append(dump_decision(aid, final, installed, osv_info, seq,
                                                                  history[first_row:]))
        advisories.append({
            "advisory_id": aid, "cve_id": adv["cve_id"], "package": adv["package"], "ecosystem": adv["ecosystem"],
            "installed_version": installed if installed != "" else None,
            "state": final["state"],
            "fixed_version": osv_info["fixed"] if osv_info is not None else None,
            "confidence": final["confidence"],
            "explanation": final["explanation"],
            "reason_code": final["reason_code"],
            "contributing_sources": final["contributing"],
            "dissenting_sources": final["dissenting"],
            "_override": pinned, "_transitions": seq,
        })

    # the dashboard wants them by CVE (SEC-302)
    advisories.sort(key=lambda a: (a["cve_id"], a["package"], a["ecosystem"]))
    if carried is not None and carried["history"]:
        history = sorted(carried["history"] + history, key=lambda h: (h["advisory_id"], h["seq"]))
    return advisories, history, new_state

# ---------------------------------------------------------------------------
# --dump-stages (MIG-12): what we read and decided, cut where the pipeline
# cuts its phases, so that the two can be compared phase by phase
# ---------------------------------------------------------------------------

def dump_case(adv, obs, ov, osv_info, nvd_rec, c):
    """normalise: one advisory before deciding on it"""
    d = {"advisory_id": adv["advisory_id"], "cve_id": adv["cve_id"], "ecosystem": adv["ecosystem"],
         "package": adv["package"], "evidence": [o["obs_id"] for o in obs], "override": None, "osv": None,
         "nvd": None, "carried": None}
    if ov is not None:
        d["override"] = {"analyst": ov["analyst"], "forced_state": ov["state"], "reason": ov["reason"],
                         "decided_at": ov["decided_at"]}
    if osv_info is not None:
        m = latest_time(osv_info["modified"])
        d["osv"] = {"withdrawn_id": osv_info["withdrawn_id"], "withdrawn_on": osv_info["withdrawn_on"],
                    "fixed_version": osv_info["fixed"], "modified": m[1] if m is not None else None}
    if nvd_rec is not None:
        d["nvd"] = {"status": nvd_rec["status"], "base_score": nvd_rec["score"],
                    "last_modified": nvd_rec["last_modified"]}
    if c is not None:
        d["carried"] = {"state": c["state"], "seq": c["seq"],
                        "installed_version": c["installed"] if c["installed"] != "" else None,
                        "pinned": c["pinned"] is not None}
    return d

def dump_decision(aid, final, installed, osv_info, seq, rows):
    """decide: the decision on one advisory and this run's transitions"""
    return {"advisory_id": aid, "state": final["state"], "reason_code": final["reason_code"],
            "explanation": final["explanation"], "confidence": final["confidence"],
            "contributing_sources": final["contributing"], "dissenting_sources": final["dissenting"],
            "installed_version": installed if installed != "" else None,
            "fixed_version": osv_info["fixed"] if osv_info is not None else None, "seq": seq,
            "transitions": [dict((k, h[k]) for k in HISTORY_COLUMNS if k != "advisory_id") for h in rows]}

def state_summary(runs, advisories, history):
    return {"runs": runs, "advisories": len(advisories), "history_rows": len(history)}

def write_stage(name, doc):
    """DUMP_DIR/<name>.json, one element of each top-level list per line"""
    parts = []
    for k in doc:
        v = doc[k]
        if isinstance(v, list) and v:
            parts.append(json.dumps(k) + ": [\n" +
                         ",\n".join("  " + json.dumps(x, ensure_ascii=False) for x in v) + "\n]")
        else:
            parts.append(json.dumps(k) + ": " + json.dumps(v, ensure_ascii=False))
    with open(os.path.join(DUMP_DIR, name + ".json"), "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")

# ---------------------------------------------------------------------------
# --state (OPS-1702)
# ---------------------------------------------------------------------------

def load_state(state_dir):
    """what the previous run kept: {"runs", "advisories", "history"}; empty for a new directory"""
    if os.path.exists(state_dir) and not os.path.isdir(state_dir):
        raise StateProblem("state path is not a directory: " + state_dir)
    p = os.path.join(state_dir, STATE_FILE)
    if not os.path.isfile(p):
        for name in sorted(FOREIGN_STATE_FILES):
            if os.path.exists(os.path.join(state_dir, name)):
                raise StateProblem("state directory " + state_dir + " holds " + FOREIGN_STATE_FILES[name] +
                                   " state (" + name + "), which this job cannot read; give each program a state "
                                   "directory of its own")
        return {"runs": 0, "advisories": {}, "history": []}
    try:
        f = open(p, "r", encoding="utf-8")
        try:
            doc = json.load(f)
        finally:
            f.close()
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise StateProblem("state file " + p + " is not readable JSON: " + str(e))
    if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
        raise StateProblem("state file " + p + " is not " + STATE_FORMAT + " state")
    if doc.get("version") != STATE_VERSION:
        raise StateProblem("state file " + p + " has format version " + json.dumps(doc.get("version")) +
                           "; this job reads version " + str(STATE_VERSION))
    if doc.get("job") != JOB:
        raise StateProblem("state file " + p + " holds state of the " + str(doc.get("job")) + " job, not of the " +
                           JOB + " job; give each job a state directory of its own")
    if not isinstance(doc.get("runs"), int) or not isinstance(doc.get("advisories"), dict) or \
            not isinstance(doc.get("history"), list):
        raise StateProblem("state file " + p + " is damaged: runs, advisories or history missing")
    return doc

def save_state(state_dir, runs, advisories, history):
    os.makedirs(state_dir, exist_ok=True)
    p = os.path.join(state_dir, STATE_FILE)
    doc = {"format": STATE_FORMAT, "version": STATE_VERSION, "job": JOB, "runs": runs,
           "advisories": advisories, "history": history}
    with open(p + ".tmp", "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    os.replace(p + ".tmp", p)

# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------

def write_outputs(out_dir, advisories, history, generated_at, run_id):
    doc = {"generated_at": generated_at, "run_id": run_id, "advisories": []}
    for a in advisories:
        clean = {}
        for k in a:
            if k.startswith("_"):
                continue
            clean[k] = a[k]
        doc["advisories"].append(clean)
    p = os.path.join(out_dir, "advisory_current.json")
    with open(p, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    p = os.path.join(out_dir, "state_history.csv")
    with open(p, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HISTORY_COLUMNS)
        for h in history:
            w.writerow([h[c] for c in HISTORY_COLUMNS])

# the dashboard reads these; psql finds the server from PGHOST/PGPORT/PGUSER/PGDATABASE
WAREHOUSE_MARKER = "warehouse.pg"

def sql_text(v):
    if v is None or v == "":
        return "NULL"
    return "'" + str(v).replace("'", "''") + "'"

def sql_number(v):
    if v is None:
        return "NULL"
    return repr(float(v))

def load_warehouse(out_dir, schema, advisories, history):
    # one INSERT per row, the way the dashboard team first wrote it (DASH-9)
    q = '"' + schema.replace('"', '""') + '"'
    L = ["CREATE SCHEMA " + q + ";", "SET search_path TO " + q + ";",
         "CREATE TABLE advisories (advisory_id text PRIMARY KEY, cve_id text, package text,"
         " ecosystem text, installed_version text, state text, fixed_version text,"
         " confidence double precision, reason_code text, sources text, dissenting text);",
         "CREATE TABLE state_history (advisory_id text, seq integer, observed_at timestamptz,"
         " from_state text, to_state text, source text, reason_code text);",
         "BEGIN;"]
    for a in advisories:
        vals = [sql_text(a["advisory_id"]), sql_text(a["cve_id"]), sql_text(a["package"]),
                sql_text(a["ecosystem"]), sql_text(a["installed_version"]), sql_text(a["state"]),
                sql_text(a["fixed_version"]), sql_number(a["confidence"]), sql_text(a["reason_code"]),
                sql_text(",".join(sorted(a["contributing_sources"]))),
                sql_text(",".join(sorted(a["dissenting_sources"])))]
        L.append("INSERT INTO advisories VALUES (" + ", ".join(vals) + ");")
    for h in history:
        vals = [sql_text(h["advisory_id"]), str(int(h["seq"])), sql_text(h["observed_at"]),
                sql_text(h["from_state"]), sql_text(h["to_state"]), sql_text(h["source"]),
                sql_text(h["reason_code"])]
        L.append("INSERT INTO state_history VALUES (" + ", ".join(vals) + ");")
    L.append("COMMIT;")
    script = "\n".join(L) + "\n"
    try:
        p = subprocess.run(["psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--file", "-"],
                           input=script.encode("utf-8"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as e:
        sys.stderr.write("error: cannot run psql: " + str(e) + "\n")
        return False
    if p.returncode != 0:
        sys.stderr.write("error: loading the warehouse failed: " + p.stderr.decode("utf-8", "replace"))
        return False
    with open(os.path.join(out_dir, WAREHOUSE_MARKER), "w", encoding="utf-8") as f:
        f.write(schema + "\n")
    return True

def md_table(header, rows, right=None):
    right = right or []
    lines = []
    lines.append("| " + " | ".join(header) + " |")
    seps = []
    for i in range(len(header)):
        seps.append("---:" if i in right else "---")
    lines.append("| " + " | ".join(seps) + " |")
    for r in rows:
        lines.append("| " + " | ".join([str(x) for x in r]) + " |")
    return lines

def write_report(out_dir, fixture_name, advisories, history, stats, generated_at, run_id, state_info=None):
    L = []
    L.append("# Advisory enrichment report")
    L.append("")
    L.append("Generated at: " + generated_at)
    L.append("Run id: " + run_id)
    L.append("Fixture: " + fixture_name)
    L.append("")

    # inputs
    L.append("## Inputs")
    L.append("")
    rows = []
    for fname, key in zip(INPUT_FILES, ["observations", "overrides", "nvd", "osv"]):
        rows.append([fname, stats[key]["records"], stats[key]["skipped"]])
    L.extend(md_table(["Input", "Records", "Skipped"], rows, right=[1, 2]))
    L.append("")
    L.append("Duplicate observations dropped: %d" % stats["observations"]["duplicates"])
    L.append("")

    if state_info is not None:
        L.append("## State")
        L.append("")
        L.append("Runs recorded in the state directory: %d" % state_info["runs"])
        L.append("Advisories carried over from earlier runs: %d" % state_info["advisories"])
        L.append("Transitions carried over from earlier runs: %d" % state_info["history_rows"])
        L.append("")

    # states
    L.append("## Advisories by state")
    L.append("")
    counts = dict((s, 0) for s in STATES)
    for a in advisories:
        counts[a["state"]] = counts.get(a["state"], 0) + 1
    rows = [[s, counts[s]] for s in STATES]
    rows.append(["**total**", len(advisories)])
    L.extend(md_table(["State", "Advisories"], rows, right=[1]))
    L.append("")

    # ecosystems
    L.append("## Advisories by ecosystem")
    L.append("")
    ecos = {}
    for a in advisories:
        e = ecos.setdefault(a["ecosystem"], {"packages": set(), "n": 0, "states": {}})
        e["packages"].add(a["package"])
        e["n"] += 1
        e["states"][a["state"]] = e["states"].get(a["state"], 0) + 1
    rows = []
    for eco in sorted(ecos.keys()):
        e = ecos[eco]
        r = [eco, len(e["packages"]), e["n"]]
        for s in STATES:
            r.append(e["states"].get(s, 0))
        rows.append(r)
    if rows:
        L.extend(md_table(["Ecosystem", "Packages", "Advisories"] + STATES, rows, right=[1, 2, 3, 4, 5, 6, 7]))
    else:
        L.append("_No advisories._")
    L.append("")

    # reason codes
    L.append("## Reason codes")
    L.append("")
    rc = {}
    for a in advisories:
        rc[a["reason_code"]] = rc.get(a["reason_code"], 0) + 1
    if rc:
        L.extend(md_table(["Reason code", "Advisories"], [[k, rc[k]] for k in sorted(rc.keys())], right=[1]))
    else:
        L.append("_No advisories._")
    L.append("")

    # overrides
    L.append("## Analyst overrides")
    L.append("")
    ovs = [a for a in advisories if a["reason_code"] == "ANALYST_OVERRIDE"]
    ovs.sort(key=lambda a: a["advisory_id"])
    if not ovs:
        L.append("_No overrides applied._")
    for a in ovs:
        o = a["_override"]
        L.append("- `%s`: %s by %s on %s (%s)" % (a["advisory_id"], a["state"], o["analyst"],
                                                  o["decided_at"][:10], o["reason"] or "no reason given"))
    L.append("")

    # withdrawn
    L.append("## Withdrawn or rejected")
    L.append("")
    wd = [a for a in advisories if a["reason_code"] in ("NVD_REJECTED", "OSV_WITHDRAWN")]
    wd.sort(key=lambda a: a["advisory_id"])
    if not wd:
        L.append("_None._")
    for a in wd:
        L.append("- `%s` (%s)" % (a["advisory_id"], a["reason_code"]))
    L.append("")

    # disputed
    L.append("## Disputed advisories")
    L.append("")
    disp = [a for a in advisories if len(a["dissenting_sources"]) > 0]
    disp.sort(key=lambda a: a["advisory_id"])
    L.append("Advisories with at least one dissenting source: %d" % len(disp))
    L.append("")
    if disp:
        rows = []
        for a in disp[:MAX_DISPUTED_ROWS]:
            rows.append(["`" + a["advisory_id"] + "`", a["state"], len(a["contributing_sources"]),
                         len(a["dissenting_sources"])])
        L.extend(md_table(["Advisory", "State", "Contributing", "Dissenting"], rows, right=[2, 3]))
        if len(disp) > MAX_DISPUTED_ROWS:
            L.append("")
            L.append("... and %d more." % (len(disp) - MAX_DISPUTED_ROWS))
        L.append("")

    # transitions
    L.append("## State transitions")
    L.append("")
    L.append("Total transitions: %d" % len(history))
    busy = len([a for a in advisories if a["_transitions"] >= 3])
    L.append("Advisories with 3 or more transitions: %d" % busy)
    L.append("")
    per_src = {}
    for h in history:
        per_src[h["source"]] = per_src.get(h["source"], 0) + 1
    if per_src:
        items = sorted(per_src.items(), key=lambda kv: (-kv[1], kv[0]))
        L.extend(md_table(["Source", "Transitions caused"], [[k, v] for k, v in items], right=[1]))
        L.append("")

    p = os.path.join(out_dir, "run_report.md")
    with open(p, "w", encoding="utf-8") as f:
        f.write("\n".join(L))

# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def usage():
    sys.stderr.write("usage: monolith.py --input RUN_DIR --out OUT_DIR [--state DIR] [--dump-stages DIR] [--warehouse SCHEMA] [--verbose]\n")

def main(argv):
    global VERBOSE, DUMP_DIR
    input_dir = None
    out_dir = None
    state_dir = None
    options = {"--input": None, "--out": None, "--state": None, "--dump-stages": None, "--warehouse": None}
    # hand rolled because argparse was "too magic" for the first author
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            usage()
            return EXIT_OK
        elif a == "--verbose" or a == "-v":
            VERBOSE = True
        elif a in options:
            if i + 1 >= len(argv):
                usage()
                return EXIT_BAD_INPUT
            options[a] = argv[i + 1]
            i += 1
        elif a.split("=", 1)[0] in options and "=" in a:
            options[a.split("=", 1)[0]] = a.split("=", 1)[1]
        else:
            sys.stderr.write("error: unknown argument " + a + "\n")
            usage()
            return EXIT_BAD_INPUT
        i += 1
    input_dir = options["--input"]
    out_dir = options["--out"]
    state_dir = options["--state"]
    DUMP_DIR = options["--dump-stages"]
    if input_dir is None or out_dir is None:
        usage()
        return EXIT_BAD_INPUT
    if not os.path.isdir(input_dir):
        sys.stderr.write("error: input directory not found: " + input_dir + "\n")
        return EXIT_BAD_INPUT

    t0 = time.time()
    try:
        observations, obs_stats = load_observations(os.path.join(input_dir, "observations.json"))
        overrides, ov_stats = load_overrides(os.path.join(input_dir, "overrides.csv"))
        nvd, nvd_stats = load_nvd(os.path.join(input_dir, "nvd.json"))
        osv_by_cve, osv_stats = load_osv(os.path.join(input_dir, "osv.json"))
    except InputProblem as e:
        sys.stderr.write("error: " + str(e) + "\n")
        return EXIT_BAD_INPUT
    carried = None
    if state_dir is not None:
        try:
            carried = load_state(state_dir)
        except StateProblem as e:
            sys.stderr.write("error: " + str(e) + "\n")
            return EXIT_BAD_STATE
    stats = {"observations": obs_stats, "overrides": ov_stats, "nvd": nvd_stats, "osv": osv_stats}
    fixture_name = os.path.basename(os.path.normpath(input_dir))
    if DUMP_DIR is not None:
        try:
            os.makedirs(DUMP_DIR, exist_ok=True)
        except OSError as e:
            sys.stderr.write("error: cannot create stage directory " + DUMP_DIR + ": " + str(e) + "\n")
            return 1
        write_stage("ingest", {
            "fixture": fixture_name,
            "inputs": dict((fname, {"records": stats[key]["records"], "skipped": stats[key]["skipped"]})
                           for fname, key in zip(INPUT_FILES, ["observations", "overrides", "nvd", "osv"])),
            "duplicates": obs_stats["duplicates"],
            "observations": STAGE.get("observations", []), "overrides": STAGE.get("overrides", []),
            "nvd": STAGE.get("nvd", []), "osv": STAGE.get("osv", []),
            "state": state_summary(carried["runs"], carried["advisories"], carried["history"])
                     if carried is not None else None})

    advisories, history, new_state = process(observations, overrides, nvd, osv_by_cve, carried)
    if DUMP_DIR is not None:
        write_stage("normalise", {"advisories": STAGE.get("cases", [])})
        write_stage("decide", {"advisories": STAGE.get("decisions", [])})

    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        sys.stderr.write("error: cannot create output directory " + out_dir + ": " + str(e) + "\n")
        return 1

    now = datetime.datetime.now(datetime.timezone.utc)
    generated_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    run_id = "legacy-%d-%d" % (int(time.time()), os.getpid())
    state_info = None
    if carried is not None:
        state_info = state_summary(carried["runs"] + 1, carried["advisories"], carried["history"])

    write_outputs(out_dir, advisories, history, generated_at, run_id)
    write_report(out_dir, fixture_name, advisories, history, stats, generated_at, run_id, state_info)
    if options["--warehouse"] is not None:
        if not load_warehouse(out_dir, options["--warehouse"], advisories, history):
            return 1
    if carried is not None:
        try:
            save_state(state_dir, carried["runs"] + 1, new_state, history)
        except OSError as e:
            sys.stderr.write("error: cannot write state to " + state_dir + ": " + str(e) + "\n")
            return 1
    if DUMP_DIR is not None:
        clean = [dict((k, a[k]) for k in a if not k.startswith("_")) for a in advisories]
        write_stage("export", {
            "files": {"advisory_current.json": {"advisories": len(advisories)},
                      "state_history.csv": {"rows": len(history),
                                            "carried": len(carried["history"]) if carried is not None else 0}},
            "state": state_summary(carried["runs"] + 1, new_state, history) if carried is not None else None,
            "advisories": clean})
    log("done in %.2fs, %d advisories, %d transitions" % (time.time() - t0, len(advisories), len(history)))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv))
