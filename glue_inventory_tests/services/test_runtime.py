"""While a step works, the garbage collector's young generation is collected less often, and restored after."""

import gc

import dagster as dg
import pytest

from glue_inventory.orchestration.observability import observed
from glue_inventory.services.runtime import YOUNG_COLLECTION_EVERY, young_collections_every


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    assert before[0] < YOUNG_COLLECTION_EVERY  # Python's default, 700
    yield before
    gc.set_threshold(*before)


def test_the_young_generation_is_collected_less_often_inside_and_as_before_after_an_error(thresholds):
    with pytest.raises(RuntimeError), young_collections_every():
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, *thresholds[1:])
        raise RuntimeError("a fetch failed")
    assert gc.get_threshold() == thresholds


@pytest.mark.parametrize("asked", [0, 500_000])  # 0 turns automatic collection off
def test_a_process_that_asked_for_its_own_threshold_keeps_it(thresholds, asked):
    gc.set_threshold(asked, *thresholds[1:])
    with young_collections_every():
        assert gc.get_threshold()[0] == asked
    assert gc.get_threshold()[0] == asked


def test_every_observed_asset_step_works_with_the_raised_threshold(thresholds):
    seen = []

    @dg.asset
    @observed
    def step(context: dg.AssetExecutionContext) -> None:
        seen.append(gc.get_threshold()[0])

    with dg.DagsterInstance.ephemeral() as instance:  # its own instance, whatever an earlier test left current
        assert dg.materialize([step], instance=instance).success
    assert seen == [YOUNG_COLLECTION_EVERY]
    assert gc.get_threshold() == thresholds
