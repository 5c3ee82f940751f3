import numpy as np
import pytest
import torch

from ganlab.errors import GanlabError
from ganlab.metrics.inception import FeatureExtractor, FoldedInception, NaiveExtractor, inception_path, load_torchscript, preprocess


@pytest.fixture(scope="module")
def scripted():
    return load_torchscript(inception_path())


@pytest.fixture(scope="module")
def digits(mnist_data):
    return mnist_data.test_x[:6]


def test_preprocessing_is_pytorch_fids():
    img = torch.tensor([[0, 255], [255, 0]], dtype=torch.uint8).reshape(1, 2, 2)
    x = preprocess(img, 3)
    assert x.shape == (1, 3, 299, 299) and x.min() >= -1 and x.max() <= 1
    ref = torch.nn.functional.interpolate(img.float().div(255)[:, None], size=(299, 299), mode="bilinear",
                                          align_corners=False) * 2 - 1
    assert torch.equal(x[:, :1], ref) and torch.equal(x[:, 0], x[:, 2])


def test_folded_network_equals_the_torchscript(scripted, digits):
    with torch.no_grad():
        ref = scripted(preprocess(torch.from_numpy(digits), 3))
        folded = FoldedInception(scripted).eval()
        got = folded(preprocess(torch.from_numpy(digits), 1))
    assert ref.shape == (6, 2048)
    assert torch.allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_extractor_precisions_agree(digits):
    naive = NaiveExtractor()(digits, progress=False)
    f32 = FeatureExtractor("fp32")(digits, progress=False)
    assert np.allclose(f32, naive, rtol=1e-4, atol=1e-4)
    b16 = FeatureExtractor("bf16")(digits, progress=False)
    assert f32.shape == b16.shape == (6, 2048) and f32.dtype == np.float64
    assert np.linalg.norm(b16 - f32) / np.linalg.norm(f32) < 0.05
    stem = FeatureExtractor("bf16-stem")
    mixed = stem(digits, progress=False)
    dtypes = [next(m.parameters()).dtype for m in stem.net.layers if list(m.parameters())]
    assert dtypes[:5] == [torch.float32] * 5 and set(dtypes[5:]) == {torch.bfloat16}  # the stem's 5 convs exact
    # the first convolution makes most of bf16's error: with the stem exact it is much smaller (measured: halved)
    assert np.linalg.norm(mixed - f32) < 0.75 * np.linalg.norm(b16 - f32)
    assert len({FeatureExtractor(p).key for p in FeatureExtractor.PRECISIONS}) == 3  # cached features kept apart


def test_features_do_not_depend_on_the_batch_size(mnist_data):
    """The batch size (25 and up, as used) is a speed knob only: cached reference features stay valid when it
    changes, and a batch boundary (or the padded last batch) does not change an image's features."""
    images = mnist_data.test_x[:30]
    for precision in ("fp32", "bf16-stem"):
        whole = FeatureExtractor(precision, batch_size=30)(images, progress=False)  # one batch
        assert np.array_equal(FeatureExtractor(precision)(images, progress=False), whole)  # 25 + 5 padded
        assert np.array_equal(FeatureExtractor(precision, batch_size=40)(images, progress=False), whole)  # padded


def test_features_equal_the_loop_the_cached_references_were_made_with(mnist_data):
    """One batch at a time on two torch threads (the extractor before session 20 on these 2-core machines; the cached
    MNIST references, 400 full batches of 25, were made with it, under the same key): the same features, bit for
    bit. (A short last batch on one thread takes another kernel: the padding test covers that.)"""
    images = mnist_data.test_x[:50]
    threads = torch.get_num_threads()
    try:
        for precision in ("fp32", "bf16-stem"):
            ext = FeatureExtractor(precision)
            torch.set_num_threads(2)
            with torch.no_grad():
                old = np.concatenate([ext.net(preprocess(torch.from_numpy(images[i:i + 25]), 1).to(ext.dtype).contiguous(
                    memory_format=torch.channels_last)).float().numpy() for i in (0, 25)])
            assert np.array_equal(ext(images, progress=False), old)
    finally:
        torch.set_num_threads(threads)


def test_features_do_not_depend_on_the_workers(digits):
    """Batches run at once on one core each give the features of one batch at a time, bit for bit, and torch's
    thread count is given back afterwards."""
    threads = torch.get_num_threads()
    for precision in ("fp32", "bf16-stem"):
        one = FeatureExtractor(precision, batch_size=4, workers=1)(digits, progress=False)  # 4 + 2 (padded)
        assert np.array_equal(FeatureExtractor(precision, batch_size=4, workers=2)(digits, progress=False), one)
        assert torch.get_num_threads() == threads


def test_bad_precision_and_weights(tmp_path):
    with pytest.raises(GanlabError, match="accepted: fp32, bf16, bf16-stem"):
        FeatureExtractor("fp16")
    (tmp_path / "w.pt").write_bytes(b"junk")
    with pytest.raises(GanlabError, match="sha256 mismatch"):
        inception_path(tmp_path / "w.pt")
    with pytest.raises(GanlabError, match="does not exist"):
        inception_path(tmp_path / "missing.pt")
