"""decide: replay each case's evidence in time order and decide its state.

Every event (a scanner observation or the analyst override) re-evaluates the
advisory; a change of state is recorded as a :class:`Transition`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator, Mapping, Optional, Union

from ..model import (
    Case,
    DecideResult,
    Decision,
    NormaliseResult,
    Observation,
    Outcome,
    Override,
    Reason,
    State,
    Transition,
    Vote,
    Weights,
)
from ..orchestrator import RunContext
from ..versions import Version

OSV_SOURCE = "osv"
NVD_SOURCE = "nvd"

EXPLANATIONS: dict[Reason, str] = {
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

_REASON_FOR_LEAD: dict[State, tuple[Reason, Reason]] = {
    # lead state -> (reason when the deciding evidence is upstream, reason otherwise)
    State.AFFECTED: (Reason.UPSTREAM_AFFECTED, Reason.SCANNER_CONFIRMED),
    State.FIXED: (Reason.FIXED_UPSTREAM, Reason.SCANNER_PATCHED),
    State.NOT_AFFECTED: (Reason.NOT_PRESENT, Reason.NOT_PRESENT),
}


@dataclass
class EvidenceBoard:
    """What is known about one case at a point of its replay.

    Upstream facts that do not change during a replay (NVD's stance, a
    withdrawal) are fixed when the board is set up; scanner evidence
    accumulates: the latest signal per scanner and the most recently reported
    version.
    """

    withdrawal: Optional[Reason] = None
    nvd_vote: Optional[Vote] = None
    latest: dict[str, Observation] = field(default_factory=dict)
    installed: str = ""

    def observe(self, observation: Observation) -> None:
        self.latest[observation.source] = observation
        if observation.version:
            self.installed = observation.version


@dataclass(slots=True)
class Tally:
    """Exact per-state weight sums (math.fsum, independent of vote order)."""

    ranked: list[tuple[State, float]]
    total: float

    @classmethod
    def of(cls, votes: tuple[Vote, ...]) -> "Tally":
        per_state: dict[State, list[float]] = {}
        for vote in votes:
            per_state.setdefault(vote.state, []).append(vote.weight)
        ranked = sorted(((state, math.fsum(weights)) for state, weights in per_state.items()), key=_rank)
        return cls(ranked=ranked, total=math.fsum([vote.weight for vote in votes]))

    @property
    def lead(self) -> State:
        return self.ranked[0][0]

    @property
    def margin(self) -> float:
        runner_up = self.ranked[1][1] if len(self.ranked) > 1 else 0.0
        return self.ranked[0][1] - runner_up


def _rank(item: tuple[State, float]) -> tuple[float, str]:
    """Heaviest state first; equal weights in alphabetical order."""
    return -item[1], item[0].value


def share(votes: tuple[Vote, ...], state: State) -> float:
    """Fraction of the total weight behind ``state``, summed per source in name order."""
    per_source: dict[str, float] = defaultdict(float)
    backing: set[str] = set()
    for vote in votes:
        per_source[vote.source] += vote.weight
        if vote.state is state:
            backing.add(vote.source)
    sources = sorted(per_source)
    return sum(per_source[s] for s in sources if s in backing) / sum(per_source[s] for s in sources)


def split_sources(
    votes: tuple[Vote, ...], state: State, extra: tuple[str, ...] = ()
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(sources backing ``state`` plus ``extra``, sources arguing for another state), sorted."""
    contributing = sorted(extra + tuple(v.source for v in votes if v.state is state))
    dissenting = sorted(v.source for v in votes if v.state is not state)
    return tuple(contributing), tuple(dissenting)


@dataclass(slots=True)
class Verdict:
    """The state an event leads to, before it is explained."""

    state: State
    reason: Reason
    votes: tuple[Vote, ...]
    tally: Optional[Tally] = None
    override: Optional[Override] = None


