"""Variable-length sequences: ``PackedSequence`` and the packing/padding helpers (as ``torch.nn.utils.rnn``).

A packed sequence stores the time steps of a batch one after another, each step holding only the
sequences still running (sorted longest first): ``data`` (sum(lengths), *) and ``batch_sizes`` (one
count per step, never increasing). Packing and unpacking are one gather each (``index_select``), so
they are differentiable and cost O(1) ops whatever the batch.

>>> import ember
>>> from ember.nn.utils.rnn import pack_sequence
>>> p = pack_sequence([ember.tensor([1, 2, 3]), ember.tensor([4, 5])])
>>> p.data, p.batch_sizes
(tensor([1, 4, 2, 5, 3]), tensor([2, 2, 1]))
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _tensor(a: Any, device: Any = None) -> Tensor:
    from ..._creation import tensor
    return tensor(a, device=device)


def _bind(x: Any, fn: Any) -> Any:
    return None if x is None else fn(x)


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """Holds the data and list of ``batch_sizes`` of a packed sequence (made by ``pack_padded_sequence`` or
    ``pack_sequence``, never by hand). ``sorted_indices`` says how the batch was sorted by length;
    ``unsorted_indices`` restores the original order."""

    def __new__(cls, data: Any, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> "PackedSequence":
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                                 "created manually. They should be instantiated by functions like pack_sequence "
                                 "and pack_padded_sequences in nn.utils.rnn. "
                                 "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        if not (isinstance(data, (list, tuple)) and len(data) == 2):
            raise AssertionError("Expected data to be a list or tuple of length 2")
        return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)

    def pin_memory(self) -> "PackedSequence":
        pin = lambda t: t.pin_memory()  # noqa: E731
        return type(self)(self.data.pin_memory(), self.batch_sizes, _bind(self.sorted_indices, pin),
                          _bind(self.unsorted_indices, pin))

    def to(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        """Convert ``data`` like ``Tensor.to``; the indices follow its device, ``batch_sizes`` stays on CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = lambda t: t.to(data.device)  # noqa: E731
        return type(self)(data, self.batch_sizes, _bind(self.sorted_indices, move),
                          _bind(self.unsorted_indices, move))

    def cuda(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        return self.to(*args, device="cuda", **kwargs) if not args else self.to(*args, **kwargs)

    def cpu(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        return self.to("cpu")

    def double(self) -> "PackedSequence":
        return self.to(dtype=_dt("float64"))

    def float(self) -> "PackedSequence":
        return self.to(dtype=_dt("float32"))

    def half(self) -> "PackedSequence":
        return self.to(dtype=_dt("float16"))

    def long(self) -> "PackedSequence":
        return self.to(dtype=_dt("int64"))

    def int(self) -> "PackedSequence":
        return self.to(dtype=_dt("int32"))

    def short(self) -> "PackedSequence":
        return self.to(dtype=_dt("int16"))

    def char(self) -> "PackedSequence":
        return self.to(dtype=_dt("int8"))

    def byte(self) -> "PackedSequence":
        return self.to(dtype=_dt("uint8"))

    @property
    def is_cuda(self) -> bool:
        """True when ``data`` lives on a CUDA device."""
        return self.data.device.type == "cuda"

    def is_pinned(self) -> bool:
        return bool(getattr(self.data, "is_pinned", lambda: False)())


def _dt(name: str) -> Any:
    import ember
    return getattr(ember, name)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of ``0..n-1`` (None stays None).

    >>> invert_permutation(ember.tensor([2, 0, 1]))
    tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    p = permutation.detach().numpy()
    inv = np.empty_like(p)
    inv[p] = np.arange(p.shape[0], dtype=p.dtype)
    return _tensor(inv, device=permutation.device)


def _lengths(lengths: Any) -> np.ndarray:
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            kind = "Long" if lengths.dtype.name == "int64" else str(lengths.dtype)
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D "
                               f"{lengths.device.type} {kind} tensor")
        return lengths.detach().cpu().numpy().astype(np.int64)
    a = np.asarray(lengths).astype(np.int64)
    if a.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {a.ndim}D cpu Long tensor")
    return a


def _pack_index(lengths: np.ndarray, T: int, B: int, batch_first: bool) -> tuple:
    """Rows of the flattened padded (T*B or B*T) tensor in packed order, and the batch sizes."""
    tt, bb = np.nonzero(np.arange(T)[:, None] < lengths[None, :])  # time-major order = packed order
    idx = bb * T + tt if batch_first else tt * B + bb
    return idx, np.bincount(tt, minlength=0).astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) — or (B, T, *) with ``batch_first`` — of sequences of the given lengths.

    >>> pack_padded_sequence(ember.zeros(3, 2, 4), [3, 1]).batch_sizes
    tensor([2, 1, 1])
    """
    lengths = _lengths(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = _tensor(order.astype(np.int64), device=input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if input.dim() < 2:
        from ..._tensor import _wrap_dim
        _wrap_dim(1, input.dim())  # PyTorch's IndexError for the missing batch dim
    T, B = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    if lengths.shape[0] != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.shape[0]} "
                           f"(batch_size={B})")
    if B and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if np.any(lengths[1:] > lengths[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                           "sidestep this requirement if you do not need ONNX exportability.")
    if B and lengths[0] > T:
        # PyTorch reads past the end of the input here; refuse instead of returning garbage
        raise RuntimeError(f"pack_padded_sequence: a length ({int(lengths[0])}) exceeds the padded sequence length "
                           f"({T})")
    idx, batch_sizes = _pack_index(lengths, T, B, batch_first)
    flat = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = flat.index_select(0, _tensor(idx, device=input.device))
    return PackedSequence(data, _tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple:
    """Inverse of ``pack_padded_sequence``: returns ``(padded, lengths)`` in the original batch order.

    >>> p = pack_sequence([ember.tensor([1., 2.]), ember.tensor([3.])])
    >>> pad_packed_sequence(p)[0]
    tensor([[1., 3.],
            [2., 0.]])
    """
    from ..._ops.join import cat
    from ..._creation import full
    data, batch_sizes_t, sorted_indices, unsorted_indices = sequence
    batch_sizes = batch_sizes_t.detach().numpy().astype(np.int64)
    T = batch_sizes.shape[0]
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {T}")
    else:
        total_length = T
    B = int(batch_sizes[0]) if T else 0
    lengths = (np.arange(B)[None, :] < batch_sizes[:, None]).sum(0).astype(np.int64)
    # every padded position gathers its packed row, or the extra padding row at index N
    n = data.shape[0]
    src = np.full(total_length * B, n, dtype=np.int64)
    idx, _ = _pack_index(lengths, total_length, B, batch_first)
    src[idx] = np.arange(n)
    rest = tuple(data.shape[1:])
    pad_row = full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    padded = cat([data, pad_row]).index_select(0, _tensor(src, device=data.device))
    padded = padded.reshape(((B, total_length) if batch_first else (total_length, B)) + rest)
    lengths_t = _tensor(lengths)
    if unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, unsorted_indices)
        lengths_t = _tensor(lengths[unsorted_indices.detach().cpu().numpy()])
    return padded, lengths_t


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack variable-length tensors (L_i, *) into (T, B, *) (or (B, T, *)), padding with ``padding_value``.

    >>> pad_sequence([ember.ones(2), ember.ones(1)], batch_first=True)
    tensor([[1., 1.],
            [1., 0.]])
    """
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    from ..._ops.join import cat
    from ..._creation import full
    first = sequences[0]
    rest = tuple(first.shape[1:])
    for s in sequences[1:]:
        if tuple(s.shape[1:]) != rest:
            raise RuntimeError(f"The size of tensor a ({rest[-1] if rest else 0}) must match the size of tensor b "
                               f"({s.shape[-1] if s.dim() > 1 else 0}) at non-singleton dimension "
                               f"{max(len(rest), 1)}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    B, T = len(sequences), int(lengths.max())
    # one cat of all sequences plus a padding row, then one gather into the padded layout
    flat = cat([s.to(first.dtype) for s in sequences] + [full((1,) + rest, padding_value, dtype=first.dtype,
                                                               device=first.device)])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    t = np.arange(T)[None, :]
    pos = t - (T - lengths[:, None]) if padding_side == "left" else np.broadcast_to(t, (B, T))
    valid = (pos >= 0) & (pos < lengths[:, None])
    src = np.where(valid, starts[:, None] + pos, lengths.sum())   # (B, T)
    if not batch_first:
        src = src.T
    out = flat.index_select(0, _tensor(np.ascontiguousarray(src).reshape(-1), device=first.device))
    return out.reshape(src.shape + rest)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list:
    """Split a padded batch back into a list of tensors of the given lengths.

    >>> [s.shape[0] for s in unpad_sequence(ember.zeros(3, 2), ember.tensor([3, 1]))]
    [3, 1]
    """
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    lens = _lengths(lengths)
    return [x[b, :int(n)] for b, n in enumerate(lens)]


def pack_sequence(sequences: list, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of variable-length tensors (L_i, *) (``pad_sequence`` then ``pack_padded_sequence``).

    >>> pack_sequence([ember.tensor([1, 2]), ember.tensor([3])]).data
    tensor([1, 3, 2])
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """Inverse of ``pack_sequence``: the list of tensors, in the original order.

    >>> [s.tolist() for s in unpack_sequence(pack_sequence([ember.tensor([1, 2]), ember.tensor([3])]))]
    [[1, 2], [3]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
