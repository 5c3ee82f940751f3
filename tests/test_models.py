import pytest
import torch

from ganlab.errors import GanlabError
from ganlab.models import Generator, build_discriminator, export_generator, import_generator
from ganlab.models.discriminators import per_sample


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_generator_is_the_platform_one():
    G = Generator()
    assert n_params(G) == 1_486_352
    assert [n for n, _ in G.named_children()] == ["fc1", "fc2", "fc3", "fc4"]
    assert [(m.in_features, m.out_features) for m in G.children()] == [(100, 256), (256, 512), (512, 1024), (1024, 784)]
    x = G(torch.randn(5, 100))
    assert x.shape == (5, 784) and x.abs().max() <= 1


def test_generator_forward_matches_the_formula():
    G = Generator()
    z = torch.randn(3, 100)
    h = z
    for fc in (G.fc1, G.fc2, G.fc3):
        h = torch.nn.functional.leaky_relu(fc(h), 0.2)
    assert torch.allclose(G(z), torch.tanh(G.fc4(h)))


@pytest.mark.parametrize("name", ["mlp", "mlp-dropout"])
def test_discriminators_return_logits(name):
    D = build_discriminator(name)
    assert n_params(D) == 784 * 1024 + 1024 + 1024 * 512 + 512 + 512 * 256 + 256 + 256 + 1
    out = D(torch.randn(7, 784))
    assert out.shape == (7,)
    assert not isinstance(list(D.children())[-1], torch.nn.Sigmoid)


def test_the_wide_d_has_twice_the_neurons_per_layer_and_more_weights_than_g():
    D = build_discriminator("mlp-wide")
    assert [m.out_features for m in (D.fc1, D.fc2, D.fc3, D.fc4)] == [2048, 1024, 512, 1]
    assert n_params(D) == 784 * 2048 + 2048 + 2048 * 1024 + 1024 + 1024 * 512 + 512 + 512 + 1
    assert n_params(D) > 2.5 * n_params(Generator())
    assert D(torch.randn(3, 784)).shape == (3,) and D.per_sample


def test_conv_bn_normalises_each_batch_in_training_and_is_not_per_sample():
    """DCGAN's D: batch norm after the second and third convs. In training an image's logit depends on its batch
    (so the step shows D the reals and the fakes in separate passes); in eval mode it does not."""
    torch.manual_seed(0)
    D = build_discriminator("conv-bn")
    assert [type(m).__name__ for m in D.modules()].count("BatchNorm2d") == 2 and not per_sample(D)
    assert per_sample(build_discriminator("conv"))
    x, others = torch.rand(8, 784) * 2 - 1, torch.rand(8, 784) * 2 - 1
    alone, mixed = D(x)[:4], D(torch.cat([x[:4], others[4:]]))[:4]
    assert D(x).shape == (8,) and not torch.allclose(alone, mixed, atol=1e-4)
    D.eval()
    assert torch.allclose(D(x)[:4], D(torch.cat([x[:4], others[4:]]))[:4], atol=1e-6)


def test_dropout_only_in_training_mode():
    D = build_discriminator("mlp-dropout").eval()
    x = torch.randn(4, 784)
    assert torch.equal(D(x), D(x))


def test_unknown_discriminator():
    with pytest.raises(GanlabError, match="accepted: classifier-features, conv, conv-bn, mlp, mlp-dropout, mlp-wide"):
        build_discriminator("resnet")


def test_platform_checkpoint_roundtrip(tmp_path):
    G = Generator()
    path = export_generator(G, tmp_path / "checkpoints" / "G.pth")
    raw = torch.load(path, weights_only=True)
    assert all(k.startswith("module.") for k in raw)  # DataParallel layout, as the platform saves it
    G2 = import_generator(path)
    z = torch.randn(4, 100)
    assert torch.equal(G(z), G2(z))
    # without the prefix too
    torch.save(G.state_dict(), tmp_path / "plain.pth")
    assert torch.equal(G(z), import_generator(tmp_path / "plain.pth")(z))


def test_import_rejects_foreign_checkpoints(tmp_path):
    with pytest.raises(GanlabError, match="does not exist"):
        import_generator(tmp_path / "missing.pth")
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(GanlabError, match="not a loadable"):
        import_generator(tmp_path / "junk.pth")
    torch.save(build_discriminator("mlp").state_dict(), tmp_path / "D.pth")
    with pytest.raises(GanlabError, match="not the fixed generator"):
        import_generator(tmp_path / "D.pth")


def test_saturation_tells_a_collapsed_generator_from_a_fresh_one():
    from ganlab.models.generator import saturation

    torch.manual_seed(0)
    z = torch.randn(200, 100)
    G = Generator()
    fresh = saturation(G, z)
    assert fresh["saturated"] < 0.01 and fresh["tanh_grad"] > 0.9 and fresh["pixel_std"] > 0
    with torch.no_grad():  # what lsgan-s0 became: huge output weights and bias, one image for every z
        G.fc4.weight.zero_()
        G.fc4.bias.copy_(torch.where(torch.arange(784) % 3 == 0, 50.0, -50.0))
    dead = saturation(G, z)
    assert dead["saturated"] == 1.0 and dead["tanh_grad"] < 1e-6 and dead["pixel_std"] == 0.0
    assert dead["median_abs_pre"] == pytest.approx(50.0)


