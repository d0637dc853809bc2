"""`python -m cifar_mlp.report`: execute the notebooks and render the reports."""

from cifar_mlp import cli
from cifar_mlp.report import build

cli.run(build.main)
