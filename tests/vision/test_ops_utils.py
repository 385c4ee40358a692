"""ember.vision.ops and ember.vision.utils against torchvision fixtures (fixtures/make_model_fixtures.py)."""
import os

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.vision import ops, utils

R = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ops_utils.npz"))


def t(key, **kw):
    return ember.tensor(R[key], **kw)


@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_nms_and_batched_nms_match_torchvision(thr):
    keep = ops.nms(t("boxes"), t("scores"), thr)
    assert keep.dtype == ember.int64
    np.testing.assert_array_equal(keep.numpy(), R[f"nms_{thr}"])
    np.testing.assert_array_equal(ops.batched_nms(t("boxes"), t("scores"), t("idxs"), thr).numpy(),
                                  R[f"batched_nms_{thr}"])


def test_nms_edge_cases():
    empty = ops.nms(ember.zeros(0, 4), ember.zeros(0), 0.5)
    assert empty.shape == (0,) and empty.dtype == ember.int64
    assert ops.batched_nms(ember.zeros(0, 4), ember.zeros(0), ember.zeros(0, dtype=ember.int64), 0.5).shape == (0,)
    # identical boxes: only the best survives; IoU exactly at the threshold is kept (strict >)
    b = ember.tensor([[0., 0., 2., 2.], [0., 0., 2., 2.], [1., 0., 3., 2.]])
    assert ops.nms(b, ember.tensor([0.1, 0.9, 0.5]), 1 / 3).tolist() == [1, 2]
    assert ops.nms(b, ember.tensor([0.1, 0.9, 0.5]), 0.3).tolist() == [1]
    with pytest.raises(ValueError):
        ops.nms(ember.zeros(3, 5), ember.zeros(3), 0.5)
    with pytest.raises(RuntimeError):
        ops.nms(ember.zeros(3, 4), ember.zeros(2), 0.5)


def test_box_ops_match_torchvision():
    b = t("boxes")
    np.testing.assert_allclose(ops.box_area(b).numpy(), R["box_area"], rtol=1e-6)
    np.testing.assert_allclose(ops.box_iou(b[:20], b[20:45]).numpy(), R["box_iou"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ops.generalized_box_iou(b[:20], b[20:45]).numpy(), R["giou"], rtol=1e-5, atol=1e-6)
    for fi in ("xyxy", "xywh", "cxcywh"):
        for fo in ("xyxy", "xywh", "cxcywh"):
            np.testing.assert_allclose(ops.box_convert(b, fi, fo).numpy(), R[f"convert_{fi}_{fo}"], rtol=1e-6,
                                       atol=1e-5)
    with pytest.raises(ValueError):
        ops.box_convert(b, "xyxy", "polar")
    clipped = ops.clip_boxes_to_image(ember.tensor([[-1., 2., 9., 9.]]), (5, 6))
    assert clipped.tolist() == [[0., 2., 6., 5.]]
    assert ops.remove_small_boxes(ember.tensor([[0., 0., 1., 1.], [0., 0., 5., 5.]]), 2.0).tolist() == [1]


def test_box_iou_is_differentiable():
    b1 = ember.tensor([[0., 0., 2., 2.], [1., 1., 4., 3.]], dtype=ember.float64, requires_grad=True)
    b2 = ember.tensor([[0.5, 0.5, 3., 3.]], dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a, b: ops.box_iou(a, b), (b1, b2))


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [-1, 0, 2])
def test_roi_align_matches_torchvision(aligned, sampling_ratio):
    feat = t("roi_feat", requires_grad=True)
    out = ops.roi_align(feat, t("rois"), (3, 4), spatial_scale=0.5, sampling_ratio=sampling_ratio, aligned=aligned)
    assert out.shape == (6, 3, 3, 4) and out.dtype == ember.float32
    np.testing.assert_allclose(out.detach().numpy(), R[f"roi_align_{aligned}_{sampling_ratio}"], atol=1e-5)
    (out * t("roi_gradw")).sum().backward()
    np.testing.assert_allclose(feat.grad.numpy(), R[f"roi_align_grad_{aligned}_{sampling_ratio}"], atol=1e-5)


def test_roi_align_list_of_boxes_and_module():
    feat = t("roi_feat")
    rois = R["rois"]
    per_image = [ember.tensor(rois[rois[:, 0] == i, 1:]) for i in range(2)]
    order = np.argsort(rois[:, 0], kind="stable")
    out = ops.roi_align(feat, per_image, (3, 4), 0.5, -1, True)
    np.testing.assert_allclose(out.numpy(), R["roi_align_True_-1"][order], atol=1e-5)
    mod = ops.RoIAlign((3, 4), 0.5, -1, aligned=True)
    np.testing.assert_allclose(mod(feat, t("rois")).numpy(), R["roi_align_True_-1"], atol=1e-5)
    assert repr(mod) == "RoIAlign(output_size=(3, 4), spatial_scale=0.5, sampling_ratio=-1, aligned=True)"
    with pytest.raises(ValueError):
        ops.roi_align(feat, ember.zeros(3, 4), 2)


