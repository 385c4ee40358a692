"""``Optimizer``: PyTorch's param-group design, state layout and hooks, with in-place array updates.

Each optimizer keeps ``param_groups`` (a list of dicts holding the tensors and their options) and
``state`` (a ``defaultdict(dict)`` keyed by parameter). ``state_dict()`` has PyTorch's exact layout,
so a PyTorch optimizer's state dict loads here (tensors converted through NumPy) and back.

Updates never record a graph: ``step`` works on the backend arrays (``p._data``, ``p.grad._data``
and state arrays) with ``out=`` arguments, then bumps each parameter's version counter, since an
in-place change of a parameter must invalidate graphs that saved it (as in PyTorch).

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(2))
>>> opt = ember.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
>>> w
Parameter containing:
tensor([0.8000, 0.8000], requires_grad=True)
"""
from __future__ import annotations

import functools
import itertools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .._backend.parallel import parallel_for
from .._tensor import Tensor, _wrap
from ..autograd.graph import _xp_of
from ..autograd.grad_mode import enable_grad

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Marks an option that every param group must give (``ember.optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_hook_ids = itertools.count()
_global_pre_hooks: "OrderedDict[int, Callable]" = OrderedDict()
_global_post_hooks: "OrderedDict[int, Callable]" = OrderedDict()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: "OrderedDict[int, Callable]"):
        self._hooks = hooks
        self.id = next(_hook_ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """``hook(optimizer, args, kwargs)`` runs before every optimizer's ``step``.

    >>> h = register_optimizer_step_pre_hook(lambda opt, a, k: None); h.remove()
    """
    h = RemovableHandle(_global_pre_hooks)
    _global_pre_hooks[h.id] = hook
    return h


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """``hook(optimizer, args, kwargs)`` runs after every optimizer's ``step``.

    >>> h = register_optimizer_step_post_hook(lambda opt, a, k: None); h.remove()
    """
    h = RemovableHandle(_global_post_hooks)
    _global_post_hooks[h.id] = hook
    return h


def _with_hooks(step: Callable) -> Callable:
    """Wrap a subclass's ``step`` so the step pre/post hooks run around it (once per call)."""

    @functools.wraps(step)
    def wrapper(self: "Optimizer", *args: Any, **kwargs: Any) -> Any:
        pre = self._optimizer_step_pre_hooks
        if _global_pre_hooks or pre:
            for hook in itertools.chain(list(_global_pre_hooks.values()), list(pre.values())):
                result = hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), but "
                                           f"got {result}.")
        out = step(self, *args, **kwargs)
        self._opt_called = True  # read by LR schedulers to warn about a wrong call order
        post = self._optimizer_step_post_hooks
        if _global_post_hooks or post:
            for hook in itertools.chain(list(post.values()), list(_global_post_hooks.values())):
                hook(self, args, kwargs)
        return out

    wrapper._hooked = True
    return wrapper


def _to_scalar(x: Any) -> Any:
    """A 1-element tensor option (lr, betas) as a Python number; numbers pass through."""
    if isinstance(x, Tensor):
        return x.item()
    return x


def _check_lr(lr: Any) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= _to_scalar(lr):
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_betas(betas: Any) -> None:
    if not 0.0 <= _to_scalar(betas[0]) < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= _to_scalar(betas[1]) < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check_nonneg(name: str, value: Any, label: str | None = None) -> None:
    if not 0.0 <= value:
        raise ValueError(f"Invalid {label or name} value: {value}")


def _as_real(a: Any) -> Any:
    """A writable real view of a complex array (PyTorch updates complex parameters as real pairs)."""
    if a.dtype.kind != "c":
        return a
    return a[..., None].view(a.real.dtype)


def _scalar_state(value: float, p: Tensor, on_device: bool = False) -> Tensor:
    """A 0-d float32 state tensor (``step``, ``mu_product``...), as PyTorch 2.x keeps them.

    Like PyTorch, it lives on the CPU unless ``on_device``: reading it then never syncs a GPU.
    """
    if on_device and p._device.type != "cpu":
        return _wrap(_xp_of(p._device).asarray(value, dtype=np.float32), p._device)
    return _wrap(np.asarray(value, dtype=np.float32), _cpu())


