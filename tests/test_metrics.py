import numpy as np
import pytest
from PIL import Image

from ganlab.cli import main
from ganlab.errors import GanlabError
from ganlab.metrics import density_coverage, precision_recall
from ganlab.metrics.classifier import class_stats
from ganlab.metrics.evaluate import cached_features
from ganlab.metrics.fid import fid, frechet_distance
from ganlab.metrics.imagesets import load_images
from ganlab.metrics.kid import kid


def test_fid_of_a_set_with_itself_is_zero():
    f = np.random.default_rng(0).normal(size=(500, 16))
    assert abs(fid(f, f)) < 1e-6


def test_frechet_distance_closed_form():
    # diagonal covariances commute: FID = |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    expected = 1 + 0 + 4 + (1 - 2) ** 2 + 0 + (3 - 1) ** 2
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, abs=1e-9)


def test_fid_on_gaussian_features_matches_closed_form():
    rng = np.random.default_rng(1)
    n, d = 200_000, 4
    x = rng.normal(0.0, 1.0, size=(n, d))
    y = rng.normal(0.5, 2.0, size=(n, d))
    expected = d * 0.5 ** 2 + d * (1 - 2) ** 2  # = 5
    assert fid(x, y) == pytest.approx(expected, rel=0.02)


def test_prdc_on_a_hand_built_case():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[0.5], [10.0]])
    # real 1-NN radii are all 1; 0.5 lies in the balls of 0 and 1; 10 in none.
    # fake 1-NN radii are 9.5: every real lies within 9.5 of 0.5.
    assert precision_recall.precision_recall(real, fake, k=1) == (0.5, 1.0)
    assert density_coverage.density_coverage(real, fake, k=1) == (1.0, 0.5)


def test_perfect_and_disjoint_sets():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(300, 8))
    p, r = precision_recall.precision_recall(real, real + 1e-9)
    assert p == 1.0 and r == 1.0
    p, r = precision_recall.precision_recall(real, real + 100)
    d, c = density_coverage.density_coverage(real, real + 100)
    assert (p, r, d, c) == (0.0, 0.0, 0.0, 0.0)


def test_prdc_agrees_with_the_prdc_package():
    prdc = pytest.importorskip("prdc", reason="test dependency prdc is installed by scripts/test.sh")
    rng = np.random.default_rng(3)
    real = rng.normal(size=(600, 32)).astype(np.float32)
    fake = (rng.normal(size=(500, 32)) * 1.1 + 0.2).astype(np.float32)
    for k in (3, 5):
        ref = prdc.compute_prdc(real, fake, nearest_k=k)
        p, r = precision_recall.precision_recall(real, fake, k=k)
        d, c = density_coverage.density_coverage(real, fake, k=k)
        assert p == pytest.approx(ref["precision"], abs=1e-9)
        assert r == pytest.approx(ref["recall"], abs=1e-9)
        assert d == pytest.approx(ref["density"], abs=1e-9)
        assert c == pytest.approx(ref["coverage"], abs=1e-9)


def test_kid_known_case_and_sign():
    # constant sets in 1-d: k(0,0) = 1, k(1,1) = 8, k(0,1) = 1 -> MMD^2 = 1 + 8 - 2 = 7 on every subset
    mean, std = kid(np.ones((50, 1)), np.zeros((40, 1)), subsets=5, subset_size=30)
    assert mean == pytest.approx(7.0) and std == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    same, same_std = kid(a, b, subsets=20, subset_size=500)
    shifted, _ = kid(a, b + 0.5, subsets=20, subset_size=500)
    assert abs(same) < 3 * same_std + 1e-3  # unbiased: centred on 0 for one distribution
    assert shifted > 10 * abs(same) and shifted > 0


def test_class_stats():
    probs = np.zeros((4, 10))
    probs[[0, 1], 3] = 1.0
    probs[2, 5] = 0.6
    probs[2, 6] = 0.4
    probs[3, 5] = 1.0
    s = class_stats(probs)
    assert s["class_histogram"][3] == 2 and s["class_histogram"][5] == 2 and s["classes_covered"] == 2
    assert s["kl_to_uniform"] == pytest.approx(np.log(5))  # two classes at 1/2 each: log(0.5 * 10)
    assert s["mean_confidence"] == pytest.approx((1 + 1 + 0.6 + 1) / 4)


