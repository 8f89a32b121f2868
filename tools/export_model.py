#!/usr/bin/python3
"""Exports an image classifier as a pixab model file (docs/model-contract.md, docs/architectures.md).

The file is TorchScript with three methods, `features` (the network up to and including the target layer), `head`
(the rest, returning logits) and `forward` (= head(features(x))), and the metadata `pixab.json` inside it. The
classifier is one of torchvision's (--arch) or your own nn.Module (--module).

    tools/export_model.py --arch resnet50 --weights IMAGENET1K_V1 --out models/resnet50.pt
    tools/export_model.py --arch efficientnet_b0 --weights none --seed 0 --out /tmp/efficientnet_b0-random.pt
    tools/export_model.py --module mynets:flowers_resnet18 --weights flowers.pth --layer layer4 \\
        --input-size 224 224 --mean 0.485 0.456 0.406 --std 0.229 0.224 0.225 --resize 256 --labels flowers.txt \\
        --out models/flowers.pt

Pretrained torchvision weights come from torchvision's download cache ($TORCH_HOME, by default ~/.cache/torch) and
are downloaded into it when missing, which needs the internet; `--weights none` needs nothing (seeded random weights).
Runs with Debian's python3-torch 1.13 and python3-torchvision 0.14 (/usr/bin/python3).
"""

import os
import sys

if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") != "0":
    # TorchScript writes each module's constants in Python's set order, which string hashing randomises per process:
    # a fixed hash seed makes two exports of the same weights byte-identical (the same model_sha256). Restarted
    # before importing torch, which takes seconds.
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]])

import argparse
import collections
import copy
import hashlib
import importlib
import json
import operator
import pickle
import re
import tempfile
import typing
import urllib.error

import torch
import torch.fx
import torchvision
from torch import Tensor, nn
from torchvision import models

IMAGENET_CLASSES = 1000
# The input the contract checks are run on (the same seed as pixab's own forward == head(features) check).
CHECK_SEED = 20221001
# Largest |difference| accepted between the exported head(features(x)) and the original model's forward(x),
# relative to max(1, max |logit|): ten times stricter than pixab's load-time check (1e-4), which the file must pass
# on every machine, while the same operations on the same machine differ by rounding only.
RELATIVE_TOLERANCE = 1e-5
TOOL = "export_model"
EXPORTED_BY = "tools/export_model.py"


class ExportRefused(Exception):
    """A model or option that the tool cannot export correctly; the message says why (exit code 1)."""


class ContractModel(nn.Module):
    """The model contract's split of a classifier: the layers up to the target layer, and the rest."""

    def __init__(self, up_to_target: nn.Module, after_target: nn.Module):
        super().__init__()
        # Registered in forward order: pixab's sanity check randomises parameter groups from the output end in
        # reverse registration order.
        self.up_to_target = up_to_target
        self.after_target = after_target

    @torch.jit.export
    def features(self, x: Tensor) -> Tensor:
        return self.up_to_target(x)

    @torch.jit.export
    def head(self, a: Tensor) -> Tensor:
        return self.after_target(a)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


# ---- Hand-written splits of the paper's three architectures. They predate the graph split below, which would give
# the same computation in other TorchScript code: kept, so that their files keep their code, weights and module names.

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


HandSplit = collections.namedtuple("HandSplit", "split target_layer")
# Used at each architecture's default layer; the metadata's target_layer text is the one these files always had.
HAND_SPLITS = {
    "inception_v3": HandSplit(split_inception_v3, "Mixed_7c"),
    "vgg16": HandSplit(split_vgg16, "features.29 (relu5_3, before pool5)"),
    "resnet50": HandSplit(split_resnet50, "layer4"),
}


def hand_split_model(split, net):
    up_to_target, after_target = split(net)
    return ContractModel(nn.Sequential(collections.OrderedDict(up_to_target)),
                         nn.Sequential(collections.OrderedDict(after_target)))


# ---- The graph split: any traceable module, cut at the output of one of its submodules.

