import json
import os
import shutil

import pytest

from ganlab.cli import main
from ganlab.report.collect import describe
from ganlab.training import config as c
from ganlab.training.loop import train


@pytest.fixture(scope="module")
def report(tmp_path_factory, cache_dir):
    """Two tiny runs, each evaluated through 'ganlab evaluate --run' (kept in RUN/evals/), and one stand-alone
    evaluation JSON with the full protocol's numbers; compared into one report."""
    root = tmp_path_factory.mktemp("report")
    runs = []
    for name, sets in (("plain", []), ("ema-mixture", ["train.ema=0.99", "latent.prior=mixture"])):
        cfg = c.load(None, ["data.subset=128", "train.epochs=2", "train.threads=1", "eval.every=1", "eval.n=50"]
                     + sets)
        runs.append(train(cfg, root / name, progress=False))
    assert main(["evaluate", "--run", str(runs[0]), "--n", "40", "--mnist-only", "--quiet"]) == 0
    assert main(["evaluate", "--run", str(runs[1]), "--n", "40", "--mnist-only", "--quiet",
                 "--sampler", "truncation", "--sampler-opt", "psi=0.8"]) == 0
    full = {"n": 10000, "ref": "mnist-test", "fid": 12.5, "precision": 0.7, "recall": 0.5, "density": 0.8,
            "coverage": 0.6, "kid_mean": 0.004, "kid_std": 0.0001, "mnist_fid": 20.0, "classes_covered": 10,
            "source": "samples/"}
    (root / "shipped.json").write_text(json.dumps(full))
    out = root / "out"
    assert main(["compare", str(runs[0]), str(runs[1]), str(root / "shipped.json"), "--out", str(out)]) == 0
    return out, runs


def test_run_evaluations_are_kept_in_the_run(report):
    _, runs = report
    (ev,) = (runs[1] / "evals").glob("*.json")
    data = json.loads(ev.read_text())
    assert ev.name == "last--truncation_psi=0.8_.json" or data["sampler_spec"] == "truncation(psi=0.8)"
    assert data["sampler"]["sampler"] == "truncation" and data["samples_per_s"] > 0
    assert (ev.parent / data["grid"]).is_file()


def test_leaderboard_one_row_per_input_sorted_by_fid(report):
    out, _ = report
    board = json.loads((out / "leaderboard.json").read_text())
    rows = board["leaderboard"]
    assert [r["run"] for r in rows][0] == "shipped"  # the only one with an FID comes first
    assert sorted(r["run"] for r in rows) == ["ema-mixture", "plain", "shipped"]
    assert rows[0]["fid"] == 12.5 and rows[1]["fid"] is None
    by = {r["run"]: r for r in rows}
    assert by["ema-mixture"]["sampler"] == "truncation(psi=0.8)"
    assert "EMA 0.99" in by["ema-mixture"]["method"] and "mixture prior" in by["ema-mixture"]["method"]
    assert by["plain"]["train_seconds"] > 0
    md = (out / "leaderboard.md").read_text().splitlines()
    assert len(md) == 2 + 3 and "| shipped | samples: samples/ | — | 12.50 | 0.700 | 0.500 |" in md[2]


def test_report_is_self_contained(report):
    out, _ = report
    page = (out / "index.html").read_text()
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert page.count("data:image/png;base64,") >= 5  # 2 curves, 2 last-epoch grids, 2 evaluation grids
    assert (out / "plots" / "plain-metrics.png").is_file()


def test_figures_sort_orders_and_the_floor(report, tmp_path):
    out, runs = report
    floor = {"n": 10000, "ref": "mnist-test", "precision": 0.79, "recall": 0.81, "density": 0.9, "coverage": 0.95,
             "fid": 1.56, "mnist_fid": 0.5, "classes_covered": 10}
    (tmp_path / "floor.json").write_text(json.dumps(floor))
    again = tmp_path / "again"
    assert main(["compare", str(runs[0]), str(runs[1]), str(out.parent / "shipped.json"), "--out", str(again),
                 "--floor", str(tmp_path / "floor.json")]) == 0
    page = (again / "index.html").read_text()
    for fig in ("pr-plane", "fid-cost", "classes"):
        assert f'<figure id="{fig}"' in page and (again / "plots" / f"{fig}.png").is_file()
    assert page.count(' alt="') >= 3 + 4
    assert "<summary>sorted by MNIST-FID (lowest first)</summary>" in page  # static sort orders, no script
    assert "<script" not in page
    # an evaluation JSON carries no config: --template names it
    marked = tmp_path / "marked"
    assert main(["compare", str(out.parent / "shipped.json"), str(runs[0]), str(runs[1]), "--out", str(marked),
                 "--template", "shipped"]) == 0
    rows = {r["run"]: r for r in json.loads((marked / "leaderboard.json").read_text())["leaderboard"]}
    assert rows["shipped"]["template"] and not rows["ema-mixture"]["template"]
    assert rows["plain"]["template"]  # a run with the default config is the template's method: found by its config
    assert main(["compare", str(runs[0]), "--out", str(tmp_path / "x"), "--template", "nope"]) == 2


