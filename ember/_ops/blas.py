"""Matrix products: matmul (every broadcasting case), mm, bmm, mv, dot, outer, addmm, einsum, ...

``matmul`` brings 1-D operands to 2-D with (differentiable) unsqueeze, multiplies with
one node, and squeezes back; batch broadcasting is reduced in backward by the engine.
``einsum`` is one node whose backward is again an einsum (grad with the other operands),
so every product built on it (tensordot, kron, trace, inner, ...) has double backward.
The top-level aliases of ``ember.linalg`` (det, inverse, cholesky, ...) are at the end.
"""
from __future__ import annotations

import numbers
import string
from typing import Any, Sequence

import numpy as np

from ..autograd.graph import Node
from ._util import Tensor, _wrap, method, promote, write_out, wrap_dim
from .inplace import inplace

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "addr",
           "baddbmm", "addbmm", "chain_matmul", "einsum", "tensordot", "kron", "cross", "trace", "det", "logdet",
           "slogdet", "inverse", "pinverse", "cholesky", "matrix_power", "matrix_exp"]


class MatMul(Node):
    def forward(self, a, b):
        if self._recording:  # a is needed only for db, b only for da
            needs = self.needs_input_grad
            self.save_for_backward(a if needs[1] else None, b if needs[0] else None)
        return a @ b

    def backward(self, g):
        a, b = self.saved_tensors
        ga = g @ b.mT if self.needs_input_grad[0] else None
        gb = a.mT @ g if self.needs_input_grad[1] else None
        return ga, gb

    def fast_backward(self, g):
        a, b = self.saved_arrays
        xp = self.xp
        ga = g @ xp.swapaxes(b, -1, -2) if self.needs_input_grad[0] else None
        gb = xp.swapaxes(a, -1, -2) @ g if self.needs_input_grad[1] else None
        return ga, gb

    @classmethod
    def name(cls) -> str:
        return "MmBackward0"


def _shape_str(x: Tensor) -> str:
    return "x".join(str(s) for s in x._data.shape)


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with NumPy/PyTorch broadcasting rules for 1-D and batched operands.

    >>> import ember
    >>> (ember.ones(2, 3) @ ember.ones(3)).shape
    ember.Size([2])
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other if isinstance(input, Tensor) else input).__name__}")
    a, b = input, other
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_tn(a)} != {_tn(b)}")
    na, nb = a._data.ndim, b._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    ka = a._data.shape[-1]
    kb = b._data.shape[-2] if nb >= 2 else b._data.shape[0]
    if ka != kb:
        if na == 1 and nb == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{ka}] and src [{kb}] to have the same "
                               "number of elements, but got " f"{ka} and {kb} elements respectively")
        sa = f"{a._data.shape[-2] if na >= 2 else 1}x{ka}"
        sb = f"{kb}x{b._data.shape[-1] if nb >= 2 else 1}"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    if na >= 2 and nb >= 2 and (na > 2 or nb > 2):
        import numpy as np
        try:
            np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2])
        except ValueError:
            raise RuntimeError(f"The size of tensor a ({a._data.shape[-3] if na > 2 else 1}) must match the size "
                               f"of tensor b ({b._data.shape[-3] if nb > 2 else 1}) at non-singleton dimension "
                               "0") from None
    if na == 1 and nb == 1:
        return write_out(MatMul.apply(a.unsqueeze(0), b.unsqueeze(1)).reshape(()), out)
    if na == 1:
        return write_out(MatMul.apply(a.unsqueeze(0), b).squeeze(-2), out)
    if nb == 1:
        return write_out(MatMul.apply(a, b.unsqueeze(1)).squeeze(-1), out)
    return write_out(MatMul.apply(a, b), out)


def _tn(x: Tensor) -> str:
    from ._util import _torch_name
    return _torch_name(x.dtype)


def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Product of two 2-D matrices."""
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2, out=out)





def _same_dtype(a: Tensor, b: Tensor) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected scalar type {_tn(a)} but found {_tn(b)}")


def _check_tensor(x: Any, fname: str, arg: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Batched product of (b, n, m) and (b, m, p) tensors (no broadcasting).

    >>> import ember
    >>> ember.bmm(ember.ones(2, 3, 4), ember.ones(2, 4, 5)).shape
    ember.Size([2, 3, 5])
    """
    _check_tensor(input, "bmm", "input", 1)
    _check_tensor(mat2, "bmm", "mat2", 2)
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    b, n, m = input._data.shape
    if mat2._data.shape[:2] != (b, m):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] but got: "
                           f"[{mat2._data.shape[0]}, {mat2._data.shape[1]}].")
    _same_dtype(input, mat2)
    return write_out(MatMul.apply(input, mat2), out)