class CutTracer(torch.fx.Tracer):
    """Traces a module down to its target layer only: the target layer is a single call (a leaf), so that its output
    is one node to cut at, and so is every module that does not contain it. A skip connection across the cut can
    only be in the forward of a module containing the target; every other module is scripted as its author wrote
    it, which torch.fx may not be able to trace (ShuffleNet's channel shuffle iterates over a shape). Each node
    records the module whose forward made it (meta["module"]), to name where a skip connection joins."""

    def __init__(self, target_layer: str):
        super().__init__()
        self.target_layer = target_layer
        self.current_module = ""

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        return not self.target_layer.startswith(qualified_name + ".")

    def call_module(self, module, forward, args, kwargs):
        caller, self.current_module = self.current_module, self.path_of_module(module)
        try:
            return super().call_module(module, forward, args, kwargs)
        finally:
            self.current_module = caller

    def create_node(self, *args, **kwargs):
        node = super().create_node(*args, **kwargs)
        node.meta["module"] = self.current_module
        return node


def describe(node: torch.fx.Node) -> str:
    """A node as a reader of the model's code knows it: the module it calls, or the function or method."""
    if node.op == "call_module":
        return f"module {node.target}"
    name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", str(node.target))
    where = f" in {node.meta['module']}.forward" if node.meta.get("module") else ""
    return f"{'method' if node.op == 'call_method' else 'function'} {name}{where}"


def value_of(node: torch.fx.Node) -> str:
    if node.op == "placeholder":
        return "the model's input"
    return f"the {'output' if node.op == 'call_module' else 'result'} of {describe(node)}"


def trace_to_layer(net: nn.Module, target_layer: str):
    """The graph of net's forward, and its node that calls target_layer."""
    if not target_layer or target_layer not in dict(net.named_modules()):
        raise ExportRefused(f"--layer {target_layer}: not a submodule of the model (see its named_modules())")
    try:
        graph = CutTracer(target_layer).trace(net)
    except Exception as error:  # torch.fx raises many kinds: Python control flow on tensors, unsupported calls
        raise ExportRefused(f"torch.fx cannot trace the model down to {target_layer} ({type(error).__name__}: "
                            f"{error}); the forward of each module containing it must be traceable") from error
    if len([node for node in graph.nodes if node.op == "placeholder"]) != 1:
        raise ExportRefused("the model's forward takes more than one argument; the contract's takes an image batch")
    cuts = [node for node in graph.nodes if node.op == "call_module" and node.target == target_layer]
    if len(cuts) != 1:
        raise ExportRefused(f"--layer {target_layer}: forward calls it {len(cuts)} times, not once, so it has no "
                            f"single output to cut at")
    return graph, cuts[0]


def refuse_skip_connections(target_layer, cut, before_cut, after_cut):
    """The head gets the target layer's output only: any other value computed from the input before the cut that
    a node after it uses (a skip connection) would be missing, and the head would compute something else."""
    depends_on_input = {node for node in before_cut if node.op == "placeholder"}
    for node in before_cut:
        if any(argument in depends_on_input for argument in node.all_input_nodes):
            depends_on_input.add(node)
    for node in after_cut:
        for argument in node.all_input_nodes:
            if argument is not cut and argument in depends_on_input:
                joins = node.meta.get("module")
                raise ExportRefused(
                    f"--layer {target_layer}: a skip connection crosses the cut: {describe(node)}, after the cut, "
                    f"uses {value_of(argument)}, computed before it, so the head would need more than the target "
                    f"layer's output. Cut after the connection joins{f', e.g. at {joins}' if joins else ''}")
    return depends_on_input


def modifies_argument_in_place(node: torch.fx.Node, net: nn.Module) -> bool:
    if node.kwargs.get("inplace") is True:
        return True
    if node.op == "call_module":
        return getattr(net.get_submodule(node.target), "inplace", False) is True
    if node.op == "call_method":
        return node.target.endswith("_") and not node.target.startswith("__")
    if node.op == "call_function":
        return getattr(node.target, "__name__", "").endswith("_") or node.target in (operator.iadd, operator.imul)
    return False


