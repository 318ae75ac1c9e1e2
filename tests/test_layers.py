"""The layers of ``src/rolegate`` hold: read from the import graph, not from
a convention.

Every module is parsed with ``ast`` (nothing is imported), and every import
statement counts, at module level, under ``if TYPE_CHECKING:`` or inside a
function. From top to bottom:

    entry           cli, server, pipeline, routing, bootstrap, serve options,
                    the Alembic migration scripts
    services        iam, sts, federation, organizations: none imports another
    authorisation   authz (and authorization/)
    shared          principals/: what the services share (principals and
                    their policy sets, role lookup, session issue)
    infrastructure  store, audit, context, appstate, requestid
    core            policy, sigv4, tokens, arn, ids, protocol, jsonsafe, mfa
                    (+ errors, randpool): pure, they import nothing above

A module may import its own package, anything in a lower layer and, except
between services, another package of its own layer. Packages form no cycle.
No import sits inside a function unless it is listed below with its reason:
an import moved into a function to dodge a cycle only hides the cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "rolegate"

CORE = frozenset(
    {
        "rolegate.policy",
        "rolegate.sigv4",
        "rolegate.tokens",
        "rolegate.arn",
        "rolegate.ids",
        "rolegate.protocol",
        "rolegate.jsonsafe",
        "rolegate.mfa",
    }
)
# Leaves the core may use: the one error base, and the buffered os.urandom
# (tokens' nonces); neither imports anything of rolegate.
CORE_LEAVES = frozenset({"rolegate.errors", "rolegate.randpool"})
SERVICES = frozenset(
    {"rolegate.iam", "rolegate.sts", "rolegate.federation", "rolegate.organizations"}
)

# Top to bottom. (name, packages, packages of this layer may import each other)
LAYERS: tuple[tuple[str, frozenset[str], bool], ...] = (
    (
        "entry",
        frozenset(
            {
                "rolegate.cli",
                "rolegate.server",
                "rolegate.pipeline",
                "rolegate.routing",
                "rolegate.bootstrap",
                "rolegate.serve_options",
                "rolegate.http_protocol",
                # Alembic loads these from their files (store/migrate.py's
                # script_location); rolegate.store never imports them. A data
                # upgrade may use the domain code (trust binding) of its time.
                "rolegate.store.migrations",
            }
        ),
        True,
    ),
    ("services", SERVICES, False),
    ("authorisation", frozenset({"rolegate.authz", "rolegate.authorization"}), True),
    ("shared", frozenset({"rolegate.principals"}), True),
    (
        "infrastructure",
        frozenset(
            {
                "rolegate.store",
                "rolegate.audit",
                "rolegate.context",
                "rolegate.appstate",
                "rolegate.requestid",
            }
        ),
        True,
    ),
    ("core", CORE | CORE_LEAVES | {ROOT}, True),
)

# Imports inside a function that stay, each for a reason that is not a cycle:
# (module, imported module) -> reason.
LAZY_ALLOWED: dict[tuple[str, str], str] = {
    # The CLI imports what each command runs: `rolegate --help`, `rolegate
    # policy ...` and argument errors start in ~0.1 s instead of ~0.5 s
    # (python -X importtime: rolegate.store 345 ms with SQLAlchemy and
    # Alembic, rolegate.server 464 ms with botocore's models and every
    # handler, rolegate.sts 390 ms).
    ("rolegate.cli", "rolegate.store"): "per-command import (CLI start-up)",
    ("rolegate.cli", "rolegate.store.engine"): "per-command import (CLI start-up)",
    ("rolegate.cli", "rolegate.store.migrate"): "per-command import (CLI start-up)",
    ("rolegate.cli", "rolegate.store.crypto"): "per-command import (CLI start-up)",
    ("rolegate.cli", "rolegate.bootstrap"): "per-command import (CLI start-up): pulls the store",
    ("rolegate.cli", "rolegate.sts.revoke"): "per-command import (CLI start-up): pulls STS",
    ("rolegate.cli", "uvicorn"): "only `serve` runs a server",
    # With --workers N the parent only supervises: uvicorn's workers are
    # spawned and import the app themselves (rolegate.server:app_factory).
    ("rolegate.cli", "rolegate.server"): "only a one-process `serve` builds the app here",
}

# Imports inside functions in modules another change owns (server.py and
# context.py belong to the request-pipeline work): to be moved there, then
# dropped from this list. None of them dodges a cycle today.
LAZY_PENDING: dict[tuple[str, str], str] = {
    ("rolegate.server", "importlib"): "handler tables loaded by name",
    ("rolegate.server", "rolegate.store"): "build_state",
    ("rolegate.server", "rolegate.iam.aws_managed"): "build_state, behind an ImportError guard",
    ("rolegate.server", "rolegate.audit.sink"): "build_state, only with ROLEGATE_AUDIT_PROCESS",
    ("rolegate.server", "rolegate.federation.jwks"): "build_state, behind an ImportError guard",
    ("rolegate.context", "rolegate.errors"): "fail-closed authorize without authorize_fn",
}

# Module-level edges between service packages that remain for now:
# (importing module, imported module) -> reason. Each is one to remove.
KNOWN_SERVICE_EDGES: dict[tuple[str, str], str] = {
    # IAM registers identity providers with the parser and the certificate
    # thumbprint federation verifies with, so that registration accepts
    # exactly what AssumeRoleWithSAML/WebIdentity can verify later. Those are
    # a pure verification library (errors and jsonsafe only) that belongs
    # below the services; moving saml.py (with saml_xml.py) and jwks.py out of
    # rolegate.federation is the step that removes these edges.
    ("rolegate.iam.saml_providers", "rolegate.federation.saml"): "IdP metadata parser",
    ("rolegate.iam.oidc_providers", "rolegate.federation.jwks"): "IdP certificate thumbprint",
}


# --------------------------------------------------------------------------- graph


@cache
def modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package)."""
    out: dict[str, tuple[Path, bool]] = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


