"""DORA's 2021 bands: every band, every gap and both ends, said in words and never rounded."""

from __future__ import annotations

import pytest

from drift.render.dora_bands import (
    CHANGE_FAILURE,
    DEPLOY_FREQUENCY,
    HOUR,
    LEAD_TIME,
    Scale,
    place,
    strip,
)


@pytest.mark.parametrize(
    ("scale", "value", "expected"),
    [
        (LEAD_TIME, 0.5 * HOUR, "Elite (less than one hour)"),
        (LEAD_TIME, HOUR, "between Elite (less than one hour) and High"),
        (LEAD_TIME, 0.5, "between Elite (less than one hour) and High"),
        (LEAD_TIME, 1.0, "High (between one day and one week)"),
        (LEAD_TIME, 7.0, "High (between one day and one week)"),
        (LEAD_TIME, 7.5, "between High (between one day and one week) and Medium"),
        (LEAD_TIME, 30.0, "Medium (between one month and six months)"),
        (LEAD_TIME, 182.5, "Medium (between one month and six months)"),
        (LEAD_TIME, 183.0, "Low (more than six months)"),
        (DEPLOY_FREQUENCY, 0.01, "Low (fewer than once per six months)"),
        (DEPLOY_FREQUENCY, 2 / 52, "Medium (between once per month and once every six months)"),
        (DEPLOY_FREQUENCY, 12 / 52, "High (between once per week and once per month)"),
        (DEPLOY_FREQUENCY, 1.0, "High (between once per week and once per month)"),
        (DEPLOY_FREQUENCY, 3.0, "between High (between once per week and once per month) and"),
        (DEPLOY_FREQUENCY, 7.0, "between High"),
        (DEPLOY_FREQUENCY, 10.0, "Elite (on demand, multiple deploys per day)"),
        (CHANGE_FAILURE, 0.0, "Elite (0%-15%)"),
        (CHANGE_FAILURE, 15.0, "Elite (0%-15%)"),
        (CHANGE_FAILURE, 15.5, "between Elite (0%-15%) and High, Medium and Low (16%-30%)"),
        (CHANGE_FAILURE, 30.0, "High, Medium and Low (16%-30%)"),
        (CHANGE_FAILURE, 64.0, "above every published band (the nearest: High, Medium and Low"),
    ],
)
def test_a_value_is_placed_in_its_band_or_said_to_be_in_none(
    scale: Scale, value: float, expected: str
) -> None:
    said = place(scale, value)
    assert said.startswith(expected)
    assert ("in no published band" in said) == said.startswith("between")


@pytest.mark.parametrize("scale", [LEAD_TIME, DEPLOY_FREQUENCY, CHANGE_FAILURE])
def test_the_bands_of_a_scale_never_overlap(scale: Scale) -> None:
    probes = [b.low for b in scale.bands] + [b.high for b in scale.bands]
    probes += [p * f for p in probes for f in (0.999, 1.001)]
    for value in probes:
        assert sum(band.holds(value) for band in scale.bands) <= 1, value


def test_the_strip_marks_the_value_and_says_it_in_words() -> None:
    svg = str(strip(LEAD_TIME, 12.0, "k"))
    assert svg.startswith('<svg role="img" aria-labelledby="k-t k-d"')
    assert "between High (between one day and one week) and Medium" in svg
    for group in ("Elite", "High", "Medium", "Low"):
        assert f">{group}</text>" in svg
    far_left = str(strip(LEAD_TIME, 1e-9, "a"))
    far_right = str(strip(LEAD_TIME, 1e9, "b"))
    assert 'd="M6.0 24' in far_left and 'd="M254.0 24' in far_right  # clamped to the ends