def features_graph(before_cut, cut, channels_last):
    graph, copies = torch.fx.Graph(), {}
    for node in before_cut:
        copies[node] = graph.node_copy(node, lambda argument: copies[argument])
    output = copies[cut]
    if channels_last:  # [B, h, w, D] tokens as the contract's [B, D, h, w]
        output = graph.call_method("permute", (output, 0, 3, 1, 2))
    graph.output(output)
    return graph


def head_graph(net, cut, before_cut, after_cut, depends_on_input, channels_last):
    graph = torch.fx.Graph()
    copies = {cut: graph.placeholder("a")}
    if channels_last:
        copies[cut] = graph.call_method("permute", (copies[cut], 0, 2, 3, 1))
    if any(modifies_argument_in_place(user, net) for user in cut.users):
        # pixab calls head on activations that require grad, and on the same activations many times (ablation):
        # an in-place operation on them (DenseNet's F.relu(features, inplace=True)) would fail or change them.
        copies[cut] = graph.call_method("clone", (copies[cut],))
    # Parameters and constants that the head uses and that come before the cut (an attribute used on both sides).
    after = set(after_cut)
    constants, pending = set(), [argument for node in after_cut for argument in node.all_input_nodes
                                 if argument not in after and argument not in depends_on_input]
    while pending:
        node = pending.pop()
        if node not in constants:
            constants.add(node)
            pending.extend(node.all_input_nodes)
    for node in before_cut:
        if node in constants:
            copies[node] = graph.node_copy(node, lambda argument: copies[argument])
    for node in after_cut:
        if node.op == "output":
            # Without the forward's return annotation: GoogLeNet's names its training-mode tuple with aux logits.
            graph.output(torch.fx.map_arg(node.args[0], lambda argument: copies[argument]))
        else:
            copies[node] = graph.node_copy(node, lambda argument: copies[argument])
    return graph


def graph_split_model(net: nn.Module, target_layer: str, channels_last: bool) -> ContractModel:
    """Traces net and cuts its graph after the call of target_layer: the nodes up to it are `features`, the rest
    `head`. Refuses when the head would need any value computed from the input other than the target's output."""
    graph, cut = trace_to_layer(net, target_layer)
    nodes = list(graph.nodes)
    before_cut, after_cut = nodes[:nodes.index(cut) + 1], nodes[nodes.index(cut) + 1:]
    depends_on_input = refuse_skip_connections(target_layer, cut, before_cut, after_cut)
    features = features_graph(before_cut, cut, channels_last)
    head = head_graph(net, cut, before_cut, after_cut, depends_on_input, channels_last)
    # Each GraphModule holds only the submodules and parameters that its graph uses, under their names in net.
    return ContractModel(torch.fx.GraphModule(net, features, class_name="UpToTarget"),
                         torch.fx.GraphModule(net, head, class_name="AfterTarget"))


# ---- torchvision architectures: families and their default target layers.

def last_relu_before_pool(net):
    """VGG and AlexNet: `features` ends with the last convolution, its ReLU and a max-pool; the ReLU's output is the
    last convolutional activations at full resolution (Grad-CAM's VGG16 layer, relu5_3)."""
    last_pool = len(net.features) - 1
    assert isinstance(net.features[last_pool], nn.MaxPool2d) and isinstance(net.features[last_pool - 1], nn.ReLU)
    return f"features.{last_pool - 1}"


def swin_channels_last(layer):
    """Swin's stages and final norm work on [B, h, w, D] tokens; the patch embedding's convolution (features.0.0) and
    the head from `permute` on work on [B, D, h, w]."""
    return (layer in ("features", "norm") or layer.startswith("features.")) and not layer.startswith("features.0.0")


class Family(typing.NamedTuple):
    title: str
    prefixes: tuple  # the torchvision architecture names that start with one of these
    default_layer: typing.Union[str, typing.Callable[[nn.Module], str], None]
    layer_meaning: str  # for --list
    channels_last: typing.Callable[[str], bool] = lambda layer: False  # whether a layer's output is [B, h, w, D]
    refusal: typing.Optional[str] = None


