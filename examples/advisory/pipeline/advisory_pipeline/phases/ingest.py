"""ingest: read and validate the four input files of a fixture directory.

Nothing is normalised here; records are only checked for shape and typed.
Records that do not have the expected shape are skipped and counted, and an
observation delivered twice (same ``obs_id``) is kept once and counted as a
duplicate.  The observations come from the run's source (``--source``: the
scanners' ``observations.json`` or the vendor feed, see
:mod:`advisory_pipeline.feed`).  With ``--state`` the state of earlier runs is
read here too, after the input files (see :mod:`advisory_pipeline.state`).
"""

import csv
import json
import os
import re

from ..errors import InputError
from ..model import (IMPLIED_STATE, STATE_ORDER, IngestResult, InputStats, NvdRecord, Observation, OsvAffected,
                     OsvRecord, OverrideRow)
from ..orchestrator import child_path

OBSERVATIONS = "observations.json"
OVERRIDES = "overrides.csv"
NVD = "nvd.json"
OSV = "osv.json"
INPUT_FILES = (OBSERVATIONS, OVERRIDES, NVD, OSV)

_OVERRIDE_COLUMNS = ("cve_id", "ecosystem", "package", "forced_state", "reason", "analyst", "decided_at")
_CVSS_PREFERENCE = ("cvssMetricV31", "cvssMetricV30", "cvssMetricV2")
_OBSERVATION_TEXT = ("obs_id", "observed_at", "source", "cve_id", "ecosystem")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|z|[+-]\d{2}:\d{2})?$")


def latest_time(texts, since=(None, None)):
    """The latest parsable timestamp of ``texts`` as (text, datetime), ties to the earlier one;
    ``since`` is a (text, datetime) pair that counts first."""
    best = since
    for text in texts:
        moment = parse_timestamp(text)
        if moment is not None and (best[1] is None or moment > best[1]):
            best = text, moment
    return best


def parse_timestamp(text):
    """ISO-8601 with a time part as an aware UTC datetime (naive means UTC); None if it is not one."""
    if not isinstance(text, str) or not _TIMESTAMP.match(text := text.strip()):
        return None
    import datetime  # here: a run without timestamps need not import it

    try:
        value = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
    except ValueError:
        return None
    utc = datetime.timezone.utc
    return value.astimezone(utc) if value.tzinfo else value.replace(tzinfo=utc)


def _load_json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise InputError(f"missing input file: {path}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"malformed JSON in {path}: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read input file: {path} ({exc})") from None


def _load_list(path, key, what):
    """``payload[key]`` of a JSON object (the payload itself when ``key`` is None), which must be a list."""
    payload = _load_json(path)
    if key is not None:
        payload = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(payload, list):
        problem = "expected a JSON list" if key is None else f"no '{key}' list"
        raise InputError(f"malformed {what} in {path}: {problem}")
    return payload


def _text(record, key):
    """The stripped string at ``key``; None if it is missing, not a string or blank."""
    value = record.get(key)
    return value.strip() or None if isinstance(value, str) else None


def read_observations(path, default_weight):
    """(observations, stats, duplicates): valid records, each ``obs_id`` once (the first delivery)."""
    payload = _load_list(path, None, "observations")
    observations = []
    seen = set()
    duplicates = 0
    for item in payload:
        try:  # obs_id, observed_at, source, cve_id, package, ecosystem and signal: non-blank strings
            obs_id, observed_at, source, cve_id, ecosystem = (item[key].strip() for key in _OBSERVATION_TEXT)
            package, signal = item["package"], item["signal"].strip().lower()
        except (KeyError, TypeError, AttributeError):
            continue
        if not (obs_id and observed_at and source and cve_id and ecosystem and signal in IMPLIED_STATE
                and isinstance(package, str) and package.strip()):
            continue
        timestamp = parse_timestamp(observed_at)
        weight = item.get("weight")
        if weight is None:
            weight = default_weight
        if timestamp is None or weight.__class__ not in (float, int) or not 0.0 <= (weight := float(weight)) <= 1.0:
            continue  # (bool is neither float nor int here)
        if obs_id in seen:  # a scanner re-delivered a batch
            duplicates += 1
            continue
        seen.add(obs_id)
        version = item.get("version")
        observations.append(Observation(obs_id, observed_at, timestamp, source, cve_id, package, ecosystem,
                                        version.strip() if isinstance(version, str) else "", signal, weight))
    return observations, InputStats(len(payload), len(payload) - len(observations) - duplicates), duplicates


def read_overrides(path):
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise InputError(f"missing input file: {path}") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"malformed CSV in {path}: {exc}") from None
    if not rows:
        raise InputError(f"malformed CSV in {path}: no header row")
    columns = [name.strip().lower() for name in rows[0]]
    for name in _OVERRIDE_COLUMNS:
        if name not in columns:
            raise InputError(f"malformed CSV in {path}: missing column {name}")
    stats = InputStats(0, 0)
    overrides = []
    for cells in rows[1:]:
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        stats.records += 1
        record = dict(zip(columns, [cell.strip() for cell in cells] + [""] * (len(columns) - len(cells))))
        cve_id, ecosystem, package, state, reason, analyst, decided_at = (record[c] for c in _OVERRIDE_COLUMNS)
        state = state.lower()
        timestamp = parse_timestamp(decided_at)
        if not (cve_id and ecosystem and package) or state not in STATE_ORDER or timestamp is None:
            stats.skipped += 1
            continue
        overrides.append(OverrideRow(stats.records, cve_id, ecosystem, package, state, reason, analyst or "unknown",
                                     decided_at, timestamp))
    return overrides, stats


