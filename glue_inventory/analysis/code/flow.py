"""Intra-procedural data flow over one script: where a name's value comes from, and what a value carries.

A name is resolved in the scope it is used in (a function, a lambda, the module) to the assignments that
can reach the use; a parameter of a function defined in the script to the arguments its calls in the
script pass (or its default); a call of such a function to what it returns; a name a nested function
reads from an enclosing scope to that scope's assignments. Every walk is bounded in hops and
alternatives, and walks inside expressions are iterative: hostile input can neither exhaust the stack
nor make the analysis slow.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from glue_inventory.analysis.code.model import Link, ScriptModel, call_name, chain, position, str_value

# How far a value is followed (variable → assignment → function return → …), and how many
# alternative origins (branches, several callers) are kept per expression.
MAX_HOPS = 6
MAX_ALTERNATIVES = 16

Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.Module
_FUNCTION_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith, ast.IfExp, ast.Match)
# Calls whose result cannot carry text from their argument into SQL: numbers, dates, booleans.
SANITIZERS = frozenset({
    "int", "float", "bool", "len", "abs", "round", "strptime", "fromisoformat", "date", "datetime", "Decimal",
    "UUID", "fromtimestamp", "timedelta",
})
JOB_ARGUMENTS = "job arguments"


@dataclass(frozen=True)
class Definition:
    """One assignment of a name: `value` is the assigned expression when `exact`, else an expression the
    value is derived from (a loop's iterable, the right side of `+=`, a tuple being unpacked)."""

    name: str
    value: ast.expr | None
    statement: ast.AST
    exact: bool = True
    augmented: bool = False


@dataclass(frozen=True)
class Parameter:
    """A name that is a parameter of `function` at the point of use."""

    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    name: str


@dataclass
class Flow:
    """Scopes, assignments, callers and returns of one script, built once from its ScriptModel."""

    model: ScriptModel
    parent: dict[int, ast.AST] = field(default_factory=dict)
    definitions: dict[int, dict[str, list[Definition]]] = field(default_factory=dict)
    callers: dict[str, list[ast.Call]] = field(default_factory=dict)
    returns: dict[int, list[ast.expr]] = field(default_factory=dict)
    # Answers of origins() and chains() by expression: each is computed once per script, and an expression
    # met again while its own answer is being computed (a cycle through a closure) answers itself.
    memo: dict[tuple[str, int], list] = field(default_factory=dict)

    @classmethod
    def build(cls, model: ScriptModel) -> Flow:
        flow = cls(model)
        stack: list[tuple[ast.AST, Scope]] = [(model.tree, model.tree)]
        while stack:
            node, scope = stack.pop()
            inner = node if isinstance(node, _FUNCTION_SCOPES) else scope
            flow._index(node, scope)
            for child in ast.iter_child_nodes(node):
                flow.parent[id(child)] = node
                # Decorators and default values are evaluated in the enclosing scope.
                outer = isinstance(node, _FUNCTION_SCOPES) and (child is node.args or child in getattr(
                    node, "decorator_list", ()))
                stack.append((child, scope if outer else inner))
        for scoped in flow.definitions.values():
            for found in scoped.values():
                found.sort(key=lambda d: _end(d.statement))
        return flow

    def _define(self, scope: Scope, definition: Definition) -> None:
        self.definitions.setdefault(id(scope), {}).setdefault(definition.name, []).append(definition)

    def _index(self, node: ast.AST, scope: Scope) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._targets(scope, target, node.value, node)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self._targets(scope, node.target, node.value, node)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            self._define(scope, Definition(node.target.id, node.value, node, exact=False, augmented=True))
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            for name in _names(node.target):
                self._define(scope, Definition(name, node.iter, node, exact=False))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            for name in _names(node.optional_vars):
                self._define(scope, Definition(name, node.context_expr, node, exact=False))
        elif isinstance(node, ast.NamedExpr):
            self._define(scope, Definition(node.target.id, node.value, node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            self.callers.setdefault(node.func.id, []).append(node)
        elif isinstance(node, ast.Return) and node.value is not None and not isinstance(scope, ast.Module):
            self.returns.setdefault(id(scope), []).append(node.value)
        elif isinstance(node, ast.Lambda):
            self.returns.setdefault(id(node), []).append(node.body)

    def _targets(self, scope: Scope, target: ast.expr, value: ast.expr, statement: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self._define(scope, Definition(target.id, value, statement))
        elif isinstance(target, ast.Tuple | ast.List):
            pairs = isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts)
            for index, element in enumerate(target.elts):
                if pairs:
                    self._targets(scope, element, value.elts[index], statement)  # type: ignore[attr-defined]
                else:
                    for name in _names(element):
                        self._define(scope, Definition(name, value, statement, exact=False))
        elif isinstance(target, ast.Starred):
            self._targets(scope, target.value, value, statement)

    # Scopes and reaching assignments

    def scope_of(self, node: ast.AST) -> Scope:
        current = self.parent.get(id(node))
        while current is not None and not isinstance(current, _FUNCTION_SCOPES):
            current = self.parent.get(id(current))
        return current if current is not None else self.model.tree

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        current = self.parent.get(id(node))
        while current is not None:
            yield current
            current = self.parent.get(id(current))

    def inside(self, node: ast.AST, kinds: tuple[type, ...], stop_at_scope: bool = True) -> ast.AST | None:
        """The nearest enclosing node of one of `kinds` (within the node's own scope when `stop_at_scope`)."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, kinds):
                return ancestor
            if stop_at_scope and isinstance(ancestor, _FUNCTION_SCOPES):
                return None
        return None

    def resolve(self, name: ast.Name) -> list[Definition | Parameter]:
        """The assignments of `name` that can reach this use, latest first; a parameter when none does."""
        use: ast.AST = name
        scope = self.scope_of(name)
        nested = False
        while True:
            found = self._reaching(scope, name.id, use, nested)
            if found:
                return [*found]
            if not isinstance(scope, ast.Module) and name.id in _parameters(scope):
                return [Parameter(scope, name.id)]
            if isinstance(scope, ast.Module):
                return []
            # A closure reads the enclosing scope at call time: any of its assignments may reach.
            use, scope, nested = scope, self.scope_of(scope), True

    def _reaching(self, scope: Scope, name: str, use: ast.AST, anywhere: bool) -> list[Definition]:
        candidates = (self.definitions.get(id(scope)) or {}).get(name) or []
        where = _start(use)
        before = [d for d in candidates if anywhere or _end(d.statement) <= where]
        reaching: list[Definition] = []
        use_ancestors = {id(a) for a in self.ancestors(use)}
        for definition in reversed(before):
            reaching.append(definition)
            if len(reaching) >= MAX_ALTERNATIVES or anywhere:
                continue
            # An assignment in a block that does not also hold the use (an `if` branch, a loop body) may not
            # run, so earlier assignments still reach; an unconditional one hides them.
            conditional = any(
                isinstance(a, _COMPOUND) and id(a) not in use_ancestors
                for a in self._ancestors_within(definition.statement, scope)
            )
            if not conditional and not definition.augmented:
                break
        return reaching[:MAX_ALTERNATIVES]

    def _ancestors_within(self, node: ast.AST, scope: Scope) -> Iterator[ast.AST]:
        for ancestor in self.ancestors(node):
            if ancestor is scope:
                return
            yield ancestor

    # Calls of functions defined in the script

    def function(self, call: ast.Call) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The function defined in this script that `call` calls by name, if any."""
        if isinstance(call.func, ast.Name):
            return self.model.functions.get(call.func.id)
        return None

    def arguments(self, parameter: Parameter) -> list[ast.expr]:
        """What the script's calls pass for `parameter` (its default when a call leaves it out)."""
        function = parameter.function
        if isinstance(function, ast.Lambda):
            return []
        params = function.args
        positional = [a.arg for a in (*params.posonlyargs, *params.args)]
        defaults = dict(zip(positional[len(positional) - len(params.defaults):], params.defaults, strict=True))
        defaults.update({a.arg: d for a, d in zip(params.kwonlyargs, params.kw_defaults, strict=True) if d})
        found: list[ast.expr] = []
        for call in self.callers.get(function.name, []):
            if self.model.functions.get(function.name) is not function:
                break
            value = keyword(call, parameter.name, positional.index(parameter.name) if parameter.name in positional
                            else None)
            if value is None:
                value = defaults.get(parameter.name)
            if value is not None:
                found.append(value)
        if not self.callers.get(function.name) and parameter.name in defaults:
            found.append(defaults[parameter.name])
        return found[:MAX_ALTERNATIVES]

    def returned(self, call: ast.Call) -> list[ast.expr]:
        function = self.function(call)
        return (self.returns.get(id(function)) or [])[:MAX_ALTERNATIVES] if function is not None else []

    # Following values

    def origins(self, expr: ast.expr, hops: int = 0) -> list[ast.expr]:
        """The expressions `expr` may evaluate to: itself, or through variables, parameters and returns."""
        key = ("origins", id(expr))
        if key in self.memo:
            return self.memo[key]
        if hops >= MAX_HOPS or not isinstance(expr, ast.Name | ast.Call):
            return [expr]
        self.memo[key] = [expr]
        found: list[ast.expr] = []
        if isinstance(expr, ast.Name):
            for origin in self.resolve(expr):
                if isinstance(origin, Parameter):
                    values = self.arguments(origin)
                elif origin.exact and origin.value is not None:
                    values = [origin.value]
                else:
                    continue
                for value in values:
                    found += self.origins(value, hops + 1)
        elif self.function(expr) is not None:
            found = [origin for value in self.returned(expr) for origin in self.origins(value, hops + 1)]
        self.memo[key] = _unique(found)[:MAX_ALTERNATIVES] or [expr]
        return self.memo[key]

    def chains(self, expr: ast.expr, hops: int = 0) -> list[tuple[ast.expr, list[Link]]]:
        """`chain(expr)` with its root followed back through assignments, parameters and returns: one
        (root, links) per alternative origin, the earliest links first."""
        key = ("chains", id(expr))
        if key in self.memo:
            return self.memo[key]
        root, links = chain(expr)
        self.memo[key] = [(root, links)]
        origins = self.origins(root) if hops < MAX_HOPS else [root]
        if origins != [root]:
            found = [(earlier_root, earlier + links) for origin in origins
                     for earlier_root, earlier in self.chains(origin, hops + 1)]
            self.memo[key] = found[:MAX_ALTERNATIVES]
        return self.memo[key]

    def literal(self, expr: ast.expr) -> list[object]:
        """The constant values `expr` may have; an unknown origin is the marker UNKNOWN."""
        return [
            origin.value if isinstance(origin, ast.Constant) else UNKNOWN for origin in self.origins(expr)
        ]

    def taint(self, expr: ast.expr, source: Callable[[ast.AST, Flow], str | None], hops: int = 0,
              seen: set[int] | None = None) -> set[str]:
        """Labels of the sources (`source(node)` not None) whose values reach `expr`, through variables,
        parameters, returns of the script's functions and any expression built from them; sanitising
        calls (int(), dates) stop it."""
        seen = set() if seen is None else seen
        if hops > MAX_HOPS or id(expr) in seen:
            return set()
        seen.add(id(expr))
        labels: set[str] = set()
        stack: list[ast.AST] = [expr]
        while stack:
            node = stack.pop()
            label = source(node, self)
            if label:
                labels.add(label)
                continue
            if isinstance(node, ast.Call) and call_name(node) in SANITIZERS:
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                for origin in self.resolve(node):
                    values = self.arguments(origin) if isinstance(origin, Parameter) else (
                        [origin.value] if origin.value is not None else [])
                    for value in values:
                        labels |= self.taint(value, source, hops + 1, seen)
                continue
            if isinstance(node, ast.Call) and self.function(node) is not None:
                for value in self.returned(node):
                    labels |= self.taint(value, source, hops + 1, seen)
            if isinstance(node, _FUNCTION_SCOPES):
                continue
            stack.extend(ast.iter_child_nodes(node))
        return labels


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


def job_argument_source(node: ast.AST, flow: Flow) -> str | None:
    """`--name` for a read of one job argument (`args["name"]`, `args.get("name")` on getResolvedOptions'
    result, `opts.name` on argparse's), `sys.argv`, the whole options; None for anything else."""
    holder, key = _keyed_read(node)
    kind = _arguments_kind(holder, flow) if holder is not None else None
    # An attribute of getResolvedOptions' dict is a method (`args.keys`); of argparse's namespace, an option.
    if kind and (not isinstance(node, ast.Attribute) or kind != "getResolvedOptions"):
        return f"--{key}" if key else JOB_ARGUMENTS
    if isinstance(node, ast.Attribute | ast.Name) and flow.model.qualified(node) == "sys.argv":
        return "sys.argv"
    if isinstance(node, ast.Call) and call_name(node) in _ARGUMENT_CALLS:
        return JOB_ARGUMENTS
    return None


_ARGUMENT_CALLS = frozenset({"getResolvedOptions", "parse_args", "parse_known_args"})


def _keyed_read(node: ast.AST) -> tuple[ast.expr | None, str | None]:
    if isinstance(node, ast.Subscript):
        return node.value, str_value(node.slice)
    if isinstance(node, ast.Call) and call_name(node) == "get" and isinstance(node.func, ast.Attribute):
        return node.func.value, str_value(node.args[0]) if node.args else None
    if isinstance(node, ast.Attribute):
        return node.value, node.attr
    return None, None


def _argument_call(origin: ast.expr) -> bool:
    return isinstance(origin, ast.Call) and call_name(origin) in _ARGUMENT_CALLS


def _arguments_kind(holder: ast.expr, flow: Flow) -> str | None:
    """The call (getResolvedOptions, parse_args) whose result `holder` is, if it is one."""
    for origin in flow.origins(holder):
        if isinstance(origin, ast.Call) and _argument_call(origin):
            return call_name(origin)
        # vars(parser.parse_args()) is the same options as a dict.
        if isinstance(origin, ast.Call) and call_name(origin) == "vars" and origin.args and any(
            _argument_call(inner) for inner in flow.origins(origin.args[0])
        ):
            return "vars"
    return None


def flow_of(model: ScriptModel) -> Flow:
    """The script's data flow, built on first use and kept with the model."""
    if "flow" not in model.derived:
        model.derived["flow"] = Flow.build(model)
    return model.derived["flow"]


def _unique(nodes: list[ast.expr]) -> list[ast.expr]:
    seen: set[int] = set()
    unique = []
    for node in nodes:
        if id(node) not in seen:
            seen.add(id(node))
            unique.append(node)
    return unique


def _names(target: ast.AST) -> list[str]:
    return [node.id for node in ast.walk(target) if isinstance(node, ast.Name)]


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    params = function.args
    names = {a.arg for a in (*params.posonlyargs, *params.args, *params.kwonlyargs)}
    names |= {a.arg for a in (params.vararg, params.kwarg) if a is not None}
    return names


def _start(node: ast.AST) -> tuple[int, int]:
    return position(node)


def _end(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "end_lineno", None) or 0, getattr(node, "end_col_offset", None) or 0


def keyword(call: ast.Call, name: str, index: int | None = None) -> ast.expr | None:
    """The argument `name` of `call`, by keyword or at positional `index`."""
    for item in call.keywords:
        if item.arg == name:
            return item.value
    if index is not None and index < len(call.args) and not any(
        isinstance(arg, ast.Starred) for arg in call.args[: index + 1]
    ):
        return call.args[index]
    return None
