"""Limits on what one request may ask, checked before it runs: depth, aliases and cost, in one pass that reads each fragment once."""

from collections.abc import Collection
from dataclasses import dataclass

from fourpi.domain.record import parse_digits
from fourpi.graphql.errors import QUERY_TOO_COSTLY
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    print_ast,
)

FIELD_COST = 1
"""Every field asked for, however often a fragment repeats it."""
REPORT_COST = 100
"""A set of impact answers for one slice and moment: each distinct set of arguments
given to an answer field is evaluated (up to seconds for a large organisation) unless
the same request already asked for it."""
INTEGRITY_COST = 400
"""Recomputing the hash chain over the whole log (seconds per million events)."""
PAGE_COST_PER_EVENT = 1
"""Each event a page of `history` or `eventLog` may hold."""
INTROSPECTION_LISTS = frozenset(
    {
        "types",
        "fields",
        "args",
        "inputFields",
        "interfaces",
        "possibleTypes",
        "enumValues",
        "directives",
    }
)
"""Introspection fields that fan out: nested in each other they multiply."""
MAX_INTROSPECTION_FAN_OUT = 3
"""types { fields { args } }: as deep as the standard introspection query goes."""


@dataclass(frozen=True)
class Weight:
    """What a selection set asks for once every fragment in it is spread."""

    depth: int = 0
    fan_out: int = 0
    """How many introspection lists are nested in each other."""
    aliases: int = 0
    cost: int = 0
    reports: frozenset[str] = frozenset()
    """The distinct argument sets of the answer fields in it (each one report)."""
    integrity_checks: int = 0
    schemas: int = 0
    """How many times `__schema` is asked for."""

    def __add__(self, other: "Weight") -> "Weight":
        return Weight(
            max(self.depth, other.depth),
            max(self.fan_out, other.fan_out),
            self.aliases + other.aliases,
            self.cost + other.cost,
            self.reports | other.reports,
            self.integrity_checks + other.integrity_checks,
            self.schemas + other.schemas,
        )


@dataclass(frozen=True)
class QueryLimits:
    """The most one request may ask (see fourpi.config.ApiLimits for the settings)."""

    max_depth: int
    max_aliases: int
    max_cost: int
    max_page_size: int
    report_fields: frozenset[str]
    """The Query fields that answer impact questions (they take a slice or asOf)."""


