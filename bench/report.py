#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ci/bench's report: the boots' results as a table, a CSV and a chart.

Each boot directory (KERNEL-MODE-INDEX, MODE "wall" or "icount") holds the
guest's "results" file (bench/guest.sh). Per boot and row the figure is the
median of the row's samples; over the boots of one kernel and mode the table
shows the median of those, with min and max. The ratio is base/series, a
speed factor: 1.10x means the series takes 10 % less time, 0.90x that it is
slower. The noise band of a row is the spread of the base against itself,
(max - min) / min over the base's boots of that mode, or the series' own
spread where that is wider; a row is slower only if its ratio is below 1
minus that band.
"""
import argparse
import csv
import os
import re
import statistics
import sys

MODES = ("wall", "icount")


def load(out):
    """{(kernel, mode): {boot: {row: (unit, [samples])}}}, errors, meta."""
    data, errors, meta = {}, [], {}
    for d in sorted(os.listdir(out)):
        m = re.fullmatch(r"(base|series)-(wall|icount)-(\d+)", d)
        if not m:
            continue
        kern, mode, idx = m[1], m[2], int(m[3])
        rows = data.setdefault((kern, mode), {}).setdefault(idx, {})
        path = os.path.join(out, d, "results")
        if not os.path.exists(path):
            errors.append((f"{kern} {mode} {idx}", "boot wrote no results"))
            continue
        ended = False
        for line in open(path):
            f = line.split()
            if not f:
                continue
            if f[0] == "row" and len(f) >= 4:
                rows[f[1]] = (f[2], [float(x) for x in f[3:]])
            elif f[0] == "error":
                errors.append((f"{kern} {mode} {idx}: {f[1]}", " ".join(f[2:])))
            elif f[0] == "meta" and len(f) >= 3:
                meta.setdefault((kern, mode, f[1]), set()).add(" ".join(f[2:]))
            elif f[0] == "end":
                ended = True
        if not ended:
            errors.append((f"{kern} {mode} {idx}", "results end early (the guest died?)"))
    return data, errors, meta


def per_boot(data, kern, mode, row):
    """The per-boot medians of ROW, in boot order."""
    boots = data.get((kern, mode), {})
    return [statistics.median(boots[b][row][1]) for b in sorted(boots) if row in boots[b]]


def fmt(v):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def spread(vals):
    return (max(vals) - min(vals)) / min(vals) if len(vals) >= 2 and min(vals) > 0 else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--series-len", type=int, required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--no-chart", action="store_true", help="skip the chart (no matplotlib)")
    a = ap.parse_args()
    data, errors, meta = load(a.out)

    # Every row any boot measured, in the order the guest ran them.
    order = []
    for key in sorted(data):
        for b in sorted(data[key]):
            for r in data[key][b]:
                if r not in order:
                    order.append(r)
    units = {}
    for key in data:
        for b in data[key].values():
            for r, (u, _) in b.items():
                units[r] = u

    with open(os.path.join(a.out, "results.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["kernel", "mode", "boot", "row", "unit", "sample", "value"])
        for (kern, mode) in sorted(data):
            for b in sorted(data[(kern, mode)]):
                for r, (u, vals) in data[(kern, mode)][b].items():
                    for i, v in enumerate(vals):
                        w.writerow([kern, mode, b, r, u, i, v])

    stats, lines = {}, []
    head = ("| row | unit | base wall | series wall | wall speed | wall noise "
            "| base icount | series icount | icount speed | icount noise | icount repeat | verdict |")
    lines.append(head)
    lines.append("|" + "---|" * (head.count("|") - 1))
    slower = []
    for r in order:
        cells = [r, units[r]]
        st = {}
        verdict = []
        for mode in MODES:
            b, s = per_boot(data, "base", mode, r), per_boot(data, "series", mode, r)
            bm = statistics.median(b) if b else None
            sm = statistics.median(s) if s else None
            ratio = bm / sm if bm and sm else None
            # The band: the base against itself; where the series' own boots spread wider,
            # that spread (a kernel cannot be told apart from itself by less).
            noise = spread(b)
            if noise is not None and spread(s) is not None:
                noise = max(noise, spread(s))
            st[mode] = (bm, sm, ratio, noise, b, s)
            rng = lambda v, m: (f"{fmt(m)} [{fmt(min(v))}–{fmt(max(v))}]" if len(v) > 1 else fmt(m))
            cells += [rng(b, bm) if b else "-", rng(s, sm) if s else "-",
                      f"{ratio:.3f}x" if ratio else "-",
                      f"±{100 * noise:.2f}%" if noise is not None else "n/a"]
            if mode == "icount":
                rep = [x for x in (spread(b), spread(s)) if x is not None]
                cells.append(f"{100 * max(rep):.3f}%" if rep else "n/a")
            if ratio is None:
                continue
            if noise is None:
                verdict.append(f"{mode}: no band")
            elif ratio < 1 - noise:
                verdict.append(f"{mode}: SLOWER")
                slower.append((r, mode, ratio, noise))
            else:
                verdict.append(f"{mode}: ok")
        if re.match(r"(gup|pin)-fast", r):
            verdict.append("goal 1.2x: after patch 25" if a.series_len < 25 or a.n < 25 else
                           ("goal 1.2x: met" if (st["wall"][2] or 0) >= 1.2 else "goal 1.2x: NOT MET"))
        cells.append("; ".join(verdict) or "-")
        stats[r] = st
        lines.append("| " + " | ".join(cells) + " |")

    # memmap init against the memset floor of the same struct-page bytes.
    floor = ["", "| memmap init | kernel | mode | memmap ms/GiB | memset floor ms/GiB | memmap/floor | goal <= 1.5x |",
             "|---|---|---|---|---|---|---|"]
    for r in order:
        if not r.startswith("memmap-init-"):
            continue
        fr = "memset-floor-" + r[len("memmap-init-"):]
        for kern in ("base", "series"):
            for mode in MODES:
                m, f = per_boot(data, kern, mode, r), per_boot(data, kern, mode, fr)
                if not m or not f:
                    continue
                q = statistics.median(m) / statistics.median(f)
                floor.append(f"| {r} | {kern} | {mode} | {fmt(statistics.median(m))} | "
                             f"{fmt(statistics.median(f))} | {q:.2f}x | {'met' if q <= 1.5 else 'not met'} |")

    about = open(os.path.join(a.out, "about")).read() if os.path.exists(os.path.join(a.out, "about")) else ""
    md = [f"DAX-gup benchmark: Linux 6.12.117 base vs. series@{a.n} "
          f"(speed = base time / series time, the series's throughput over the base's: above 1.00x the series is faster)", ""]
    md += ["    " + x for x in about.splitlines()] + [""]
    md += lines + floor
    mm = sorted({(k[2], v) for k, vs in meta.items() for v in vs if k[2].endswith("-bytes")})
    if mm:
        md += ["", "struct-page bytes measured in the guest (nr_memmap_pages across a bind): " +
               ", ".join(f"{k} {v}" for k, v in mm)]
    cs = sorted({v for k, vs in meta.items() if k[2] == "clocksource" for v in vs})
    md += [f"guest clocksource: {', '.join(cs) or '?'}"]
    if slower:
        md += ["", "Rows slower than the base beyond the noise band:"]
        md += [f"- {r} ({mode}): {ratio:.3f}x, band ±{100 * noise:.2f}%" for r, mode, ratio, noise in slower]
    if errors:
        md += ["", "Not measured:"] + [f"- {w}: {e}" for w, e in errors]
    text = "\n".join(md) + "\n"
    open(os.path.join(a.out, "table.md"), "w").write(text)
    sys.stdout.write(text)

    if not a.no_chart:
        chart(a, order, stats)
    print(f"\nraw samples: {os.path.join(a.out, 'results.csv')}" +
          ("" if a.no_chart else f"; chart: {os.path.join(a.out, 'ratios.png')}"))
    sys.exit(1 if errors else 0)


def chart(a, order, stats):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in order if any(stats[r][m][2] for m in MODES)]
    fig, ax = plt.subplots(figsize=(max(8, 0.45 * len(rows)), 5.5))
    x = list(range(len(rows)))
    off = {"wall": -0.15, "icount": 0.15}
    vals = [1.0]
    for i, r in enumerate(rows):
        for mode in MODES:
            noise = stats[r][mode][3]
            if noise is not None:
                lo_band = max(1 - noise, 0.05)	# a log axis: a band wider than 95 % is clipped
                ax.fill_between([i + off[mode] - 0.13, i + off[mode] + 0.13], lo_band, 1 + noise,
                                color="0.8", zorder=0, linewidth=0)
                vals += [lo_band, 1 + noise]
    for mode, col, mk in zip(MODES, ("tab:blue", "tab:orange"), ("o", "s")):
        pts = [(i + off[mode], stats[r][mode][2]) for i, r in enumerate(rows) if stats[r][mode][2]]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=mk, color=col, zorder=2,
                       label=f"{mode}: base/series")
            vals += [p[1] for p in pts]
    ax.set_yscale("log")
    ax.set_ylim(min(vals) / 1.15, max(vals) * 1.15)
    ax.axhline(1.0, color="black", linewidth=0.8, zorder=3)
    ax.set_xticks(list(x))
    ax.set_xticklabels(rows, rotation=70, ha="right", fontsize=7)
    ax.set_ylabel("speed vs. base (base time / series time)")
    ax.set_title(f"DAX-gup series@{a.n} vs. Linux 6.12.117: grey = noise band (log scale)")
    if any(stats[r][m][2] for r in rows for m in MODES):
        ax.legend(loc="best", fontsize=8)
    ax.grid(axis="y", linewidth=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, "ratios.png"), dpi=110)


if __name__ == "__main__":
    main()