@pytest.mark.parametrize("aligned,sampling_ratio", [(False, -1), (True, 2), (True, -1)])
def test_roi_align_gradcheck_float64(aligned, sampling_ratio):
    gen = np.random.default_rng(1)
    x = ember.tensor(gen.standard_normal((2, 2, 5, 6)), dtype=ember.float64, requires_grad=True)
    rois = ember.tensor([[0, 0.3, 0.7, 4.2, 3.9], [1, 1.1, 0.2, 5.9, 4.6], [0, -0.8, 2.0, 2.5, 6.0]],
                        dtype=ember.float64)
    fn = lambda inp: ops.roi_align(inp, rois, (2, 3), 1.0, sampling_ratio, aligned)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_roi_pool_matches_torchvision():
    out = ops.roi_pool(t("roi_feat"), t("rois"), (3, 4), spatial_scale=0.5)
    np.testing.assert_allclose(out.numpy(), R["roi_pool"])


@pytest.mark.parametrize("key,kwargs", [
    ("grid_default", {}),
    ("grid_nrow3_pad1_val", dict(nrow=3, padding=1, pad_value=0.5)),
    ("grid_norm", dict(nrow=4, normalize=True)),
    ("grid_norm_range", dict(nrow=4, normalize=True, value_range=(0, 1))),
    ("grid_scale_each", dict(nrow=2, normalize=True, scale_each=True)),
])
def test_make_grid_matches_torchvision(key, kwargs):
    g = utils.make_grid(t("grid_imgs"), **kwargs)
    assert g.shape == R[key].shape
    np.testing.assert_allclose(g.numpy(), R[key], rtol=1e-6, atol=1e-6)


def test_make_grid_grey_single_and_list():
    imgs = t("grid_imgs")
    np.testing.assert_array_equal(utils.make_grid(imgs[:, :1], nrow=5, padding=0).numpy(), R["grid_gray"])
    np.testing.assert_array_equal(utils.make_grid(imgs[:1]).numpy(), R["grid_single"])
    np.testing.assert_array_equal(utils.make_grid(list(imgs)).numpy(), R["grid_default"])
    with pytest.raises(TypeError):
        utils.make_grid([imgs[0], 3])
    with pytest.raises(TypeError):
        utils.make_grid(imgs, normalize=True, value_range=[0, 1])


@pytest.mark.parametrize("key,kwargs", [
    ("draw_default", {}),
    ("draw_colors_w3", dict(colors=["red", (0, 255, 0), "#0000ff", "yellow"], width=3)),
    ("draw_fill", dict(colors="blue", fill=True, width=2)),
])
def test_draw_bounding_boxes_matches_torchvision(key, kwargs):
    out = utils.draw_bounding_boxes(t("draw_img"), t("draw_boxes"), **kwargs)
    assert out.dtype == ember.uint8
    np.testing.assert_array_equal(out.numpy(), R[key])


def test_draw_bounding_boxes_grey_float_and_errors():
    img = t("draw_img")
    np.testing.assert_array_equal(utils.draw_bounding_boxes(img[:1], t("draw_boxes")[:2]).numpy(), R["draw_gray"])
    fimg = img.float() / 255
    out = utils.draw_bounding_boxes(fimg, t("draw_boxes"))
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy() * 255, R["draw_default"], atol=1e-3)
    with pytest.raises(ValueError, match="xmin, ymin, xmax, ymax"):
        utils.draw_bounding_boxes(img, ember.tensor([[5., 0., 1., 3.]]))
    with pytest.raises(ValueError, match="individual images"):
        utils.draw_bounding_boxes(img[None], t("draw_boxes"))
    with pytest.raises(ValueError, match="Number of colors"):
        utils.draw_bounding_boxes(img, t("draw_boxes"), colors=["red"])
    with pytest.warns(UserWarning):
        assert utils.draw_bounding_boxes(img, ember.zeros(0, 4)) is img


def test_save_image_roundtrip(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    imgs = ember.rand(5, 3, 6, 7)
    path = tmp_path / "grid.png"
    utils.save_image(imgs, str(path), nrow=3, padding=1)
    grid = utils.make_grid(imgs, nrow=3, padding=1)
    expected = np.clip(grid.numpy() * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), expected)
