"""Run PyTorch programs on ember: ``import torch`` (and ``torchvision``) resolve to ember's modules.

``install()`` puts an import finder first on ``sys.meta_path``. While it is installed,
``import torch`` gives the ``ember`` package itself, ``torch.nn.functional`` gives
``ember.nn.functional``, ``torchvision.transforms`` gives ``ember.vision.transforms``,
``torch.serialization`` gives ``ember.serialization`` and so on: the same module objects, not
copies, so ``torch.nn.Linear is ember.nn.Linear``. What ember lacks fails where the program
uses it, with ``NotImplementedError: ember does not implement torch.<name> yet``:

- unknown attributes of the aliased modules (``torch.fft.rfft``, ``torch.nn.Foo``) and of tensors
  (``t.some_method``) raise that error from a module-level ``__getattr__`` fallback;
- importing a ``torch.*``/``torchvision.*`` submodule ember does not have (``torch.distributions``)
  gives a stub module whose attribute access raises it.

The error class is both ``NotImplementedError`` and ``AttributeError``, so feature probes such as
``hasattr(torch.backends, "mps")`` or ``getattr(torch, "compile", None)`` keep working.
``uninstall()`` removes the finder and the fallbacks and brings back any real ``torch`` modules
that were imported before. ``python -m ember run script.py`` does ``install()`` and runs the
script as ``__main__`` (see ``ember/__main__.py`` and ``docs/interop.md``).

>>> import ember.compat
>>> ember.compat.install()
>>> import torch
>>> torch.nn.Linear is ember.nn.Linear
True
>>> ember.compat.uninstall()
"""
from __future__ import annotations

import builtins
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types
from typing import Any

__all__ = ["install", "uninstall", "is_installed", "NotImplementedError", "torch_name"]


class NotImplementedError(builtins.NotImplementedError, AttributeError):  # noqa: A001
    """``ember does not implement torch.<name> yet``: a ``NotImplementedError`` that is also an
    ``AttributeError`` so ``hasattr``/``getattr(..., default)`` probes see a missing attribute."""

    __module__ = "builtins"  # tracebacks print "NotImplementedError: ..." (pickles as the builtin)


def _missing(name: str) -> NotImplementedError:
    return NotImplementedError(f"ember does not implement {name} yet")


# ------------------------------------------------------------------------------ name mapping
# torch/torchvision module names -> ember module names, where the layout differs. Everything else
# maps by prefix: torch.X -> ember.X, torchvision.X -> ember.vision.X.
_SPECIAL = {
    "torch.nn.modules.batchnorm": "ember.nn.modules.batchnorm",
    "torch.utils.dlpack": "ember.utils.dlpack",
    "torch.utils.safetensors": "ember.utils.safetensors",
    "torch._C": None,  # PyTorch's C extension: always a stub
}
_PREFIXES = (("torchvision", "ember.vision"), ("torch", "ember"))
_EXTRA_ALIASES = {"safetensors.torch": "ember.utils.safetensors"}  # ``from safetensors.torch import save_file``


def ember_name(fullname: str) -> str | None:
    """The ember module that stands for ``fullname`` (a torch/torchvision name), or None."""
    if fullname in _SPECIAL:
        return _SPECIAL[fullname]
    if fullname in _EXTRA_ALIASES:
        return _EXTRA_ALIASES[fullname]
    for src, dst in _PREFIXES:
        if fullname == src:
            return dst
        if fullname.startswith(src + "."):
            return dst + fullname[len(src):]
    return None


def torch_name(module_name: str) -> str:
    """The PyTorch-facing name of an ember module (``ember.nn`` -> ``torch.nn``), for messages."""
    if module_name == "ember.vision" or module_name.startswith("ember.vision."):
        return "torchvision" + module_name[len("ember.vision"):]
    if module_name == "ember" or module_name.startswith("ember."):
        return "torch" + module_name[len("ember"):]
    return module_name


_real_safetensors: list = []


def _needs_safetensors_parent() -> bool:
    """True when the ``safetensors`` package is not installed: ember then provides the package too."""
    if not _real_safetensors:
        found = any(f.find_spec("safetensors", None) is not None for f in sys.meta_path
                    if not isinstance(f, TorchFinder) and hasattr(f, "find_spec"))
        _real_safetensors.append(found)
    return not _real_safetensors[0]


