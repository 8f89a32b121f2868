#!/usr/bin/python3
"""Exports a torchvision ImageNet classifier as a pixab model file (docs/model-contract.md, docs/architectures.md).

The file is TorchScript with three methods, `features` (the network up to and including the paper's target layer),
`head` (the rest, returning logits) and `forward` (= head(features(x))), and the metadata `pixab.json` inside it.

    tools/export_torchvision.py --arch resnet50 --weights IMAGENET1K_V1 --out models/resnet50.pt
    tools/export_torchvision.py --arch vgg16 --weights none --seed 0 --out /tmp/vgg16-random.pt

Pretrained weights come from torchvision's download cache ($TORCH_HOME, by default ~/.cache/torch) and are
downloaded into it when missing, which needs the internet; `--weights none` needs nothing (seeded random weights).
Runs with Debian's python3-torch 1.13 and python3-torchvision 0.14 (/usr/bin/python3).
"""

import argparse
import collections
import json
import os
import re
import sys
import tempfile
import urllib.error

import torch
import torchvision
from torch import Tensor, nn
from torchvision import models

IMAGENET_CLASSES = 1000
# The input the contract checks are run on (the same seed as pixab's own forward == head(features) check).
CHECK_SEED = 20221001
# Largest |difference| accepted between two computations of the same logits, relative to max(1, max |logit|):
# pixab's own load-time tolerance.
RELATIVE_TOLERANCE = 1e-4


class ContractModel(nn.Module):
    """The model contract's split of a classifier: the layers up to the target layer, and the rest."""

    def __init__(self, up_to_target: "collections.OrderedDict[str, nn.Module]",
                 after_target: "collections.OrderedDict[str, nn.Module]"):
        super().__init__()
        # Registered in forward order: pixab's sanity check randomises parameter groups from the output end in
        # reverse registration order.
        self.up_to_target = nn.Sequential(up_to_target)
        self.after_target = nn.Sequential(after_target)

    @torch.jit.export
    def features(self, x: Tensor) -> Tensor:
        return self.up_to_target(x)

    @torch.jit.export
    def head(self, a: Tensor) -> Tensor:
        return self.after_target(a)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


def named_children(net: nn.Module, names):
    return [(name, getattr(net, name)) for name in names]


def split_inception_v3(net):
    # torchvision's Inception3._forward, with AuxLogits left out: it only runs in training mode.
    stages = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
              "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
              "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]
    head = named_children(net, ["avgpool", "dropout"]) + [("flatten", nn.Flatten(1))] + named_children(net, ["fc"])
    return named_children(net, stages), head


def split_vgg16(net):
    # net.features ends with conv5_3 (index 28), its ReLU (29) and the last max-pool (30). The target is the ReLU:
    # the last convolutional activations at full 14x14 resolution, as Grad-CAM's VGG16 experiments use; the
    # max-pool belongs to the head.
    last_pool = len(net.features) - 1
    assert isinstance(net.features[last_pool], nn.MaxPool2d)
    up_to_target = [("features", net.features[:last_pool])]
    head = [("pool5", net.features[last_pool])] + named_children(net, ["avgpool"]) + \
        [("flatten", nn.Flatten(1))] + named_children(net, ["classifier"])
    return up_to_target, head


def split_resnet50(net):
    stages = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]
    head = named_children(net, ["avgpool"]) + [("flatten", nn.Flatten(1))] + named_children(net, ["fc"])
    return named_children(net, stages), head


def build_inception_v3(weights):
    # aux_logits=False: torchvision drops the auxiliary classifier (it only runs in training mode) after loading
    # pretrained weights. transform_input=True, which torchvision sets for the pretrained weights (turned into
    # metadata by input_normalisation), so that random and pretrained exports share their preprocessing.
    options = {"aux_logits": False, "transform_input": True}
    if weights is None:
        options["init_weights"] = True  # torchvision's initialisation, without its warning about the default
    return models.inception_v3(weights=weights, **options)


