"""The real IMU recordings the IMU branch is calibrated on: mobgap 1.2.0's example_data/data_csv
(lower-back IMU, acc in g, gyro in deg/s, 100 Hz, Apache-2.0), read straight from the sdist."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np

from .contract import IMU_LEN, IMU_RATE_HZ

MOBGAP_CSV_DIR = "mobgap-1.2.0/example_data/data_csv/"
MOBGAP_RATE_HZ = 100
MOBGAP_HEADER = "samples,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"
CALIBRATION_HOP = 25  # one window per second, the runtime's stride


def read_mobgap_recordings(sdist: Path) -> list[tuple[str, np.ndarray]]:
    """The 9 lower-back recordings of mobgap's example_data/data_csv: [rows, 6] in g and deg/s."""
    recordings = []
    with tarfile.open(sdist, "r:gz") as tar:
        members = sorted((m for m in tar.getmembers()
                          if m.name.startswith(MOBGAP_CSV_DIR) and m.name.endswith(".csv")),
                         key=lambda m: m.name)
        for member in members:
            text = tar.extractfile(member).read().decode()
            header, _, body = text.partition("\n")
            if header.strip() != MOBGAP_HEADER:
                raise SystemExit(f"{sdist}:{member.name}: header {header!r}, "
                                 f"expected {MOBGAP_HEADER!r}")
            rows = np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)
            recordings.append((member.name[len(MOBGAP_CSV_DIR):], rows[:, 1:7]))
    if len(recordings) != 9:
        raise SystemExit(f"{sdist}: found {len(recordings)} recordings under {MOBGAP_CSV_DIR}, "
                         "expected 9")
    return recordings


def resample_to_25hz(rows: np.ndarray) -> np.ndarray:
    """100 Hz -> 25 Hz by averaging blocks of 4 samples: a boxcar anti-alias filter, close to
    what a 25 Hz sensor with its internal low-pass filter reports."""
    factor = MOBGAP_RATE_HZ // IMU_RATE_HZ
    usable = rows.shape[0] // factor * factor
    return rows[:usable].reshape(-1, factor, rows.shape[1]).mean(axis=1)


def calibration_windows(recordings: list[np.ndarray]) -> np.ndarray:
    """[M, 6, 128] windows cut every second from each 25 Hz recording."""
    windows = [rec[start:start + IMU_LEN].T
               for rec in recordings
               for start in range(0, rec.shape[0] - IMU_LEN + 1, CALIBRATION_HOP)]
    return np.stack(windows)
