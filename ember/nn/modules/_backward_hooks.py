"""Full backward hooks: identity autograd Functions around a module's inputs and outputs.

The output-side Function sees ``grad_output``; the input-side Function sees ``grad_input``
and then calls the module's hooks with both, letting them replace ``grad_input``.
"""
from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from ...autograd.function import Function


class _Identity(Function):
    @staticmethod
    def forward(ctx: Any, hook_state: Any, *tensors: Any) -> Any:
        ctx.hook_state = hook_state
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        return (None,) + tuple(ctx.hook_state(grads))


class BackwardHook:
    def __init__(self, module: Any, hooks: dict, pre_hooks: dict):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs = 0

    def _on_inputs(self, grads: tuple) -> tuple:
        grad_inputs = tuple(grads)
        for hook in self.hooks.values():
            r = hook(self.module, grad_inputs, self.grad_outputs)
            if r is not None:
                r = r if isinstance(r, tuple) else (r,)
                if len(r) != len(grad_inputs):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(r)}, "
                                       f"but expected {len(grad_inputs)}")
                grad_inputs = r
        return grad_inputs

    def _on_outputs(self, grads: tuple) -> tuple:
        grads = tuple(grads)
        for hook in self.pre_hooks.values():
            r = hook(self.module, grads)
            if r is not None:
                grads = r if isinstance(r, tuple) else (r,)
        self.grad_outputs = grads
        if not self.hooks_need_inputs:
            for hook in self.hooks.values():
                hook(self.module, (None,) * self.n_inputs, grads)
        return grads

    def setup_input_hook(self, args: tuple) -> tuple:
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.n_inputs = len(idx)
        self.hooks_need_inputs = bool(idx)
        if not idx:
            return args
        wrapped = _Identity.apply(self._on_inputs, *[args[i] for i in idx])
        out = list(args)
        for j, i in enumerate(idx):
            out[i] = wrapped[j]
        return tuple(out)

    def setup_output_hook(self, result: Any) -> Any:
        single = isinstance(result, Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, tuple):
            return result
        idx = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        if not idx:
            return result
        wrapped = _Identity.apply(self._on_outputs, *[outs[i] for i in idx])
        new = list(outs)
        for j, i in enumerate(idx):
            new[i] = wrapped[j]
        return new[0] if single else tuple(new)