def _handles(fullname: str) -> bool:
    if fullname == "safetensors":
        return _needs_safetensors_parent()
    return (fullname in _EXTRA_ALIASES or fullname == "torch" or fullname.startswith("torch.")
            or fullname == "torchvision" or fullname.startswith("torchvision."))


# ------------------------------------------------------------------------------- stub modules
class _StubModule(types.ModuleType):
    """A ``torch.*`` module ember does not have: importing works, using any attribute raises."""

    def __init__(self, name: str):
        super().__init__(name, f"Placeholder for {name}, which ember does not implement yet.")
        self.__path__: list = []  # a package, so ``import torch.x.y.z`` reaches the finder again

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module '{self.__name__}' has no attribute '{name}'")
        raise _missing(f"{self.__name__}.{name}")


# ------------------------------------------------------------------------ attribute fallbacks
_wrapped: dict = {}          # module name -> the module's own __getattr__ (or None), for uninstall
_set_on_parents: list = []   # (module, attribute) the import system set for stubs/aliases, for uninstall
_lock = threading.RLock()


def _make_fallback(module: types.ModuleType, original: Any) -> Any:
    alias = torch_name(module.__name__)

    def __getattr__(name: str) -> Any:
        if original is not None:
            try:
                return original(name)
            except NotImplementedError:
                raise
            except builtins.NotImplementedError as e:
                # ember's own lazy loader says "not implemented": keep hasattr() probes working
                raise NotImplementedError(str(e)) from None
            except AttributeError:
                pass
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module '{module.__name__}' has no attribute '{name}'")
        raise _missing(f"{alias}.{name}")

    __getattr__._ember_fallback = True  # type: ignore[attr-defined]
    return __getattr__


def _wrap_module(module: types.ModuleType) -> None:
    name = getattr(module, "__name__", "")
    if name in _wrapped or not isinstance(module, types.ModuleType) or isinstance(module, _StubModule):
        return
    original = module.__dict__.get("__getattr__")
    if getattr(original, "_ember_fallback", False):
        return
    _wrapped[name] = original
    module.__getattr__ = _make_fallback(module, original)  # type: ignore[method-assign]


def _public_ember_module(name: str) -> bool:
    if name != "ember" and not name.startswith("ember."):
        return False
    return not any(part.startswith("_") for part in name.split(".")[1:])


def _sweep() -> None:
    """Give every imported public ember module the fallback (cheap: a set lookup per module)."""
    for name, mod in list(sys.modules.items()):
        if name not in _wrapped and mod is not None and _public_ember_module(name):
            _wrap_module(mod)


def _tensor_getattr(self: Any, name: str) -> Any:
    # Only reached when normal lookup fails: the hot path of tensors is untouched.
    if name.startswith("_"):
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
    raise _missing(f"torch.Tensor.{name}")


# ------------------------------------------------------------------------------------- finder
class _AliasLoader(importlib.abc.Loader):
    """Hands the import system an existing ember module (or a stub) under a torch name."""

    def __init__(self, module: types.ModuleType):
        self.module = module
        self.spec = getattr(module, "__spec__", None)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system stamped the alias spec on the module: give the ember module its own back,
        # so relative imports and reloads inside ember keep working.
        if self.spec is not None:
            module.__spec__ = self.spec


