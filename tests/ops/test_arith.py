"""Arithmetic ops through the shared harness."""
import numpy as np
import pytest

import ember
from harness import OpSpec, cases, check_op

BINARY_SHAPES = [((3, 4), (3, 4)), ((), ()), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((0, 3), (3,)), ((5,), ())]

SPECS = [
    OpSpec("add", lambda a, b: a + b, np.add, BINARY_SHAPES),
    OpSpec("add_alpha", lambda a, b: ember.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b, BINARY_SHAPES),
    OpSpec("sub", lambda a, b: a - b, np.subtract, BINARY_SHAPES),
    OpSpec("mul", lambda a, b: a * b, np.multiply, BINARY_SHAPES),
    OpSpec("div", lambda a, b: a / b, np.divide, BINARY_SHAPES, low=0.5, high=2.0),
    OpSpec("neg", lambda a: -a, np.negative, [((3, 4),), ((),), ((0,),)]),
    OpSpec("pow", lambda a, b: a ** b, np.power, BINARY_SHAPES, low=0.5, high=2.0),
    OpSpec("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, [((3, 4),), ((),)]),
    OpSpec("rpow_scalar", lambda a: 2.0 ** a, lambda a: 2.0 ** a, [((3, 4),), ((),)]),
    OpSpec("scalar_mul_rsub", lambda a: 3 - 2 * a, lambda a: 3 - 2 * a, [((3, 4),), ((),)]),
    OpSpec("matmul_2d", lambda a, b: a @ b, np.matmul, [((3, 4), (4, 5)), ((1, 3), (3, 1)), ((0, 3), (3, 2))]),
    OpSpec("matmul_batched", lambda a, b: a @ b, np.matmul, [((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (3, 4, 2)),
                                                            ((3,), (2, 3, 4)), ((2, 3, 4), (4,)), ((4,), (4,))]),
    OpSpec("sum_all", lambda a: a.sum(), np.sum, [((3, 4),), ((),), ((0, 2),)]),
    OpSpec("sum_dim", lambda a: a.sum(dim=(0, 2), keepdim=True), lambda a: a.sum(axis=(0, 2), keepdims=True),
           [((2, 3, 4),)]),
    OpSpec("mean_dim", lambda a: a.mean(1), lambda a: a.mean(1), [((2, 3, 4),), ((3, 1),)]),
]


@pytest.mark.parametrize("spec,i,layout", cases(SPECS))
def test_op(spec, i, layout):
    check_op(spec, i, layout)