def _init_state(state: dict, p: Tensor, *buffers: str) -> None:
    """A fresh parameter state: the ``step`` counter and zero-filled buffers of the parameter's shape."""
    state["step"] = _scalar_state(0.0, p)
    for name in buffers:
        state[name] = _zeros_state(p)


def _zeros_state(p: Tensor, fill: float = 0.0) -> Tensor:
    xp = _xp_of(p._device)
    a = xp.empty(p._data.shape, p._data.dtype)
    a.fill(fill)
    return _wrap(a, p._device)


def _bump(t: Tensor) -> None:
    """The parameter changed in place: later backward through graphs that saved it must fail."""
    t._vc[0] += 1


def _foreign_to_tensor(value: Any) -> Any:
    """Tensors of another framework (anything array-like with a shape) become ember tensors."""
    if isinstance(value, Tensor) or not hasattr(value, "__array__") or not hasattr(value, "shape"):
        return value
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "cpu"):
        value = value.cpu()
    return _wrap(np.array(value.numpy() if hasattr(value, "numpy") else value), _cpu())


def _cpu() -> Any:
    from .._device import cpu
    return cpu


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of tensors, of dicts (param groups with their own options), or of
            ``(name, tensor)`` pairs (the names are kept in ``param_names``).
        defaults: the default value of each option, used where a group does not give one.

    >>> import ember
    >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.1)
    >>> len(opt.param_groups)
    1
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _with_hooks(step)

    def __init__(self, params: Any, defaults: dict) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: "OrderedDict[int, Callable]" = OrderedDict()
        self._optimizer_step_post_hooks: "OrderedDict[int, Callable]" = OrderedDict()
        self._optimizer_state_dict_pre_hooks: "OrderedDict[int, Callable]" = OrderedDict()
        self._optimizer_state_dict_post_hooks: "OrderedDict[int, Callable]" = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: "OrderedDict[int, Callable]" = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: "OrderedDict[int, Callable]" = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {_typename(params)}")
        try:
            param_groups = list(params)
        except TypeError:
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {_typename(params)}") from None
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                     "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        # groups saved by an older version miss newer options: fill them from the defaults
        for group in self.param_groups:
            for k, v in self.defaults.items():
                if v is not required:
                    group.setdefault(k, v)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # ------------------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (a dict with ``params`` and any per-group options).

        >>> import ember
        >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.1)
        >>> opt.add_param_group({"params": [ember.nn.Parameter(ember.zeros(2))], "lr": 0.01})
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for item in param_group["params"]:
            if isinstance(item, tuple):
                names.append(item[0])
                tensors.append(item[1])
            else:
                tensors.append(item)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen: set = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------------------ gradients
    def _params_with_grad(self, group: dict) -> Iterator[tuple]:
        """``(param, backend module, state dict)`` for each parameter of ``group`` that has a gradient."""
        for p in group["params"]:
            if p._grad is not None:
                yield p, _xp_of(p._device), self.state[p]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (to None, or to zeros in place).

        >>> import ember
        >>> p = ember.nn.Parameter(ember.ones(2)); opt = ember.optim.SGD([p], lr=0.1)
        >>> p.sum().backward(); opt.zero_grad(); p.grad is None
        True
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g._grad_fn is not None:
                        g.detach_()
                    else:
                        g._requires_grad = False
                    g._data.fill(0)
                    g._vc[0] += 1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step (updates the parameters in place)."""
        raise NotImplementedError

    # ------------------------------------------------------------------------------ hooks
    def _register(self, hooks: "OrderedDict[int, Callable]", hook: Callable, prepend: bool = False) -> RemovableHandle:
        h = RemovableHandle(hooks)
        hooks[h.id] = hook
        if prepend:
            hooks.move_to_end(h.id, last=False)
        return h

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None | (new_args, new_kwargs)`` runs before ``step``."""
        return self._register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs after ``step``."""
        return self._register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)`` runs before ``state_dict``."""
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict) -> state_dict | None`` runs after ``state_dict``."""
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict) -> state_dict | None`` runs before ``load_state_dict``."""
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)`` runs after ``load_state_dict``."""
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------------------ state dict
    def state_dict(self) -> dict:
        """``{'state': {0: {...}, ...}, 'param_groups': [{..., 'params': [0, 1]}]}``, as in PyTorch.

        Parameters are replaced by integer ids numbered in group order; state tensors are shared,
        not copied.

        >>> import ember
        >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.1)
        >>> opt.state_dict()["param_groups"][0]["params"]
        [0]
        """
        for hook in list(self._optimizer_state_dict_pre_hooks.values()):
            hook(self)
        mapping: dict[int, int] = {}
        start = 0

        def pack(group: dict) -> dict:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in list(self._optimizer_state_dict_post_hooks.values()):
            r = hook(self, sd)
            if r is not None:
                sd = r
        return sd

    @staticmethod
    def _cast_state_value(param: Tensor, value: Tensor, key: Any, group: dict | None) -> Tensor:
        """Move a loaded state tensor to the parameter's dtype/device (``step`` keeps its dtype)."""
        if key == "step":
            if group is not None and (group.get("capturable") or group.get("fused")):
                return value.to(dtype=_f32(), device=param.device)
            return value
        if param.is_floating_point() or param.is_complex():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state dict made by ``state_dict`` (of ember or of PyTorch, tensors converted).

        >>> import ember
        >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.1)
        >>> opt.load_state_dict(opt.state_dict())
        """
        state_dict = state_dict.copy()
        for hook in list(self._optimizer_load_state_dict_pre_hooks.values()):
            r = hook(self, state_dict)
            if r is not None:
                state_dict = r
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(itertools.chain.from_iterable(g["params"] for g in saved_groups),
                          itertools.chain.from_iterable(g["params"] for g in groups)))
        group_of = {}
        for g in state_dict["param_groups"]:
            for i in g["params"]:
                group_of.setdefault(i, g)

        def cast(param: Tensor, value: Any, pid: Any, key: Any = None) -> Any:
            value = _foreign_to_tensor(value)
            if isinstance(value, Tensor):
                return self._cast_state_value(param, value, key, group_of.get(pid))
            if isinstance(value, dict):
                return {k: cast(param, v, pid, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v, pid) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v, k)
                step = state[param].get("step") if isinstance(state[param], dict) else None
                if step is not None and not isinstance(step, Tensor) and self._tensor_step:
                    state[param]["step"] = _scalar_state(float(step), param)
            else:
                state[k] = v

        new_groups = []
        for g, ng in zip(groups, saved_groups):
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            new_groups.append(ng)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in list(self._optimizer_load_state_dict_post_hooks.values()):
            hook(self)

    # optimizers whose per-parameter ``step`` is a 0-d float32 tensor (all but SGD and LBFGS)
    _tensor_step = True

    # ------------------------------------------------------------------------------ helpers for step
    def _closure(self, closure: Callable | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _step_groups(self, closure: Callable[[], Any] | None, buffers: Callable[[dict], tuple],
                     flat_ok: Callable[[Any], bool] | None = None) -> Any:
        """One step over every group: the flat ``foreach`` update (``_step_flat``) where the group asks for it
        and ``flat_ok`` accepts each flat block, else ``_step_per_parameter``. ``buffers(group)`` names the
        group's state buffers. Returns the closure's loss."""
        loss = self._closure(closure)
        for index, group in enumerate(self.param_groups):
            flat_groups = self._flat_groups(index, buffers(group)) if group["foreach"] else None
            if flat_groups is None or (flat_ok is not None and not all(flat_ok(f) for f in flat_groups)):
                self._step_per_parameter(group)
            else:
                for flat in flat_groups:
                    self._step_flat(group, flat)
        return loss

    @staticmethod
    def _check_fused(fused: Any, foreach: Any, differentiable: bool) -> None:
        """PyTorch's errors for ``fused=True`` with ``differentiable`` or ``foreach``."""
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def _flat_groups(self, index: int, buffers: tuple) -> list | None:
        """The ``foreach`` layout of ``param_groups[index]``: one ``_FlatGroup`` per (device, dtype) of the
        parameters that have a gradient, its state ``buffers`` flat arrays that the state tensors view.

        ``None`` while some of those parameters lack a state buffer (the caller takes the per-parameter path,
        which creates them). The layouts are cached and rebuilt when the set of parameters with gradients or
        a state tensor changed (``load_state_dict``, a parameter's first gradient).
        """
        kinds: dict = {}
        for p in self.param_groups[index]["params"]:
            if p._grad is not None:
                kinds.setdefault((p._device, p._data.dtype), []).append(p)
        cache = self.__dict__.setdefault("_flat_cache", {})
        out = []
        for kind, params in kinds.items():
            states = [self.state[p] for p in params]
            if any(name not in st for st in states for name in buffers):
                return None
            flat = cache.get((index, kind))
            if flat is None or not flat.matches(params, states):
                flat = cache[(index, kind)] = _FlatGroup(params, states, buffers)
            out.append(flat)
        return out