FAMILIES = [
    Family("ResNet, Wide ResNet, ResNeXt", ("resnet", "wide_resnet", "resnext"), "layer4", "the last residual stage"),
    Family("VGG", ("vgg",), last_relu_before_pool, "the last convolution's ReLU, before the last max-pool"),
    Family("AlexNet", ("alexnet",), last_relu_before_pool, "the last convolution's ReLU, before the last max-pool"),
    Family("Inception V3", ("inception_v3",), "Mixed_7c", "the last Inception block"),
    Family("GoogLeNet", ("googlenet",), "inception5b", "the last Inception block"),
    Family("DenseNet", ("densenet",), "features", "the last dense block and its batch norm (norm5)"),
    Family("MobileNet V2, V3", ("mobilenet",), "features", "the last convolution block (1x1 conv, norm, activation)"),
    Family("EfficientNet, EfficientNet V2", ("efficientnet",), "features",
           "the last convolution block (1x1 conv, norm, SiLU)"),
    Family("RegNet", ("regnet",), "trunk_output", "the last stage"),
    Family("ConvNeXt", ("convnext",), "features", "the last stage"),
    Family("ShuffleNet V2", ("shufflenet",), "conv5", "the last convolution block (1x1 conv, norm, ReLU)"),
    Family("SqueezeNet", ("squeezenet",), "features", "the last Fire module"),
    Family("MNASNet", ("mnasnet",), "layers", "the last convolution block (1x1 conv, norm, ReLU)"),
    Family("MaxViT", ("maxvit",), "blocks.3", "the last stage"),
    Family("Swin, Swin V2", ("swin",), "features", "the last stage, tokens as [B, D, h, w]",
           channels_last=swin_channels_last),
    Family("Vision Transformer", ("vit_",), None, "refused", refusal=(
        "a ViT's classifier reads the class token, which every block mixes with the patch tokens. The contract's "
        "features are a [B, D, h, w] grid of patch tokens, without the class token, and the head cannot compute the "
        "logits without it: the class token crosses the cut, so head(features(x)) would not be forward(x). Swin "
        "(no class token) exports as [B, D, h, w]")),
]


def family_of(arch):
    return next((family for family in FAMILIES if arch.startswith(family.prefixes)), None)


def default_layer(family, net):
    layer = family.default_layer
    return layer(net) if callable(layer) else layer


def build_torchvision(arch, weights):
    options = {}
    if arch in ("inception_v3", "googlenet") and weights is None:
        # Random weights as torchvision builds the pretrained ones: with transform_input=True (turned into metadata by
        # input_normalisation), so that random and pretrained exports share their preprocessing. Without the
        # auxiliary classifiers, which only run in training mode (the pretrained builds keep them, unused: torchvision
        # refuses aux_logits=False with weights). torchvision's initialisation, without its warning about the default.
        options = {"aux_logits": False, "transform_input": True, "init_weights": True}
    return models.get_model(arch, weights=weights, **options)


def input_normalisation(net, preset):
    """The mean and std pixab must apply so that the network sees exactly what torchvision's pipeline gives it."""
    if getattr(net, "transform_input", False):
        # Inception's and GoogLeNet's transform_input turns ImageNet-normalised input back into (x - 0.5) / 0.5, the
        # normalisation Google's weights were trained with. Writing that into the metadata and skipping the
        # transform is the same function with one normalisation instead of two.
        return [0.5] * 3, [0.5] * 3
    return list(preset.mean), list(preset.std)


