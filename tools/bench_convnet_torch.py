#!/usr/bin/env python3
"""Time the Kelz et al. 2016 ConvNet's inference in PyTorch and ONNX Runtime on the CPU.

Called by `polyphon bench transcription`, which times polyphon's ConvNet on the same number of
frames in the same run. The network is the one of crates/polyphon-models (1,877,880 Lasagne-
counted parameters): conv3x3 32 same, conv3x3 32 valid, max-pool 1x2, conv3x3 64 valid,
max-pool 1x2, dense 512 (no bias) + BN, dense 88; convolutions without bias, each followed by
batch norm and ReLU. Weights are random (speed does not depend on them). Input: frames of
229 log-filtered bins with 2 frames of context on both sides, in batches of --batch frames,
as polyphon predicts them.

Each runtime is timed in two formulations of the same function: per window (every frame's
5-frame window convolved on its own, as the network is defined) and shared (the convolutions
computed once over the sequence, with the window-edge terms the per-window network's zero
padding implies, as polyphon's native engine computes them; see
crates/polyphon-models/src/transcription/native.rs). The script checks that both give the same
probabilities before timing them.

With --train-steps, the training throughput of both formulations too: Adam steps on binary
cross-entropy, dropout and batch norm in training mode, all --threads.

Prints one JSON object: frames per second (best of --repeat) per runtime, formulation and
thread count, and the versions. Versions are pinned in tools/requirements-torch.txt.
"""
import argparse
import json
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

BINS = 229
CONTEXT = 5


def conv_bn(inputs, outputs, padding):
    return [nn.Conv2d(inputs, outputs, 3, padding=padding, bias=False),
            nn.BatchNorm2d(outputs), nn.ReLU()]


def convnet():
    return nn.Sequential(
        *conv_bn(1, 32, 1),
        *conv_bn(32, 32, 0), nn.MaxPool2d((1, 2)), nn.Dropout(0.25),
        *conv_bn(32, 64, 0), nn.MaxPool2d((1, 2)), nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64 * 55, 512, bias=False), nn.BatchNorm1d(512), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(512, 88),
        nn.Sigmoid(),
    ).eval()


class Shared(nn.Module):
    """The per-window ConvNet's outputs for every frame of a sequence, its convolutions shared.

    Input: (sequences, 1, frames + 4, bins), each sequence with 2 frames of context at both
    ends. Output: (sequences * frames, 88).
    """

    def __init__(self, net):
        super().__init__()
        self.conv1, self.bn1 = net[0], net[1]
        self.conv2, self.bn2, self.drop2 = net[3], net[4], net[7]
        self.conv3, self.bn3, self.drop3 = net[8], net[9], net[12]
        self.dense = net[14:]

    def forward(self, x):
        rows = x.shape[2]
        count = rows - 4
        w1, w2 = self.conv1.weight, self.conv2.weight
        a0, a1, a2 = (F.conv2d(x, w1[:, :, k:k + 1], padding=(0, 1)) for k in range(3))
        act1 = lambda v: F.relu(self.bn1(v))  # noqa: E731
        full = act1(a0[:, :, :rows - 2] + a1[:, :, 1:rows - 1] + a2[:, :, 2:])
        top = act1(a1[:, :, :count] + a2[:, :, 1:count + 1])
        bottom = act1(a0[:, :, 3:rows - 1] + a1[:, :, 4:])
        p0, p1, p2 = (F.conv2d(full, w2[:, :, k:k + 1]) for k in range(3))
        d0 = F.conv2d(top, w2[:, :, :1])
        d2 = F.conv2d(bottom, w2[:, :, 2:])
        q0 = d0 + p1[:, :, :count] + p2[:, :, 1:count + 1]
        q1 = p0[:, :, :count] + p1[:, :, 1:count + 1] + p2[:, :, 2:]
        q2 = p0[:, :, 1:count + 1] + p1[:, :, 2:] + d2
        act2 = lambda v: self.drop2(F.max_pool2d(F.relu(self.bn2(v)), (1, 2)))  # noqa: E731
        # (n, 32, count, 113) x 3 -> (n * count, 32, 3, 113): each window's three rows.
        g = torch.stack([act2(q0), act2(q1), act2(q2)], dim=3).permute(0, 2, 1, 3, 4)
        g = g.reshape(-1, *g.shape[2:])
        h = self.drop3(F.max_pool2d(F.relu(self.bn3(self.conv3(g))), (1, 2)))
        return self.dense(h.flatten(1))  # linear, batch norm, ReLU, dropout, linear, sigmoid


