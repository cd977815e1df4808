#!/usr/bin/env python3
"""scikit-learn reference classifiers on the very embeddings `mmcl bench cl` learns from.

Reads an `.embcache` file (format: `src/encode/cache/format.rs`, framed by `src/envelope/`),
and for the joint (non-incremental) problem fits the usual linear classifiers with every
hyper-parameter chosen on the val split, then scores the chosen one on the test split, with
both modalities and with each one absent; and single-modality classifiers (the video block
alone, the IMU block alone), which are the ceilings a learner can reach when a modality is
missing at test time.

Embeddings are L2-normalized first, as mmcl's learner does. A missing-modality variant of a
fused embedding is derived exactly as the default encoder fuses (models/README.md "Fusion"):
zero the absent block, rescale the other by sqrt(2); the test split's variants come from the
cache itself (encoded with the modality absent).

    python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn numpy
    /tmp/skl/bin/python benches/sklearn_reference.py DATASET/.mmcl-cache/*.embcache [--json]

Prints one table (or one JSON document with --json). Deterministic: every model is seeded.
"""

import argparse
import hashlib
import json
import struct
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

MAGIC = b"MMCLEMBC"
VARIANTS = {0: "all", 1: "video_absent", 2: "imu_absent"}


def read_cache(path):
    """Records of an `.embcache` file, version 1 or 2, checksum verified."""
    data = open(path, "rb").read()
    if data[:8] != MAGIC:
        sys.exit(f"{path}: not an embedding cache (magic {data[:8]!r})")
    version = struct.unpack_from("<I", data, 8)[0]
    if hashlib.sha256(data[:-32]).digest() != data[-32:]:
        sys.exit(f"{path}: checksum mismatch")
    if version == 2:
        (length,) = struct.unpack_from("<Q", data, 12)
        body, at = data[20 : 20 + length], 0
    elif version == 1:
        body, at = data[12:-32], 0
    else:
        sys.exit(f"{path}: embedding cache version {version} unknown")
    at += 32  # encoder sha256
    dim, count = struct.unpack_from("<IQ", body, at)
    at += 12
    records = []
    for _ in range(count):
        (n,) = struct.unpack_from("<H", body, at)
        clip = body[at + 2 : at + 2 + n].decode()
        at += 2 + n
        (label,) = struct.unpack_from("<I", body, at)
        at += 4
        n = body[at]
        split = body[at + 1 : at + 1 + n].decode()
        at += 1 + n
        variant = VARIANTS[body[at]]
        at += 1
        values = np.frombuffer(body, dtype="<f4", count=dim, offset=at)
        at += 4 * dim
        records.append((clip, label, split, variant, values))
    return dim, records


def unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def split_arrays(records, split, variant):
    rows = [(r[4], r[1]) for r in records if r[2] == split and r[3] == variant]
    if not rows:
        return None
    return unit(np.stack([v for v, _ in rows]).astype(np.float64)), np.array([y for _, y in rows])


def without(x, video_dim, modality):
    """The fused embedding with one modality absent (encoder fusion rule), normalized."""
    out = x.copy() * np.sqrt(2.0)
    if modality == "video":
        out[:, :video_dim] = 0.0
    else:
        out[:, video_dim:] = 0.0
    keep = np.linalg.norm(out, axis=1) > 0
    return unit(out), keep


def models(seed):
    """(family, hyper-parameter, estimator factory) candidates."""
    for alpha in [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]:
        yield "ridge", f"alpha={alpha}", lambda a=alpha: RidgeClassifier(alpha=a)
    for c in [10.0, 100.0, 1000.0]:
        yield "logreg", f"C={c}", lambda c=c: LogisticRegression(C=c, max_iter=1000, random_state=seed)
    for c in [0.3, 3.0, 30.0]:
        yield "linear_svm", f"C={c}", lambda c=c: LinearSVC(C=c, max_iter=5000, random_state=seed)


def fit_best(xtr, ytr, xva, yva, seed, families=None):
    """Per family, the hyper-parameters (and standardization on/off) best on val."""
    best = {}
    for family, hp, make in models(seed):
        if families and family not in families:
            continue
        print(f"  {family} {hp}", file=sys.stderr, flush=True)
        # Ridge (closed form) is also tried standardized; the iterative solvers only on the
        # normalized rows, which keeps the whole run to minutes on a 2-core machine.
        for standardize in [False, True] if family == "ridge" else [False]:
            scaler = StandardScaler().fit(xtr) if standardize else None
            tr = scaler.transform(xtr) if scaler else xtr
            va = scaler.transform(xva) if scaler else xva
            model = make().fit(tr, ytr)
            acc = float((model.predict(va) == yva).mean())
            if family not in best or acc > best[family]["val"]:
                best[family] = {"val": acc, "hp": hp, "standardize": standardize, "model": model, "scaler": scaler}
    return best