def resolve_weights(arch, name):
    """The weights enum entry for --weights (None for 'none') and the entry whose preprocessing to record."""
    enum = models.get_model_weights(arch)
    # Only weights of the whole ImageNet classifier (vgg16's IMAGENET1K_FEATURES has no classifier).
    classifiers = [member for member, weights in enum.__members__.items()
                   if len(weights.meta.get("categories") or []) == IMAGENET_CLASSES]
    if name == "none":
        # Random weights have no preprocessing of their own: record the architecture's original one (V1, or the
        # first weights where there is no V1: regnet_y_128gf).
        return None, enum[classifiers[0] if "IMAGENET1K_V1" not in classifiers else "IMAGENET1K_V1"]
    if name not in classifiers:
        raise ExportRefused(f"--weights {name}: {arch} has {', '.join(classifiers)} or none")
    return enum[name], enum[name]


# ---- The two kinds of model. Each gives the network as built (eval mode), its metadata, the split into the
# contract's model, and the normalisation under which the network's own forward gives the reference logits.

class Source(typing.NamedTuple):
    net: nn.Module
    meta: dict
    split: typing.Callable[[], ContractModel]
    reference_mean: list
    reference_std: list


def torchvision_source(args):
    if args.arch not in models.list_models(module=models):
        raise ExportRefused(f"--arch {args.arch}: not a classification architecture of torchvision "
                            f"{torchvision.__version__} (--list shows them)")
    family = family_of(args.arch)
    if family and family.refusal:
        raise ExportRefused(f"--arch {args.arch} is refused: {family.refusal}")
    if family is None and not args.layer:
        raise ExportRefused(f"--arch {args.arch}: no default target layer is known for it; choose one with --layer")
    weights, preset = resolve_weights(args.arch, args.weights)
    torch.manual_seed(args.seed)
    try:
        net = build_torchvision(args.arch, weights).eval()
    except (urllib.error.URLError, OSError) as error:
        raise ExportRefused(f"could not get the {args.arch} weights {args.weights} ({error}). Run on a machine with "
                            f"internet access, or copy {weights.url if weights else 'the file'} into "
                            f"{torch.hub.get_dir()}/checkpoints/") from error
    default = default_layer(family, net) if family else None
    layer = args.layer or default
    hand = HAND_SPLITS.get(args.arch) if layer == default else None
    transforms = preset.transforms()
    mean, std = input_normalisation(net, transforms)
    crop, resize_to = transforms.crop_size[0], transforms.resize_size[0]
    meta = {
        "name": args.arch,
        "input_size": [crop, crop],
        "channels": 3,
        "mean": mean,
        "std": std,
        "resize": {"mode": "resize_then_center_crop", "resize_to": resize_to},
        "num_classes": IMAGENET_CLASSES,
        # Random weights give meaningless scores: generic names say so where ImageNet's would mislead.
        "labels": list(weights.meta["categories"]) if weights else generic_labels(IMAGENET_CLASSES),
        "target_layer": hand.target_layer if hand else layer,
        "weights": weights.name if weights else "none",  # DEFAULT's real name
        "exported_by": EXPORTED_BY,
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
    }
    if weights:
        meta["weights_url"] = weights.url
        meta["imagenet_top1"] = weights.meta["_metrics"]["ImageNet-1K"]["acc@1"]
    else:
        meta["seed"] = args.seed

    def split():
        if hand:
            return hand_split_model(hand.split, net)
        # The metadata's mean and std do transform_input's work (input_normalisation); the hand split of Inception
        # leaves the transform out, the graph split of a copy without it.
        traced = net
        if getattr(net, "transform_input", False):
            traced = copy.deepcopy(net)
            traced.transform_input = False
        return graph_split_model(traced, layer, family is not None and family.channels_last(layer))

    # The reference logits: torchvision's network on torchvision's normalisation (transform_input included).
    return Source(net, meta, split, list(transforms.mean), list(transforms.std))


def generic_labels(count):
    return [f"class_{c}" for c in range(count)]


def import_factory(spec):
    """`pkg.mod:factory`, importable from the current folder or PYTHONPATH."""
    module_name, _, factory_name = spec.partition(":")
    if not module_name or not factory_name:
        raise ExportRefused(f"--module {spec}: expected MODULE:FACTORY, e.g. mynets:flowers_resnet18")
    sys.path.insert(0, os.getcwd())  # as `python3 -m` does; a script's own folder (tools/) is there instead
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ExportRefused(f"--module {spec}: cannot import {module_name} ({error}); run from the folder that "
                            f"holds it or add that folder to PYTHONPATH") from error
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise ExportRefused(f"--module {spec}: {module_name} has no function {factory_name}")
    return factory