class Rules:
    def __init__(self, weights: Weights) -> None:
        self.weights = weights

    # -- evidence ---------------------------------------------------------------

    def board_for(self, case: Case) -> EvidenceBoard:
        board = EvidenceBoard()
        if case.nvd is not None and case.nvd.rejected:
            board.withdrawal = Reason.NVD_REJECTED
        elif case.osv is not None and case.osv.withdrawn:
            board.withdrawal = Reason.OSV_WITHDRAWN
        if case.nvd is not None and (case.nvd.rejected or case.nvd.votes):
            weight = self.weights.nvd_base
            if case.nvd.base_score is not None:
                weight = self.weights.nvd_base + case.nvd.base_score * self.weights.nvd_per_cvss_point
            board.nvd_vote = Vote(NVD_SOURCE, State.WITHDRAWN if case.nvd.rejected else State.AFFECTED, weight)
        return board

    def votes(self, case: Case, board: EvidenceBoard) -> tuple[Vote, ...]:
        votes = [
            Vote(source, implied, observation.weight)
            for source, observation in board.latest.items()
            if (implied := observation.signal.implied_state) is not None
        ]
        if case.osv is not None:
            votes.append(Vote(OSV_SOURCE, self._osv_state(case, board), self.weights.osv))
        if board.nvd_vote is not None:
            votes.append(board.nvd_vote)
        return tuple(votes)

    @staticmethod
    def _osv_state(case: Case, board: EvidenceBoard) -> State:
        assert case.osv is not None
        if case.osv.withdrawn:
            return State.WITHDRAWN
        fixed = case.osv.fixed_version
        if board.installed and fixed is not None and Version.parse(board.installed) >= Version.parse(fixed):
            return State.FIXED
        return State.AFFECTED

    # -- verdicts ---------------------------------------------------------------

    def overridden(self, case: Case, board: EvidenceBoard, override: Override) -> Verdict:
        return Verdict(override.forced_state, Reason.ANALYST_OVERRIDE, self.votes(case, board), override=override)

    def judge(self, case: Case, board: EvidenceBoard) -> Verdict:
        votes = self.votes(case, board)
        if board.withdrawal is not None:
            return Verdict(State.WITHDRAWN, board.withdrawal, votes)
        tally = Tally.of(votes)
        if not votes or tally.total == 0.0:
            return Verdict(State.UNDER_INVESTIGATION, Reason.INSUFFICIENT_EVIDENCE, votes, tally)
        if len(tally.ranked) > 1 and tally.margin < self.weights.conflict_margin:
            return Verdict(State.UNDER_INVESTIGATION, Reason.CONFLICTING_SIGNALS, votes, tally)
        return Verdict(tally.lead, self._reason_for(tally.lead, votes), votes, tally)

    @staticmethod
    def _reason_for(lead: State, votes: tuple[Vote, ...]) -> Reason:
        upstream_reason, scanner_reason = _REASON_FOR_LEAD[lead]
        if lead is State.AFFECTED:
            scanner_backed = any(v.state is lead and v.source not in (OSV_SOURCE, NVD_SOURCE) for v in votes)
            return scanner_reason if scanner_backed else upstream_reason
        if lead is State.FIXED:
            osv_backed = any(v.source == OSV_SOURCE and v.state is State.FIXED for v in votes)
            return upstream_reason if osv_backed else scanner_reason
        return scanner_reason

    # -- explained decision -----------------------------------------------------

    def explain(self, case: Case, board: EvidenceBoard, verdict: Verdict) -> Decision:
        votes, reason = verdict.votes, verdict.reason
        template = EXPLANATIONS[reason]
        if verdict.override is not None:
            override = verdict.override
            contributing, dissenting = split_sources(votes, override.forced_state, extra=(override.source_label,))
            text = template.format(
                analyst=override.analyst, state=override.forced_state.value, reason=override.reason or "no reason given"
            )
            return Decision(verdict.state, reason, text, 1.0, contributing, dissenting)
        if reason in (Reason.NVD_REJECTED, Reason.OSV_WITHDRAWN):
            contributing, dissenting = split_sources(votes, State.WITHDRAWN)
            osv = case.osv
            text = template.format(
                cve=case.cve_id,
                osv_id=osv.withdrawn_id if osv else None,
                withdrawn_on=osv.withdrawn_on if osv else None,
            )
            return Decision(verdict.state, reason, text, 1.0, contributing, dissenting)
        if reason is Reason.INSUFFICIENT_EVIDENCE:
            return Decision(verdict.state, reason, template, 0.0, (), tuple(sorted(v.source for v in votes)))

        assert verdict.tally is not None
        lead = verdict.tally.lead
        contributing, dissenting = split_sources(votes, lead)
        text = template.format(
            lead=lead.value,
            runner_up=verdict.tally.ranked[1][0].value if len(verdict.tally.ranked) > 1 else None,
            agreeing=sum(1 for v in votes if v.state is lead and v.source in board.latest),
            scanners=len(board.latest),
            package=case.package,
            version=board.installed or "unknown version",
            installed=board.installed,
            fixed=case.osv.fixed_version if case.osv else None,
        )
        return Decision(verdict.state, reason, text, share(votes, lead), contributing, dissenting)


Event = Union[Observation, Override]


def timeline(case: Case) -> Iterator[Event]:
    """Observations in time order; the override follows observations with the same timestamp."""
    keyed: list[tuple[datetime, int, str, Event]] = [(o.timestamp, 0, o.obs_id, o) for o in case.evidence]
    if case.override is not None:
        keyed.append((case.override.timestamp, 1, "", case.override))
    keyed.sort(key=lambda item: item[:3])
    for *_, event in keyed:
        yield event


class Replayer:
    def __init__(self, rules: Rules) -> None:
        self.rules = rules

    def replay(self, case: Case) -> tuple[Outcome, list[Transition]]:
        board = self.rules.board_for(case)
        transitions: list[Transition] = []
        current: Optional[State] = None
        verdict: Optional[Verdict] = None
        # the latest event determines the current state
        for event in timeline(case):
            if isinstance(event, Override):
                verdict = self.rules.overridden(case, board, event)
                source, when, stamp = event.source_label, event.decided_at, event.timestamp
            else:
                board.observe(event)
                verdict = self.rules.judge(case, board)
                source, when, stamp = event.source, event.observed_at, event.timestamp
            if verdict.state is not current:
                transitions.append(
                    Transition(
                        advisory_id=case.advisory_id,
                        seq=len(transitions) + 1,
                        observed_at=when,
                        timestamp=stamp,
                        from_state=current,
                        to_state=verdict.state,
                        source=source,
                        reason=verdict.reason,
                    )
                )
                current = verdict.state
        if verdict is None:
            verdict = self.rules.judge(case, board)
        decision = self.rules.explain(case, board, verdict)
        outcome = Outcome(
            advisory_id=case.advisory_id,
            cve_id=case.cve_id,
            ecosystem=case.ecosystem,
            package=case.package,
            installed_version=board.installed or None,
            fixed_version=case.osv.fixed_version if case.osv else None,
            decision=decision,
            override=verdict.override,
            transitions=len(transitions),
        )
        return outcome, transitions


def run(context: RunContext, inputs: Mapping[str, Any], weights: Weights = Weights()) -> DecideResult:
    normalised: NormaliseResult = inputs["normalise"]
    replayer = Replayer(Rules(weights))
    outcomes: list[Outcome] = []
    transitions: list[Transition] = []
    for case in normalised.cases:
        outcome, history = replayer.replay(case)
        outcomes.append(outcome)
        transitions.extend(history)
    return DecideResult(outcomes=outcomes, transitions=transitions)
