"""Two-level factorial designs: which cells to train, and what each factor does.

A factor is a named choice with two settings (config changes). A full 2^k
design trains every combination; a half fraction (2^(k-1), defining relation
I = ABC…, resolution k) trains the half whose signs multiply to +1, which for
k ≥ 5 still separates every main effect and two-factor interaction from each
other (each is aliased only with interactions of k-1 or k-2 factors).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Factor:
    """A choice the design varies: its config changes at the low (−1) and high (+1) level."""

    low: Mapping
    high: Mapping
    low_name: str
    high_name: str

    def setting(self, sign: int) -> Mapping:
        return self.high if sign > 0 else self.low

    def level(self, sign: int) -> str:
        return self.high_name if sign > 0 else self.low_name


# A half fraction's resolution is its factor count: from five factors on, every main effect
# and two-factor interaction stays clear of the others (resolution V). Fewer: the full design.
HALF_FROM = 5


def cells(names, fraction: bool = True) -> pd.DataFrame:
    """The design's cells as ±1 columns, one per factor name.

    `fraction`: the half fraction with I = (product of every factor), where it keeps
    resolution V (`HALF_FROM` factors or more); otherwise every combination.
    """
    names = list(names)
    half = fraction and len(names) >= HALF_FROM
    rows = [signs for signs in itertools.product((-1, 1), repeat=len(names))
            if not half or np.prod(signs) == 1]
    return pd.DataFrame(rows, columns=names)


def fit(scores: pd.DataFrame, names, block: str = "seed", response: str = "score",
        interactions: bool = True):
    """The linear model of `effects`: seed as a block, main effects, two-factor interactions."""
    import statsmodels.formula.api as smf

    names = list(names)
    safe = {n: f"f{i}" for i, n in enumerate(names)}
    data = scores.rename(columns=safe).assign(_block=scores[block].astype(str))
    terms = list(safe.values())
    if interactions:
        terms += [f"{a}:{b}" for a, b in itertools.combinations(safe.values(), 2)]
    model = smf.ols(f"{response} ~ C(_block) + {' + '.join(terms)}", data=data).fit()
    model.factor_names = safe  # how the formula spells each factor
    return model


def against_best(model, cells: pd.DataFrame) -> pd.DataFrame:
    """Each cell's fitted mean, and its difference from the best cell with a 95 % interval.

    From the model, not from a cell's own few runs: every run informs every cell
    (a cell's own two or three seeds would give intervals as wide as the effects).
    `overlaps` marks the cells whose difference from the best includes zero.
    """
    safe = model.factor_names
    rows = cells.rename(columns=safe)
    blocks = [name for name in model.params.index if name.startswith("C(_block)")]

    def column(name):
        # A term's value in a cell: 1 for the intercept, the product of its factors' signs;
        # each seed's shift at its share, so a cell's fitted value is its mean over the seeds.
        if name == "Intercept":
            return np.ones(len(rows))
        if name in blocks:
            return np.full(len(rows), 1 / (len(blocks) + 1))
        return np.prod([rows[f].to_numpy() for f in name.split(":")], axis=0)

    matrix = pd.DataFrame({name: column(name) for name in model.params.index})
    fitted = matrix.to_numpy() @ model.params.to_numpy()
    best = int(np.argmax(fitted))
    out = cells.copy()
    out["fitted"] = fitted
    out[["diff", "low", "high"]] = np.nan
    for i in range(len(cells)):
        if i == best:
            continue
        test = model.t_test(matrix.iloc[i].to_numpy() - matrix.iloc[best].to_numpy())
        low, high = np.asarray(test.conf_int(0.05)).ravel()
        out.loc[out.index[i], ["diff", "low", "high"]] = float(np.ravel(test.effect)[0]), low, high
    out["best"] = np.arange(len(cells)) == best
    out["overlaps"] = out["best"] | (out["high"] >= 0)
    return out


def effects(scores: pd.DataFrame, names, block: str = "seed", response: str = "score",
            interactions: bool = True) -> pd.DataFrame:
    """Main effects and two-factor interactions, with 95 % intervals, from one linear model.

    `scores` has one row per run: the ±1 columns `names`, the `block` (the seed:
    every seed trains every cell, so seed-to-seed shifts are removed as in a paired
    comparison) and the `response`. An effect is the change from the low to the high
    level, averaged over the other factors (twice the model's coefficient); an
    interaction A:B is how much A's effect grows when B is high, halved
    (the usual factorial convention: twice the coefficient of A·B).
    """
    model = fit(scores, names, block, response, interactions)
    safe = model.factor_names
    terms = list(safe.values())
    if interactions:
        terms += [f"{a}:{b}" for a, b in itertools.combinations(safe.values(), 2)]
    ci = model.conf_int(0.05)
    back = {v: k for k, v in safe.items()}
    rows = []
    for term in terms:
        label = " × ".join(back[p] for p in term.split(":"))
        rows.append({"term": label, "kind": "interaction" if ":" in term else "main",
                     "effect": 2 * model.params[term], "low": 2 * ci.loc[term, 0],
                     "high": 2 * ci.loc[term, 1], "p": model.pvalues[term]})
    table = pd.DataFrame(rows)
    table.attrs["residual_df"] = int(model.df_resid)
    return table