def _f32() -> Any:
    from .. import float32
    return float32


def _typename(obj: Any) -> str:
    if isinstance(obj, Tensor):
        return {"float32": "ember.FloatTensor", "float64": "ember.DoubleTensor"}.get(obj.dtype.name,
                                                                                   "ember.Tensor")
    t = type(obj)
    return t.__name__ if t.__module__ in ("builtins", "__builtin__") else f"{t.__module__}.{t.__qualname__}"


def _params_with_grad(group: dict) -> Iterable[Tensor]:
    for p in group["params"]:
        if p._grad is not None:
            yield p


def _grad_array(p: Tensor, xp: Any, maximize: bool = False, weight_decay: float = 0) -> tuple:
    """``(g, fresh)``: the gradient array with ``maximize`` and L2 weight decay applied.

    ``fresh`` says ``g`` is a new temporary the caller may overwrite; otherwise it is the
    gradient itself, which must stay untouched.
    """
    g = p._grad._data
    fresh = False
    if maximize:
        g = xp.negative(g)
        fresh = True
    if weight_decay != 0:
        if fresh:
            g += xp.multiply(p._data, weight_decay)
        else:
            t = xp.multiply(p._data, weight_decay)
            t += g
            g = t
            fresh = True
    return g, fresh


_PARALLEL_MIN = 1 << 17  # elements: below this one thread is faster than handing pieces to others