def test_reference_features_are_cached(tmp_path):
    calls = []

    def compute(x):
        calls.append(len(x))
        return x.reshape(len(x), -1)[:, :4].astype(np.float64)

    imgs = np.random.default_rng(0).integers(0, 255, size=(10, 28, 28), dtype=np.uint8)
    a = cached_features("test", "k", "ref", imgs, compute, cache=str(tmp_path))
    b = cached_features("test", "k", "ref", imgs, compute, cache=str(tmp_path))
    assert calls == [10] and np.array_equal(a, b)
    cached_features("test", "other-network", "ref", imgs, compute, cache=str(tmp_path))
    assert calls == [10, 10]  # another key recomputes


# ------------------------------------------------------------------ bad inputs
def _pngs(folder, n, size=(28, 28), mode="L"):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new(mode, size).save(folder / f"{i}.png")
    return folder


def test_load_png_folder_in_numeric_order(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    for i in (10, 2, 1):
        Image.fromarray(np.full((28, 28), i, np.uint8)).save(folder / f"{i}.png")
    assert load_images(folder)[:, 0, 0].tolist() == [1, 2, 10]
    Image.new("RGB", (28, 28), (7, 7, 7)).save(folder / "11.png")  # the platform's grey RGB PNGs
    assert load_images(folder)[-1, 0, 0] == 7


@pytest.mark.parametrize("make, message", [
    (lambda d: d.mkdir(), "is empty"),
    (lambda d: (_pngs(d, 3), (d / "notes.txt").write_text("x")), "notes.txt is not an image file"),
    (lambda d: (_pngs(d, 3), (d / "3.png").write_bytes(b"not a png")), "3.png is not a readable image"),
    (lambda d: _pngs(d, 2, size=(32, 32)), "is 32x32; expected 28x28"),
    (lambda d: (_pngs(d, 1), Image.new("RGB", (28, 28), (255, 0, 0)).save(d / "1.png")), "has colour"),
])
def test_bad_folders(tmp_path, make, message):
    make(tmp_path / "s")
    with pytest.raises(GanlabError, match=message):
        load_images(tmp_path / "s")


@pytest.mark.parametrize("array, message", [
    (np.full((10, 28, 28), np.nan, np.float32), "contains NaN"),
    (np.zeros((10, 28, 28), np.float32), "holds float32 values; expected uint8"),
    (np.zeros((10, 3, 28, 28), np.uint8), "expected N x 28 x 28"),
    (np.zeros((10, 32, 32), np.uint8), "expected N x 28 x 28"),
])
def test_bad_arrays(tmp_path, array, message):
    np.save(tmp_path / "x.npy", array)
    with pytest.raises(GanlabError, match=message):
        load_images(tmp_path / "x.npy")


def test_too_few_images_is_a_clear_cli_error(tmp_path, capsys):
    _pngs(tmp_path / "s", 5)
    assert main(["evaluate", str(tmp_path / "s"), "--mnist-only"]) == 2
    err = capsys.readouterr().err
    assert "has 5 images; the metrics need at least 6" in err and err.count("\n") == 1


def test_missing_path_is_a_clear_cli_error(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_evaluate_end_to_end_with_cache(tmp_path, mnist_data, capsys):
    """The whole protocol on tiny sets: real digits vs themselves and vs noise, JSON written, ref cached."""
    import json

    ref = tmp_path / "ref.npy"
    np.save(ref, mnist_data.test_x[:40])
    same = tmp_path / "same.npz"
    np.savez(same, images=mnist_data.test_x[:40])
    noise = tmp_path / "noise.npy"
    np.save(noise, np.random.default_rng(0).integers(0, 256, size=(40, 28, 28), dtype=np.uint8))
    cache = tmp_path / "cache"
    args = ["--ref", str(ref), "--cache-dir", str(cache), "--quiet"]
    assert main(["evaluate", str(same), "--json", str(tmp_path / "a.json"), *args]) == 0
    a = json.loads((tmp_path / "a.json").read_text())
    assert abs(a["fid"]) < 1e-3 and abs(a["mnist_fid"]) < 1e-3
    assert a["precision"] == 1.0 and a["recall"] == 1.0 and a["coverage"] == 1.0
    assert a["classes_covered"] == len(set(mnist_data.test_y[:40].tolist()))
    stages = a["stage_seconds"]  # where the time went: every stage, the shared pairwise pass apart from its readers
    assert {"classifier features", "inception features", "inception features (reference)", "pairwise pass", "fid",
            "precision_recall", "density_coverage", "kid", "mnist_fid"} <= set(stages)
    assert all(v >= 0 for v in stages.values()) and sum(stages.values()) <= a["seconds"] + 0.15
    cached = sorted(p.name for p in (cache / "features").rglob("*.npy"))
    assert len(cached) == 2  # inception + classifier features of the reference
    mtimes = [p.stat().st_mtime_ns for p in (cache / "features").rglob("*.npy")]
    assert main(["evaluate", str(noise), "--json", str(tmp_path / "b.json"), *args]) == 0
    b = json.loads((tmp_path / "b.json").read_text())
    assert b["fid"] > 100 and b["precision"] < 0.5 and b["mnist_fid"] > a["mnist_fid"]
    assert [p.stat().st_mtime_ns for p in (cache / "features").rglob("*.npy")] == mtimes  # not recomputed
    line = capsys.readouterr().out
    assert "FID" in line and "MNIST-FID" in line


def _registered_case(name):
    """A known case for every registered metric, through the registry (what evaluate() calls): the features it
    is given and the values it must return."""
    from ganlab.metrics.registry import Features

    real = np.array([[0.0], [1.0], [2.0], [3.0]] * 2)  # each point twice: its 3rd/5th neighbours are known
    one_hot = np.eye(10)[[3, 3, 5, 5]]
    return {
        "fid": (Features(real, real.copy()), {"fid": 0.0}),
        "precision_recall": (Features(real, real + 100), {"precision": 0.0, "recall": 0.0}),
        "density_coverage": (Features(real, real + 100), {"density": 0.0, "coverage": 0.0}),
        "kid": (Features(np.zeros((40, 1)), np.ones((50, 1))), {"kid_mean": 7.0, "kid_std": 0.0}),  # see above
        "mnist_fid": (Features(real, real.copy()), {"mnist_fid": 0.0}),
        "class_stats": (Features(real, real, one_hot),
                        {"class_histogram": [0, 0, 0, 2, 0, 2, 0, 0, 0, 0], "classes_covered": 2,
                         "kl_to_uniform": float(np.log(5)), "mean_confidence": 1.0}),
    }[name]


def test_every_registered_metric_has_a_known_case():
    from ganlab.metrics.registry import METRICS, compute

    for name, metric in METRICS.items():
        features, expected = _registered_case(name)
        got = metric.compute(features)
        assert set(got) == {n.key for n in metric.numbers} == set(expected), name
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, abs=1e-6), (name, key)
    assert set(compute("classifier", _registered_case("class_stats")[0])) == \
        {"mnist_fid", "class_histogram", "classes_covered", "kl_to_uniform", "mean_confidence"}


def test_a_new_metric_is_one_registration(monkeypatch):
    """Registering a metric is all it takes for evaluate() to compute it, the summary line to print it, and the
    config and sweep search to accept it; a metric returning other keys than it registered is refused."""
    from ganlab.metrics import registry
    from ganlab.metrics.evaluate import summary_line
    from ganlab.metrics.registry import Features, Number

    monkeypatch.setattr(registry, "METRICS", dict(registry.METRICS))
    registry.register_metric("spread", features="classifier", order=55,
                             numbers=[Number("spread", "spread", 2, better="lower")])(
        lambda f: {"spread": float(np.abs(f.fake - f.real.mean(0)).mean())})
    out = registry.compute("classifier", Features(np.zeros((3, 1)), np.ones((3, 1)), np.eye(10)[[1, 2, 3]]))
    assert out["spread"] == 1.0 and list(out).index("spread") == 1  # after mnist_fid (50), before class stats (60)
    line = summary_line({"n": 3, "ref": "x", "seconds": 0, **out})
    assert "MNIST-FID 1.00  spread 1.00  classes 3/10" in line
    assert registry.features_of("spread") == "classifier" and registry.number("spread").better == "lower"
    from ganlab.training import config

    assert config.load(None, ["eval.metric=spread"]).eval.metric == "spread"  # the best checkpoint may follow it
    with pytest.raises(GanlabError, match="'eval.metric' = 'precision' is not accepted; accepted: fid, kid_mean"):
        config.load(None, ["eval.metric=precision"])  # higher is better: not a metric to minimise
    registry.register_metric("broken", features="classifier", order=70,
                             numbers=[Number("b", "b", 2)])(lambda f: {"c": 1.0})
    with pytest.raises(RuntimeError, match="metric broken returned"):
        registry.compute("classifier", Features(np.zeros((3, 1)), np.ones((3, 1)), np.eye(10)[[1, 2, 3]]))


def test_fid_trace_agrees_with_scipy_sqrtm_also_when_a_covariance_is_singular():
    """The eigenvalue route (Cholesky factor, or the symmetric root of a singular S1) against pytorch-fid's
    scipy.linalg.sqrtm of the product, on full-rank and rank-deficient covariances."""
    from scipy import linalg

    from ganlab.metrics.fid import stats, trace_sqrt_product

    rng = np.random.default_rng(5)
    for n1, n2, d in ((400, 300, 20), (12, 300, 30), (300, 9, 30), (8, 7, 30)):  # S1 and/or S2 singular
        x, y = rng.normal(size=(n1, d)), rng.normal(size=(n2, d)) * 1.5 + 0.3
        (_, s1), (_, s2) = stats(x), stats(y)
        assert trace_sqrt_product(s1, s2) == pytest.approx(np.trace(linalg.sqrtm(s1 @ s2)).real, rel=1e-6)
        assert fid(x, y) >= 0


def _brute_force_prdc_kid(real, fake, k_pr, k_dc, subsets, size):
    """The metrics as the first implementation computed them: full distance matrices, one Gram per KID subset."""
    from scipy.spatial.distance import cdist

    def radii(x, k):
        return np.sort(cdist(x, x), axis=1)[:, k]

    rf = cdist(real, fake)
    r3, f3, r5 = radii(real, k_pr), radii(fake, k_pr), radii(real, k_dc)
    p = (rf < r3[:, None]).any(0).mean()
    r = (rf < f3[None, :]).any(1).mean()
    d = (rf < r5[:, None]).sum() / (k_dc * len(fake))
    c = (rf < r5[:, None]).any(1).mean()
    rng, m, dim = np.random.default_rng(0), min(len(real), len(fake), size), real.shape[1]
    values = []
    for _ in range(subsets):
        x, y = fake[rng.choice(len(fake), m, replace=False)], real[rng.choice(len(real), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T / dim + 1) ** 3, (y @ y.T / dim + 1) ** 3, (x @ y.T / dim + 1) ** 3)
        values.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                      - 2 * kxy.mean())
    return p, r, d, c, np.mean(values), np.std(values)


