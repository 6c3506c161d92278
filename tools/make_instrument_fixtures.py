#!/usr/bin/env python3
"""Fixtures for polyphon-instruments' metrics: labels, scores and what scikit-learn makes of them.

Run with a venv from tools/requirements-instruments.txt (scikit-learn 1.7.2, numpy 2.2.6):

    python3 -m venv .venv-instruments
    .venv-instruments/bin/pip install -r tools/requirements-instruments.txt
    .venv-instruments/bin/python tools/make_instrument_fixtures.py

Writes crates/polyphon-instruments/tests/fixtures/metrics.json with two kinds of case:

  single   class indices (truth, predicted) and n_classes; accuracy_score and
           confusion_matrix(labels=range(n_classes))
  multi    row-major 0/1 truth, 0/1 predictions (scores >= 0.5) and scores, with k classes;
           precision_recall_fscore_support(average=None, zero_division=0), accuracy_score
           (exact match), 1 - hamming_loss, average_precision_score (average=None and
           "macro") and f1_score(average="macro", zero_division=0)

Scores are rounded to two decimals so that ties occur (average precision groups them); one
multi-label case has a class that is never present (sklearn gives it an AP of 0, with a
warning) and one that is never predicted. Seeded: running twice gives the same file.
"""

import json
import pathlib
import warnings

import numpy as np
import sklearn
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
)

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/polyphon-instruments/tests/fixtures/metrics.json"


def single_case(name, rng, n, k, agreement, never_predicted=None):
    truth = rng.integers(0, k, n)
    predicted = np.where(rng.random(n) < agreement, truth, rng.integers(0, k, n))
    if never_predicted is not None:
        predicted[predicted == never_predicted] = (never_predicted + 1) % k
    return {
        "name": name,
        "n_classes": k,
        "truth": truth.tolist(),
        "predicted": predicted.tolist(),
        "accuracy": accuracy_score(truth, predicted),
        "confusion": confusion_matrix(truth, predicted, labels=list(range(k))).tolist(),
    }


def multi_case(name, rng, n, k, noise, absent=None, never_predicted=None):
    truth = (rng.random((n, k)) < 0.4).astype(int)
    if absent is not None:
        truth[:, absent] = 0
    scores = np.clip(truth * 0.7 + 0.15 + rng.normal(0, noise, (n, k)), 0, 1).round(2)
    if never_predicted is not None:
        scores[:, never_predicted] = np.minimum(scores[:, never_predicted], 0.49)
    predicted = (scores >= 0.5).astype(int)
    p, r, f, s = precision_recall_fscore_support(truth, predicted, average=None, zero_division=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the absent class's "no positive class" warning
        ap = average_precision_score(truth, scores, average=None)
        mean_ap = average_precision_score(truth, scores, average="macro")
    return {
        "name": name,
        "n_classes": k,
        "truth": truth.ravel().tolist(),
        "predicted": predicted.ravel().tolist(),
        "scores": scores.ravel().tolist(),
        "precision": p.tolist(),
        "recall": r.tolist(),
        "f1": f.tolist(),
        "support": s.tolist(),
        "exact_match": accuracy_score(truth, predicted),
        "hamming_accuracy": 1.0 - hamming_loss(truth, predicted),
        "average_precision": ap.tolist(),
        "mean_average_precision": mean_ap,
        "macro_f1": f1_score(truth, predicted, average="macro", zero_division=0),
    }


def main():
    rng = np.random.default_rng(6)
    fixtures = {
        "generator": f"tools/make_instrument_fixtures.py, scikit-learn {sklearn.__version__}, numpy {np.__version__}",
        "single": [
            single_case("four_classes", rng, 300, 4, 0.8),
            single_case("never_predicted", rng, 120, 4, 0.5, never_predicted=2),
        ],
        "multi": [
            multi_case("six_families", rng, 250, 6, 0.25),
            multi_case("absent_and_never_predicted", rng, 80, 6, 0.3, absent=5, never_predicted=1),
        ],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixtures, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
