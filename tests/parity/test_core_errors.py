"""Bad input raises the exception type PyTorch raises (core machinery and core ops)."""
import numpy as np
import pytest

import ember
from parity import assert_same_error, torch_or_skip

torch = torch_or_skip()


def _pair(build):
    """Run the same failing program against ember and torch."""
    assert_same_error(lambda: build(ember), lambda: build(torch))


CASES = {
    "matmul_inner_mismatch": lambda T: T.ones(2, 3) @ T.ones(4, 5),
    "matmul_vec_mismatch": lambda T: T.ones(3) @ T.ones(4),
    "matmul_0d": lambda T: T.matmul(T.tensor(1.), T.ones(3)),
    "matmul_dtype_mismatch": lambda T: T.ones(2, 2) @ T.ones(2, 2, dtype=T.float64),
    "matmul_batch_mismatch": lambda T: T.ones(2, 3, 4) @ T.ones(3, 4, 5),
    "mm_not_matrix": lambda T: T.mm(T.ones(3), T.ones(3, 3)),
    "view_incompatible_size": lambda T: T.ones(2, 3).view(4, 2),
    "view_noncontiguous": lambda T: T.ones(2, 3).t().view(6),
    "reshape_two_minus_one": lambda T: T.ones(6).reshape(-1, -1),
    "reshape_bad_size": lambda T: T.ones(6).reshape(4, -1),
    "expand_bad": lambda T: T.ones(2, 3).expand(4, 3),
    "expand_too_few_dims": lambda T: T.ones(2, 3).expand(3),
    "permute_wrong_len": lambda T: T.ones(2, 3).permute(0),
    "permute_duplicate": lambda T: T.ones(2, 3).permute(0, 0),
    "transpose_bad_dim": lambda T: T.ones(2, 3).transpose(0, 2),
    "sum_bad_dim": lambda T: T.ones(2, 3).sum(dim=5),
    "mean_int": lambda T: T.ones(3, dtype=T.int64).mean(),
    "unsqueeze_bad_dim": lambda T: T.ones(2).unsqueeze(3),
    "squeeze_bad_dim": lambda T: T.ones(2).squeeze(2),
    "flatten_bad_order": lambda T: T.ones(2, 3, 4).flatten(2, 1),
    "broadcast_add": lambda T: T.ones(2, 3) + T.ones(4),
    "bool_sub": lambda T: T.ones(2, dtype=T.bool) - T.ones(2, dtype=T.bool),
    "bool_neg": lambda T: -T.ones(2, dtype=T.bool),
    "int_negative_pow": lambda T: T.tensor([2, 3]) ** -1,
    "div_bad_rounding_mode": lambda T: T.div(T.ones(2), 2, rounding_mode="round"),
    "int_floor_divide_zero": lambda T: T.tensor([1, 2]) // 0,
    "item_many": lambda T: T.ones(2).item(),
    "bool_many": lambda T: bool(T.ones(2)),
    "len_0d": lambda T: len(T.tensor(1.)),
    "iter_0d": lambda T: iter(T.tensor(1.)),
    "index_float": lambda T: T.tensor([1, 2]).__index__() if False else T.ones(2).__index__(),
    "int_requires_grad": lambda T: T.ones(2, dtype=T.int64).requires_grad_(),
    "tensor_ragged": lambda T: T.tensor([[1, 2], [3]]),
    "zeros_negative": lambda T: T.zeros(-1),
    "arange_zero_step": lambda T: T.arange(0, 5, 0),
    "randint_low_ge_high": lambda T: T.randint(5, 3, (2,)),
    "eye_negative": lambda T: T.eye(-1),
    "set_default_dtype_int": lambda T: T.set_default_dtype(T.int64),
    "device_bad_string": lambda T: T.device("tpu"),
    "add_alpha_float_on_int": lambda T: T.add(T.tensor([1]), T.tensor([2]), alpha=0.5),
    "inplace_result_cannot_cast": lambda T: T.tensor([1, 2]).add_(0.5),
    "inplace_broadcast_out_shape": lambda T: T.ones(3).add_(T.ones(2, 3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_raises_torch_type(name):
    _pair(CASES[name])


def _inplace_on_leaf(T):
    x = T.ones(3, requires_grad=True)
    x.mul_(2)


def _backward_twice(T):
    x = T.ones(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _backward_nonscalar(T):
    x = T.ones(3, requires_grad=True)
    (x * 2).backward()


def _backward_no_grad(T):
    T.ones(3).sum().backward()


def _saved_modified(T):
    x = T.ones(3, requires_grad=True)
    y = x * 2
    z = y * y
    y.add_(1)
    z.sum().backward()


def _grad_unused(T):
    x = T.ones(3, requires_grad=True)
    w = T.ones(3, requires_grad=True)
    T.autograd.grad((x * 2).sum(), [x, w])


def _nonleaf_requires_grad_false(T):
    x = T.ones(3, requires_grad=True)
    (x * 2).requires_grad_(False)


def _numpy_requires_grad(T):
    T.ones(3, requires_grad=True).numpy()


def _grad_wrong_shape(T):
    x = T.ones(3, requires_grad=True)
    x.grad = T.ones(4)


def _view_of_leaf_inplace(T):
    x = T.ones(2, 3, requires_grad=True)
    x.view(6).mul_(2)


@pytest.mark.parametrize("prog", [_inplace_on_leaf, _backward_twice, _backward_nonscalar, _backward_no_grad,
                                  _saved_modified, _grad_unused, _nonleaf_requires_grad_false,
                                  _numpy_requires_grad, _grad_wrong_shape, _view_of_leaf_inplace])
def test_autograd_misuse_raises_torch_type(prog):
    _pair(prog)


def test_error_messages_name_the_values():
    with pytest.raises(RuntimeError, match=r"\(2x3 and 4x5\)"):
        ember.ones(2, 3) @ ember.ones(4, 5)
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 5"):
        ember.ones(2, 3).sum(dim=5)
    with pytest.raises(RuntimeError, match=r"shape '\[4, -1\]' is invalid for input of size 6"):
        ember.ones(6).reshape(4, -1)
