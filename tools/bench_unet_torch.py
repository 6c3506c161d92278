#!/usr/bin/env python3
"""Time the separation U-Net's inference in PyTorch on the CPU.

Called by `polyphon bench separation`, which times polyphon's U-Net on the same windows in
the same run. The network is crates/polyphon-models/src/separation/unet.rs: seven 5x5
stride-2 convolutions (8, 16, 32, 64, 64, 64, 64 channels) each with batch norm and leaky
ReLU 0.2, seven 5x5 stride-2 transposed convolutions back (batch norm, ReLU, dropout in the
three deepest, inactive at inference) with skip concatenations, the last one giving 2 mask
logits, softmax across sources. Weights are random (speed does not depend on them).
Input: windows of 512 frames x 512 bins, one at a time, as `polyphon separate` runs them.

Prints one JSON object: windows per second (best of --repeat) per thread count and the torch
version. Versions are pinned in tools/requirements-torch.txt.
"""
import argparse
import json
import time

import torch
from torch import nn

WIDTHS = [8, 16, 32, 64, 64, 64, 64]


class UNet(nn.Module):
    def __init__(self, sources=2):
        super().__init__()
        self.down = nn.ModuleList()
        inputs = 1
        for width in WIDTHS:
            self.down.append(nn.Sequential(
                nn.Conv2d(inputs, width, 5, stride=2, padding=2),
                nn.BatchNorm2d(width), nn.LeakyReLU(0.2)))
            inputs = width
        self.up = nn.ModuleList()
        for i in range(len(WIDTHS)):
            level = len(WIDTHS) - 1 - i
            width_in = WIDTHS[level] if i == 0 else 2 * WIDTHS[level]
            if level == 0:
                self.up.append(nn.ConvTranspose2d(width_in, sources, 5, stride=2, padding=2,
                                                  output_padding=1))
            else:
                layers = [nn.ConvTranspose2d(width_in, WIDTHS[level - 1], 5, stride=2,
                                             padding=2, output_padding=1),
                          nn.BatchNorm2d(WIDTHS[level - 1]), nn.ReLU()]
                if i < 3:
                    layers.append(nn.Dropout(0.5))
                self.up.append(nn.Sequential(*layers))

    def forward(self, x):
        skips = []
        for level in self.down:
            x = level(x)
            skips.append(x)
        skips.pop()
        for level in self.up:
            x = level(x)
            if skips:
                x = torch.cat([x, skips.pop()], 1)
        return torch.softmax(x, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    args = parser.parse_args()
    torch.manual_seed(0)
    model = UNet().eval()
    window = torch.rand(1, 1, 512, 512)
    result = {"torch_version": torch.__version__}
    for threads in args.threads:
        torch.set_num_threads(threads)
        with torch.inference_mode():
            model(window)
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                for _ in range(args.windows):
                    model(window)
                best = min(best, time.perf_counter() - start)
        result[f"torch_{threads}"] = args.windows / best
    print(json.dumps(result))


if __name__ == "__main__":
    main()