def windows(features):
    """(frames, bins) -> (frames, 1, 5, bins), edge frames repeated as polyphon does."""
    padded = np.pad(features, ((CONTEXT // 2, CONTEXT // 2), (0, 0)), mode="edge")
    stacked = np.lib.stride_tricks.sliding_window_view(padded, (CONTEXT, BINS))[:, 0]
    return np.ascontiguousarray(stacked[:, None], dtype=np.float32)


def sequence(features):
    """(frames, bins) -> (1, 1, frames + 4, bins), edge frames repeated as polyphon does."""
    padded = np.pad(features, ((CONTEXT // 2, CONTEXT // 2), (0, 0)), mode="edge")
    return np.ascontiguousarray(padded[None, None], dtype=np.float32)


def training_rate(module, form, frames, sequence, steps, repeat):
    """Frames per second of Adam steps (binary cross-entropy) in training mode.

    `form` "window": `frames` windows per step; "shared": sequences of `sequence` frames.
    Returns the rate and the frames per step.
    """
    rng = np.random.default_rng(2016)
    if form == "window":
        x = rng.standard_normal((frames, 1, CONTEXT, BINS))
    else:
        count = max(frames // sequence, 1)
        frames = count * sequence
        x = rng.standard_normal((count, 1, sequence + CONTEXT - 1, BINS))
    x = torch.from_numpy(x.astype(np.float32))
    y = torch.from_numpy((rng.random((frames, 88)) < 0.06).astype(np.float32))
    module.train()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    loss_of = nn.BCELoss()

    def run(count):
        for _ in range(count):
            optimizer.zero_grad()
            loss_of(module(x), y).backward()
            optimizer.step()

    run(1)  # warm-up
    rate = best_rate(lambda: run(steps), steps * frames, repeat)
    module.eval()
    return rate, frames


def best_rate(run, frames, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return frames / best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--train-steps", type=int, default=0,
                        help="Adam steps per training measurement (0: none)")
    parser.add_argument("--train-batch", type=int, default=512, help="frames per step")
    parser.add_argument("--train-sequence", type=int, default=128,
                        help="frames per sequence (shared formulation)")
    args = parser.parse_args()

    torch.manual_seed(2016)
    model = convnet()
    # Batch-norm statistics away from the identity, so the formulations are compared on
    # something a trained network has.
    for layer in model:
        if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            layer.running_mean.uniform_(-0.5, 0.5)
            layer.running_var.uniform_(0.5, 2.0)
    shared = Shared(model).eval()
    features = np.random.default_rng(2016).standard_normal((args.frames, BINS)).astype(np.float32)
    chunks = [features[i:i + args.batch] for i in range(0, args.frames, args.batch)]
    inputs = {
        "window": [windows(chunk) for chunk in chunks],
        "shared": [sequence(chunk) for chunk in chunks],
    }
    modules = {"window": model, "shared": shared}
    with torch.inference_mode():
        a = model(torch.from_numpy(inputs["window"][0]))
        b = shared(torch.from_numpy(inputs["shared"][0]))
    worst = float((a - b).abs().max())
    assert worst < 1e-4, f"the shared formulation differs from the per-window one by {worst}"
    result = {"torch_version": torch.__version__, "frames": args.frames, "shared_check": worst}

    for form, module in modules.items():
        def run_torch():
            with torch.inference_mode():
                for batch in inputs[form]:
                    module(torch.from_numpy(batch))

        for threads in args.threads:
            torch.set_num_threads(threads)
            run_torch()  # warm-up
            result[f"torch_{form}_{threads}"] = best_rate(run_torch, args.frames, args.repeat)

    if args.train_steps:
        torch.set_num_threads(max(args.threads))
        for form, module in modules.items():
            rate, frames = training_rate(module, form, args.train_batch, args.train_sequence,
                                         args.train_steps, min(args.repeat, 2))
            result[f"torch_train_{form}"] = rate
            result[f"torch_train_{form}_frames"] = frames

    try:
        import onnxruntime as ort
    except ImportError:
        print(json.dumps(result))
        return
    result["onnxruntime_version"] = ort.__version__
    for form, module in modules.items():
        axes = {"x": {0: "frames"}, "y": {0: "frames"}} if form == "window" else \
            {"x": {2: "rows"}, "y": {0: "frames"}}
        with tempfile.NamedTemporaryFile(suffix=".onnx") as handle:
            torch.onnx.export(module, (torch.from_numpy(inputs[form][0]),), handle.name,
                              input_names=["x"], output_names=["y"], dynamic_axes=axes,
                              dynamo=False)
            for threads in args.threads:
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                session = ort.InferenceSession(handle.name, options,
                                               providers=["CPUExecutionProvider"])

                def run_onnx():
                    for batch in inputs[form]:
                        session.run(None, {"x": batch})

                run_onnx()
                result[f"onnxruntime_{form}_{threads}"] = best_rate(run_onnx, args.frames,
                                                                     args.repeat)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
