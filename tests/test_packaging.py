"""environment.yml (conda users) and pyproject.toml must list the same dependencies."""

import re
import tomllib

from cifar_mlp import paths


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((paths.PROJ_ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    text = (paths.PROJ_ROOT / "environment.yml").read_text()
    listed = set(re.findall(r"^ {6}- ([A-Za-z][\w.-]*[<>=!][^\s#]*)", text, re.M))
    assert listed == wanted, f"only in pyproject: {wanted - listed}; only in environment.yml: {listed - wanted}"
