"""A small labelled activity task for checking IMU features: walking vs not walking on mobgap's
example recordings, labelled by the INDIP reference system's micro walking bouts, scored
leave-one-participant-out with balanced accuracy (information only; needs scipy)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np

from . import mobgap
from .contract import IMU_LEN, IMU_RATE_HZ


def walking_reference(tar, name: str, rows_25hz: int) -> np.ndarray | None:
    """Per-sample 1 = inside an INDIP micro walking bout (mobgap's reference system), at 25 Hz;
    None when the recording has no reference bouts."""
    import scipy.io

    cohort, pid, fname = name.split("/")
    measure, test, trial = fname[:-len(".csv")].split("_")
    member = f"mobgap-1.2.0/example_data/data/lab/{cohort}/{pid}/data.mat"
    data = scipy.io.loadmat(io.BytesIO(tar.extractfile(member).read()), simplify_cells=True)
    bouts = data["data"][measure][test][trial]["Standards"]["INDIP"]["MicroWB"]
    bouts = [bouts] if isinstance(bouts, dict) else list(bouts)
    if not bouts:
        return None
    walking = np.zeros(rows_25hz)
    for bout in bouts:
        walking[int(bout["Start"] * IMU_RATE_HZ):int(np.ceil(bout["End"] * IMU_RATE_HZ))] = 1
    return walking


def labelled_windows(sdist: Path, recordings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows >= 80 % inside walking bouts (1) or <= 20 % (0), with their participant."""
    windows, labels, people = [], [], []
    with tarfile.open(sdist, "r:gz") as tar:
        for name, rows in recordings:
            rec = mobgap.resample_to_25hz(rows)
            walking = walking_reference(tar, name, rec.shape[0])
            if walking is None:
                continue
            for start in range(0, rec.shape[0] - IMU_LEN + 1, mobgap.CALIBRATION_HOP):
                share = walking[start:start + IMU_LEN].mean()
                if 0.2 < share < 0.8:
                    continue
                windows.append(rec[start:start + IMU_LEN].T)
                labels.append(int(share >= 0.8))
                people.append(name.rsplit("/", 1)[0])
    return np.array(windows, np.float32), np.array(labels), np.array(people)


def balanced_accuracy(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([(pred[truth == k] == k).mean() for k in (0, 1)]))


def ncm_predict(train_x, train_y, test_x, cosine: bool) -> np.ndarray:
    """Nearest class mean: cosine for embeddings, Euclidean on standardized statistics."""
    if not cosine:
        mu, sd = train_x.mean(0), train_x.std(0) + 1e-9
        train_x, test_x = (train_x - mu) / sd, (test_x - mu) / sd
    means = np.stack([train_x[train_y == k].mean(0) for k in (0, 1)])
    if cosine:
        return np.argmax(test_x @ means.T, axis=1)
    return np.argmin(((test_x[:, None] - means[None]) ** 2).sum(2), axis=1)


def ridge_predict(train_x, train_y, test_x, cosine: bool) -> np.ndarray:
    """Class-balanced ridge regression on +-1 targets (MiniRocket's usual linear probe)."""
    if not cosine:
        mu, sd = train_x.mean(0), train_x.std(0) + 1e-9
        train_x, test_x = (train_x - mu) / sd, (test_x - mu) / sd
    a = np.c_[train_x, np.ones(len(train_x))]
    weight = np.where(train_y == 1, (train_y == 0).sum() / max(1, (train_y == 1).sum()), 1.0)
    aw = a * weight[:, None]
    w = np.linalg.solve(aw.T @ a + np.eye(a.shape[1]), aw.T @ (2.0 * train_y - 1.0))
    return (np.c_[test_x, np.ones(len(test_x))] @ w > 0).astype(int)


def leave_one_out(predict, features, labels, people, cosine: bool) -> float:
    """Leave-one-participant-out mean of balanced accuracies."""
    scores = []
    for person in sorted(set(people)):
        train, test = people != person, people == person
        pred = predict(features[train], labels[train], features[test], cosine)
        scores.append(balanced_accuracy(pred, labels[test]))
    return float(np.mean(scores))
