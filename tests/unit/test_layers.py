"""The layers, read from the code: data flows one way.

ui/ uses services (and domain, config, formatting), never the SOAP client,
the store, peewee, zeep or the CLI; lower layers never import Qt; only the
launcher starts the simulator (the CLI and the window go through it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "maelis_desk"


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, as absolute dotted names (relative imports resolved)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py")) if folder else sorted(PACKAGE.glob("*.py"))


def offending(paths: list[Path], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {}
    for path in paths:
        hits = sorted(m for m in imports_of(path) if any(m == f or m.startswith(f + ".") for f in forbidden))
        if hits:
            bad[str(path.relative_to(PACKAGE))] = hits
    return bad


def test_the_resolver_sees_relative_imports():
    found = imports_of(PACKAGE / "ui" / "app.py")
    assert "maelis_desk.services" in found and "maelis_desk.launcher" in found


def test_ui_never_imports_the_client_the_store_or_the_cli():
    assert offending(modules("ui"), ("maelis_desk.maelis", "maelis_desk.store", "maelis_desk.cli",
                                     "peewee", "playhouse", "zeep")) == {}


@pytest.mark.parametrize("folder", ["maelis", "store", "services"])
def test_lower_layers_never_import_qt(folder):
    assert offending(modules(folder), ("PySide6", "maelis_desk.ui")) == {}


def test_the_store_and_the_client_do_not_know_each_other():
    assert offending(modules("store"), ("maelis_desk.maelis", "maelis_desk.services", "zeep")) == {}
    assert offending(modules("maelis"), ("maelis_desk.store", "maelis_desk.services", "peewee")) == {}


def test_only_the_launcher_starts_the_simulator():
    users = offending([p for p in modules("") + modules("ui") + modules("services")],
                      ("maelis_desk.simulator",))
    assert set(users) == {"launcher.py"}