Architecture = collections.namedtuple("Architecture", "build split target_layer grid")
ARCHITECTURES = {
    "inception_v3": Architecture(build_inception_v3, split_inception_v3, "Mixed_7c", 8),
    "vgg16": Architecture(models.vgg16, split_vgg16, "features.29 (relu5_3, before pool5)", 14),
    "resnet50": Architecture(models.resnet50, split_resnet50, "layer4", 7),
}


def input_normalisation(net, preset):
    """The mean and std pixab must apply so that the network sees exactly what torchvision's pipeline gives it."""
    if getattr(net, "transform_input", False):
        # Inception's transform_input turns ImageNet-normalised input back into (x - 0.5) / 0.5, the
        # normalisation Google's weights were trained with. Writing that into the metadata and skipping the
        # transform is the same function with one normalisation instead of two.
        return [0.5] * 3, [0.5] * 3
    return list(preset.mean), list(preset.std)


def resolve_weights(arch, name):
    """The weights enum entry for --weights (None for 'none') and the entry whose preprocessing to record."""
    enum = models.get_model_weights(arch)
    if name == "none":
        # Random weights have no preprocessing of their own: record the architecture's original one (V1).
        return None, enum.IMAGENET1K_V1
    # Only weights of the whole ImageNet classifier (vgg16's IMAGENET1K_FEATURES has no classifier).
    classifiers = [member for member, weights in enum.__members__.items()
                   if len(weights.meta.get("categories") or []) == IMAGENET_CLASSES]
    if name not in classifiers:
        sys.exit(f"export_torchvision: --weights {name}: {arch} has {', '.join(classifiers)} or none")
    return enum[name], enum[name]


def read_wnids(path):
    """ImageNet synset ids in class order: the first token of each line (LOC_synset_mapping.txt's format)."""
    with open(path, encoding="utf-8") as file:
        wnids = [line.split()[0] for line in file if line.strip()]
    bad = [w for w in wnids if not re.fullmatch(r"n\d{8}", w)]
    if len(wnids) != IMAGENET_CLASSES or bad:
        sys.exit(f"export_torchvision: {path}: expected {IMAGENET_CLASSES} lines starting with a synset id "
                 f"(nXXXXXXXX), got {len(wnids)} lines{', e.g. ' + repr(bad[0]) if bad else ''}")
    if wnids != sorted(wnids):
        # torchvision's class indices are the sorted synset ids; another order would mislabel every box.
        sys.exit(f"export_torchvision: {path}: the synset ids are not in ImageNet's (sorted) class order")
    return wnids


def model_metadata(args, weights, preset, net, wnids):
    crop, resize_to = preset.transforms().crop_size[0], preset.transforms().resize_size[0]
    mean, std = input_normalisation(net, preset.transforms())
    meta = {
        "name": args.arch,
        "input_size": [crop, crop],
        "channels": 3,
        "mean": mean,
        "std": std,
        "resize": {"mode": "resize_then_center_crop", "resize_to": resize_to},
        "num_classes": IMAGENET_CLASSES,
        # Random weights give meaningless scores: generic names say so where ImageNet's would mislead.
        "labels": list(weights.meta["categories"]) if weights else [f"class_{c}" for c in range(IMAGENET_CLASSES)],
        "target_layer": ARCHITECTURES[args.arch].target_layer,
        "weights": weights.name if weights else "none",  # DEFAULT's real name
        "exported_by": "tools/export_torchvision.py",
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
    }
    if weights:
        meta["weights_url"] = weights.url
        meta["imagenet_top1"] = weights.meta["_metrics"]["ImageNet-1K"]["acc@1"]
    else:
        meta["seed"] = args.seed
    if wnids:
        meta["wnids"] = wnids
    return meta


def max_relative_difference(actual, expected):
    return ((actual - expected).abs().max() / max(1.0, expected.abs().max().item())).item()