def test_describe_names_what_differs_from_the_template():
    cfg = c.load("configs/wgan-gp-decay.yaml")
    assert describe(cfg) == "wgan, mlp D, GP 10, n_critic 5, lr plateau"
    cfg = c.load("configs/recipe.yaml", ["latent.prior=normal", "train.epochs=100",
                                         "train.init_from=/disk/runs/a/checkpoints/last.pt"])
    assert describe(cfg) == ("wgan, mlp D, GP 10, n_critic 5, EMA 0.999, lr linear, "
                             "100 epochs warm-started from a/last.pt")
    cfg = c.load("configs/recipe.yaml", ["train.init_from=/disk/g.pt"])
    assert describe(cfg).endswith("warm-started from g.pt")
    assert describe(c.load("configs/logan.yaml")) == ("wgan, mlp D, GP 10, n_critic 5, latent opt (LOGAN) α 0.9, "
                                                      "EMA 0.999, lr linear")


def test_compare_bad_inputs_are_one_line_errors(tmp_path, capsys):
    assert main(["compare", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "neither a run directory" in capsys.readouterr().err
    (tmp_path / "x.json").write_text("{}")
    assert main(["compare", str(tmp_path / "x.json"), "--out", str(tmp_path / "o")]) == 2
    assert "not a ganlab evaluation" in capsys.readouterr().err


def _chromium():
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        browser = None
    if not (browser and driver):
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test: install chromium, chromium-driver (apt) and selenium (pip)")
        pytest.skip("headless Chromium, chromedriver or selenium not installed (.ci/run installs them)")
    return browser, driver


def test_report_renders_in_headless_chromium(report, tmp_path):
    browser, driver_path = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        out, _ = report
        driver.get((out / "index.html").as_uri())
        assert driver.title == "ganlab comparison"
        assert driver.execute_script("return document.querySelectorAll('table.leaderboard tbody tr').length") == 3
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        assert len(images) >= 5
        assert all(done and w > 0 and h > 0 for done, w, h in images), images
        cell = driver.execute_script("return document.querySelector('table.leaderboard tbody tr td').textContent")
        assert cell == "shipped"
        # the figures: each loads, and the P-R figure has one point per evaluation with precision and recall
        for fig in ("pr-plane", "fid-cost", "classes"):
            size = driver.execute_script(f"const i = document.querySelector('#{fig} img'); "
                                         f"return i ? [i.complete, i.naturalWidth, i.alt] : null")
            assert size and size[0] and size[1] > 0 and size[2], (fig, size)
        points = json.loads(driver.execute_script("return document.getElementById('pr-plane').dataset.points"))
        with_pr = [r for r in json.loads((out / "leaderboard.json").read_text())["evaluations"]
                   if r["precision"] is not None and r["recall"] is not None]
        assert len(points) == len(with_pr) == 1 and points[0]["label"] == "shipped"
        from io import BytesIO

        from PIL import Image, ImageStat

        shot = Image.open(BytesIO(driver.get_screenshot_as_png())).convert("L")
        assert ImageStat.Stat(shot).stddev[0] > 5  # not a blank page
    finally:
        driver.quit()


def test_the_platform_template_is_recognised_and_marked(tmp_path):
    """Whatever its seed and budget, a run of configs/vanilla.yaml's method is the platform template; another loss
    is not. On the precision–recall plane its plain samples are a marked point of their own (not its samplers)."""
    from ganlab.report.collect import is_template
    from ganlab.report.figures import plane_points, pr_plane

    assert is_template(c.load("configs/vanilla.yaml", ["seed=4", "train.epochs=3", "train.threads=1"]))
    for precision in ("fp32", "bf16"):  # the arithmetic is not the method (the reports' sweep trained in fp32)
        assert is_template(c.load("configs/vanilla.yaml", [f"train.precision={precision}"]))
    assert not is_template(c.load("configs/vanilla.yaml", ["train.loss=saturating"]))
    assert not is_template(c.load("configs/wgan-gp.yaml"))
    rows = [{"run": "vanilla", "sampler": "prior", "precision": 0.4, "recall": 0.2, "template": True},
            {"run": "vanilla", "sampler": "drs", "precision": 0.5, "recall": 0.18, "template": True},
            {"run": "wgan-gp", "sampler": "prior", "precision": 0.5, "recall": 0.3, "template": False}]
    drawn = pr_plane(plane_points(rows), tmp_path / "pr.png")
    assert [p["template"] for p in drawn] == [True, False, False] and (tmp_path / "pr.png").stat().st_size > 0
