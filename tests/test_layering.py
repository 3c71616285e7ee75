"""The architecture's one direction: web → kb ← indexer."""

import ast
from pathlib import Path

from tests.conftest import ROOT


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_kb_imports_neither_web_nor_indexer():
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & {"web", "indexer"})
        for path in (ROOT / "kb").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_indexer_does_not_import_web():
    offenders = [str(p) for p in (ROOT / "indexer").rglob("*.py") if "web" in imported_modules(p)]
    assert offenders == []