class Import:
    __slots__ = ("source", "target", "line", "in_function")

    def __init__(self, source: str, target: str, line: int, in_function: bool) -> None:
        self.source, self.target, self.line, self.in_function = source, target, line, in_function

    def __repr__(self) -> str:
        where = " (in a function)" if self.in_function else ""
        return f"{self.source}:{self.line} -> {self.target}{where}"


def _targets(module: str, is_pkg: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        base = module.split(".") if is_pkg else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    known = modules()
    # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module.
    return [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]


def _walk(node: ast.AST, in_function: bool, out: list[tuple[ast.AST, bool]]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            out.append((child, in_function))
        inner = in_function or isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        _walk(child, inner, out)


@cache
def imports() -> tuple[Import, ...]:
    out: list[Import] = []
    for module, (path, is_pkg) in modules().items():
        found: list[tuple[ast.AST, bool]] = []
        _walk(ast.parse(path.read_text(encoding="utf-8"), str(path)), False, found)
        for node, in_function in found:
            assert isinstance(node, ast.Import | ast.ImportFrom)
            for target in _targets(module, is_pkg, node):
                out.append(Import(module, target, node.lineno, in_function))
    return tuple(out)


def internal() -> list[Import]:
    return [i for i in imports() if i.target == ROOT or i.target.startswith(ROOT + ".")]


def package(module: str) -> str:
    """The unit of layering: ``rolegate.<name>`` (a package or a top-level
    module); the migration scripts count on their own (see LAYERS)."""
    if module.startswith("rolegate.store.migrations"):
        return "rolegate.store.migrations"
    return ".".join(module.split(".")[:2])


def layer_of(pkg: str) -> int:
    for index, (_, members, _) in enumerate(LAYERS):
        if pkg in members:
            return index
    raise AssertionError(f"{pkg} is in no layer: add it to LAYERS in {__file__}")


# --------------------------------------------------------------------------- rules


def test_the_graph_is_read() -> None:
    # Guards the checks below against passing on an empty or misread graph.
    names = modules()
    assert "rolegate.iam.lookup" in names and "rolegate.policy" in names
    edges = {(i.source, i.target) for i in internal()}
    assert ("rolegate.policy.jsontext", "rolegate.jsonsafe") in edges
    assert ("rolegate.sts.assume_role", "rolegate.authz") in edges


def test_no_import_inside_a_function() -> None:
    listed = LAZY_ALLOWED.keys() | LAZY_PENDING.keys()
    hidden = [i for i in imports() if i.in_function and (i.source, i.target) not in listed]
    assert not hidden, (
        "imports inside functions (import at module level; if the import would "
        "make a cycle, move the shared piece into a lower layer such as "
        f"rolegate.principals): {hidden}"
    )


def test_allowed_lazy_imports_still_exist() -> None:
    present = {(i.source, i.target) for i in imports() if i.in_function}
    stale = sorted(LAZY_ALLOWED.keys() - present)
    assert not stale, f"no longer imported in a function, drop from LAZY_ALLOWED: {stale}"


def test_every_package_has_a_layer() -> None:
    for module in modules():
        layer_of(package(module))


def test_no_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    witness: dict[tuple[str, str], Import] = {}
    for i in internal():
        a, b = package(i.source), package(i.target)
        if a != b:
            graph[a].add(b)
            witness.setdefault((a, b), i)
    # Depth-first search for a back edge; report the cycle with one import per hop.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                hops = [witness[(a, b)] for a, b in zip(cycle, cycle[1:], strict=False)]
                raise AssertionError(f"package cycle {' -> '.join(cycle)}: {hops}")


def test_the_core_imports_only_the_core() -> None:
    allowed = CORE | CORE_LEAVES
    bad = [
        i for i in internal() if package(i.source) in allowed and package(i.target) not in allowed
    ]
    assert not bad, f"the pure core imports outside it: {bad}"


def test_services_do_not_import_each_other() -> None:
    bad = [
        i
        for i in internal()
        if package(i.source) in SERVICES
        and package(i.target) in SERVICES
        and package(i.source) != package(i.target)
        and (i.source, i.target) not in KNOWN_SERVICE_EDGES
    ]
    assert not bad, (
        "a service imports another service; share through rolegate.principals "
        f"(or authz) instead: {bad}"
    )


def test_known_service_edges_still_exist() -> None:
    present = {(i.source, i.target) for i in internal()}
    stale = sorted(KNOWN_SERVICE_EDGES.keys() - present)
    assert not stale, f"removed, drop from KNOWN_SERVICE_EDGES: {stale}"


def test_imports_go_down_the_layers() -> None:
    bad = []
    for i in internal():
        a, b = package(i.source), package(i.target)
        if a == b or (i.source, i.target) in KNOWN_SERVICE_EDGES:
            continue
        la, lb = layer_of(a), layer_of(b)
        if lb < la or (lb == la and not LAYERS[la][2]):
            bad.append(f"{i} ({LAYERS[la][0]} imports {LAYERS[lb][0]})")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)