def mv(input: Tensor, vec: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix-vector product.

    >>> import ember
    >>> ember.mv(ember.eye(2), ember.tensor([1., 2.]))
    tensor([1., 2.])
    """
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    n, m = input._data.shape
    if vec._data.shape[0] != m:
        raise RuntimeError(f"size mismatch, got input ({n}), mat ({n}x{m}), vec ({vec._data.shape[0]})")
    if input._data.dtype != vec._data.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_tn(vec)}, {_tn(input)}, and "
                           f"{_tn(vec)}")
    return write_out(matmul(input, vec), out)


def _dot_checks(a: Tensor, b: Tensor, name: str) -> None:
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D tensors")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{name} : expected both vectors to have same dtype, but found {_tn(a)} and {_tn(b)}")
    if a._data.shape[0] != b._data.shape[0]:
        n, k = a._data.shape[0], b._data.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{k}] to have the same number "
                           f"of elements, but got {n} and {k} elements respectively")


def dot(input: Tensor, tensor: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inner product of two 1-D tensors of the same dtype.

    >>> import ember
    >>> ember.dot(ember.tensor([1., 2.]), ember.tensor([3., 4.]))
    tensor(11.)
    """
    _dot_checks(input, tensor, "dot")
    return write_out(matmul(input, tensor), out)


def vdot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``dot`` with the first argument conjugated (the same as ``dot`` for real tensors).

    >>> import ember
    >>> ember.vdot(ember.tensor([1., 2.]), ember.tensor([3., 4.]))
    tensor(11.)
    """
    _dot_checks(input, other, "vdot")
    if input.is_complex():
        input = input.conj()
    return write_out(matmul(input, other), out)


def inner(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Sum over the last dims of both: shape ``input.shape[:-1] + other.shape[:-1]``.

    >>> import ember
    >>> ember.inner(ember.ones(2, 3), ember.ones(4, 3)).shape
    ember.Size([2, 4])
    """
    if input._data.ndim == 0 or other._data.ndim == 0:
        from .arith import mul
        return write_out(mul(input, other), out)
    a, b, _ = promote(input, other)
    if a._data.shape[-1] != b._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(a._data.shape)} and {list(b._data.shape)}")
    return write_out(tensordot(a, b, dims=([-1], [-1])), out)