def load_state_dict(net, path):
    try:
        state = torch.load(path, map_location="cpu")
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:  # missing, not a torch.save file
        raise ExportRefused(f"--weights {path}: cannot read it ({error})") from error
    if not isinstance(state, collections.abc.Mapping):
        raise ExportRefused(f"--weights {path}: holds a {type(state).__name__}, expected a state_dict "
                            f"(torch.save(model.state_dict(), FILE))")
    try:
        net.load_state_dict(state)
    except RuntimeError as error:  # missing, unexpected or misshapen keys, each named by torch
        raise ExportRefused(f"--weights {path} does not fit the factory's model: {error}") from error


def module_source(args):
    height, width = args.input_size
    resize = resize_mode(args.resize, height, width)
    labels = read_labels(args.labels) if args.labels else None
    factory = import_factory(args.module)
    torch.manual_seed(args.seed)
    net = factory()
    if not isinstance(net, nn.Module):
        raise ExportRefused(f"--module {args.module}: the factory returned a {type(net).__name__}, not an nn.Module")
    if args.weights != "none":
        load_state_dict(net, args.weights)
    net.eval()
    meta = {
        "name": args.module.partition(":")[2],
        "input_size": [height, width],
        "channels": len(args.mean),
        "mean": args.mean,
        "std": args.std,
        "resize": resize,
        "num_classes": None,  # and labels without --labels: known once the check has run forward (complete_meta)
        "labels": labels,
        "target_layer": args.layer,
        "module": args.module,
        "weights": "none" if args.weights == "none" else os.path.basename(args.weights),
        "exported_by": EXPORTED_BY,
        "torch_version": torch.__version__,
    }
    if args.weights == "none":
        meta["seed"] = args.seed
    else:
        with open(args.weights, "rb") as file:
            meta["weights_sha256"] = hashlib.sha256(file.read()).hexdigest()
    # The user's network gets exactly the metadata's normalisation.
    return Source(net, meta, lambda: graph_split_model(net, args.layer, channels_last=False), args.mean, args.std)


def resize_mode(text, height, width):
    if text == "stretch":
        return {"mode": "stretch"}
    if not text.isdigit() or int(text) < max(height, width):
        raise ExportRefused(f"--resize {text}: expected stretch, or the shorter side's length before the centre "
                            f"crop, at least the larger input side ({max(height, width)})")
    return {"mode": "resize_then_center_crop", "resize_to": int(text)}


def read_labels(path):
    """Class names in class order, one a line."""
    with open(path, encoding="utf-8") as file:
        return [line.strip() for line in file if line.strip()]


def read_wnids(path):
    """ImageNet synset ids in class order: the first token of each line (LOC_synset_mapping.txt's format)."""
    with open(path, encoding="utf-8") as file:
        wnids = [line.split()[0] for line in file if line.strip()]
    bad = [w for w in wnids if not re.fullmatch(r"n\d{8}", w)]
    if len(wnids) != IMAGENET_CLASSES or bad:
        raise ExportRefused(f"{path}: expected {IMAGENET_CLASSES} lines starting with a synset id (nXXXXXXXX), got "
                            f"{len(wnids)} lines{', e.g. ' + repr(bad[0]) if bad else ''}")
    if wnids != sorted(wnids):
        # torchvision's class indices are the sorted synset ids; another order would mislabel every box.
        raise ExportRefused(f"{path}: the synset ids are not in ImageNet's (sorted) class order")
    return wnids


# ---- Checks and writing.

def max_relative_difference(actual, expected):
    return ((actual - expected).abs().max() / max(1.0, expected.abs().max().item())).item()


