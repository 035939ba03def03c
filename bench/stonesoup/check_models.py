#!/usr/bin/env python3
"""Unit check of the radar measurement models used by run_stonesoup.py.

Usage:
    python3 check_models.py SIM_DIR [--per-sensor N]

For every radar it:
  1. checks that Stone Soup's rotation matrix built from our rotation_offset
     equals the textbook ECEF->ENU matrix, and that the site's ECEF position
     in sensors.json matches its WGS-84 lat/lon/alt;
  2. takes target-originated detections (this script, unlike the tracker,
     reads truth_id), interpolates the truth state to the detection time,
     applies the measurement model's function() and compares with the
     detection converted to Stone Soup's (elevation, bearing, range).
     The normalised residuals (residual / sigma) must look like N(0, 1):
     |mean| < 0.5 and 0.5 < std < 2 for each component.

Exits non-zero if any check fails.
"""

import argparse
import csv
import math
import os
import sys
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_stonesoup import (  # noqa: E402
    ecef_to_enu_matrix, load_radars, radar_measurement_model,
    tripoint_to_stonesoup_angles, wrap_pi)

from stonesoup.types.state import State  # noqa: E402

WGS84_A = 6378137.0
WGS84_F = 1.0 / 298.257223563


def geodetic_to_ecef(lat_deg, lon_deg, alt_m):
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    e2 = WGS84_F * (2.0 - WGS84_F)
    n = WGS84_A / math.sqrt(1.0 - e2 * math.sin(lat) ** 2)
    return np.array([(n + alt_m) * math.cos(lat) * math.cos(lon),
                     (n + alt_m) * math.cos(lat) * math.sin(lon),
                     (n * (1.0 - e2) + alt_m) * math.sin(lat)])


def load_truth(path):
    """{id: (times[k], states[k, 6])} with states in [x, vx, y, vy, z, vz]."""
    rows = defaultdict(list)
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows[r["id"]].append([float(r[k]) for k in
                                  ("time", "x", "vx", "y", "vy", "z", "vz")])
    out = {}
    for tid, rs in rows.items():
        a = np.array(sorted(rs))
        out[tid] = (a[:, 0], a[:, 1:])
    return out


def truth_at(truth, tid, t):
    """Cubic-Hermite interpolation of a truth path at time t (None outside)."""
    times, states = truth[tid]
    if t < times[0] or t > times[-1]:
        return None
    k = min(max(np.searchsorted(times, t) - 1, 0), len(times) - 2)
    t0, t1 = times[k], times[k + 1]
    h = t1 - t0
    s = (t - t0) / h
    p0, v0 = states[k, 0::2], states[k, 1::2]
    p1, v1 = states[k + 1, 0::2], states[k + 1, 1::2]
    h00 = 2 * s**3 - 3 * s**2 + 1
    h10 = s**3 - 2 * s**2 + s
    h01 = -2 * s**3 + 3 * s**2
    h11 = s**3 - s**2
    pos = h00 * p0 + h10 * h * v0 + h01 * p1 + h11 * h * v1
    vel = v0 + s * (v1 - v0)
    out = np.empty(6)
    out[0::2], out[1::2] = pos, vel
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("sim_dir")
    p.add_argument("--per-sensor", type=int, default=300,
                   help="max target detections checked per radar")
    args = p.parse_args(argv)

    radars = load_radars(args.sim_dir)
    truth = load_truth(os.path.join(args.sim_dir, "truth.csv"))
    ok = True

    # 1. Frames.
    for sid, s in sorted(radars.items()):
        model = radar_measurement_model(s)
        site = s["site"]
        rot_err = np.abs(model.rotation_matrix
                         - ecef_to_enu_matrix(site["lat_deg"], site["lon_deg"])).max()
        pos_err = np.linalg.norm(
            geodetic_to_ecef(site["lat_deg"], site["lon_deg"], site["alt_m"])
            - np.array(site["ecef_m"]))
        good = rot_err < 1e-12 and pos_err < 1.0
        ok &= good
        print(f"{sid:24s} rotation max|dR|={rot_err:.1e}  "
              f"site lla->ecef err={pos_err:.3f} m  {'ok' if good else 'FAIL'}")

    # 2. Model function against target detections.
    samples = defaultdict(list)
    with open(os.path.join(args.sim_dir, "detections.csv"), newline="") as f:
        for r in csv.DictReader(f):
            sid, tid = r["sensor_id"], r["truth_id"]
            if r["kind"] != "radar" or not tid or tid not in truth:
                continue
            if len(samples[sid]) < args.per_sensor:
                samples[sid].append(r)

    print(f"\n{'sensor':24s} {'n':>4s}  normalised residual mean/std "
          "(elevation, bearing, range)")
    for sid in sorted(samples):
        s = radars[sid]
        model = radar_measurement_model(s)
        sigmas = np.sqrt(np.diag(model.covar()))
        res = []
        for r in samples[sid]:
            x = truth_at(truth, r["truth_id"], float(r["time"]))
            if x is None:
                continue
            sensor_pos = np.array([float(r[k]) for k in
                                   ("sensor_x_m", "sensor_y_m", "sensor_z_m")])
            if np.linalg.norm(sensor_pos - np.array(s["site"]["ecef_m"])) > 1.0:
                print(f"{sid}: detection sensor position differs from site")
                ok = False
            pred = model.function(State(x.reshape(6, 1)), noise=False)
            el, bearing = tripoint_to_stonesoup_angles(float(r["az_rad"]),
                                                       float(r["el_rad"]))
            d = np.array([el - float(pred[0, 0]),
                          wrap_pi(bearing - float(pred[1, 0])),
                          float(r["range_m"]) - float(pred[2, 0])])
            res.append(d / sigmas)
        res = np.array(res)
        mean, std = res.mean(axis=0), res.std(axis=0)
        good = bool(np.all(np.abs(mean) < 0.5) and np.all((std > 0.5) & (std < 2.0)))
        ok &= good
        print(f"{sid:24s} {len(res):4d}  "
              + "  ".join(f"{m:+.2f}/{sd:.2f}" for m, sd in zip(mean, std))
              + f"  {'ok' if good else 'FAIL'}")

    print("\nmeasurement model check:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