def check_export(scripted, net, meta, preset, grid):
    """Refuses to write a file that pixab would reject or that computes something else than torchvision."""
    height, width = meta["input_size"]
    pixels = torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(CHECK_SEED))

    def normalise(mean, std):
        return (pixels - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)

    x = normalise(meta["mean"], meta["std"])
    with torch.no_grad():
        activations = scripted.features(x)
        logits = scripted(x)
        split = scripted.head(activations)
        # torchvision's own model on torchvision's own normalisation of the same pixels.
        reference = net(normalise(preset.transforms().mean, preset.transforms().std))
    problems = []
    if activations.dim() != 4 or tuple(activations.shape[2:]) != (grid, grid):
        problems.append(f"features gives {list(activations.shape)}, expected a {grid}x{grid} grid")
    if tuple(logits.shape) != (2, meta["num_classes"]):
        problems.append(f"forward gives {list(logits.shape)}, expected [2, {meta['num_classes']}]")
    elif max_relative_difference(split, logits) > RELATIVE_TOLERANCE:
        problems.append(f"head(features(x)) differs from forward(x) by {max_relative_difference(split, logits):.3g}")
    elif max_relative_difference(logits, reference) > RELATIVE_TOLERANCE:
        problems.append(f"forward differs from torchvision's model by {max_relative_difference(logits, reference):.3g}")
    if problems:
        sys.exit("export_torchvision: the export breaks the model contract: " + "; ".join(problems))
    return list(activations.shape[1:])


def save_atomically(scripted, meta, out):
    """Writes into a temporary folder beside `out` and renames, so that a failed export never leaves a half-written
    model file. The file keeps its final name inside the folder: TorchScript names the archive's top folder after
    the file, and a random name there would make two identical exports differ."""
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=folder) as temporary_folder:
        temporary = os.path.join(temporary_folder, os.path.basename(out))
        torch.jit.save(scripted, temporary, _extra_files={"pixab.json": json.dumps(meta)})
        os.replace(temporary, out)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", required=True, choices=sorted(ARCHITECTURES))
    parser.add_argument("--weights", required=True,
                        help="DEFAULT (torchvision's current best), a weights name such as IMAGENET1K_V1 (pins the "
                             "weights across torchvision releases), or none (seeded random weights, no download)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights (--weights none)")
    parser.add_argument("--wnids", metavar="FILE",
                        help="ImageNet synset ids in class order, one per line as the first token (e.g. "
                             "LOC_synset_mapping.txt): stored as the model's wnids, to read ImageNet annotations")
    parser.add_argument("--out", required=True, help="model file to write")
    return parser.parse_args(argv)


def main(argv):
    if os.environ.get("PYTHONHASHSEED") != "0":
        # TorchScript writes each module's constants in Python's set order, which string hashing randomises per
        # process: a fixed hash seed makes two exports of the same weights byte-identical (the same model_sha256).
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), *argv])
    args = parse_arguments(argv)
    architecture = ARCHITECTURES[args.arch]
    weights, preset = resolve_weights(args.arch, args.weights)
    wnids = read_wnids(args.wnids) if args.wnids else None  # before the slow part: a bad file fails at once
    torch.manual_seed(args.seed)
    try:
        net = architecture.build(weights=weights).eval()
    except (urllib.error.URLError, OSError) as error:
        sys.exit(f"export_torchvision: could not get the {args.arch} weights {args.weights} ({error}). Run on a "
                 f"machine with internet access, or copy {weights.url if weights else 'the file'} into "
                 f"{torch.hub.get_dir()}/checkpoints/")
    meta = model_metadata(args, weights, preset, net, wnids)
    up_to_target, after_target = architecture.split(net)
    contract_model = ContractModel(collections.OrderedDict(up_to_target), collections.OrderedDict(after_target))
    scripted = torch.jit.script(contract_model.eval())
    target_shape = check_export(scripted, net, meta, preset, architecture.grid)
    save_atomically(scripted, meta, args.out)
    print(f"wrote {args.out}: {args.arch}, weights {meta['weights']}, target layer {meta['target_layer']} "
          f"{'x'.join(map(str, target_shape))} at input {meta['input_size'][0]}x{meta['input_size'][1]} "
          f"(resize {meta['resize']['resize_to']}, centre crop)")


if __name__ == "__main__":
    main(sys.argv[1:])
