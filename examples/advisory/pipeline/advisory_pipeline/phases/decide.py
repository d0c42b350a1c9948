"""decide: replay each case's evidence in time order and decide its state.

Every event (a scanner observation or the analyst override) re-evaluates the
advisory; a change of state is recorded as a :class:`Transition`.  A vote is a
``(source, state, weight)`` tuple; a verdict is ``(state, reason, votes,
ranking)``, where the ranking lists ``(state, exact weight sum)`` heaviest
first (None when no weighing was needed).

With ``--state`` a case may carry where its advisory stood after the previous
run (:class:`CarriedAdvisory`): the board starts from the kept reports, the
state and seq continue, and before today's events the advisory is re-judged on
today's upstream data; a change there is a transition from source
``upstream``, dated by the latest of the advisory's last event and the
modification times of its NVD and OSV records.  The override in force stays in
force unless today's sheet has a decision at least as new.
"""

from math import fsum
from operator import attrgetter

from ..model import (IMPLIED_STATE, WITHDRAWAL_REASONS, CarriedAdvisory, DecideResult, Decision, Outcome, Reason,
                     State, Transition)
from ..versions import version_lt

OSV_SOURCE = "osv"
NVD_SOURCE = "nvd"
UPSTREAM_SOURCE = "upstream"  # the source of a transition caused by new NVD/OSV data alone
_reported_at = attrgetter("timestamp")

EXPLANATIONS = {
    Reason.ANALYST_OVERRIDE: "Analyst {analyst} set state to {state}: {reason}",
    Reason.NVD_REJECTED: "NVD lists {cve} as Rejected",
    Reason.OSV_WITHDRAWN: "OSV advisory {osv_id} was withdrawn on {withdrawn_on}",
    Reason.INSUFFICIENT_EVIDENCE: "No conclusive signal from any source yet",
    Reason.CONFLICTING_SIGNALS: "Sources disagree ({lead} vs {runner_up})",
    Reason.SCANNER_CONFIRMED: "{agreeing} of {scanners} scanners report {package} {version} as vulnerable",
    Reason.UPSTREAM_AFFECTED: "Upstream data lists {package} {version} as affected",
    Reason.FIXED_UPSTREAM: "OSV reports a fix in {fixed}; installed version is {installed}",
    Reason.SCANNER_PATCHED: "{agreeing} of {scanners} scanners report {package} {version} as patched",
    Reason.NOT_PRESENT: "{agreeing} of {scanners} scanners did not find {package}",
}


class EvidenceBoard:
    """What is known about one case at a point of its replay.

    Upstream facts that do not change during a replay (NVD's vote, a
    withdrawal) are fixed when the board is set up; scanner evidence
    accumulates: each scanner's reports, oldest first, whose latest one is the
    scanner's vote (None for an inconclusive signal), and the most recently
    reported version, on which OSV's vote depends.
    """

    __slots__ = ("osv", "osv_weight", "withdrawal", "nvd_vote", "osv_vote", "reports", "latest", "installed")

    def __init__(self, case, weights):
        self.osv = case.osv
        self.osv_weight = weights.osv
        self.reports = {}  # scanner -> its observations, oldest first
        self.latest = {}  # scanner -> the vote of its latest report
        self.installed = ""
        self.withdrawal = self.nvd_vote = None
        nvd_status = case.nvd.status.strip().lower() if case.nvd is not None else None
        if nvd_status == "rejected":
            self.withdrawal = Reason.NVD_REJECTED
        elif self.osv is not None and self.osv.withdrawn_id is not None:
            self.withdrawal = Reason.OSV_WITHDRAWN
        if nvd_status in ("rejected", "analyzed", "modified"):
            weight = weights.nvd_base
            if case.nvd.base_score is not None:
                weight = weights.nvd_base + case.nvd.base_score * weights.nvd_per_cvss_point
            self.nvd_vote = (NVD_SOURCE, State.WITHDRAWN if nvd_status == "rejected" else State.AFFECTED, weight)
        self.osv_vote = self._osv_vote()

    def observe(self, observation):
        reports = self.reports.setdefault(observation.source, [])
        reports.append(observation)
        reports.sort(key=_reported_at)  # feeds are merged: keep each scanner's reports in time order
        latest = reports[-1]
        implied = IMPLIED_STATE[latest.signal]
        self.latest[latest.source] = implied and (latest.source, implied, latest.weight)
        if observation.version and observation.version != self.installed:
            self.installed = observation.version
            self.osv_vote = self._osv_vote()

    def restore(self, carried):
        """Start from the evidence an earlier run kept: each scanner's latest report, the installed version."""
        for report in carried.reports:
            self.reports[report.source] = [report]
            implied = IMPLIED_STATE[report.signal]
            self.latest[report.source] = implied and (report.source, implied, report.weight)
        self.installed = carried.installed
        self.osv_vote = self._osv_vote()

    def _osv_vote(self):
        osv = self.osv
        if osv is None:
            return None
        if osv.withdrawn_id is not None:
            state = State.WITHDRAWN
        elif self.installed and osv.fixed_version is not None and not version_lt(self.installed, osv.fixed_version):
            state = State.FIXED
        else:
            state = State.AFFECTED
        return OSV_SOURCE, state, self.osv_weight

    def votes(self):
        votes = [vote for vote in self.latest.values() if vote]
        if self.osv_vote:
            votes.append(self.osv_vote)
        if self.nvd_vote:
            votes.append(self.nvd_vote)
        return votes


