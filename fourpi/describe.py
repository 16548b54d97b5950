"""The five 4PI impact answers and their indicators as short lines of plain text, for the command line."""

from fractions import Fraction

from fourpi.projections.answers import DaySpread, ImpactReport


def percent(share: Fraction | None) -> str:
    return "none yet" if share is None else f"{float(share):.0%}"


def counts(numbers: dict[str, int]) -> str:
    if not numbers:
        return "none"
    return ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in numbers.items())


def days(spread: DaySpread) -> str:
    if spread.count == 0:
        return "none yet"
    return f"median {float(spread.median or 0):g} days, 90% within {spread.p90} days"


def describe(report: ImpactReport) -> list[str]:
    """What an evaluator reads first: the five questions, then presence, process, principles."""
    outcomes = report.intended_outcomes
    differences = report.differences
    experience = report.process_experience
    presence = report.presence
    process = report.process
    principles = report.principles
    lines = [
        f"As of log position {report.position} ({report.moment}):",
        "1. Intended outcomes: "
        f"{len(outcomes.outcomes)}; achieved or partly achieved "
        f"{percent(outcomes.share_achieved)} ({counts(outcomes.by_assessment)})",
        "2. Differences made: "
        f"{len(differences.changes)} changes traced to {differences.contributions} "
        f"contributions ({counts(differences.by_scope)}); adopted or adapted "
        f"{percent(differences.share_adopted_or_adapted)}",
        "3. Process experience: "
        f"{experience.answers} answers; response rate "
        f"{percent(experience.response_rate)} of {experience.involved} involved",
        "4. End result: "
        f"{len(report.end_result.end_result_changes)} end-result changes; outcomes "
        "changed by involvement "
        f"{len(report.end_result.outcomes_changed_by_involvement)}",
        "5. Beyond the activity: "
        + counts({k: len(v) for k, v in report.beyond.by_kind.items()}),
        "Presence: "
        f"{len(presence.meetings)} meetings, {len(presence.failing_meetings)} below "
        "the 4PI standard; service users and carers at decision-making meetings "
        f"{presence.at_decision_making_meetings}",
        "Process: "
        f"papers {days(process.papers_spread)} ahead; payments paid within "
        f"{process.target_days} days {percent(process.paid_within_target)}, "
        f"{process.unpaid} unpaid; feedback given for "
        f"{percent(process.feedback_closure)} of contributions",
        "Principles: "
        f"responsiveness {percent(principles.responsiveness)}; declines explained "
        f"{principles.declines_explained} of {principles.declined}; policy review "
        + (
            "none adopted"
            if principles.policy is None
            else f"due {principles.policy.review_due_on}"
            + (" (overdue)" if principles.policy.overdue else "")
        ),
    ]
    for watch in report.payments_and_benefits:
        warnings = [p for p in watch.periods if p.crossed or p.would_cross]
        if warnings:
            lines.append(
                f"Earnings: {watch.pseudonym} near or over the {watch.earnings_period}ly "
                f"limit of {watch.earnings_limit} in {len(warnings)} period(s)"
            )
    return lines