def test_classifier_feature_d_keeps_the_classifier_frozen_and_exact():
    """classifier-features: D trains its heads and its pixel MLP while the MNIST classifier inside it keeps the
    shipped weights and its inference-mode batch norm (through D.train(), an optimiser step, spectral norm); its
    output is the sum of the four branches; gradients reach the input (for G and for R1)."""
    from ganlab.metrics.classifier import Classifier

    torch.manual_seed(0)
    D = build_discriminator("classifier-features", spectral_norm=True)
    D.train()
    assert not D.frozen.training and not any(p.requires_grad for p in D.frozen.parameters())
    shipped = Classifier().net.state_dict()
    x = torch.rand(8, 784) * 2 - 1
    x.requires_grad_(True)
    opt = torch.optim.Adam([p for p in D.parameters() if p.requires_grad], lr=0.1)
    out = D(x)
    assert out.shape == (8,)
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    opt.step()
    for k, v in D.frozen.state_dict().items():
        assert torch.equal(v, shipped[k]), k
    D.eval()  # (spectral norm's power iteration moves the weights at each call in training mode)
    with torch.no_grad():  # the sum of the branches, the classifier's stages as the classifier computes them
        h = (x.reshape(8, 1, 28, 28) + 1) / 2
        assert torch.allclose(D._stages(x)[2], D.frozen.features(h), atol=1e-6)
        f1, f2, f3 = D._stages(x)
        branches = D.mlp(x) + D.head1(f1).squeeze(1) + D.head2(f2).squeeze(1) + \
            D.head3(torch.nn.functional.leaky_relu(D.head3_hidden(f3), 0.2)).squeeze(1)
        assert torch.allclose(D(x), branches, atol=1e-5)


def test_classifier_feature_d_stays_frozen_under_clipping_unrolling_and_a_fitted_critic():
    """What trains a copy of D or touches all its weights (weight clipping, unrolled steps, a latent sampler's
    fitted critic: requires_grad_(True)) leaves the classifier inside classifier-features as shipped."""
    from ganlab.losses import build_loss
    from ganlab.training.terms import WeightClip, unrolled_d_output

    torch.manual_seed(0)
    D = build_discriminator("classifier-features")
    before = {k: v.clone() for k, v in D.frozen.state_dict().items()}
    D.requires_grad_(True)
    assert not any(p.requires_grad for p in D.frozen.parameters())
    headed = build_discriminator("classifier-features", ac_head=True).requires_grad_(True)  # through the AC wrapper
    assert not any(p.requires_grad for p in headed.D.frozen.parameters()) and headed.head.weight.requires_grad
    WeightClip(0.01).after_d(type("S", (), {"D": D})())
    assert all(torch.equal(v, before[k]) for k, v in D.frozen.state_dict().items())
    assert D.mlp.fc1.weight.abs().max() <= 0.01
    x, fake = torch.rand(4, 784) * 2 - 1, (torch.rand(4, 784) * 2 - 1).requires_grad_(True)
    out = unrolled_d_output(D, build_loss("ns"), x, fake, k=1, lr=0.1)
    out.sum().backward()
    assert out.shape == (4,) and fake.grad.abs().sum() > 0


@pytest.mark.parametrize("name, spectral, ac, joint, loss", [
    ("mlp", False, False, True, "ns"), ("conv", False, False, True, "ns"), ("mlp", False, True, True, "ns"),
    ("classifier-features", False, False, True, "ns"), ("mlp", True, False, False, "ns"),
    ("conv", True, True, False, "ns"), ("mlp", False, False, True, "rpgan"), ("mlp", False, False, True, "hinge"),
    ("conv-bn", False, False, False, "ns")])
def test_the_d_step_shows_reals_and_fakes_in_one_pass_only_where_that_changes_nothing(name, spectral, ac, joint, loss):
    """A per-sample D (no batch statistics, no state a forward pass changes) sees the reals and the fakes in one pass
    of 2N in D's step: the losses and D's updated weights equal two passes' up to the order of floating-point sums.
    Spectral normalisation (a power iteration per training-mode pass) keeps two passes, as does a D behind an
    augmentation term."""
    from ganlab.losses import build_loss
    from ganlab.training.step import GANStep

    def step(use):
        torch.manual_seed(0)
        G, D = Generator(), build_discriminator(name, spectral_norm=spectral, ac_head=ac)
        # plain steps: D's new weights are its gradients' image (Adam's first step is a sign, ill-conditioned at 0)
        opt_g, opt_d = (torch.optim.SGD(n.parameters(), 0.1) for n in (G, D))
        fn = GANStep(G, D, build_loss(loss), opt_g, opt_d)
        assert fn.joint == joint
        fn.joint = use
        acc = GANStep.stats("cpu")
        x, z = torch.rand(16, 784) * 2 - 1, torch.randn(16, 100)
        seen = []  # the batch sizes D is called with: D's step, then G's
        D.register_forward_hook(lambda m, args, out: seen.append(len(args[0])))
        fn(x, z, 1, acc)
        return acc, D.state_dict(), seen

    (acc_a, d_a, seen_a), (acc_b, d_b, seen_b) = step(False), step(joint)
    g_step = [16, 16] if loss == "rpgan" else [16]  # a relativistic G loss sees the reals through D again
    assert seen_a == [16, 16] + g_step and seen_b == ([32] if joint else [16, 16]) + g_step
    assert torch.allclose(acc_a, acc_b, rtol=1e-5, atol=1e-6)
    for k in d_a:
        assert torch.allclose(d_a[k], d_b[k], rtol=1e-4, atol=1e-6), k


def test_a_d_behind_an_augmentation_keeps_two_passes():
    from ganlab.losses import build_loss
    from ganlab.training.step import GANStep

    G, D = Generator(), build_discriminator("mlp")
    opt_g, opt_d = (torch.optim.Adam(n.parameters(), 1e-3) for n in (G, D))
    assert GANStep(G, D, build_loss("ns"), opt_g, opt_d).joint
    assert not GANStep(G, D, build_loss("ns"), opt_g, opt_d, d_augment=(("jitter",), 1.0, 0.0, 500.0)).joint