def _heaviest_first(item):
    return -item[1], item[0]


def judge(board, conflict_margin):
    """The verdict on the evidence on the board."""
    votes = board.votes()
    if board.withdrawal is not None:
        return State.WITHDRAWN, board.withdrawal, votes, None
    per_state = {}
    for _, state, weight in votes:
        per_state.setdefault(state, []).append(weight)
    # math.fsum: exact sums, so the order of the votes cannot change a decision
    ranking = sorted([(state, fsum(weights)) for state, weights in per_state.items()], key=_heaviest_first)
    if not votes or fsum([weight for _, _, weight in votes]) == 0.0:
        return State.UNDER_INVESTIGATION, Reason.INSUFFICIENT_EVIDENCE, votes, ranking
    if len(ranking) > 1 and ranking[0][1] - ranking[1][1] < conflict_margin:
        return State.UNDER_INVESTIGATION, Reason.CONFLICTING_SIGNALS, votes, ranking
    lead = ranking[0][0]
    if lead == State.AFFECTED:
        scanner_backed = any(state == lead and source not in (OSV_SOURCE, NVD_SOURCE) for source, state, _ in votes)
        reason = Reason.SCANNER_CONFIRMED if scanner_backed else Reason.UPSTREAM_AFFECTED
    elif lead == State.FIXED:
        osv_backed = any(source == OSV_SOURCE and state == lead for source, state, _ in votes)
        reason = Reason.FIXED_UPSTREAM if osv_backed else Reason.SCANNER_PATCHED
    else:
        reason = Reason.NOT_PRESENT
    return lead, reason, votes, ranking


def share(votes, state):
    """Fraction of the total weight behind ``state``, summed per source in name order."""
    per_source = {}
    backing = set()
    for source, vote_state, weight in votes:
        per_source[source] = per_source.get(source, 0.0) + weight
        if vote_state == state:
            backing.add(source)
    sources = sorted(per_source)
    return sum(per_source[s] for s in sources if s in backing) / sum(per_source[s] for s in sources)


def split_sources(votes, state, extra=()):
    """(sources backing ``state`` plus ``extra``, sources arguing for another state), sorted."""
    contributing = sorted(extra + tuple(source for source, vote_state, _ in votes if vote_state == state))
    return tuple(contributing), tuple(sorted(source for source, vote_state, _ in votes if vote_state != state))