class TorchFinder(importlib.abc.MetaPathFinder):
    """Resolves ``torch``, ``torch.*``, ``torchvision``, ``torchvision.*`` (and ``safetensors.torch``)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not _handles(fullname):
            return None
        with _lock:
            module = self._resolve(fullname)
        loader = _AliasLoader(module)
        spec = importlib.machinery.ModuleSpec(fullname, loader, is_package=hasattr(module, "__path__"))
        return spec

    def _resolve(self, fullname: str) -> types.ModuleType:
        if fullname == "safetensors":  # not installed: a package holding ember's safe_open stands in
            st = importlib.import_module("ember.utils.safetensors")
            pkg = types.ModuleType("safetensors", "ember's stand-in for the safetensors package")
            pkg.__path__ = []  # type: ignore[attr-defined]
            pkg.safe_open, pkg.SafetensorError = st.safe_open, st.SafetensorError  # type: ignore[attr-defined]
            return pkg
        target = ember_name(fullname)
        if target is not None:
            try:
                module = importlib.import_module(target)
            except ModuleNotFoundError as e:
                # Only a missing ember module becomes a stub; a broken import inside ember propagates.
                if e.name is None or not (target == e.name or target.startswith(e.name + ".")):
                    raise
            else:
                _sweep()
                if fullname == "safetensors.torch":
                    self._attach_parent(fullname, module)
                return module
        stub = _StubModule(fullname)
        return stub

    @staticmethod
    def _attach_parent(fullname: str, module: types.ModuleType) -> None:
        parent = sys.modules.get(fullname.rpartition(".")[0])
        if parent is not None:
            _set_on_parents.append((parent, fullname.rpartition(".")[2], parent.__dict__.get("torch", _NOTHING)))


_NOTHING = object()
_finder: TorchFinder | None = None
_saved_modules: dict = {}


def is_installed() -> bool:
    """Whether ``install()`` is in effect.

    >>> ember.compat.is_installed()
    False
    """
    return _finder is not None


def _aliased_names() -> list:
    return [n for n in sys.modules if _handles(n)]


def install() -> None:
    """Make ``import torch``/``import torchvision`` resolve to ember until ``uninstall()``.

    Real ``torch`` modules already imported are set aside (and restored by ``uninstall``), so
    code that imports torch afterwards gets ember. Calling it twice does nothing more.

    >>> ember.compat.install(); import torch; torch.__name__
    'ember'
    """
    global _finder
    with _lock:
        if _finder is not None:
            return
        for name in _aliased_names():
            _saved_modules[name] = sys.modules.pop(name)
        import ember
        importlib.import_module("ember.serialization")
        _finder = TorchFinder()
        sys.meta_path.insert(0, _finder)
        _sweep()
        from ._tensor import Tensor
        Tensor.__getattr__ = _tensor_getattr  # type: ignore[attr-defined]
        # ember's own lazy ``__getattr__`` imports submodules (ember.nn, ...): wrap what it returns too.
        _wrap_lazy_loader(ember)


def _wrap_lazy_loader(pkg: types.ModuleType) -> None:
    fallback = pkg.__dict__["__getattr__"]

    def __getattr__(name: str) -> Any:
        value = fallback(name)
        if isinstance(value, types.ModuleType):
            _sweep()
        return value

    __getattr__._ember_fallback = True  # type: ignore[attr-defined]
    pkg.__getattr__ = __getattr__  # type: ignore[method-assign]


def uninstall() -> None:
    """Undo ``install()``: drop the finder, the aliases and the fallbacks; restore real torch modules.

    >>> ember.compat.uninstall()
    """
    global _finder
    with _lock:
        if _finder is None:
            return
        try:
            sys.meta_path.remove(_finder)
        except ValueError:
            pass
        _finder = None
        for name in _aliased_names():
            mod = sys.modules.pop(name)
            # ``import torch.distributions`` set ember.distributions = <stub>: take such attributes back off
            parent_name, _, child = name.rpartition(".")
            target_parent = sys.modules.get(ember_name(parent_name) or "", None) if parent_name else None
            if target_parent is not None and target_parent.__dict__.get(child) is mod and \
                    isinstance(mod, _StubModule):
                del target_parent.__dict__[child]
        for parent, child, before in _set_on_parents:
            if before is _NOTHING:
                parent.__dict__.pop(child, None)
            else:
                parent.__dict__[child] = before
        _set_on_parents.clear()
        for name, original in _wrapped.items():
            mod = sys.modules.get(name)
            if mod is None:
                continue
            if original is None:
                mod.__dict__.pop("__getattr__", None)
            else:
                mod.__getattr__ = original  # type: ignore[method-assign]
        _wrapped.clear()
        from ._tensor import Tensor
        if "__getattr__" in Tensor.__dict__:
            del Tensor.__getattr__  # type: ignore[misc]
        sys.modules.update(_saved_modules)
        _saved_modules.clear()

