#!/usr/bin/python3
"""A hand-written classifier for tools/export_model.py --module (the Arch tests of tiny_resnet): a small residual
network whose blocks add their input to their last convolution's output, so that a cut inside a block has a skip
connection across it (refused) and a cut after a block has none (exported).

Usage: tiny_models.py --save-state-dict FILE   writes tiny_resnet's seeded weights, the tests' --weights file
"""

import argparse

import torch
from torch import Tensor, nn

CLASSES = 10  # tiny_labels.txt has a name for each


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)


class TinyResNet(nn.Module):
    def __init__(self, channels: int = 16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(channels), nn.ReLU())
        self.blocks = nn.Sequential(ResidualBlock(channels), ResidualBlock(channels))
        self.fc = nn.Linear(channels, CLASSES)

    def forward(self, x: Tensor) -> Tensor:
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def tiny_resnet() -> nn.Module:
    return TinyResNet()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--save-state-dict", metavar="FILE", required=True)
    args = parser.parse_args()
    torch.manual_seed(7)
    net = tiny_resnet()
    # Running statistics other than BatchNorm's initial 0 and 1, as a trained network has.
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    torch.save(net.state_dict(), args.save_state_dict)


if __name__ == "__main__":
    main()