def explain(case, board, verdict, override):
    state, reason, votes, ranking = verdict
    template = EXPLANATIONS[reason]
    if override is not None:
        text = template.format(analyst=override.analyst, state=override.forced_state,
                               reason=override.reason or "no reason given")
        return Decision(state, reason, text, 1.0,
                        *split_sources(votes, override.forced_state, ("analyst:" + override.analyst,)))
    if reason in WITHDRAWAL_REASONS:
        osv = case.osv
        text = template.format(cve=case.cve_id, osv_id=osv and osv.withdrawn_id, withdrawn_on=osv and osv.withdrawn_on)
        return Decision(state, reason, text, 1.0, *split_sources(votes, State.WITHDRAWN))
    if reason == Reason.INSUFFICIENT_EVIDENCE:
        return Decision(state, reason, template, 0.0, (), tuple(sorted(source for source, _, _ in votes)))
    lead = ranking[0][0]
    text = template.format(
        lead=lead,
        runner_up=ranking[1][0] if len(ranking) > 1 else None,
        agreeing=sum(1 for source, vote_state, _ in votes if vote_state == lead and source in board.latest),
        scanners=len(board.latest),
        package=case.package,
        version=board.installed or "unknown version",
        installed=board.installed,
        fixed=case.osv and case.osv.fixed_version,
    )
    return Decision(state, reason, text, share(votes, lead), *split_sources(votes, lead))


def upstream_times(case):
    """Modification times of the case's NVD and OSV records, as written."""
    texts = [case.nvd.last_modified] if case.nvd is not None and case.nvd.last_modified is not None else []
    return texts + list(case.osv.modified) if case.osv is not None else texts


def replay(case, weights, keep=False):
    """(Outcome, transitions) of one case; with ``keep``, the outcome carries the case to the next run."""
    board = EvidenceBoard(case, weights)
    carried = case.carried
    new_override = case.override
    transitions = []
    state = verdict = override = None
    seq = 0
    seen = None, None  # the latest event, (text, datetime)
    if carried is not None:
        board.restore(carried)
        state, seq, override, seen = carried.state, carried.seq, carried.override, (carried.last_seen,
                                                                                      carried.last_seen_at)
        if new_override is not None and override is not None and new_override.timestamp < override.timestamp:
            new_override = None  # the sheet still lists an older decision than the one in force
        if override is not None:
            verdict = override.forced_state, Reason.ANALYST_OVERRIDE, board.votes(), None
        else:
            verdict = judge(board, weights.conflict_margin)
        if verdict[0] != state:
            from .ingest import latest_time

            seen = latest_time(upstream_times(case), seen)
            transitions.append(Transition(case.advisory_id, seq + 1, seen[0], seen[1], state, verdict[0],
                                          UPSTREAM_SOURCE, verdict[1]))
            state = verdict[0]
    events = case.evidence
    if new_override is not None:  # it follows the observations with the same timestamp
        at = len(events)
        while at and events[at - 1].timestamp > new_override.timestamp:
            at -= 1
        events = [*events[:at], new_override, *events[at:]]
    # the latest event determines the current state
    for event in events:
        if event is new_override:
            override = event
            verdict = event.forced_state, Reason.ANALYST_OVERRIDE, board.votes(), None
            source, when = "analyst:" + event.analyst, event.decided_at
        else:
            override = None
            board.observe(event)
            verdict = judge(board, weights.conflict_margin)
            source, when = event.source, event.observed_at
        if verdict[0] != state:
            transitions.append(Transition(case.advisory_id, seq + len(transitions) + 1, when, event.timestamp, state,
                                          verdict[0], source, verdict[1]))
            state = verdict[0]
    decision = explain(case, board, verdict or judge(board, weights.conflict_margin), override)
    seq += len(transitions)
    carry = None
    if keep:
        if events:  # the latest event; of several at that time, the first replayed
            last = events[-1].timestamp
            first = next(event for event in events if event.timestamp == last)
            if seen[1] is None or last > seen[1]:
                seen = (first.decided_at if first is new_override else first.observed_at), last
        carry = CarriedAdvisory(case.advisory_id, case.cve_id, case.ecosystem, case.package, state, seq,
                                board.installed, [board.reports[source][-1] for source in board.latest], override,
                                *seen)
    return Outcome(case.advisory_id, case.cve_id, case.ecosystem, case.package, board.installed or None,
                   case.osv and case.osv.fixed_version, decision, override, seq, carry), transitions


def run(context, inputs):
    weights = context.source.weights
    keep = context.state_dir is not None
    normalised = inputs["normalise"]
    outcomes = []
    transitions = []
    for case in normalised.cases:
        outcome, history = replay(case, weights, keep)
        outcomes.append(outcome)
        transitions += history
    return DecideResult(outcomes, transitions, normalised.state)
