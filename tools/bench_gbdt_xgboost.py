#!/usr/bin/env python3
"""polyphon's GBDT (perpetual) against Python XGBoost on the same features, in one run.

Run with a venv from tools/requirements-instruments.txt (xgboost 3.0.5, scikit-learn 1.7.2):

    .venv-instruments/bin/python tools/bench_gbdt_xgboost.py \
        --polyphon target/release/polyphon --data data/notes/notes.jsonl --task single --work /tmp/bench

Steps, all in this run:
  1. `polyphon train instruments --task T --data M --out WORK/run --export-features WORK/features`:
     polyphon extracts the pooled log-mel features, trains (its boosting time is read from
     WORK/run/config.json) and writes every split's features as .npy;
  2. `polyphon eval instruments --model WORK/run --split test --json`: test scores and
     polyphon's prediction time (features excluded);
  3. XGBoost on WORK/features: `multi:softprob` for single-label, one `binary:logistic`
     output per family for multi-label (XGBoost's multi-label mode), `hist` trees, early
     stopping on the valid split (20 rounds); test scores with scikit-learn.
With --reuse, step 1 is skipped and WORK/run, WORK/features of an earlier run are used (the
training time is then the one that run recorded). Both use every core (`nthread` = os.cpu_count()). The table gives training time, prediction
time for the test split, and the test scores.
"""

import argparse
import json
import os
import pathlib
import subprocess
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import accuracy_score, average_precision_score, hamming_loss

THREADS = os.cpu_count()


def run_polyphon(args, work):
    run = work / "run"
    features = work / "features"
    if args.reuse:
        print(f"reusing the polyphon run in {run} and its features in {features}")
    else:
        train_cmd = [args.polyphon, "train", "instruments", "--model", "gbdt", "--task", args.task,
                     "--data", args.data, "--out", str(run), "--export-features", str(features)]
        subprocess.run(train_cmd, check=True)
    config = json.loads((run / "config.json").read_text())
    eval_cmd = [args.polyphon, "eval", "instruments", "--model", str(run), "--data", args.data,
                "--split", "test", "--json"]
    scores = json.loads(subprocess.run(eval_cmd, check=True, capture_output=True, text=True).stdout)
    return config, scores, features


def load(features, split):
    return np.load(features / f"{split}_x.npy"), np.load(features / f"{split}_y.npy")


def xgboost_single(features, seed):
    (xt, yt), (xv, yv), (xs, ys) = (load(features, s) for s in ("train", "valid", "test"))
    model = xgb.XGBClassifier(objective="multi:softprob", tree_method="hist", n_estimators=1000,
                              learning_rate=0.1, max_depth=6, early_stopping_rounds=20,
                              nthread=THREADS, random_state=seed)
    start = time.perf_counter()
    model.fit(xt, yt.argmax(1), eval_set=[(xv, yv.argmax(1))], verbose=False)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict_proba(xs).argmax(1)
    predict_seconds = time.perf_counter() - start
    scores = {"accuracy": accuracy_score(ys.argmax(1), predicted)}
    return train_seconds, predict_seconds, model.best_iteration + 1, scores, len(xs)


def xgboost_multi(features, seed):
    (xt, yt), (xv, yv), (xs, ys) = (load(features, s) for s in ("train", "valid", "test"))
    model = xgb.XGBClassifier(objective="binary:logistic", tree_method="hist", n_estimators=1000,
                              learning_rate=0.1, max_depth=6, early_stopping_rounds=20,
                              nthread=THREADS, random_state=seed)
    start = time.perf_counter()
    model.fit(xt, yt.astype(int), eval_set=[(xv, yv.astype(int))], verbose=False)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    proba = model.predict_proba(xs)
    predict_seconds = time.perf_counter() - start
    truth, predicted = ys.astype(int), (proba >= 0.5).astype(int)
    scores = {
        "exact_match": accuracy_score(truth, predicted),
        "hamming_accuracy": 1 - hamming_loss(truth, predicted),
        "mean_average_precision": average_precision_score(truth, proba, average="macro"),
    }
    return train_seconds, predict_seconds, model.best_iteration + 1, scores, len(xs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--polyphon", default="target/release/polyphon")
    parser.add_argument("--data", required=True)
    parser.add_argument("--task", choices=["single", "multi"], default="single")
    parser.add_argument("--work", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reuse", action="store_true",
                        help="skip step 1: WORK/run and WORK/features exist from an earlier run")
    args = parser.parse_args()
    work = pathlib.Path(args.work)
    config, ours, features = run_polyphon(args, work)
    bench = xgboost_single if args.task == "single" else xgboost_multi
    train_s, predict_s, rounds, theirs, n_test = bench(features, args.seed)

    keys = ["accuracy"] if args.task == "single" else ["exact_match", "hamming_accuracy", "mean_average_precision"]
    print(f"\n{args.task}-label, {config['train_files']} train / {config['valid_files']} valid / "
          f"{n_test} test files, {THREADS} threads")
    print(f"{'':28}{'polyphon (perpetual)':>22}{'XGBoost ' + xgb.__version__:>18}")
    print(f"{'training (s)':28}{config['train_seconds']:>22.2f}{train_s:>18.2f}")
    print(f"{'trees per class kept':28}{str(config['trees_per_class']):>22}{rounds:>18}")
    ours_predict = ours["seconds"]["predict"]
    print(f"{'test prediction (files/s)':28}{n_test / ours_predict:>22.0f}{n_test / predict_s:>18.0f}")
    for key in keys:
        print(f"{'test ' + key:28}{ours[key]:>22.4f}{theirs[key]:>18.4f}")
    print(f"(polyphon's feature extraction, not in the times above: {config['feature_seconds']:.1f} s "
          f"for train + valid)")


if __name__ == "__main__":
    main()
