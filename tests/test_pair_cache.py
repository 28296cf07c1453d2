"""dtwrl.pair_cache: per-pair values kept for k calls, keyed by the target; and its two users, ReusedPaths and
CorridorSchedule, on shuffled batches and duplicated pairs."""

import numpy as np
import pytest

from dtwrl.aligners import ExactDTWAligner, ReusedPaths
from dtwrl.corridors import CorridorSchedule, corridor_from_name
from dtwrl.pair_cache import PairCache, pair_keys


def test_keys_follow_the_target_bytes_and_extras_and_count_duplicates():
    targets = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]])
    keys = pair_keys(targets, 7, [2, 2, 2])
    assert keys[0] != keys[2] and keys[0][:-1] == keys[2][:-1] and (keys[0][-1], keys[2][-1]) == (0, 1)
    assert keys[1][-1] == 0 and len(set(keys)) == 3
    assert pair_keys(targets[::-1], 7, [2, 2, 2])[1] == keys[1]  # the position in the batch does not matter
    assert pair_keys(targets, 8, 2)[0] != keys[0]  # another extra (e.g. forecast length): another pair
    assert pair_keys(targets, 7, [2, 1, 2])[2][-1] == 1 and pair_keys(targets, 7, [1, 2, 2])[2][-1] == 0
    assert pair_keys(targets.astype(np.float32), 7, 2)[0] != keys[0]  # the dtype belongs to the bytes' meaning
    assert pair_keys(np.zeros((0, 3))) == []


@pytest.mark.parametrize(
    "targets, extras, match",
    [(np.float64(1.0), (), "targets must have a batch axis"), (np.zeros((2, 3)), ([1, 2, 3],), r"extras\[0\]"),
     (np.zeros((2, 3)), (1.5,), r"extras\[0\] must be an int")],
)  # fmt: skip
def test_bad_keys_raise_naming_the_argument(targets, extras, match):
    with pytest.raises(ValueError, match=match):
        pair_keys(targets, *extras)


def test_values_expire_after_every_calls_and_derived_values_go_with_them():
    cache = PairCache(every=3)
    a, b = pair_keys(np.array([[0.0], [1.0]]))
    cache.tick()  # call 0
    assert cache.due([a, b]) == [0, 1]
    cache.put(a, "a0")
    cache.derived(a)["corridor"] = "from a0"
    cache.tick()  # call 1
    assert cache.due([a, b]) == [1] and cache.get(a) == "a0"
    cache.put(b, "b1")
    cache.tick()  # call 2: a is two calls old, still kept
    assert cache.due([b, a]) == [] and cache.derived(a) == {"corridor": "from a0"}
    cache.tick()  # call 3: a (stored at 0) is evicted, b (stored at 1) kept
    assert a not in cache and b in cache and len(cache) == 1 and cache.due([a, b]) == [0]
    with pytest.raises(KeyError):
        cache.get(a)
    cache.put(a, "a3")
    assert cache.derived(a) == {} and cache.calls == 4
    one = PairCache(every=1)
    one.tick()
    one.put(a, "x")
    one.tick()
    assert one.due([a]) == [0] and len(one) == 0  # every = 1: nothing outlives its call
    for bad in (0, -2, 1.0, True, "3"):
        with pytest.raises(ValueError, match="lattice_every must be an int >= 1"):
            PairCache(bad, name="lattice_every")


def test_a_duplicated_pair_in_one_batch_gets_its_own_paths_and_corridor():
    y = np.linspace(0.0, 1.0, 6)[None, :, None]
    batch = np.concatenate([y, y])  # the same target twice, with two different forecasts
    forecasts = np.concatenate([y, np.where(np.arange(6) < 3, 0.0, y[0, :, 0])[None, :, None]])
    reused = ReusedPaths(ExactDTWAligner(), every=5)
    paths = reused(batch, forecasts)
    want = ExactDTWAligner()(batch, forecasts)
    assert reused.aligned == 2 and all(np.array_equal(p, q) for p, q in zip(paths, want))
    assert not np.array_equal(paths[0], paths[1])
    corridors = reused.lattice_corridors(batch, forecasts + 1.0)  # kept paths: the corridors of the first call
    np.testing.assert_array_equal(corridors[1], corridor_from_name("exact:r=0", batch, forecasts)[1])
    assert reused.aligned == 2 and reused.widened == 2
    schedule = CorridorSchedule("exact:r=0", every=5)
    np.testing.assert_array_equal(schedule(batch, forecasts), corridor_from_name("exact:r=0", batch, forecasts))
    assert schedule.computed == 2


def test_shuffled_batches_give_each_pair_the_corridor_computed_for_it(rng):
    targets = rng.normal(size=(8, 10, 1))
    forecasts = targets + rng.normal(size=(8, 10, 1))
    schedule = CorridorSchedule("exact:r=1", every=4)
    reused = ReusedPaths(ExactDTWAligner(), every=4)
    first = corridor_from_name("exact:r=1", targets, forecasts)
    np.testing.assert_array_equal(schedule(targets, forecasts), first)
    np.testing.assert_array_equal(reused.lattice_corridors(targets, forecasts, radius=1), first)
    for _ in range(2):  # calls 1 and 2 of 4: every pair keeps its own corridor, whatever the order and forecasts
        order = rng.permutation(8)[:5]
        noisy = forecasts[order] + rng.normal(size=(5, 10, 1))
        np.testing.assert_array_equal(schedule(targets[order], noisy), first[order])
        np.testing.assert_array_equal(reused.lattice_corridors(targets[order], noisy, radius=1), first[order])
    assert (schedule.computed, reused.aligned, reused.widened) == (8, 8, 8)
    order = rng.permutation(8)
    np.testing.assert_array_equal(schedule(targets[order], forecasts[order]), first[order])  # call 3: still kept
    later = forecasts[order] + 5.0
    recomputed = schedule(targets[order], later)  # call 4: four calls old, all due: computed on the new forecasts
    np.testing.assert_array_equal(recomputed, corridor_from_name("exact:r=1", targets[order], later))
    assert schedule.computed == 16 and schedule.calls == 5
