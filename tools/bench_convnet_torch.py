#!/usr/bin/env python3
"""Time the Kelz et al. 2016 ConvNet's inference in PyTorch and ONNX Runtime on the CPU.

Called by `polyphon bench transcription`, which times polyphon's ConvNet on the same number of
frames in the same run. The network is the one of crates/polyphon-models (1,877,880 Lasagne-
counted parameters): conv3x3 32 same, conv3x3 32 valid, max-pool 1x2, conv3x3 64 valid,
max-pool 1x2, dense 512 (no bias) + BN, dense 88; convolutions without bias, each followed by
batch norm and ReLU. Weights are random (speed does not depend on them). Input: frames of
229 log-filtered bins with 2 frames of context on both sides, in batches of --batch frames,
as polyphon predicts them.

Prints one JSON object: frames per second (best of --repeat) per runtime and thread count,
and the versions. Versions are pinned in tools/requirements-torch.txt.
"""
import argparse
import json
import tempfile
import time

import numpy as np
import torch
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


def windows(features):
    """(frames, bins) -> (frames, 1, 5, bins), edge frames repeated as polyphon does."""
    padded = np.pad(features, ((CONTEXT // 2, CONTEXT // 2), (0, 0)), mode="edge")
    stacked = np.lib.stride_tricks.sliding_window_view(padded, (CONTEXT, BINS))[:, 0]
    return np.ascontiguousarray(stacked[:, None], dtype=np.float32)


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
    args = parser.parse_args()

    torch.manual_seed(2016)
    model = convnet()
    features = np.random.default_rng(2016).standard_normal((args.frames, BINS)).astype(np.float32)
    batches = [windows(features[i:i + args.batch]) for i in range(0, args.frames, args.batch)]
    result = {"torch_version": torch.__version__, "frames": args.frames}

    def run_torch():
        with torch.inference_mode():
            for batch in batches:
                model(torch.from_numpy(batch))

    for threads in args.threads:
        torch.set_num_threads(threads)
        run_torch()  # warm-up
        result[f"torch_{threads}"] = best_rate(run_torch, args.frames, args.repeat)

    try:
        import onnxruntime as ort
        with tempfile.NamedTemporaryFile(suffix=".onnx") as handle:
            torch.onnx.export(model, (torch.from_numpy(batches[0]),), handle.name,
                              input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "frames"}, "y": {0: "frames"}})
            result["onnxruntime_version"] = ort.__version__
            for threads in args.threads:
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                session = ort.InferenceSession(handle.name, options,
                                               providers=["CPUExecutionProvider"])

                def run_onnx():
                    for batch in batches:
                        session.run(None, {"x": batch})

                run_onnx()
                result[f"onnxruntime_{threads}"] = best_rate(run_onnx, args.frames, args.repeat)
    except ImportError:
        pass
    print(json.dumps(result))


if __name__ == "__main__":
    main()
