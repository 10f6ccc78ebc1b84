"""The vectorised linear recurrence behind batch Wilder smoothing and EMA."""

from __future__ import annotations

import numpy as np
import pytest

from engine.indicators._recurrence import block_size, linear_recurrence, sequential_sum


def loop(b: np.ndarray, a: float, initial: float) -> np.ndarray:
    out, state = [], initial
    for x in b.tolist():
        state = a * state + x
        out.append(state)
    return np.array(out)


@pytest.mark.parametrize("period", [2, 3, 14, 200, 1000])
@pytest.mark.parametrize("length", [1, 2, 331, 332, 1023, 1024, 1025, 5000])
def test_linear_recurrence_when_non_negative_input_then_equals_loop_within_1e_13(period, length):
    a = 1.0 - 1.0 / period
    b = np.random.default_rng(length + period).exponential(10.0, size=length)
    b[::7] = 0.0  # flat bars contribute nothing
    np.testing.assert_allclose(linear_recurrence(b, a, 55.5), loop(b, a, 55.5), rtol=1e-13)


def test_linear_recurrence_when_rows_then_each_row_uses_its_own_initial_state():
    b = np.random.default_rng(1).random((3, 3000))
    initial = np.array([0.0, 1.0, 1e6])
    result = linear_recurrence(b, 0.9, initial)
    for row in range(3):
        np.testing.assert_allclose(result[row], loop(b[row], 0.9, initial[row]), rtol=1e-13)


def test_linear_recurrence_when_input_and_state_are_zero_then_exactly_zero():
    result = linear_recurrence(np.zeros(5000), 13 / 14, 0.0)
    assert np.all(result == 0.0) and not np.signbit(result).any()


def test_linear_recurrence_when_decay_is_zero_or_input_empty_then_trivial():
    b = np.array([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(linear_recurrence(b, 0.0, 9.0), b)
    assert linear_recurrence(np.empty(0), 0.5, 1.0).shape == (0,)


def test_block_size_when_decay_varies_then_scale_factor_stays_below_1e100():
    for a in (0.5, 1 / 3, 13 / 14, 0.999, 1e-3):
        block = block_size(a)
        assert 1 <= block <= 1024
        assert a ** (-block) < 1e100
    with pytest.raises(ValueError, match="decay factor"):
        block_size(1.0)


def test_sequential_sum_when_compared_with_a_python_loop_then_bit_for_bit_equal():
    values = np.random.default_rng(3).random(1000) * 1e4
    total = 0.0
    for x in values.tolist():
        total += x
    assert sequential_sum(values) == total
    assert sequential_sum(np.empty(0)) == 0.0
