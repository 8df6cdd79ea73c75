"""A parsed script indexed once for the rules: calls, imports, assignments, method chains.

Every traversal here is iterative (`ast.walk`, explicit loops): a hostile script with very deep
nesting must not exhaust the interpreter's recursion limit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from glue_inventory.analysis.findings import JobContext

Link = tuple[str, ast.Call | None]


def position(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def dotted(expr: ast.expr) -> str | None:
    """`a.b.c` for a pure attribute path on a name, else None."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))


def call_name(call: ast.Call) -> str:
    """The called function's own name: `parquet` for `df.write.parquet(...)`, `print` for `print(...)`."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def receiver(call: ast.Call) -> ast.expr:
    """`df` in `df.collect()`; the function itself for a plain call."""
    return call.func.value if isinstance(call.func, ast.Attribute) else call.func


def chain(expr: ast.expr) -> tuple[ast.expr, list[Link]]:
    """Split `df.where(c).limit(5).collect()` into root `df` and links [(where, call), (limit, call), …]."""
    links: list[Link] = []
    node = expr
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            links.append((node.func.attr, node))
            node = node.func.value
        elif isinstance(node, ast.Attribute):
            links.append((node.attr, None))
            node = node.value
        else:
            break
    links.reverse()
    return node, links


def is_str(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def str_value(node: ast.AST | None) -> str | None:
    """The text of a string literal, else None."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


@dataclass
class ScriptModel:
    """Indexes of one module's AST, built in a single walk; lists are in source order."""

    tree: ast.Module
    calls: list[ast.Call] = field(default_factory=list)
    assigns: list[tuple[str, ast.expr, int]] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    handlers: list[ast.ExceptHandler] = field(default_factory=list)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    constants: list[ast.Constant] = field(default_factory=list)
    dicts: list[ast.Dict] = field(default_factory=list)
    assign_nodes: list[ast.Assign | ast.AnnAssign] = field(default_factory=list)
    docstrings: set[int] = field(default_factory=set)  # ids of string constants standing alone as statements
    star_imports: set[str] = field(default_factory=set)  # modules of `from module import *`
    context: JobContext = field(default_factory=JobContext)
    derived: dict[str, Any] = field(default_factory=dict)  # built on first use by other modules (the data flow)

    max_depth: int = 0

    @classmethod
    def build(cls, tree: ast.Module, context: JobContext | None = None) -> ScriptModel:
        """One iterative pass indexes every node and measures the nesting depth."""
        model = cls(tree, context=context or JobContext())
        stack: list[tuple[ast.AST, int]] = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            model.max_depth = max(model.max_depth, depth)
            model._index(node)
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
        for nodes in (model.calls, model.constants, model.dicts, model.assign_nodes, model.handlers):
            nodes.sort(key=position)
        model.assigns.sort(key=lambda item: item[2])
        return model

    def _index(self, node: ast.AST) -> None:
        if isinstance(node, ast.Call):
            self.calls.append(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            self.assign_nodes.append(node)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    self.assigns.append((target.id, node.value, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                self.aliases[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if alias.name == "*":
                    self.star_imports.add(node.module)
                else:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            self.docstrings.add(id(node.value))
        elif isinstance(node, ast.ExceptHandler):
            self.handlers.append(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.functions[node.name] = node
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            self.constants.append(node)
        elif isinstance(node, ast.Dict):
            self.dicts.append(node)

    def qualified(self, expr: ast.expr) -> str | None:
        """Dotted name, import aliases resolved: `sp.run` → `subprocess.run` after `import subprocess as sp`."""
        name = dotted(expr)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        resolved = self.aliases.get(head, head)
        return f"{resolved}.{rest}" if rest else resolved

    def method_calls(self, *names: str) -> Iterator[ast.Call]:
        wanted = set(names)
        return (
            call for call in self.calls if isinstance(call.func, ast.Attribute) and call.func.attr in wanted
        )