def _add_scaled_(param: Any, d: Any, alpha: float, fresh: bool, xp: Any) -> None:
    """``param += alpha * d`` in place; ``fresh`` says ``d`` is a temporary that may be overwritten.

    NumPy has no fused multiply-add, so this is two passes, one where ``alpha`` is +-1 (exact either way).
    Large contiguous parameters are split across the intra-op threads (e.g. a 10000 x 200 embedding).
    """
    if (xp is np and param.size >= _PARALLEL_MIN and param.flags.c_contiguous and d.flags.c_contiguous
            and param.shape == d.shape):
        pf, df = param.reshape(-1), d.reshape(-1)
        parallel_for(pf.size, lambda a, b: _add_scaled_piece(pf[a:b], df[a:b], alpha, fresh, xp),
                     min_chunk=_PARALLEL_MIN // 2)
    else:
        _add_scaled_piece(param, d, alpha, fresh, xp)


def _add_scaled_piece(param: Any, d: Any, alpha: float, fresh: bool, xp: Any) -> None:
    if alpha == -1:
        param -= d
    elif alpha == 1:
        param += d
    elif fresh:
        d *= alpha
        param += d
    else:
        param += xp.multiply(d, alpha)


def _lerp_(a: Any, b: Any, w: float, xp: Any) -> Any:
    """``a.lerp_(b, w)`` in place, with PyTorch's two-sided formula (exact at both ends).

    Returns the temporary it used, which the caller may reuse as scratch space.
    """
    t = xp.subtract(b, a)
    if abs(w) < 0.5:
        t *= w
        a += t
    else:
        t *= 1 - w
        xp.subtract(b, t, out=a)
    return t


def _addcmul_(a: Any, t1: Any, t2: Any, value: float, xp: Any, scratch: Any = None) -> Any:
    """``a += value * t1 * t2`` in place, through one temporary (``scratch`` if given), which it returns."""
    t = xp.multiply(t1, value, out=scratch)
    t *= t2
    a += t
    return t


def _next_step(state: dict) -> float:
    """Advance the per-parameter ``step`` counter (a 0-d float32 tensor, as in PyTorch) and return it."""
    st = state["step"]._data
    st += 1
    return float(st)


def _decayed_grad(p: Tensor, xp: Any, lr: float, wd: float, decoupled: bool, maximize: bool) -> Any:
    """The gradient array with weight decay: decoupled (AdamW-style, shrinks ``p`` in place) or L2 (added)."""
    if wd != 0 and decoupled:
        p._data *= 1 - lr * wd
        return _grad_array(p, xp, maximize)[0]
    return _grad_array(p, xp, maximize, wd)[0]


def _update_moments(exp_avg: Any, exp_avg_sq: Any, g: Any, beta1: float, beta2: float, xp: Any) -> Any:
    """Adam's running averages of the gradient and of its square, in place; returns a spent temporary
    shaped like ``g`` (one allocation fewer for a caller that needs scratch space)."""
    t = _lerp_(exp_avg, g, 1 - beta1, xp)
    exp_avg_sq *= beta2
    return _addcmul_(exp_avg_sq, g, g, 1 - beta2, xp, scratch=t)

class _FlatGroup:
    """Parameters of one device and dtype laid end to end: the ``foreach=True`` path updates them with a few
    whole-group array operations instead of a few per parameter.

    ``state[name]`` is one flat array per state buffer; each parameter's state tensor is rebound to a view of
    it (same tensor object, data copied in), so ``state_dict`` keeps one tensor per parameter, PyTorch's layout.
    Parameters keep their own arrays (they may share memory with user arrays), so the update is computed into
    the flat ``scratch`` and added to each parameter through a view.
    """

    def __init__(self, params: list, states: list, buffers: tuple) -> None:
        self.params = params
        self.xp = xp = _xp_of(params[0]._device)
        dtype = params[0]._data.dtype
        self.shapes = [p._data.shape for p in params]
        bounds = list(itertools.accumulate((p._data.size for p in params), initial=0))
        self.slices = [slice(a, b) for a, b in zip(bounds, bounds[1:])]
        self.state = {}
        self.views: dict = {}
        for name in buffers:
            flat = self.state[name] = xp.empty(bounds[-1], dtype)
            views = self.views[name] = self.split(flat)
            for st, view in zip(states, views):
                view[...] = st[name]._data
                st[name]._data = view
        self._grad = xp.empty(bounds[-1], dtype)
        self.scratch = xp.empty(bounds[-1], dtype)
        self._cached_views = {id(a): self.split(a) for a in (self._grad, self.scratch)}

    def split(self, flat: Any) -> list:
        """Views of a flat array shaped like each parameter."""
        return [flat[s].reshape(shape) for s, shape in zip(self.slices, self.shapes)]

    def matches(self, params: list, states: list) -> bool:
        """Still the same parameters, and their state tensors still view the flat buffers."""
        if len(params) != len(self.params) or any(a is not b for a, b in zip(params, self.params)):
            return False
        return all(st[name]._data is view for name, views in self.views.items() for st, view in zip(states, views))

    def grads(self, maximize: bool = False, weight_decay: float = 0) -> Any:
        """The gradients gathered into one flat array (a copy the caller may overwrite), with ``maximize``
        and L2 weight decay applied."""
        g = self.xp.concatenate([p._grad._data.reshape(-1) for p in self.params], out=self._grad)
        if maximize:
            self.xp.negative(g, out=g)
        if weight_decay != 0:
            params = self.xp.concatenate([p._data.reshape(-1) for p in self.params], out=self.scratch)
            params *= weight_decay
            g += params
        return g

    def add_to_params(self, update: Any, alpha: float = 1.0, fresh: bool = True) -> None:
        """``p += alpha * update`` for every parameter, ``update`` a flat array; ``fresh`` says it is a
        temporary that may be scaled in place (else ``scratch`` takes the scaled copy)."""
        if alpha not in (1, -1):
            update = self.xp.multiply(update, alpha, out=update if fresh else self.scratch)
        views = self._cached_views.get(id(update)) or self.split(update)
        for p, u in zip(self.params, views):
            if alpha == -1:
                p._data -= u
            else:
                p._data += u
            _bump(p)
