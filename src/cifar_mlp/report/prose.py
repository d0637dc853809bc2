"""Conclusions as prose: one Markdown template per section, its numbers filled from the records.

A notebook computes the comparisons; the sentences that carry them live here, in
`templates/prose/<section>.md.j2`, so a notebook's last cells are a call, not code
that assembles Markdown. A value the template names but the notebook did not give
is an error, never an empty gap in a sentence.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from cifar_mlp.study import compare

TEMPLATES = Path(__file__).resolve().parent / "templates" / "prose"

# What a template may do with a value: the statistics module's own wording, nothing new.
FILTERS = {"difference": compare.difference, "sentence": compare.sentence,
           "signed": compare.signed, "bound": compare.bound, "numbers": compare.numbers}


def conclusions(section: str, **values) -> str:
    """The section's conclusions, rendered from its template with `values`."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                                     undefined=jinja2.StrictUndefined, trim_blocks=True,
                                     lstrip_blocks=True, keep_trailing_newline=True)
    environment.filters.update(FILTERS)
    return environment.get_template(f"{section}.md.j2").render(**values)