def outer(input: Tensor, vec2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Outer product of two 1-D tensors (dtypes promote).

    >>> import ember
    >>> ember.outer(ember.tensor([1., 2.]), ember.tensor([1., 10., 100.])).shape
    ember.Size([2, 3])
    """
    for name, x in (("self", input), ("vec2", vec2)):
        if x._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {x._data.ndim}-D")
    from .arith import mul
    return write_out(mul(input.reshape(-1, 1), vec2), out)


ger = outer


def _check_add_input(input: Tensor, shape: tuple) -> None:
    """``input`` must expand to the product's shape (PyTorch's message otherwise)."""
    s = tuple(input._data.shape)
    if len(s) > len(shape):
        raise RuntimeError(f"The expanded size of the tensor ({shape[0] if shape else 0}) must match the existing "
                           f"size ({s[0]}) at non-singleton dimension 0.  Target sizes: {list(shape)}.  Tensor "
                           f"sizes: {list(s)}")
    pad = (1,) * (len(shape) - len(s)) + s
    for i, (a, b) in enumerate(zip(pad, shape)):
        if a != 1 and a != b:
            raise RuntimeError(f"The expanded size of the tensor ({b}) must match the existing size ({a}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(shape)}.  Tensor sizes: {list(s)}")


def _add_scaled(input: Tensor, prod: Tensor, beta: Any, alpha: Any) -> Tensor:
    """``beta * input + alpha * prod``; with beta == 0 ``input`` is ignored (nan and inf included)."""
    _check_add_input(input, tuple(prod._data.shape))
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod + input.new_zeros(()) if input._data.dtype == prod._data.dtype else prod
    return (input if beta == 1 else input * beta) + prod


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1,
          out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``.

    >>> import ember
    >>> ember.addmm(ember.zeros(2), ember.eye(2), ember.ones(2, 2), alpha=2)
    tensor([[2., 2.],
            [2., 2.]])
    """
    return write_out(_add_scaled(input, mm(mat1, mat2), beta, alpha), out)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1,
          out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``.

    >>> import ember
    >>> ember.addmv(ember.ones(2), ember.eye(2), ember.tensor([1., 2.]))
    tensor([2., 3.])
    """
    if mat._data.ndim == 2 and vec._data.ndim == 1 and mat._data.shape[1] == vec._data.shape[0]:
        s = input._data.shape
        if len(s) > 1 or (len(s) == 1 and s[0] not in (1, mat._data.shape[0])):
            raise RuntimeError(f"size mismatch, got input ({s[0] if len(s) == 1 else 'x'.join(map(str, s))}), "
                               f"mat ({mat._data.shape[0]}x{mat._data.shape[1]}), vec ({vec._data.shape[0]})")
    return write_out(_add_scaled(input, mv(mat, vec), beta, alpha), out)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1,
         out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``.

    >>> import ember
    >>> ember.addr(ember.zeros(2, 2), ember.ones(2), ember.ones(2)).sum()
    tensor(4.)
    """
    return write_out(_add_scaled(input, outer(vec1, vec2), beta, alpha), out)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1,
            out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``.

    >>> import ember
    >>> ember.baddbmm(ember.zeros(3, 1, 1), ember.ones(3, 1, 2), ember.ones(3, 2, 1)).shape
    ember.Size([3, 1, 1])
    """
    return write_out(_add_scaled(input, bmm(batch1, batch2), beta, alpha), out)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1,
           out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``.

    >>> import ember
    >>> ember.addbmm(ember.zeros(1, 1), ember.ones(3, 1, 2), ember.ones(3, 2, 1))
    tensor([[6.]])
    """
    prod = bmm(batch1, batch2)
    return write_out(_add_scaled(input, einsum_raw(["bij"], [prod], "ij"), beta, alpha), out)


def chain_matmul(*matrices: Tensor, out: Tensor | None = None) -> Tensor:
    """Product of 2-D matrices (deprecated in PyTorch in favour of ``linalg.multi_dot``).

    >>> import ember
    >>> ember.chain_matmul(ember.eye(2), ember.ones(2, 3)).shape
    ember.Size([2, 3])
    """
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for i, m in enumerate(matrices):
        if m._data.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m._data.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return write_out(matrices[0].clone(), out)
    from ..linalg import multi_dot
    return write_out(multi_dot(list(matrices)), out)


# -------------------------------------------------------------------------------------- einsum
class Einsum(Node):
    """``xp.einsum`` on operands whose labels all have exact sizes (broadcasting resolved by the caller).

    The gradient of operand k is an einsum of the output gradient with the other operands;
    repeated labels of k (diagonals) come back through identity matrices and labels summed
    only inside k through a vector of ones, so the backward is einsum (and differentiable) too.
    """

    def forward(self, *ops, subs=(), out="", sizes=None):
        self.subs, self.out, self.sizes = subs, out, sizes
        self.save_for_backward(*ops)
        xp = self.xp
        eq = ",".join(subs) + "->" + out
        big = len(ops) > 2 or sum(o.size for o in ops) > 4096
        r = xp.einsum(eq, *ops, optimize=big)
        if type(r) is xp.ndarray and any(xp.may_share_memory(r, o) for o in ops):
            r = r.copy()  # einsum can return a view (e.g. a diagonal); ops never alias their inputs
        return r

    def backward(self, g):
        ops = self.saved_tensors
        xp = self.xp
        used_all = set("".join(self.subs) + self.out)
        fresh = iter(c for c in _LETTERS if c not in used_all)
        grads = []
        for k, sub in enumerate(self.subs):
            if not self.needs_input_grad[k]:
                grads.append(None)
                continue
            in_subs = [self.out] + [s for j, s in enumerate(self.subs) if j != k]
            tensors = [g] + [o for j, o in enumerate(ops) if j != k]
            avail = set("".join(in_subs))
            target, seen = [], set()
            for c in sub:
                n = self.sizes[c]
                if c in seen:  # a repeated label: the gradient lives on the diagonal
                    new = next(fresh)
                    target.append(new)
                    in_subs.append(c + new)
                    tensors.append(_wrap(xp.eye(n, dtype=g._data.dtype), g._device))
                    continue
                seen.add(c)
                target.append(c)
                if c not in avail:  # summed inside this operand only: the gradient broadcasts over it
                    in_subs.append(c)
                    tensors.append(_wrap(xp.ones(n, dtype=g._data.dtype), g._device))
                    avail.add(c)
            grads.append(einsum_raw(in_subs, tensors, "".join(target), self.sizes))
        return tuple(grads)

    @classmethod
    def name(cls) -> str:
        return "EinsumBackward0"


