"""02's and 03's declarations: every judged sweep names the 3×128 baseline it is judged against."""

import pytest

from cifar_mlp.study.sections import Architecture, Regularization


@pytest.mark.parametrize("profile", ["full", "smoke"])
def test_each_architecture_sweep_is_judged_against_the_baseline(profile):
    study = Architecture.at(profile)
    experiments = study.experiments()
    for name in ("depth", "width", "grid", "activation"):
        e = experiments[name]
        assert e.reference is not None, f"{name}: no reference to pair against"
        assert e.variants[e.reference] == study.base(), f"{name}: the reference is not 3×128 ReLU"
    # The wide nets train on a shorter budget: nothing in their sweep is the baseline.
    wide = experiments["wide"]
    assert wide.reference is None
    assert all(c.epochs == study.wide_epochs for c in wide.variants.values())
    assert set(wide.seeds) <= set(experiments["width"].seeds)


def test_a_sweep_without_the_baseline_has_no_reference():
    study = Architecture.at("smoke", depths=(1, 2))
    assert study.experiments()["depth"].reference is None


@pytest.mark.parametrize("profile", ["full", "smoke"])
def test_each_regularization_family_holds_the_baseline_as_reference(profile):
    study = Regularization.at(profile)
    for family, e in study.experiments().items():
        assert e.variants[e.reference] == study.base(), family