def check_export(scripted, source):
    """Refuses to write a file that pixab would reject or that computes something else than the original model:
    on two images of random pixels, head(features(x)) and forward(x) must equal the original model's forward."""
    meta = source.meta
    height, width = meta["input_size"]
    pixels = torch.rand(2, meta["channels"], height, width, generator=torch.Generator().manual_seed(CHECK_SEED))

    def normalise(mean, std):
        return (pixels - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)

    x = normalise(meta["mean"], meta["std"])
    with torch.no_grad():
        try:
            reference = source.net(normalise(source.reference_mean, source.reference_std))
        except RuntimeError as error:  # e.g. a --module model given another --input-size than it takes
            raise ExportRefused(f"the model's forward fails on a batch {list(pixels.shape)}: {error}") from error
        activations = scripted.features(x)
        logits = scripted(x)
    if activations.dim() != 4:
        raise ExportRefused(f"features gives {list(activations.shape)}, expected a feature map [B, K, h, w]")
    if not isinstance(reference, Tensor) or reference.dim() != 2 or reference.shape[0] != 2:
        raise ExportRefused(f"the model's forward gives {describe_value(reference)}, expected logits [2, classes]")
    if meta["num_classes"] not in (None, reference.shape[1]):
        raise ExportRefused(f"the model's forward gives {reference.shape[1]} classes, expected {meta['num_classes']}")
    # As pixab computes gradients at the target layer: on activations that require grad, which are used again.
    target_activations = activations.clone().requires_grad_()
    try:
        split = scripted.head(target_activations)
        split[:, 0].sum().backward()
    except (RuntimeError, IndexError) as error:  # e.g. an in-place operation on the activations
        raise ExportRefused(f"head fails on activations that require grad: {error}") from error
    problems = []
    if target_activations.grad is None:
        problems.append("no gradient reaches the target layer from the logits")
    if not torch.equal(target_activations.detach(), activations):
        problems.append("head modifies its input in place")
    for name, value in (("head(features(x))", split.detach()), ("forward(x)", logits)):
        if value.shape != reference.shape:
            problems.append(f"{name} gives {list(value.shape)}, the model's forward {list(reference.shape)}")
            continue
        difference = max_relative_difference(value, reference)
        if not difference <= RELATIVE_TOLERANCE:  # NaN too
            problems.append(f"{name} differs from the model's forward by {difference:.3g} (relative to the largest "
                            f"logit), over {RELATIVE_TOLERANCE:g}")
    if problems:
        raise ExportRefused("the export breaks the model contract: " + "; ".join(problems))
    return list(activations.shape[1:]), reference.shape[1]


def describe_value(value):
    return f"a tensor {list(value.shape)}" if isinstance(value, Tensor) else f"a {type(value).__name__}"


def complete_classes(meta, num_classes):
    """A --module model's class count comes from its forward; its labels from --labels, or generic names."""
    meta["num_classes"] = num_classes
    if meta["labels"] is None:
        meta["labels"] = generic_labels(num_classes)
    elif len(meta["labels"]) != num_classes:
        raise ExportRefused(f"--labels: {len(meta['labels'])} names for a model of {num_classes} classes")


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