_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # PyTorch's label order: A-Z then a-z


def einsum_raw(subs: Sequence[str], tensors: Sequence[Tensor], out: str, sizes: dict | None = None) -> Tensor:
    """Einsum on already valid subscripts (no broadcasting of size-1 dims; ``...`` allowed, for internal use)."""
    if any("..." in s for s in subs) or "..." in out:
        nell = max(t._data.ndim - (len(s) - 3) for s, t in zip(subs, tensors) if "..." in s)
        used = set("".join(subs) + out)
        ell = "".join([c for c in _LETTERS if c not in used][:nell])
        subs = [s.replace("...", ell[nell - (t._data.ndim - len(s) + 3):]) if "..." in s else s
                for s, t in zip(subs, tensors)]
        out = out.replace("...", ell)
        sizes = None
    if sizes is None:
        sizes = {}
        for s, t in zip(subs, tensors):
            for c, n in zip(s, t._data.shape):
                sizes[c] = n
    return Einsum.apply(*tensors, subs=tuple(subs), out=out, sizes=sizes)


def _parse_equation(equation: str, operands: Sequence[Tensor]) -> tuple:
    """Resolve ``...`` and the implicit output; return (subscripts per operand, output, label sizes)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    pos = 0
    for part in (lhs, rhs or ""):
        for i, c in enumerate(part.replace("...", "   ")):
            if c not in _LETTERS and c not in " ,":
                if c == ".":
                    raise RuntimeError(f"einsum(): found '.' for operand {lhs[:pos + i].count(',')} that is not "
                                       "part of any ellipsis")
                raise RuntimeError(f"einsum(): invalid subscript given at index {pos + i} in the equation string, "
                                   "subscripts must be in [a-zA-Z]")
        pos += len(part) + 2
    used = set(c for c in eq if c in _LETTERS)
    parsed = []
    nell = 0
    for k, (term, t) in enumerate(zip(terms, operands)):
        nd = t._data.ndim
        if term.count("...") > 1:
            raise RuntimeError(f"einsum(): found '.' for operand {k} for which an ellipsis was already found")
        if "..." in term:
            before, after = term.split("...")
            if len(before) + len(after) > nd:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(before) + len(after)})"
                                   f" is more than the number of dimensions ({nd}) for operand {k}")
            parsed.append((before, nd - len(before) - len(after), after))
            nell = max(nell, nd - len(before) - len(after))
        else:
            if len(term) != nd:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)}) does not match "
                                   f"the number of dimensions ({nd}) for operand {k} and no ellipsis was given")
            parsed.append((term, None, ""))
    ell = "".join([c for c in _LETTERS if c not in used][:nell])
    subs = [b + (ell[nell - e:] if e else "") + a if e is not None else b for b, e, a in parsed]
    has_ell = any(e is not None for _, e, _ in parsed)
    if rhs is None:
        counts: dict = {}
        for s in terms:
            for c in s.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        out = (ell if has_ell else "") + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        if rhs.count("...") > 1:
            raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already found")
        seen = set()
        for c in rhs.replace("...", ""):
            if c in seen:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c not in lhs:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   "operand")
            seen.add(c)
        out = rhs.replace("...", ell)
    return subs, out


def einsum(*args: Any) -> Tensor:
    """Einstein summation over an equation like ``'bij,bjk->bik'`` (``...`` and implicit output supported).

    >>> import ember
    >>> ember.einsum('ij,jk->ik', ember.ones(2, 3), ember.ones(3, 4)).shape
    ember.Size([2, 4])
    """
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand, or at least one "
                        "operand and its subscripts list")
    if not isinstance(args[0], str):
        args = _sublist_to_equation(args)
    equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): argument 'operands' must be tuple of Tensors, but found element of type "
                            f"{type(t).__name__} at pos {i}")
    subs, out = _parse_equation(equation, operands)
    for t in operands[1:]:
        if t._data.dtype != operands[0]._data.dtype:
            raise RuntimeError(f"expected scalar type {_tn(operands[0])} but found {_tn(t)}")
    # sizes: a dim of size 1 broadcasts against the other operands' size of the same label
    sizes: dict = {}
    for k, (s, t) in enumerate(zip(subs, operands)):
        own: dict = {}
        for c, n in zip(s, t._data.shape):
            if c in own and own[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the sizes don't match, "
                                   f"{own[c]} != {n}")
            own[c] = n
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n != 1 and n != prev:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which does not broadcast "
                                   f"with previously seen size {prev}")
    ops = list(operands)
    for k, (s, t) in enumerate(zip(subs, ops)):
        drop = [i for i, c in enumerate(s) if t._data.shape[i] == 1 and sizes[c] != 1]
        if drop:  # squeeze broadcast dims away: einsum then sees exact sizes only
            ops[k] = t.reshape(tuple(n for i, n in enumerate(t._data.shape) if i not in drop))
            subs[k] = "".join(c for i, c in enumerate(s) if i not in drop)
    # every label keeps at least one operand of its full size, so the output labels all stay present
    return einsum_raw(subs, ops, out, sizes)


def _sublist_to_equation(args: tuple) -> tuple:
    """``einsum(op1, [0, 1], op2, [1, 2], [0, 2])`` -> ``('ab,bc->ac', op1, op2)``."""
    args = list(args)
    out = None
    if len(args) % 2 == 1:
        out = args.pop()
    ops, terms = args[0::2], args[1::2]

    def label(i: Any) -> str:
        if i is Ellipsis:
            return "..."
        if not isinstance(i, numbers.Integral) or not 0 <= i < 52:
            raise RuntimeError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
        return _LETTERS[26 + i] if i < 26 else _LETTERS[i - 26]

    eq = ",".join("".join(label(i) for i in t) for t in terms)
    if out is not None:
        eq += "->" + "".join(label(i) for i in out)
    return (eq, *ops)


# ------------------------------------------------------------------------- tensordot, kron, ...
def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Tensor | None = None) -> Tensor:
    """Contract ``dims`` (an int: last dims of a with first of b; or two lists) of a and b.

    >>> import ember
    >>> ember.tensordot(ember.ones(2, 3, 4), ember.ones(3, 4, 5)).shape
    ember.Size([2, 5])
    """
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, numbers.Integral):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(na, nb):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, numbers.Integral) else list(da)
        db = [db] if isinstance(db, numbers.Integral) else list(db)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
    da = [wrap_dim(d, na) for d in da]
    db = [wrap_dim(d, nb) for d in db]
    for x, y in zip(da, db):
        if a._data.shape[x] != b._data.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a._data.shape[x]} in dim "
                               f"{x - na if isinstance(dims, numbers.Integral) else x} and second has size "
                               f"{b._data.shape[y]} in dim {y}")
    la = _LETTERS[:na]
    lb = list(_LETTERS[na:na + nb])
    for x, y in zip(da, db):
        lb[y] = la[x]
    lb = "".join(lb)
    out_sub = "".join(c for i, c in enumerate(la) if i not in da) + "".join(c for i, c in enumerate(lb) if i not in db)
    return write_out(einsum_raw([la, lb], [a, b], out_sub), out)


def kron(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Kronecker product (blocks ``input[i] * other``); dtypes promote.

    >>> import ember
    >>> ember.kron(ember.eye(2), ember.ones(2, 2)).shape
    ember.Size([4, 4])
    """
    a, b, _ = promote(input, other)
    nd = max(a._data.ndim, b._data.ndim)
    sa = (1,) * (nd - a._data.ndim) + tuple(a._data.shape)
    sb = (1,) * (nd - b._data.ndim) + tuple(b._data.shape)
    a, b = a.reshape(sa), b.reshape(sb)
    la, lb = _LETTERS[:nd], _LETTERS[nd:2 * nd]
    r = einsum_raw([la, lb], [a, b], "".join(x + y for x, y in zip(la, lb)))
    return write_out(r.reshape(tuple(x * y for x, y in zip(sa, sb))), out)


