"""Each section's experiments, declared once: configs, grids, seeds and budgets per profile.

A notebook builds its study with `Section.from_notebook(globals())` and runs
what the section declares; a later section reads an earlier one's evidence
from the same declaration (`Section.at(profile).experiments()`), so changing
a grid here changes every notebook that uses it.
"""

from cifar_mlp.study.sections.architecture import Architecture
from cifar_mlp.study.sections.baseline import Baseline
from cifar_mlp.study.sections.beyond import Beyond
from cifar_mlp.study.sections.callbacks import Callbacks
from cifar_mlp.study.sections.optimizers import Optimizers
from cifar_mlp.study.sections.recipe import Recipe
from cifar_mlp.study.sections.regularization import Regularization

# The notebook of each section, in reading order.
SECTIONS = {cls.SECTION: cls for cls in (Baseline, Architecture, Regularization, Optimizers,
                                         Callbacks, Recipe, Beyond)}
