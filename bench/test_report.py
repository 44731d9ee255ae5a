#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench/report.py on made-up boots: the ratio's direction, the noise band,
the verdicts, and that a broken boot is an error. KTAP-ish lines, then
"N passed, N failed"."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
results = []


def boots(d, rows, end=True):
    """rows: {(kernel, mode, idx): {row: [samples]}}"""
    for (k, m, i), rs in rows.items():
        os.makedirs(os.path.join(d, f"{k}-{m}-{i}"), exist_ok=True)
        with open(os.path.join(d, f"{k}-{m}-{i}", "results"), "w") as fh:
            for r, vals in rs.items():
                fh.write(f"row {r} ns/fault {' '.join(map(str, vals))}\n")
            if end:
                fh.write("end\n")


def report(d, n=12):
    p = subprocess.run([sys.executable, os.path.join(HERE, "report.py"), "--out", d,
                        "--series-len", str(n), "--n", str(n), "--no-chart"],
                       capture_output=True, text=True)
    return p.returncode, p.stdout


def line_of(out, row):
    return next((x for x in out.splitlines() if x.startswith(f"| {row} |")), "")


def check(name, cond):
    results.append(bool(cond))
    print(f"{'ok' if cond else 'not ok'} {len(results)} {name}")


def case(base, series, mode="wall"):
    """Two base and two series boots of one row; returns (rc, table line)."""
    with tempfile.TemporaryDirectory() as d:
        boots(d, {("base", mode, 1): {"r": [base[0]]}, ("base", mode, 2): {"r": [base[1]]},
                  ("series", mode, 1): {"r": [series[0]]}, ("series", mode, 2): {"r": [series[1]]}})
        rc, out = report(d)
        return rc, line_of(out, "r")


rc, l = case((100, 101), (110, 110))
check("a series 10% slower than a 1% band is SLOWER", rc == 0 and "wall: SLOWER" in l and "0.914x" in l)
rc, l = case((100, 101), (90, 90))
check("a faster series is ok, ratio above 1", rc == 0 and "wall: ok" in l and "1.117x" in l)
rc, l = case((100, 110), (105, 105))
check("a slowdown inside the base's own spread (10%) is ok", "wall: ok" in l and "±10.00%" in l)
rc, l = case((100, 104), (108.5, 108.5))
check("a slowdown just outside the band (4%) is SLOWER", "wall: SLOWER" in l and "±4.00%" in l)
rc, l = case((100, 101), (101, 105))
check("the series' own wider spread (3.96%) is the band: -2.4% is ok", "wall: ok" in l and "±3.96%" in l)
rc, l = case((100, 100), (100.5, 100.5), mode="icount")
check("icount: identical base runs make a zero band; +0.5% is SLOWER",
      "icount: SLOWER" in l and "±0.00%" in l and "0.995x" in l)
with tempfile.TemporaryDirectory() as d:
    boots(d, {("base", "wall", 1): {"r": [1]}, ("series", "wall", 1): {"r": [1]}})
    rc, out = report(d)
    check("one round: no band, no verdict claimed", rc == 0 and "wall: no band" in line_of(out, "r"))
with tempfile.TemporaryDirectory() as d:
    boots(d, {("base", "wall", 1): {"r": [1]}})
    boots(d, {("series", "wall", 1): {"r": [1]}}, end=False)
    rc, out = report(d)
    check("a boot whose results end early is an error", rc == 1 and "end early" in out)
with tempfile.TemporaryDirectory() as d:
    boots(d, {("base", "wall", 1): {"r": [1]}, ("series", "wall", 1): {"r": [1]}})
    with open(os.path.join(d, "series-wall-1", "results"), "a") as fh:
        fh.write("error fault-2m-read/xfs 12 faults for ...\n")
    rc, out = report(d)
    check("a row the guest could not measure is an error", rc == 1 and "fault-2m-read/xfs" in out)
with tempfile.TemporaryDirectory() as d:
    boots(d, {("base", "wall", 1): {"pin-fast-n512/devdax": [10], "memmap-init-x": [30], "memset-floor-x": [10]},
              ("series", "wall", 1): {"pin-fast-n512/devdax": [5], "memmap-init-x": [12], "memset-floor-x": [10]}})
    rc, out = report(d)
    check("the gup goal waits for patch 25", "goal 1.2x: after patch 25" in line_of(out, "pin-fast-n512/devdax"))
    check("memmap against the floor: 3.00x not met, 1.20x met",
          "| memmap-init-x | base | wall | 30.0 | 10.0 | 3.00x | not met |" in out and
          "| memmap-init-x | series | wall | 12.0 | 10.0 | 1.20x | met |" in out)
    rc25 = subprocess.run([sys.executable, os.path.join(HERE, "report.py"), "--out", d, "--series-len", "25",
                           "--n", "25", "--no-chart"], capture_output=True, text=True).stdout
    check("at patch 25 a 2.00x gup row meets the goal", "goal 1.2x: met" in line_of(rc25, "pin-fast-n512/devdax"))
fails = results.count(False)
print(f"{len(results) - fails} passed, {fails} failed")
sys.exit(1 if fails else 0)
