"""ember.onnx.export: exported models pass the ONNX checker and match ember under onnxruntime (1e-4),
including a second batch size through a dynamic batch axis."""
from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import ember
import ember.nn as nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _flat(out):
    if isinstance(out, ember.Tensor):
        return [out]
    res = []
    for o in out:
        res += _flat(o) if o is not None else []
    return res


def _export(model, args, names, dynamic_axes, **kw):
    buf = io.BytesIO()
    ember.onnx.export(model, args, buf, input_names=names, dynamic_axes=dynamic_axes, **kw)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    return proto, sess


def _check(model, batches, names=("x",), axes=None, atol=1e-4):
    """Export with the first batch; compare every batch (other sizes go through the dynamic axes)."""
    model.eval()
    axes = axes if axes is not None else {n: {0: "batch"} for n in names}
    proto, sess = _export(model, tuple(batches[0]), list(names), axes)
    for args in batches:
        with ember.no_grad():
            want = _flat(model(*args))
        got = sess.run(None, {n: a.numpy() for n, a in zip(names, args)})
        assert len(got) == len(want)
        for w, g in zip(want, got):
            assert g.shape == tuple(w.shape)
            np.testing.assert_allclose(g, w.numpy(), atol=atol, rtol=1e-4)
    return proto


def test_mlp():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.GELU(), nn.Linear(16, 8), nn.Tanh(),
                          nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 3), nn.Softmax(dim=-1))
    proto = _check(model, [(ember.randn(4, 6),), (ember.randn(9, 6),)])
    ops = {n.op_type for n in proto.graph.node}
    assert {"Gemm", "Relu", "Erf", "Tanh", "Sigmoid", "Softmax"} <= ops
    inits = {i.name for i in proto.graph.initializer}
    assert {"0.weight", "0.bias", "8.weight"} <= inits  # parameters keep their state_dict names
    dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "batch"


def test_cnn_batchnorm_eval():
    ember.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(8 * 2 * 2, 5))
    with ember.no_grad():  # running statistics far from (0, 1) so eval-mode BN is really exercised
        for bn in (model[1], model[5]):
            bn.running_mean.copy_(ember.randn(8))
            bn.running_var.copy_(ember.rand(8) + 0.5)
            bn.weight.copy_(ember.randn(8))
            bn.bias.copy_(ember.randn(8))
    model.train()  # export switches to eval itself (training=TrainingMode.EVAL) and restores the mode
    buf = io.BytesIO()
    ember.onnx.export(model, (ember.randn(2, 3, 16, 16),), buf, input_names=["x"], dynamic_axes={"x": [0]})
    assert model.training
    _check(model, [(ember.randn(2, 3, 16, 16),), (ember.randn(5, 3, 16, 16),)])


class _BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = nn.functional.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return nn.functional.relu(y + self.down(x))  # the residual add


def test_resnet_block():
    ember.manual_seed(2)
    model = nn.Sequential(_BasicBlock(3, 8, 2), _BasicBlock(8, 8, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(8, 4))
    _check(model, [(ember.randn(2, 3, 12, 12),), (ember.randn(3, 3, 12, 12),)])


class _Recurrent(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.rnn = getattr(nn, mode)(5, 7, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(14, 3)

    def forward(self, x):
        y, state = self.rnn(x)
        return self.head(y), state


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_recurrent(mode):
    ember.manual_seed(3)
    proto = _check(_Recurrent(mode), [(ember.randn(2, 6, 5),), (ember.randn(4, 6, 5),)])
    assert mode in {n.op_type for n in proto.graph.node}  # exported as the ONNX recurrent op, not unrolled


def test_lstm_given_initial_state():
    ember.manual_seed(4)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(4, 6)

        def forward(self, x, h, c):
            return self.rnn(x, (h, c))

    names = ("x", "h", "c")
    axes = {"x": {1: "batch"}, "h": {1: "batch"}, "c": {1: "batch"}}
    batches = [(ember.randn(5, b, 4), ember.randn(1, b, 6), ember.randn(1, b, 6)) for b in (2, 3)]
    _check(Net(), batches, names, axes)


def test_transformer_encoder():
    ember.manual_seed(5)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, batch_first=True)
    model = nn.TransformerEncoder(layer, num_layers=2)
    proto = _check(model, [(ember.randn(2, 5, 16),), (ember.randn(3, 5, 16),)])
    ops = {n.op_type for n in proto.graph.node}
    assert {"MatMul", "Softmax", "LayerNormalization", "Reshape", "Transpose"} <= ops


def test_bert_dynamic_batch_and_sequence():
    from ember.models import BertConfig, BertModel
    ember.manual_seed(6)
    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=32, max_position_embeddings=32)
    model = BertModel(cfg).eval()

    def batch(b, s):
        ids = ember.randint(0, 50, (b, s))
        mask = ember.ones(b, s, dtype=ember.int64)
        mask[0, s - 2:] = 0  # padding in the first row
        return ids, mask

    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}}
    _check(model, [batch(2, 7), batch(3, 11), batch(1, 4)], ("input_ids", "attention_mask"), axes)


def test_static_export_to_path(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    path = tmp_path / "m.onnx"
    ember.onnx.export(model, ember.randn(4, 3), str(path))
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [4, 3]
    assert proto.graph.input[0].name == "input" and proto.graph.output[0].name == "output"


def test_tracer_is_removed_after_export_and_errors():
    from ember.autograd import graph
    with pytest.raises(NotImplementedError, match="dynamo"):
        ember.onnx.export(nn.Linear(2, 2), ember.randn(1, 2), io.BytesIO(), dynamo=True)

    class Bad(nn.Module):
        def forward(self, x):
            return ember.linalg.inv(x)

    with pytest.raises(NotImplementedError, match="no ONNX conversion"):
        ember.onnx.export(Bad(), ember.randn(3, 3), io.BytesIO())
    assert graph._tracer is None


def test_missing_onnx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"ember\[onnx\]"):
        ember.onnx.export(nn.Linear(2, 2), ember.randn(1, 2), io.BytesIO())
