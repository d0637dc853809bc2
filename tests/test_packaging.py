"""pyproject.toml declares the dependencies; requirements.lock pins them (`make lock`);
environment.yml (conda users) lists the same ones; `make setup` installs the lock."""

import importlib.metadata
import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from cifar_mlp import paths

ROOT = paths.PROJ_ROOT
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
MAKEFILE = (ROOT / "Makefile").read_text()


def make_variable(name: str) -> str:
    found = re.search(rf"^{name} :?= *(.*)$", MAKEFILE, re.M)
    assert found, f"Makefile defines no {name}"
    return found.group(1).strip()


# The extras `make setup` installs and `make lock` pins, e.g. {"test", "cluster"}.
EXTRAS = set(make_variable("EXTRAS").split(","))
LOCK = ROOT / make_variable("LOCK")


def declared(extras) -> set[str]:
    return set(PROJECT["dependencies"]).union(*(PROJECT["optional-dependencies"][e] for e in extras))


def lock_pins() -> dict[str, Version]:
    pins = re.findall(r"^([A-Za-z0-9][\w.-]*)==(\S+)", LOCK.read_text(), re.M)
    return {canonicalize_name(name): Version(version) for name, version in pins}


def test_setup_installs_the_lock_with_the_extras():
    assert EXTRAS <= set(PROJECT["optional-dependencies"]), "EXTRAS names an extra pyproject lacks"
    setup = re.search(r"^\$\(VENV\)/\.installed:.*\n((?:\t.*\n)+)", MAKEFILE, re.M).group(1)
    assert '-c $(LOCK) -e ".[$(EXTRAS)]"' in setup


def test_environment_yml_lists_what_setup_installs():
    text = (ROOT / "environment.yml").read_text()
    pip_lines = re.findall(r"^ {6}- (.+?)\s*(?:#.*)?$", text, re.M)
    editable = [line for line in pip_lines if line.startswith("-e .")]
    assert editable, "environment.yml does not install the package (-e .[...])"
    extras = set(re.fullmatch(r"-e \.(?:\[(.*)\])?", editable[0]).group(1).split(","))
    assert extras == EXTRAS, f"environment.yml installs extras {extras}, make setup {EXTRAS}"
    assert f"-c {LOCK.name}" in pip_lines, f"environment.yml does not use {LOCK.name}"
    listed = {line for line in pip_lines if not line.startswith("-")}
    wanted = declared(EXTRAS)
    assert listed == wanted, f"only in pyproject: {wanted - listed}; only in environment.yml: {listed - wanted}"
    python = re.search(r"^  - python(\S+)", text, re.M).group(1)
    assert PROJECT["requires-python"] in python, f"environment.yml asks for python{python}"


def test_lock_pins_every_declared_dependency_within_its_bounds():
    pins = lock_pins()
    for line in sorted(declared(EXTRAS)):
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is declared but not in {LOCK.name}: run `make lock`"
        assert req.specifier.contains(pins[name]), \
            f"{LOCK.name} pins {req.name}=={pins[name]}, outside {req.specifier}: run `make lock`"
        for extra in req.extras:  # dask[distributed] must lock distributed too
            for dep in map(Requirement, importlib.metadata.requires(req.name) or []):
                if dep.marker and dep.marker.evaluate({"extra": extra}) and not dep.marker.evaluate({"extra": ""}):
                    assert canonicalize_name(dep.name) in pins, f"{req.name}[{extra}] needs {dep.name}, not locked"


def test_lock_leaves_out_the_local_bench_wheel_and_targets_the_oldest_python():
    pins = lock_pins()
    for line in PROJECT["optional-dependencies"]["bench"]:
        assert canonicalize_name(Requirement(line).name) not in pins
    oldest = PROJECT["requires-python"].removeprefix(">=")
    assert f"--python-version {oldest} " in make_variable("LOCK_TARGET") + " ", \
        f"make lock must resolve for Python {oldest}, the oldest that pyproject allows"


def test_the_installed_dependencies_are_the_locked_versions():
    pins = lock_pins()
    stale = {}
    for line in declared(EXTRAS):
        name = canonicalize_name(Requirement(line).name)
        installed = Version(importlib.metadata.version(name))
        if installed != pins[name]:
            stale[name] = f"{installed} installed, {pins[name]} locked"
    assert not stale, f"{stale}: run `make setup`"
