#!/usr/bin/python3
"""Saves random weights under the file name of a torchvision weights download, in a TORCH_HOME's download cache, so
that tools/export_model.py's path for pretrained weights (torchvision's builder with weights, the weights'
preprocessing and labels) runs offline (Arch.ExportPretrained.*). Only the keys and shapes are torchvision's.

Usage: fake_pretrained.py ARCH WEIGHTS TORCH_HOME
"""

import os
import sys

import torch
from torchvision import models


def main():
    arch, weights_name, torch_home = sys.argv[1:4]
    weights = models.get_model_weights(arch)[weights_name]
    torch.manual_seed(0)
    # torchvision's default build has the modules of the pretrained one (GoogLeNet's auxiliary classifiers too).
    net = models.get_model(arch, num_classes=len(weights.meta["categories"]))
    folder = os.path.join(torch_home, "hub", "checkpoints")
    os.makedirs(folder, exist_ok=True)
    torch.save(net.state_dict(), os.path.join(folder, os.path.basename(weights.url)))


if __name__ == "__main__":
    main()
