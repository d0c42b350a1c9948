"""Reading the vendor feed (``--source feed``): ``vendor_feed.json`` as ingest's observations.

The ACME export is ``{"findings": [...]}``; a finding is ``finding_id``, ``rev``,
``reported_at_ms`` (epoch milliseconds), ``detector``, ``vuln_id``,
``component.purl`` (a package URL), ``status`` (EXPLOITABLE, REMEDIATED,
NOT_DETECTED, UNDETERMINED) and ``confidence`` (0 to 100; missing means the
source's default weight).  Each valid finding becomes an :class:`Observation`:
``obs_id`` is the finding id, ``observed_at`` the time as ISO 8601 UTC
(``2026-03-09T08:00:00.123Z``, no fraction when it is 0), ``source`` the
detector, the ecosystem, name and version decoded from the package URL
(``golang`` is ``go``, ``gem`` is ``rubygems``; a Maven namespace joins its
name with ``:``, others with ``/``), the status as a scanner signal and the
confidence as a weight.  A finding re-issued under the same id replaces the
earlier one when its ``rev`` is higher (the first wins a tie); each
re-issue counts as a duplicate.  Names are not canonicalised here: that is
normalise's work, as for the scanners.
"""

import datetime
from urllib.parse import unquote

from .errors import InputError
from .model import InputStats, Observation
from .phases.ingest import _load_json

FEED_STATUS = {"exploitable": "vulnerable", "remediated": "patched", "not_detected": "not_present",
               "undetermined": "inconclusive"}
PURL_TYPES = {"pypi": "pypi", "npm": "npm", "cargo": "cargo", "maven": "maven", "golang": "go", "gem": "rubygems",
              "nuget": "nuget"}
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def iso_from_ms(ms):
    moment = _EPOCH + datetime.timedelta(milliseconds=ms)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return (text + f".{ms % 1000:03d}Z" if ms % 1000 else text + "Z"), moment


def parse_purl(purl):
    """(ecosystem, package, version) of a package URL, None when it names no package we know."""
    text = purl.strip()
    if text[:4].lower() != "pkg:":
        return None
    text = text[4:].split("#", 1)[0].split("?", 1)[0]
    version = ""
    if "@" in text:
        text, version = text.rsplit("@", 1)
        version = unquote(version).strip()
    purl_type, slash, rest = text.partition("/")
    ecosystem = PURL_TYPES.get(purl_type.strip().lower()) if slash else None
    if ecosystem is None:
        return None
    *namespace, name = (unquote(part) for part in rest.strip("/").split("/"))
    if not name.strip():
        return None
    if not namespace:
        return ecosystem, name, version
    return ecosystem, "/".join(namespace) + (":" if ecosystem == "maven" else "/") + name, version


def _count(value, low, high):
    """``value`` when it is a number (not a bool) within [low, high] (so not NaN), else None."""
    if value.__class__ not in (int, float) or not low <= value <= high:
        return None
    return value


def read_findings(path, default_weight):
    """(observations, stats, duplicates) of a vendor feed export."""
    payload = _load_json(path)
    findings = payload.get("findings") if isinstance(payload, dict) else None
    if not isinstance(findings, list):
        raise InputError(f"malformed vendor feed in {path}: no 'findings' list")
    kept, revisions, position = [], [], {}
    duplicates = valid = 0
    for item in findings:
        if not isinstance(item, dict):
            continue
        finding_id, detector, vuln_id = (item.get(key) for key in ("finding_id", "detector", "vuln_id"))
        if not all(isinstance(value, str) and value.strip() for value in (finding_id, detector, vuln_id)):
            continue
        component = item.get("component")
        purl = component.get("purl") if isinstance(component, dict) else None
        decoded = parse_purl(purl) if isinstance(purl, str) else None
        status = item.get("status")
        signal = FEED_STATUS.get(status.strip().lower()) if isinstance(status, str) else None
        ms = item.get("reported_at_ms")
        rev = item.get("rev", 1)
        confidence = item.get("confidence")
        weight = default_weight if confidence is None else _count(confidence, 0, 100)
        if (decoded is None or signal is None or ms.__class__ is not int or ms < 0 or rev.__class__ is not int
                or rev < 1 or weight is None):
            continue
        valid += 1
        if confidence is not None:
            weight = confidence / 100.0
        observed_at, timestamp = iso_from_ms(ms)
        ecosystem, package, version = decoded
        finding_id = finding_id.strip()
        observation = Observation(finding_id, observed_at, timestamp, detector.strip(), vuln_id.strip(), package,
                                  ecosystem, version, signal, weight)
        at = position.get(finding_id)
        if at is None:
            position[finding_id] = len(kept)
            kept.append(observation)
            revisions.append(rev)
            continue
        duplicates += 1  # a revision of a finding already read
        if rev > revisions[at]:
            kept[at], revisions[at] = observation, rev
    return kept, InputStats(len(findings), len(findings) - valid), duplicates