def score(entry, x, y):
    if x is None or len(y) == 0:
        return None
    t = entry["scaler"].transform(x) if entry["scaler"] else x
    return float((entry["model"].predict(t) == y).mean())


def ncm(xtr, ytr, x, y):
    classes = np.unique(ytr)
    means = unit(np.stack([xtr[ytr == c].mean(axis=0) for c in classes]))
    return float((classes[np.argmax(x @ means.T, axis=1)] == y).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cache")
    ap.add_argument("--video-dim", type=int, default=1280, help="the contract's video_dim (default encoder: 1280)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    dim, records = read_cache(args.cache)
    vd = args.video_dim
    xtr, ytr = split_arrays(records, "train", "all")
    xva, yva = split_arrays(records, "val", "all")
    xte, yte = split_arrays(records, "test", "all")
    te_video_absent = split_arrays(records, "test", "video_absent")
    te_imu_absent = split_arrays(records, "test", "imu_absent")

    out = {"cache": args.cache, "dim": dim, "video_dim": vd, "train": len(ytr), "val": len(yva), "test": len(yte)}
    joint = fit_best(xtr, ytr, xva, yva, args.seed)
    out["joint"] = {}
    for family, e in joint.items():
        out["joint"][family] = {
            "hp": e["hp"], "standardize": e["standardize"], "val": e["val"],
            "test": score(e, xte, yte),
            "test_video_absent": score(e, *te_video_absent) if te_video_absent else None,
            "test_imu_absent": score(e, *te_imu_absent) if te_imu_absent else None,
        }
    out["best_joint"] = max(out["joint"].items(), key=lambda kv: kv[1]["val"])[0]
    out["ncm_cosine"] = ncm(xtr, ytr, xte, yte)

    # Single-modality ceilings: trained and chosen on one block alone.
    for name, cols, test in [("imu_only", slice(vd, dim), te_video_absent), ("video_only", slice(0, vd), te_imu_absent)]:
        tr, va = unit(xtr[:, cols]), unit(xva[:, cols])
        keep_tr, keep_va = np.linalg.norm(xtr[:, cols], axis=1) > 0, np.linalg.norm(xva[:, cols], axis=1) > 0
        best = fit_best(tr[keep_tr], ytr[keep_tr], va[keep_va], yva[keep_va], args.seed)
        x, y = test
        family = max(best.items(), key=lambda kv: kv[1]["val"])[0]
        out[name] = {"family": family, "hp": best[family]["hp"], "standardize": best[family]["standardize"],
                     "val": best[family]["val"], "test": score(best[family], unit(x[:, cols]), y)}

    # Modality-augmented logistic regression (each training row also as its two variants).
    parts_x, parts_y = [xtr], [ytr]
    for m in ["video", "imu"]:
        v, keep = without(xtr, vd, m)
        parts_x.append(v[keep])
        parts_y.append(ytr[keep])
    aug = fit_best(np.vstack(parts_x), np.concatenate(parts_y), xva, yva, args.seed, families={"ridge", "logreg"})
    out["augmented"] = {}
    for family, e in aug.items():
        out["augmented"][family] = {
            "hp": e["hp"], "standardize": e["standardize"], "val": e["val"], "test": score(e, xte, yte),
            "test_video_absent": score(e, *te_video_absent) if te_video_absent else None,
            "test_imu_absent": score(e, *te_imu_absent) if te_imu_absent else None,
        }
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"{args.cache}: D = {dim}, train {len(ytr)}, val {len(yva)}, test {len(yte)}")
    print("| model | chosen on val | val % | test % | video absent % | IMU absent % |")
    print("|---|---|---|---|---|---|")
    pct = lambda v: "-" if v is None else f"{100 * v:.1f}"
    for group in ["joint", "augmented"]:
        for family, e in out[group].items():
            hp = e["hp"] + (", standardized" if e["standardize"] else "")
            print(f"| {group} {family} | {hp} | {pct(e['val'])} | {pct(e['test'])} | {pct(e['test_video_absent'])} | {pct(e['test_imu_absent'])} |")
    for name in ["imu_only", "video_only"]:
        e = out[name]
        print(f"| {name} ({e['family']}) | {e['hp']} | {pct(e['val'])} | {pct(e['test'])} | | |")
    print(f"| ncm cosine | - | - | {pct(out['ncm_cosine'])} | | |")
    print(f"best joint linear classifier on val: {out['best_joint']} ({pct(out['joint'][out['best_joint']]['test'])} % test)")


if __name__ == "__main__":
    main()