def cross(input: Tensor, other: Tensor, dim: int | None = None, *, out: Tensor | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (default: the first dim of size 3, as PyTorch, with a warning).

    >>> import ember
    >>> ember.cross(ember.tensor([1., 0., 0.]), ember.tensor([0., 1., 0.]), dim=0)
    tensor([0., 0., 1.])
    """
    if dim is None:
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.", UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(tuple(input._data.shape), tuple(other._data.shape)) \
            if input._data.ndim == other._data.ndim else tuple(input._data.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    from ..linalg import cross as lcross
    return write_out(lcross(input, other, dim=dim), out)


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-D tensor (integers give int64).

    >>> import ember
    >>> ember.trace(ember.eye(3))
    tensor(3.)
    """
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    if input._data.dtype.kind in "biu":
        from .. import _dtype as D
        input = input.to(D.int64)
    n = min(input._data.shape)
    return einsum_raw(["ii"], [_square(input, n)], "")


def _square(x: Tensor, n: int) -> Tensor:
    from .linalg_ops import narrow_last
    return narrow_last(narrow_last(x, -2, 0, n), -1, 0, n)


# ------------------------------------------------------- top-level aliases of ember.linalg functions
def det(input: Tensor) -> Tensor:
    """Determinant of (batches of) square matrices; see ``ember.linalg.det``.

    >>> import ember
    >>> ember.det(ember.eye(2) * 2)
    tensor(4.)
    """
    from .. import linalg
    return linalg.det(input)


def logdet(input: Tensor) -> Tensor:
    """log(det(input)): nan for a negative determinant, -inf for zero.

    >>> import ember
    >>> ember.logdet(ember.eye(2) * 2)
    tensor(1.3863)
    """
    from .. import linalg
    from .pointwise import where
    sign, logabs = linalg.slogdet(input)
    r = where(sign < 0, float("nan"), logabs)
    return where(sign == 0, float("-inf"), r)


def slogdet(input: Tensor) -> Any:
    """(sign, logabsdet) of the determinant; see ``ember.linalg.slogdet``.

    >>> import ember
    >>> ember.slogdet(-ember.eye(3)).sign
    tensor(-1.)
    """
    from .. import linalg
    return linalg._slogdet(input, "linalg.slogdet", linalg._SlogdetTop)


def inverse(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inverse of (batches of) square matrices; see ``ember.linalg.inv``.

    >>> import ember
    >>> ember.inverse(ember.eye(2) * 2)
    tensor([[0.5000, 0.0000],
            [0.0000, 0.5000]])
    """
    from .. import linalg
    return linalg.inv(input, out=out)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """Pseudo-inverse with relative cutoff ``rcond``; see ``ember.linalg.pinv``.

    >>> import ember
    >>> ember.pinverse(ember.ones(1, 2))
    tensor([[0.5000],
            [0.5000]])
    """
    from .. import linalg
    return linalg.pinv(input, rtol=rcond)


def cholesky(input: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """Cholesky factor of a symmetric positive-definite matrix; see ``ember.linalg.cholesky``.

    >>> import ember
    >>> ember.cholesky(ember.eye(2) * 4)
    tensor([[2., 0.],
            [0., 2.]])
    """
    from .. import linalg
    return linalg.cholesky(input, upper=upper, out=out)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``input`` multiplied by itself ``n`` times (negative ``n``: powers of the inverse).

    >>> import ember
    >>> ember.matrix_power(ember.eye(2) * 2, 3)
    tensor([[8., 0.],
            [0., 8.]])
    """
    from .. import linalg
    return linalg.matrix_power(input, n)


def matrix_exp(input: Tensor) -> Tensor:
    """Matrix exponential of (batches of) square matrices; see ``ember.linalg.matrix_exp``.

    >>> import ember
    >>> ember.matrix_exp(ember.zeros(2, 2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    from .. import linalg
    return linalg.matrix_exp(input)


# ------------------------------------------------------------------------------------- methods
method("matmul", matmul)
method("mm", mm)
method("__matmul__", lambda self, other: matmul(self, other))
method("__rmatmul__", lambda self, other: matmul(other, self))
for _n in ("bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "addr", "baddbmm", "addbmm",
           "kron", "cross", "trace", "det", "logdet", "slogdet", "inverse", "pinverse", "cholesky", "matrix_power",
           "matrix_exp"):
    method(_n, globals()[_n])
for _n in ("addmm", "addmv", "addr", "baddbmm", "addbmm"):
    method(_n + "_", (lambda f: lambda self, *a, **k: inplace(self, f, *a, **k))(globals()[_n]))
