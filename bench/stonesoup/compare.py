#!/usr/bin/env python3
"""Side by side: tripoint's tracker and Stone Soup's GNN tracker on the very same radar
detections, both scored by the same GOSPA (tripoint's scorer, cross-checked by gospa.py).

    python3 bench/stonesoup/compare.py SCENARIO.toml [--max-detections N] [--seed N] [--work DIR]
        [--check] [--draws N]

Steps: `tripoint sim run`; keep the radar rows only (Stone Soup's baseline ignores space IR),
cut to the first N detections at a whole scan if asked; run `tripoint track --no-products` (with
GNN, Stone Soup's association, and with JPDA) and `run_stonesoup.py` on that folder; score all
against the truth up to the last detection time; print the GOSPA parts, measurements per second,
and the GNN-to-GNN speed ratio.
"""
import argparse
import csv
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TRIPOINT = os.environ.get("TRIPOINT", os.path.join(ROOT, "target", "release", "tripoint"))


def sh(args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--max-detections", type=int, default=0)
    ap.add_argument("--work", default="/tmp/tripoint-compare")
    ap.add_argument("--c-m", type=float, default=10000.0)
    ap.add_argument("--seed", type=int, default=None,
                    help="simulate with this seed instead of the scenario's (another noise draw)")
    ap.add_argument("--check", action="store_true",
                    help="smoke test: exit 1 unless every tracker made tracks and tripoint's GOSPA "
                         "agrees with the independent gospa.py on each (0.5 %% + 1 m)")
    ap.add_argument("--draws", type=int, default=1,
                    help="repeat on this many noise draws (seeds --seed, --seed+1, ...; default "
                         "first seed 11) and print each draw and the means")
    a = ap.parse_args()
    if a.draws > 1:
        first = a.seed if a.seed is not None else 11
        results = []
        for k in range(a.draws):
            print(f"== draw {k + 1}/{a.draws}: --seed {first + k}", flush=True)
            results.append(run_once(a, first + k))
        names = ("tripoint", "tp-jpda", "stonesoup")
        print(f"\n{a.draws} draws (seeds {first}..{first + a.draws - 1}), GOSPA total per draw (m):")
        print(f"{'seed':>6} " + " ".join(f"{n:>10}" for n in names) + f" {'ratio':>8}")
        for k, r in enumerate(results):
            print(f"{first + k:>6} " + " ".join(f"{r['gospa'][n]:10.1f}" for n in names)
                  + f" {r['ratio']:7.0f}x")
        mean = {n: sum(r["gospa"][n] for r in results) / len(results) for n in names}
        print(f"{'mean':>6} " + " ".join(f"{mean[n]:10.1f}" for n in names))
        for n in ("tripoint", "tp-jpda"):
            wins = sum(r["gospa"][n] <= r["gospa"]["stonesoup"] for r in results)
            print(f"{n}: GOSPA <= Stone Soup's on {wins} of {len(results)} draws; "
                  f"mean {mean[n]:.1f} vs {mean['stonesoup']:.1f} m")
        ratios = sorted(r["ratio"] for r in results)
        print(f"speed ratio (GNN/GNN): median {ratios[len(ratios) // 2]:.0f}x, "
              f"min {ratios[0]:.0f}x, max {ratios[-1]:.0f}x")
        return
    r = run_once(a, a.seed)
    if a.check:
        for p in r["problems"]:
            print(f"check failed: {p}", file=sys.stderr)
        if r["problems"]:
            sys.exit(1)
        print("check: every tracker made tracks; tripoint's GOSPA matches gospa.py on each")


def run_once(a, seed):
    sim = os.path.join(a.work, "sim")
    radar = os.path.join(a.work, "radar")
    os.makedirs(radar, exist_ok=True)
    sh([TRIPOINT, "sim", "run", a.scenario, "--out", sim, "-q"]
       + (["--seed", str(seed)] if seed is not None else []))

    # Radar rows only, cut at a whole scan.
    with open(os.path.join(sim, "detections.csv")) as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r[3] == "radar"]
    if a.max_detections and len(body) > a.max_detections:
        cut = body[a.max_detections - 1][0]
        body = [r for r in body if float(r[0]) <= float(cut)]
        last = float(cut)
        # Drop the possibly partial last scan.
        body = [r for r in body if r[0] != cut] or body
        last = float(body[-1][0])
    else:
        last = float(body[-1][0])
    with open(os.path.join(radar, "detections.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(body)
    for name in ("sensors.json", "summary.json"):
        with open(os.path.join(sim, name)) as s, open(os.path.join(radar, name), "w") as d:
            d.write(s.read())
    with open(os.path.join(sim, "truth.csv")) as f:
        truth = list(csv.reader(f))
    with open(os.path.join(radar, "truth.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(truth[0])
        w.writerows(r for r in truth[1:] if float(r[0]) <= last)

    out_tp = os.path.join(a.work, "tripoint")
    out_jp = os.path.join(a.work, "tripoint-jpda")
    out_ss = os.path.join(a.work, "stonesoup")

    def run_tripoint(out, association):
        tp = sh([TRIPOINT, "track", "--in", radar, "--out", out, "--no-products",
                 "--association", association])
        m = re.search(r"tracked (\d+) detections in ([0-9.]+) s", tp)
        return int(m.group(1)) / float(m.group(2))

    # GNN, the same association as Stone Soup's tracker (the speed comparison); JPDA, tripoint's
    # choice for dense scenes, scored alongside.
    tp_rate = run_tripoint(out_tp, "gnn")
    jp_rate = run_tripoint(out_jp, "jpda")
    sh([sys.executable, os.path.join(HERE, "run_stonesoup.py"), radar, out_ss])
    with open(os.path.join(out_ss, "stonesoup_stats.json")) as f:
        st = json.load(f)
    ss_rate = st["measurements_per_s"]

    def score(tracks):
        g = json.loads(sh([TRIPOINT, "score", "--truth", os.path.join(radar, "truth.csv"),
                           "--tracks", tracks, "--c-m", str(a.c_m), "--json"]))["gospa"]
        jp = tracks + ".gospa.json"
        sh([sys.executable, os.path.join(HERE, "gospa.py"), os.path.join(radar, "truth.csv"),
            tracks, "--c-m", str(a.c_m), "--json", jp])
        with open(jp) as f:
            x = json.load(f)
        return g, x

    print(f"{len(body)} radar detections, same input for all; GOSPA p=1, alpha=2, c={a.c_m:.0f} m")
    print(f"{'tracker':<10} {'total':>9} {'local.':>9} {'missed':>9} {'false':>9} {'gospa.py':>9} {'meas/s':>10}")
    rates = {}
    totals = {}
    problems = []
    for name, tracks, rate in (("tripoint", os.path.join(out_tp, "tracks.csv"), tp_rate),
                               ("tp-jpda", os.path.join(out_jp, "tracks.csv"), jp_rate),
                               ("stonesoup", os.path.join(out_ss, "tracks.csv"), ss_rate)):
        g, x = score(tracks)
        rates[name] = rate
        totals[name] = g["mean_total_m"]
        xt = x.get("mean_gospa", float("nan"))
        if not (abs(g["mean_total_m"] - xt) <= 0.005 * abs(xt) + 1.0):
            problems.append(f"{name}: tripoint's GOSPA {g['mean_total_m']:.1f} m vs gospa.py {xt:.1f} m")
        if g["mean_false_m"] == 0 and g["mean_localisation_m"] == 0:
            problems.append(f"{name}: no track matched the truth")
        print(f"{name:<10} {g['mean_total_m']:9.1f} {g['mean_localisation_m']:9.1f} {g['mean_missed_m']:9.1f} "
              f"{g['mean_false_m']:9.1f} {xt:9.1f} {rate:10.0f}")
    ratio = rates["tripoint"] / rates["stonesoup"]
    print(f"speed ratio tripoint (GNN)/stonesoup (GNN): {ratio:.0f}x", flush=True)
    return {"gospa": totals, "rates": rates, "ratio": ratio, "problems": problems}


if __name__ == "__main__":
    main()