def list_architectures():
    print(f"torchvision {torchvision.__version__}: architecture, family, default --layer")
    for arch in sorted(models.list_models(module=models)):
        family = family_of(arch)
        if family is None:
            print(f"{arch:20} {'(unknown)':30} none: choose one with --layer")
        elif family.refusal:
            print(f"{arch:20} {family.title:30} refused: the class token crosses the cut")
        else:
            layer = family.default_layer if isinstance(family.default_layer, str) else "features.N"
            print(f"{arch:20} {family.title:30} {layer}: {family.layer_meaning}")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="docs/architectures.md: families, default layers, your own model")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--arch", metavar="NAME", help="a torchvision classification architecture (--list)")
    source.add_argument("--module", metavar="PKG.MOD:FACTORY",
                        help="your own nn.Module: a function of an importable module (current folder or PYTHONPATH) "
                             "that returns it")
    source.add_argument("--list", action="store_true",
                        help="list torchvision's architectures with their family and default --layer, and exit")
    parser.add_argument("--weights",
                        help="--arch: DEFAULT (torchvision's current best), a weights name such as IMAGENET1K_V1 "
                             "(pins the weights across torchvision releases), or none (seeded random weights, no "
                             "download); --module: a state_dict file (torch.save(model.state_dict(), FILE)) or none")
    parser.add_argument("--layer", metavar="DOTTED.NAME",
                        help="the target layer, a submodule's name as in named_modules() (e.g. layer3, "
                             "features.12); --arch: default the family's last convolutional block")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights (--weights none)")
    parser.add_argument("--input-size", type=int, nargs=2, metavar=("H", "W"), help="--module: the input size")
    parser.add_argument("--mean", type=float, nargs="+", metavar="M",
                        help="--module: per-channel mean subtracted from pixels in [0, 1]")
    parser.add_argument("--std", type=float, nargs="+", metavar="S", help="--module: per-channel std divided by")
    parser.add_argument("--resize", default="stretch", metavar="N|stretch",
                        help="--module: resize the shorter side to N then centre-crop the input size, or stretch "
                             "to it (default)")
    parser.add_argument("--labels", metavar="FILE", help="--module: class names in class order, one a line")
    parser.add_argument("--wnids", metavar="FILE",
                        help="ImageNet synset ids in class order, one per line as the first token (e.g. "
                             "LOC_synset_mapping.txt): stored as the model's wnids, to read ImageNet annotations")
    parser.add_argument("--out", help="model file to write")
    args = parser.parse_args(argv)
    if not args.list:
        for option in ("weights", "out"):
            if getattr(args, option) is None:
                parser.error(f"--{option} is required")
        if args.arch:
            given = [f"--{name.replace('_', '-')}" for name in ("input_size", "mean", "std", "labels")
                     if getattr(args, name) is not None] + (["--resize"] if args.resize != "stretch" else [])
            if given:
                parser.error(f"{', '.join(given)}: only with --module (--arch records torchvision's preprocessing)")
        if args.module:
            missing = [f"--{name.replace('_', '-')}" for name in ("layer", "input_size", "mean", "std")
                       if getattr(args, name) is None]
            if missing:
                parser.error(f"--module needs {', '.join(missing)}")
            if len(args.mean) != len(args.std) or min(args.std) <= 0:
                parser.error("--mean and --std need one value per input channel, and std > 0")
    return args


def export(args):
    wnids = read_wnids(args.wnids) if args.wnids else None  # before the slow part: a bad file fails at once
    source = torchvision_source(args) if args.arch else module_source(args)
    contract_model = source.split().eval()
    try:
        scripted = torch.jit.script(contract_model)
    except Exception as error:  # TorchScript's compile errors are of several kinds, each naming the code
        raise ExportRefused(f"TorchScript cannot compile the split model ({type(error).__name__}: {error}); every "
                            f"module of the model must be scriptable") from error
    target_shape, num_classes = check_export(scripted, source)
    meta = source.meta
    if meta["num_classes"] is None:
        complete_classes(meta, num_classes)
    if wnids:
        if len(wnids) != meta["num_classes"]:
            raise ExportRefused(f"--wnids: {len(wnids)} synset ids for a model of {meta['num_classes']} classes")
        meta["wnids"] = wnids
    save_atomically(scripted, meta, args.out)
    return meta, target_shape


def main(argv):
    args = parse_arguments(argv)
    if args.list:
        list_architectures()
        return
    try:
        meta, target_shape = export(args)
    except ExportRefused as refusal:
        sys.exit(f"{TOOL}: {refusal}")
    resize = meta["resize"]
    print(f"wrote {args.out}: {meta['name']}, weights {meta['weights']}, target layer {meta['target_layer']} "
          f"{'x'.join(map(str, target_shape))} at input {meta['input_size'][0]}x{meta['input_size'][1]} "
          f"({'stretch' if resize['mode'] == 'stretch' else 'resize ' + str(resize['resize_to']) + ', centre crop'})")


if __name__ == "__main__":
    main(sys.argv[1:])
