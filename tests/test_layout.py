"""The package's layers: each folder imports only from its own layer and those below it.

data → config → model → training → store → study → notebook → report: nothing
downstream reaches back upstream, and no two modules import each other, even
through others. Every import statement counts, also one inside a function.
"""

import ast
import graphlib
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "src" / "cifar_mlp"
# Lowest first. A module's layer is its folder; the top-level modules are the base.
LAYERS = ("", "core", "runs", "study", "report")


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    folder = parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else ""
    return LAYERS.index(folder)


def imports() -> dict[str, set[str]]:
    """Each module of the package → the package's modules it imports."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = (package.rsplit(".", node.level - 1)[0] + (f".{node.module}" if node.module else "")
                        if node.level else node.module or "")
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("cifar_mlp") and target != name and target in modules:
                    graph[name].add(target)
    return graph


def test_the_package_has_its_four_layers_each_with_a_one_line_docstring():
    for folder in LAYERS[1:]:
        doc = ast.get_docstring(ast.parse((PACKAGE / folder / "__init__.py").read_text()))
        assert doc and "\n" not in doc.strip(), f"{folder}/__init__.py needs a one-line docstring"


def test_no_import_cycles():
    try:
        tuple(graphlib.TopologicalSorter(imports()).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"an import cycle: {' → '.join(error.args[1])}")


def test_no_import_runs_back_up_a_layer():
    upward = [f"{a} → {b}" for a, targets in imports().items() for b in targets if layer(b) > layer(a)]
    assert not upward, "imports from a higher layer: " + "; ".join(upward)


def test_no_private_name_is_imported_across_modules():
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cifar_mlp"):
                found += [f"{module_name(path)}: {a.name}" for a in node.names if a.name.startswith("_")]
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                    and isinstance(node.value, ast.Name) and node.value.id in _module_aliases(path):
                found.append(f"{module_name(path)}: {node.value.id}.{node.attr}")
    assert not found, f"private names used across modules: {found}"


def _module_aliases(path: pathlib.Path) -> set[str]:
    """The names a file binds to cifar_mlp modules (`from cifar_mlp.core import data` → data)."""
    modules = {module_name(p).rpartition(".")[2] for p in PACKAGE.rglob("*.py")}
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cifar_mlp"):
            names |= {a.asname or a.name for a in node.names if a.name in modules}
    return names


def test_no_product_module_is_named_like_a_test():
    named = [p.name for p in PACKAGE.rglob("test_*.py")]
    assert not named, f"pytest would collect these as tests: {named}"


def test_a_cycle_is_found():
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter({"a": {"b"}, "b": {"c"}, "c": {"a"}}).static_order())


@pytest.mark.parametrize("a, b, upward", [("cifar_mlp.core.data", "cifar_mlp.paths", False),
                                          ("cifar_mlp.core.training", "cifar_mlp.runs.store", True),
                                          ("cifar_mlp.report.plots", "cifar_mlp.study.compare", False)])
def test_the_layer_rule_itself(a, b, upward):
    assert (layer(b) > layer(a)) is upward