def limit_rule(limits: QueryLimits) -> type[ASTValidationRule]:
    """The validation rule that refuses a request over any limit.

    Fragments are weighed once each and their weight reused wherever they are spread,
    so a document whose fragments spread each other many times over is weighed in
    time proportional to its length, not to what it would expand to.
    """

    class RequestLimits(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for error in limit_errors(context.document, limits):
                context.report_error(error)

    return RequestLimits


def limit_errors(document: DocumentNode, limits: QueryLimits) -> list[GraphQLError]:
    fragments = {
        d.name.value: d
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    weighed: dict[tuple[str, bool, bool], Weight] = {}
    weighing: set[tuple[str, bool, bool]] = set()

    def fragment(name: str, *, root: bool, inspecting: bool) -> Weight:
        # A fragment spread at the root holds root fields (answers, integrity), and one
        # inside introspection introspection fields, so each is weighed apart from the
        # same fragment spread elsewhere.
        key = (name, root, inspecting)
        if key in weighed:
            return weighed[key]
        definition = fragments.get(name)
        if definition is None or key in weighing:
            # An unknown fragment or a cycle: graphql-core's own rules refuse these.
            return Weight()
        weighing.add(key)
        weight = selections(definition.selection_set, root=root, inspecting=inspecting)
        weighing.discard(key)
        weighed[key] = weight
        return weight

    def selections(
        node: SelectionSetNode | None, *, root: bool, inspecting: bool = False
    ) -> Weight:
        total = Weight()
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                total += field(selection, root=root, inspecting=inspecting)
            elif isinstance(selection, FragmentSpreadNode):
                total += fragment(
                    selection.name.value, root=root, inspecting=inspecting
                )
            elif isinstance(selection, InlineFragmentNode):
                total += selections(
                    selection.selection_set, root=root, inspecting=inspecting
                )
        return total

    def field(node: FieldNode, *, root: bool, inspecting: bool) -> Weight:
        name = node.name.value
        inspecting = inspecting or name in ("__schema", "__type")
        inner = selections(node.selection_set, root=False, inspecting=inspecting)
        cost = FIELD_COST
        reports: frozenset[str] = frozenset()
        checks = 0
        if root:
            if name in limits.report_fields:
                reports = frozenset({arguments_of(node)})
            elif name == "integrity":
                cost += INTEGRITY_COST
                checks = 1
            elif name in ("history", "eventLog"):
                cost += PAGE_COST_PER_EVENT * page_asked(node, limits.max_page_size)
        # A type's ofType is one type, not many: a chain of them multiplies nothing,
        # so it does not count as depth (the standard introspection query nests it).
        steps = 0 if inspecting and name == "ofType" else 1
        return Weight(
            depth=inner.depth + steps,
            fan_out=inner.fan_out + (inspecting and name in INTROSPECTION_LISTS),
            aliases=inner.aliases + (1 if node.alias else 0),
            cost=inner.cost + cost,
            reports=inner.reports | reports,
            integrity_checks=inner.integrity_checks + checks,
            schemas=inner.schemas + (name == "__schema"),
        )

    errors = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        name = operation.name.value if operation.name else "anonymous"
        weight = selections(operation.selection_set, root=True)
        cost = weight.cost + REPORT_COST * len(weight.reports)
        if weight.depth > limits.max_depth:
            errors.append(
                GraphQLError(
                    f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
                    operation,
                )
            )
        if weight.fan_out > MAX_INTROSPECTION_FAN_OUT:
            errors.append(
                GraphQLError(
                    f"'{name}' nests introspection lists (types, fields, args ...) "
                    f"{weight.fan_out} deep; the most allowed is "
                    f"{MAX_INTROSPECTION_FAN_OUT}",
                    operation,
                )
            )
        if weight.aliases > limits.max_aliases:
            errors.append(
                GraphQLError(
                    f"{weight.aliases} aliases found. Allowed: {limits.max_aliases}",
                    operation,
                )
            )
        if cost > limits.max_cost:
            errors.append(
                GraphQLError(
                    f"'{name}' would cost {cost}, more than the budget of "
                    f"{limits.max_cost} a request may spend (each field costs "
                    f"{FIELD_COST}, each distinct set of answers {REPORT_COST}, an "
                    f"integrity check {INTEGRITY_COST}, each event of a page "
                    f"{PAGE_COST_PER_EVENT}): ask for less, or in several requests",
                    operation,
                    extensions={"code": QUERY_TOO_COSTLY},
                )
            )
        elif weight.integrity_checks > 1:
            # Within the budget, yet each check is the whole log, one at a time:
            # the second would be refused while the first is made, and its error
            # would discard the first's answer with the rest of the request's data.
            errors.append(
                GraphQLError(
                    f"integrity: '{name}' asks for the integrity check "
                    f"{weight.integrity_checks} times; ask for it once a request",
                    operation,
                )
            )
        if weight.schemas > 1:
            # Each is the whole schema (200 KB with its descriptions): asked 14
            # times under aliases, a 1.4 KB request without a token was answered
            # with 1.1 MB.
            errors.append(
                GraphQLError(
                    f"__schema: '{name}' asks for the schema {weight.schemas} "
                    "times; ask for it once a request",
                    operation,
                )
            )
    return errors


def arguments_of(node: FieldNode) -> str:
    """A field's arguments as written: equal text, equal report."""
    return ",".join(
        sorted(f"{a.name.value}:{print_ast(a.value)}" for a in node.arguments or ())
    )


def page_asked(node: FieldNode, max_page_size: int) -> int:
    """The events a page may hold: `first` when written as a number, else the most."""
    for argument in node.arguments or ():
        if argument.name.value == "first":
            first = parse_digits(print_ast(argument.value))
            if first is not None:
                return min(first, max_page_size)
    return max_page_size


def report_fields(
    query_fields: Collection[tuple[str, Collection[str]]],
) -> frozenset[str]:
    """The names of the fields that take a slice or a moment: each is a report."""
    return frozenset(
        name for name, arguments in query_fields if {"slice", "asOf"} & set(arguments)
    )