def _base_score(metrics):
    for key in _CVSS_PREFERENCE:
        entries = metrics.get(key)
        if isinstance(entries, list) and entries:
            try:
                return float(entries[0]["cvssData"]["baseScore"])
            except (KeyError, TypeError, ValueError):
                continue
    return None


def read_nvd(path):
    payload = _load_list(path, "vulnerabilities", "NVD response")
    records = []
    for entry in payload:
        cve = entry.get("cve") if isinstance(entry, dict) else None
        if isinstance(cve, dict) and _text(cve, "id"):
            english = [d.get("value") or "" for d in cve.get("descriptions") or []
                       if isinstance(d, dict) and d.get("lang") == "en"]
            records.append(NvdRecord(_text(cve, "id"), cve.get("vulnStatus") or "",
                                     _base_score(cve.get("metrics") or {}), english[0] if english else "",
                                     cve.get("published") or "", _text(cve, "lastModified")))
    return records, InputStats(len(payload), len(payload) - len(records))


def read_osv(path):
    payload = _load_list(path, "vulns", "OSV response")
    records = []
    for entry in payload:
        osv_id = _text(entry, "id") if isinstance(entry, dict) else None
        if osv_id is None:
            continue
        cves = [osv_id] if osv_id.upper().startswith("CVE-") else []
        cves += [a for a in entry.get("aliases") or [] if isinstance(a, str) and a.strip().upper().startswith("CVE-")]
        affected = []
        for item in entry.get("affected") or []:
            package = item.get("package") or {} if isinstance(item, dict) else {}
            if isinstance(package.get("name"), str) and isinstance(package.get("ecosystem"), str):
                fixed = tuple(event["fixed"].strip() for rng in item.get("ranges") or [] if isinstance(rng, dict)
                              for event in rng.get("events") or []
                              if isinstance(event, dict) and isinstance(event.get("fixed"), str))
                affected.append(OsvAffected(package["ecosystem"], package["name"], fixed))
        records.append(OsvRecord(osv_id, tuple(cves), _text(entry, "withdrawn"), tuple(affected),
                                 _text(entry, "modified")))
    return records, InputStats(len(payload), len(payload) - len(records))


def input_files(source):
    """The four input files of a fixture directory for ``source``."""
    return INPUT_FILES if source.observations_file == OBSERVATIONS else (source.observations_file, *INPUT_FILES[1:])


def run(context, inputs):
    source = context.source
    weights = source.weights
    directory = context.input_dir
    if not os.path.isdir(directory):
        raise InputError(f"input directory not found: {directory}")
    files = input_files(source)
    paths = [child_path(directory, name) for name in files]
    for path in paths:
        if not os.path.isfile(path):
            raise InputError(f"missing input file: {path}")
    if source.observations_file == OBSERVATIONS:
        observations, obs_stats, duplicates = read_observations(paths[0], weights.default_observation)
    else:
        from ..feed import read_findings

        observations, obs_stats, duplicates = read_findings(paths[0], weights.default_observation)
    overrides, override_stats = read_overrides(paths[1])
    nvd, nvd_stats = read_nvd(paths[2])
    osv, osv_stats = read_osv(paths[3])
    state = None
    if context.state_dir is not None:
        from ..state import load_state

        state = load_state(context.state_dir, source.name)
    name = os.path.basename(os.path.normpath(directory))
    return IngestResult("" if name == "." else name,  # as pathlib names "." and "a/.."
                        observations, overrides, nvd, osv,
                        dict(zip(files, (obs_stats, override_stats, nvd_stats, osv_stats))), duplicates, state)
