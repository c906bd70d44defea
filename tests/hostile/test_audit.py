"""No program is run through a shell and no SQL is built by string formatting, anywhere in the project's
Python source: a file name or an uploaded text can never become a command or a query. Formatting that
joins only literals and CONSTANT_CASE names (a fixed expression spelled once) passes."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Functions that hand their string to a shell.
SHELL_CALLS = {("os", "system"), ("os", "popen"), ("subprocess", "getoutput"),
               ("subprocess", "getstatusoutput"), ("asyncio", "create_subprocess_shell")}
# Methods whose first argument is SQL (DB-API cursors, SQLAlchemy connections and sessions, Alembic's op).
SQL_METHODS = {"execute", "executemany", "executescript", "exec_driver_sql"}
CONSTANT_NAME = re.compile(r"_?[A-Z][A-Z0-9_]*")
# (file, finding) pairs allowed, each with its reason.
ALLOWED = {
    ("tests/conftest.py", "SQL for text() built with an f-string"):
        "DDL naming a scratch schema or database from secrets.token_hex: identifiers cannot be bound parameters",
}


def sources() -> list[Path]:
    """Every Python file of the project, its tests and benchmarks included; no virtualenv, no caches."""
    return sorted(p for p in ROOT.rglob("*.py")
                  if not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(ROOT).parts))


def findings(source: str, filename: str = "<source>") -> list[str]:
    """``file:line: what`` for each shell use and each SQL string built by formatting."""
    tree = ast.parse(source, filename)
    imported = _imports(tree)
    found = []
    for scope in [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))]:
        assigned = _assignments(scope)
        for call in (n for n in _own_nodes(scope) if isinstance(n, ast.Call)):
            for what in _problems(call, imported, assigned):
                found.append(f"{filename}:{call.lineno}: {what}")
    return sorted(set(found))


def _imports(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """Local name -> (module, name) for ``import m [as x]`` and ``from m import n [as x]``."""
    names: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (alias.name, "")
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module, alias.name)
    return names


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``scope``, not those of the functions nested in it (each is a scope of its own)."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node
            stack.extend(ast.iter_child_nodes(node))


def _assignments(scope: ast.AST) -> dict[str, list[ast.expr]]:
    """Every value assigned to each plain name in ``scope`` (``x = …``, ``x: T = …``, ``x += …``)."""
    values: dict[str, list[ast.expr]] = {}
    for node in _own_nodes(scope):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    values.setdefault(t.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name) and node.value:
            value = node.value if isinstance(node, ast.AnnAssign) else ast.BinOp(node.target, node.op, node.value)
            values.setdefault(node.target.id, []).append(value)
    return values


def _qualified(func: ast.expr, imported: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """(module, function) a call refers to, as far as the imports tell; ("", name) otherwise."""
    if isinstance(func, ast.Name):
        module, name = imported.get(func.id, ("", func.id))
        return (module, name) if name else ("", func.id)
    if isinstance(func, ast.Attribute):
        if isinstance(func.value, ast.Name) and func.value.id in imported:
            module, name = imported[func.value.id]
            return (f"{module}.{name}" if name else module), func.attr
        return "", func.attr
    return "", ""


def _problems(call: ast.Call, imported: dict[str, tuple[str, str]],
              assigned: dict[str, list[ast.expr]]) -> Iterator[str]:
    module, name = _qualified(call.func, imported)
    for keyword in call.keywords:
        if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
            yield f"{name}() with shell={ast.unparse(keyword.value)}"
    if (module, name) in SHELL_CALLS:
        yield f"{module}.{name}() runs its argument through a shell"
    is_text = name == "text" and module.split(".")[0] == "sqlalchemy"
    if (is_text or (isinstance(call.func, ast.Attribute) and name in SQL_METHODS)) and call.args:
        how = _formatting(call.args[0], assigned)
        if how:
            yield f"SQL for {name}() built with {how}"


def _formatting(node: ast.expr, assigned: dict[str, list[ast.expr]], seen: frozenset[str] = frozenset()) -> str:
    """How ``node`` builds a string from pieces (an f-string, ``%``, ``.format``, ``+``), or "" when it does
    not, or when every piece is fixed in the source (see ``_fixed``)."""
    if _fixed(node, assigned, seen):
        return ""
    if isinstance(node, ast.JoinedStr) and any(isinstance(v, ast.FormattedValue) for v in node.values):
        return "an f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):  # a statement is never a number
        return "%-formatting"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return "+ concatenation"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return ".format()"
    if isinstance(node, ast.Name) and node.id not in seen:
        for value in assigned.get(node.id, []):
            if how := _formatting(value, assigned, seen | {node.id}):
                return f"{how} (assigned to {node.id})"
    return ""


def _fixed(node: ast.expr, assigned: dict[str, list[ast.expr]], seen: frozenset[str] = frozenset()) -> bool:
    """True when ``node`` is made of literals and CONSTANT_CASE names only (``"EXPLAIN " + QUERY``): no
    value from outside the source can reach it."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if CONSTANT_NAME.fullmatch(name):
            return True
        values = assigned.get(name, []) if isinstance(node, ast.Name) and name not in seen else []
        return bool(values) and all(_fixed(v, assigned, seen | {name}) for v in values)
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) or (isinstance(v, ast.FormattedValue) and _fixed(v.value, assigned, seen))
                   for v in node.values)
    if isinstance(node, ast.BinOp):
        return _fixed(node.left, assigned, seen) and _fixed(node.right, assigned, seen)
    if isinstance(node, ast.Tuple | ast.List):
        return all(_fixed(e, assigned, seen) for e in node.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        parts = [node.func.value, *node.args, *(k.value for k in node.keywords)]
        return all(_fixed(p, assigned, seen) for p in parts)
    return False


def test_the_project_runs_no_shell_and_builds_no_sql_from_strings() -> None:
    files = sources()
    assert {"processor", "gateway", "responder", "spread", "spreadgate"} <= {p.relative_to(ROOT).parts[0]
                                                                            for p in files}
    problems = [f for path in files
                for f in findings(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert [p for p in problems if allowance(p) not in ALLOWED] == []


def allowance(finding: str) -> tuple[str, str]:
    """``file:line: what`` as the (file, what) key of ``ALLOWED``."""
    filename, _, rest = finding.partition(":")
    return filename, rest.partition(": ")[2]


BAD = [
    ("subprocess.run('antiword ' + name, shell=True)", "run() with shell=True"),
    ("import subprocess as sp\nsp.Popen(cmd, shell=flag)", "Popen() with shell=flag"),
    ("import os\nos.system('antiword %s' % name)", "os.system() runs its argument through a shell"),
    ("from os import popen as p\np(cmd)", "os.popen() runs its argument through a shell"),
    ("import subprocess\nsubprocess.getoutput(cmd)", "subprocess.getoutput() runs its argument"),
    ("cursor.execute(f\"SELECT * FROM t WHERE name = '{name}'\")", "SQL for execute() built with an f-string"),
    ("cursor.execute(\"SELECT * FROM t WHERE name = '%s'\" % name)", "SQL for execute() built with %-formatting"),
    ("session.execute('DELETE FROM t WHERE id = ' + ident)", "SQL for execute() built with + concatenation"),
    ("conn.exec_driver_sql('DROP TABLE {}'.format(t))", "SQL for exec_driver_sql() built with .format()"),
    ("from sqlalchemy import text as sql\nsql(f'SELECT {col} FROM t')", "SQL for text() built with an f-string"),
    ("import sqlalchemy as sa\nsa.text('SELECT ' + col)", "SQL for text() built with + concatenation"),
    ("def f(c, n):\n    q = f'SELECT {n}'\n    c.execute(q)", "an f-string (assigned to q)"),
    ("def f(c, n):\n    q = 'SELECT * FROM t WHERE '\n    q += n\n    c.executemany(q, [])",
     "+ concatenation (assigned to q)"),
    ("c.execute(f'SELECT {COLUMNS} FROM t WHERE a = {a}')", "SQL for execute() built with an f-string"),
    ("c.execute(QUERY % (TABLE, name))", "SQL for execute() built with %-formatting"),
]
GOOD = [
    "subprocess.run(['antiword', name], shell=False, check=False)",
    "session.execute(text('SELECT 1'))",
    "cursor.execute('SELECT * FROM t WHERE name = ?', (name,))",
    "session.execute(select(T).where(T.name == name))",
    "log.info('upload %d: %s', ident, f'{name}')",
    "row.stats.text(f'{digits}')",  # a method that happens to be called text
    "def text(x): ...\ntext(f'{x}')",  # not SQLAlchemy's
    "def f(c):\n    q = 'SELECT 1'\n    c.execute(q)",
    "def f(c, names):\n    for q in names:\n        c.execute(q)",
    "def f(s):\n    q = f'SELECT id FROM t WHERE {search.VECTOR} @@ x'\n    s.execute(text('EXPLAIN ' + q))",
    "c.execute(QUERY % (TABLE, COLUMN))",
]


@pytest.mark.parametrize("source,problem", BAD, ids=[b[0].splitlines()[-1].strip() for b in BAD])
def test_the_audit_finds_each_way_of_running_a_shell_or_formatting_sql(source: str, problem: str) -> None:
    found = findings(source)
    assert len(found) == 1 and problem in found[0], found


@pytest.mark.parametrize("source", GOOD)
def test_the_audit_passes_argument_lists_bound_parameters_and_constant_sql(source: str) -> None:
    assert findings(source) == []
