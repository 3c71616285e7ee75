"""The architecture's one direction, web → kb ← indexer, and kb's one door."""

import ast
from pathlib import Path

import kb
from tests.conftest import ROOT


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, by its full dotted name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "kb":  # ``from kb import vector_index`` reaches past the door too
                names.update(f"kb.{alias.name}" for alias in node.names if alias.name not in kb.__all__)
    return names


def packages(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imports(path)}


def test_kb_imports_neither_web_nor_indexer():
    offenders = {
        str(path.relative_to(ROOT)): sorted(packages(path) & {"web", "indexer"})
        for path in (ROOT / "kb").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_the_command_line_uses_the_web_layer_from_the_indexer():
    """The ``kb`` command prints the API's JSON, so it words it as the web layer does; the
    pipeline, the loaders and the evaluation never touch the web layer."""
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "indexer").rglob("*.py")
                 if "web" in packages(p) and p.name != "cli.py"]
    assert offenders == []
    cli = {name for name in imports(ROOT / "indexer" / "cli.py") if name.startswith("web")}
    assert cli <= {"web.present", "web.wording"}


def test_outside_kb_code_goes_through_its_front_door():
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in imports(path) if name.startswith("kb."))
        for folder in ("web", "indexer", "bench") for path in (ROOT / folder).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
