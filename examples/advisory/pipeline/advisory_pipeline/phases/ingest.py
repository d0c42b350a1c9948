"""ingest: read and validate the four input files of a fixture directory.

Nothing is normalised here; records are only checked for shape and typed.
"""

from __future__ import annotations

import csv
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

from ..errors import InputError
from ..model import (
    IngestResult,
    InputStats,
    NvdRecord,
    Observation,
    OsvAffected,
    OsvRecord,
    OverrideRow,
    Signal,
    State,
    Weights,
)
from ..orchestrator import RunContext

OBSERVATIONS = "observations.json"
OVERRIDES = "overrides.csv"
NVD = "nvd.json"
OSV = "osv.json"
INPUT_FILES = (OBSERVATIONS, OVERRIDES, NVD, OSV)

_REQUIRED_OBSERVATION_FIELDS = ("obs_id", "observed_at", "source", "cve_id", "package", "ecosystem", "signal")
_OVERRIDE_COLUMNS = ("cve_id", "ecosystem", "package", "forced_state", "reason", "analyst", "decided_at")
_CVSS_PREFERENCE = ("cvssMetricV31", "cvssMetricV30", "cvssMetricV2")

_SIGNALS: dict[str, Signal] = {signal.value: signal for signal in Signal}
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|z|[+-]\d{2}:\d{2})?$")