def test_the_pairwise_pass_runs_once_and_matches_brute_force(monkeypatch):
    """P, R, D, C and KID read one shared pass (counted), whose blocks change nothing, and agree with full distance
    matrices and per-subset Gram matrices."""
    from ganlab.metrics import kid as kid_module
    from ganlab.metrics import pairs, registry
    from ganlab.metrics.registry import Features

    rng = np.random.default_rng(6)
    real = rng.normal(size=(300, 8))
    fake = np.concatenate([rng.normal(size=(200, 8)) * 1.2 + 0.3, real[:50] + 1e-3])  # some fakes near reals
    monkeypatch.setattr(kid_module.KernelSums.__init__, "__defaults__", (20, 120, 0))
    calls = []
    real_run = pairs.run
    monkeypatch.setattr(pairs, "run", lambda *a, **kw: calls.append(1) or real_run(*a, **kw))
    f = Features(real, fake)
    got = registry.compute("inception", f)
    assert len(calls) == 1 and "pairwise pass" in f.seconds
    p, r, d, c, kid_mean, kid_std = _brute_force_prdc_kid(real, fake, precision_recall.K, density_coverage.K, 20, 120)
    assert (got["precision"], got["recall"], got["density"], got["coverage"]) == (p, r, d, c)
    assert got["kid_mean"] == pytest.approx(kid_mean, rel=1e-9) and got["kid_std"] == pytest.approx(kid_std, rel=1e-9)
    consumers = [precision_recall.Balls(), density_coverage.RealBalls(), kid_module.KernelSums()]
    blocked, whole = real_run(real, fake, consumers, block=7), real_run(real, fake, consumers)
    assert blocked[:2] == whole[:2]  # ball counts: exactly
    assert np.allclose(blocked[2], whole[2], rtol=1e-12, atol=0)  # KID's sums: up to the order of summation
    with pytest.raises(ValueError, match="more than 3 fake points, got 3"):
        pairs.run(real, fake[:3], [precision_recall.Balls()])
    assert pairs.run(real, fake[:3], [density_coverage.RealBalls()])  # D and C read no fake radii
