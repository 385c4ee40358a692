"""``python -m ember run`` and ``ember.compat``: torch/torchvision names resolve to ember's modules, what
ember lacks fails at the point of use with NotImplementedError, and the harmless switches behave."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import ember
import ember.compat as compat

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def installed():
    compat.install()
    try:
        yield
    finally:
        compat.uninstall()


def _run(tmp_path, code: str, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "ember", "run", str(script), *args], capture_output=True,
                          text=True, env=env, cwd=str(tmp_path), timeout=120)


def test_modules_are_ember_modules_not_copies(installed):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim.lr_scheduler as sched
    import torch.serialization
    import torch.utils.data
    from torch.autograd import Function
    assert torch is ember and nn is ember.nn and F is ember.nn.functional
    assert sched is ember.optim.lr_scheduler and torch.serialization is ember.serialization
    assert torch.utils.data is ember.utils.data and Function is ember.autograd.Function
    assert torch.serialization.add_safe_globals is ember.serialization.add_safe_globals
    import torchvision.transforms as T
    assert T is ember.vision.transforms
    assert ember.nn.__spec__.name == "ember.nn"  # the alias did not take over the module's identity


def test_missing_names_raise_not_implemented_at_use(installed):
    import torch
    import torch.nn as nn
    with pytest.raises(NotImplementedError, match=r"ember does not implement torch\.nn\.NoSuchLayer yet"):
        nn.NoSuchLayer
    with pytest.raises(NotImplementedError, match=r"torch\.no_such_function"):
        torch.no_such_function(1)
    import torch.distributions as dist  # a stub: the import works ...
    with pytest.raises(NotImplementedError, match=r"torch\.distributions\.Normal"):
        dist.Normal(0, 1)  # ... using it does not
    import torch.distributions.normal as deeper
    with pytest.raises(NotImplementedError, match=r"torch\.distributions\.normal\.Normal"):
        deeper.Normal
    with pytest.raises(NotImplementedError, match=r"torch\.Tensor\.no_such_method"):
        torch.ones(1).no_such_method()
    # feature probes still work: the error is also an AttributeError
    assert not hasattr(torch, "no_such_function") and getattr(nn, "Nope", 5) == 5
    assert not hasattr(torch.ones(1), "nope")
    with pytest.raises(AttributeError):  # private names keep the plain error
        torch.ones(1)._no_such_private


def test_uninstall_restores_everything():
    import sys as _sys
    real = _sys.modules.get("torch")
    compat.install()
    import torch
    import torch.distributions  # noqa: F401
    assert torch is ember
    compat.uninstall()
    assert "distributions" not in ember.__dict__
    assert _sys.modules.get("torch") is real
    assert "__getattr__" not in ember.Tensor.__dict__
    with pytest.raises(AttributeError) as info:
        ember.nn.NoSuchLayer
    assert not isinstance(info.value, NotImplementedError)
    assert not compat.is_installed()


def test_switches(installed):
    import torch
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.deterministic = True
    assert torch.backends.cudnn.benchmark is True and not torch.backends.cudnn.is_available()
    with torch.backends.cudnn.flags(enabled=False):
        assert torch.backends.cudnn.enabled is False
    assert torch.backends.cudnn.enabled is True
    torch.set_float32_matmul_precision("high")
    assert torch.get_float32_matmul_precision() == "high" and torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    assert torch.get_float32_matmul_precision() == "highest"
    with pytest.warns(UserWarning, match="no effect"):
        torch.set_float32_matmul_precision("fastest")
    with pytest.raises(AttributeError, match="Unknown attribute"):
        torch.backends.cuda.matmul.allow_tf64 = True
    assert not torch.backends.mps.is_available()
    net = torch.nn.Linear(2, 2)
    assert torch.compile(net) is net and torch.compile(mode="max-autotune")(net) is net
    with pytest.raises(RuntimeError, match="Unrecognized mode"):
        torch.compile(net, mode="turbo")
    assert torch.jit.script(net) is net and torch.jit.trace(net, torch.ones(1, 2)) is net
    assert not torch.jit.is_scripting()
    with pytest.raises(NotImplementedError):
        torch.jit.save(net, "x.pt")
    torch.use_deterministic_algorithms(True)
    assert torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(False)
    with pytest.raises(TypeError):
        torch.use_deterministic_algorithms(1)
    torch.set_num_threads(3)
    assert torch.get_num_threads() == 3
    with pytest.raises(RuntimeError, match="positive"):
        torch.set_num_threads(0)
    with pytest.raises(RuntimeError, match="expects an int"):
        torch.set_num_threads(2.5)


def test_cuda_without_gpu_behaves_like_a_cpu_build():
    if ember.cuda.is_available():
        pytest.skip("a GPU is present")
    c = ember.cuda
    assert c.device_count() == 0
    assert c.memory_allocated() == 0 and c.max_memory_allocated() == 0 and c.memory_reserved() == 0
    c.manual_seed(0)
    c.manual_seed_all(0)
    c.empty_cache()
    assert ember.device("cuda" if c.is_available() else "cpu").type == "cpu"
    for fn in (c.current_device, c.synchronize, c.get_device_name, lambda: c.set_device(0)):
        with pytest.raises((AssertionError, RuntimeError)):
            fn()


def test_cli_runs_script_as_main_with_args(tmp_path):
    r = _run(tmp_path, """
        import sys
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader, TensorDataset
        print("name", __name__, sys.argv[1:], torch.__name__)
        x = torch.ones(2, 3)
        print("sum", nn.Linear(3, 1)(x).shape[0], torch.cuda.is_available())
    """, "--lr", "0.1")
    assert r.returncode == 0, r.stderr
    assert "name __main__ ['--lr', '0.1'] ember" in r.stdout
    assert f"sum 2 {ember.cuda.is_available()}" in r.stdout


def test_cli_reports_missing_feature_at_the_users_line(tmp_path):
    r = _run(tmp_path, """
        import torch
        x = torch.ones(2)
        y = torch.fft.fft(x)
    """)
    assert r.returncode == 1
    assert "NotImplementedError: ember does not implement torch.fft" in r.stderr
    assert 'prog.py", line 4' in r.stderr and "runpy" not in r.stderr


def test_cli_exit_codes_and_usage(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = _run(tmp_path, "import sys; sys.exit(3)")
    assert r.returncode == 3
    r = subprocess.run([sys.executable, "-m", "ember", "run", "missing.py"], capture_output=True, text=True, env=env,
                       cwd=str(tmp_path))
    assert r.returncode == 2 and "can't open file" in r.stderr
    r = subprocess.run([sys.executable, "-m", "ember", "--version"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.startswith("ember ")
    r = subprocess.run([sys.executable, "-m", "ember", "frobnicate"], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "unknown command" in r.stderr


def test_main_function_in_process(capsys, tmp_path):
    from ember.__main__ import main
    assert main(["--version"]) == 0 and "ember" in capsys.readouterr().out
    assert main([]) == 2


def test_torch_load_of_ember_checkpoint_and_safe_globals_in_runner(tmp_path):
    r = _run(tmp_path, """
        import torch
        import torch.serialization
        class Cfg:
            def __init__(self, lr): self.lr = lr
        torch.save({"w": torch.arange(3.), "cfg": Cfg(0.5)}, "ck.pt")
        try:
            torch.load("ck.pt")
        except Exception as e:
            print("refused", type(e).__name__)
        torch.serialization.add_safe_globals([Cfg])
        print("loaded", torch.load("ck.pt", weights_only=True)["cfg"].lr)
        from safetensors.torch import save_file, load_file
        save_file({"w": torch.ones(2)}, "m.safetensors")
        print("st", load_file("m.safetensors")["w"].tolist())
    """)
    assert r.returncode == 0, r.stderr
    assert "refused UnpicklingError" in r.stdout and "loaded 0.5" in r.stdout and "st [1.0, 1.0]" in r.stdout