def parse_timestamp(text: Any) -> Optional[datetime]:
    """ISO-8601 with a time part; naive values are taken as UTC."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not _TIMESTAMP.match(text):
        return None
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _load_json(path: Path) -> Any:
    try:
        with path.open("r", encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise InputError(f"missing input file: {path}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"malformed JSON in {path}: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read input file: {path} ({exc})") from None


def _text(record: Mapping[str, Any], key: str) -> Optional[str]:
    value = record.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


class ObservationReader:
    def __init__(self, weights: Weights) -> None:
        self.weights = weights

    def read(self, path: Path) -> tuple[list[Observation], InputStats]:
        payload = _load_json(path)
        if not isinstance(payload, list):
            raise InputError(f"malformed observations in {path}: expected a JSON list")
        stats = InputStats(records=len(payload))
        observations = []
        for item in payload:
            observation = self._parse(item)
            if observation is None:
                stats.skipped += 1
            else:
                observations.append(observation)
        return observations, stats

    def _parse(self, item: Any) -> Optional[Observation]:
        if not isinstance(item, dict):
            return None
        fields: dict[str, str] = {}
        for key in _REQUIRED_OBSERVATION_FIELDS:
            value = item.get(key)
            if not isinstance(value, str) or not (value := value.strip()):
                return None
            fields[key] = value
        signal = _SIGNALS.get(fields["signal"].lower())
        if signal is None:
            return None
        timestamp = parse_timestamp(fields["observed_at"])
        if timestamp is None:
            return None
        weight = item.get("weight")
        if weight is None:
            weight = self.weights.default_observation
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            return None
        weight = float(weight)
        if not 0.0 <= weight <= 1.0:
            return None
        version = item.get("version")
        return Observation(
            obs_id=fields["obs_id"],
            observed_at=fields["observed_at"],
            timestamp=timestamp,
            source=fields["source"],
            cve_id=fields["cve_id"],
            package=item["package"],
            ecosystem=fields["ecosystem"],
            version=version.strip() if isinstance(version, str) else "",
            signal=signal,
            weight=weight,
        )


def _csv_rows(path: Path) -> Iterator[list[str]]:
    try:
        with path.open("r", encoding="utf-8", newline="") as handle:
            yield from csv.reader(handle)
    except FileNotFoundError:
        raise InputError(f"missing input file: {path}") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"malformed CSV in {path}: {exc}") from None


def read_overrides(path: Path) -> tuple[list[OverrideRow], InputStats]:
    rows = _csv_rows(path)
    header = next(rows, None)
    if header is None:
        raise InputError(f"malformed CSV in {path}: no header row")
    columns = [name.strip().lower() for name in header]
    missing = [name for name in _OVERRIDE_COLUMNS if name not in columns]
    if missing:
        raise InputError(f"malformed CSV in {path}: missing column {missing[0]}")

    stats = InputStats()
    overrides: list[OverrideRow] = []
    for cells in rows:
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        stats.records += 1
        record = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(columns)}
        state = State.parse(record["forced_state"])
        timestamp = parse_timestamp(record["decided_at"])
        if not (record["cve_id"] and record["ecosystem"] and record["package"]) or state is None or timestamp is None:
            stats.skipped += 1
            continue
        overrides.append(
            OverrideRow(
                row=stats.records,
                cve_id=record["cve_id"],
                ecosystem=record["ecosystem"],
                package=record["package"],
                forced_state=state,
                reason=record["reason"],
                analyst=record["analyst"] or "unknown",
                decided_at=record["decided_at"],
                timestamp=timestamp,
            )
        )
    return overrides, stats


def _base_score(metrics: Mapping[str, Any]) -> Optional[float]:
    for key in _CVSS_PREFERENCE:
        entries = metrics.get(key)
        if isinstance(entries, list) and entries:
            try:
                return float(entries[0]["cvssData"]["baseScore"])
            except (KeyError, TypeError, ValueError):
                continue
    return None


def read_nvd(path: Path) -> tuple[list[NvdRecord], InputStats]:
    payload = _load_json(path)
    if not isinstance(payload, dict) or not isinstance(payload.get("vulnerabilities"), list):
        raise InputError(f"malformed NVD response in {path}: no 'vulnerabilities' list")
    stats = InputStats(records=len(payload["vulnerabilities"]))
    records = []
    for entry in payload["vulnerabilities"]:
        cve = entry.get("cve") if isinstance(entry, dict) else None
        if not isinstance(cve, dict) or _text(cve, "id") is None:
            stats.skipped += 1
            continue
        english = (d for d in cve.get("descriptions") or [] if isinstance(d, dict) and d.get("lang") == "en")
        description = next((d.get("value") or "" for d in english), "")
        records.append(
            NvdRecord(
                cve_id=_text(cve, "id"),
                status=cve.get("vulnStatus") or "",
                base_score=_base_score(cve.get("metrics") or {}),
                description=description,
                published=cve.get("published") or "",
            )
        )
    return records, stats


def _osv_record(entry: Any) -> Optional[OsvRecord]:
    if not isinstance(entry, dict) or _text(entry, "id") is None:
        return None
    osv_id = _text(entry, "id")
    cves = [osv_id] if osv_id.upper().startswith("CVE-") else []
    aliases = [alias for alias in entry.get("aliases") or [] if isinstance(alias, str)]
    cves += [alias for alias in aliases if alias.strip().upper().startswith("CVE-")]
    affected = []
    for item in entry.get("affected") or []:
        if not isinstance(item, dict):
            continue
        package = item.get("package") or {}
        if not isinstance(package.get("name"), str) or not isinstance(package.get("ecosystem"), str):
            continue
        fixed = tuple(
            event["fixed"].strip()
            for rng in item.get("ranges") or []
            if isinstance(rng, dict)
            for event in rng.get("events") or []
            if isinstance(event, dict) and isinstance(event.get("fixed"), str)
        )
        affected.append(OsvAffected(ecosystem=package["ecosystem"], package=package["name"], fixed=fixed))
    withdrawn = entry.get("withdrawn")
    return OsvRecord(
        osv_id=osv_id,
        cve_ids=tuple(cves),
        withdrawn=withdrawn.strip() if isinstance(withdrawn, str) and withdrawn.strip() else None,
        affected=tuple(affected),
    )


def read_osv(path: Path) -> tuple[list[OsvRecord], InputStats]:
    payload = _load_json(path)
    if not isinstance(payload, dict) or not isinstance(payload.get("vulns"), list):
        raise InputError(f"malformed OSV response in {path}: no 'vulns' list")
    stats = InputStats(records=len(payload["vulns"]))
    records = []
    for entry in payload["vulns"]:
        record = _osv_record(entry)
        if record is None:
            stats.skipped += 1
        else:
            records.append(record)
    return records, stats


def run(context: RunContext, inputs: Mapping[str, Any], weights: Weights = Weights()) -> IngestResult:
    directory = context.input_dir
    if not directory.is_dir():
        raise InputError(f"input directory not found: {directory}")
    for name in INPUT_FILES:
        if not (directory / name).is_file():
            raise InputError(f"missing input file: {directory / name}")
    observations, obs_stats = ObservationReader(weights).read(directory / OBSERVATIONS)
    overrides, override_stats = read_overrides(directory / OVERRIDES)
    nvd, nvd_stats = read_nvd(directory / NVD)
    osv, osv_stats = read_osv(directory / OSV)
    return IngestResult(
        fixture_name=Path(os.path.normpath(directory)).name,
        observations=observations,
        overrides=overrides,
        nvd=nvd,
        osv=osv,
        stats={OBSERVATIONS: obs_stats, OVERRIDES: override_stats, NVD: nvd_stats, OSV: osv_stats},
    )
