#!/usr/bin/env python3
"""Prints the comparison table of ci/bench.sh, and writes its markdown summary and SVG chart.

Usage: report.py CRITERION_DIR RESULTS_FILE [--markdown PATH] [--svg PATH] [--note TEXT]

CRITERION_DIR holds Criterion's output (GROUP/FUNCTION/new/estimates.json); the medians are
read from there. RESULTS_FILE holds the lines the other programs printed:
  allocs WORKLOAD LIB PER_OP
  mem LIB PEAK_RSS_BYTES SERIES
  scrape LIB REQUESTS_PER_S P99_MS
  instr WORKLOAD LIB INSTRUCTIONS_PER_OP
  enc1m LIB MEDIAN_NS EXTRA_HEAP_BYTES SERIES
Ratios are promstack / best peer (lower is better, except scrape throughput) and promstack /
baseline. The table reports; it never fails on a timing.
"""
import json
import os
import sys

LIBS = [
    "baseline", "promstack", "promstack_alloc", "promstack_native", "promstack_protobuf",
    "prometheus", "prometheus_client", "metrics", "fastmetrics", "measured", "embeprom",
    "promstack_metrics",
]
PEERS = ["prometheus", "prometheus_client", "metrics", "fastmetrics", "measured", "embeprom"]
# promstack_metrics: the `metrics` macros with promstack's recorder. Its "best peer" is `metrics`
# (metrics-exporter-prometheus behind the same macros) and the targets do not apply to it.
OURS = ["promstack", "promstack_alloc", "promstack_metrics"]
FACADE = "promstack_metrics"
# The memory program names the fixed-capacity family explicitly.
MEM_LIBS = ["promstack_fixed", "promstack_alloc"] + PEERS
MEM_OURS = ["promstack_fixed", "promstack_alloc"]

# group -> (title, target text, kind, limit): kind "peer" = promstack <= limit x best peer,
# "base" = promstack <= limit x baseline, None = reported only.
GROUPS = [
    ("counter_inc", "counter inc, 1 thread", "base", 1.05),
    ("counter_inc_2threads", "counter inc, 2 threads same counter", None, None),
    ("gauge_set", "gauge set (f64)", "base", 1.05),
    ("histogram_observe", "histogram observe, 14 default buckets", "peer", 0.6),
    ("labeled_lookup_inc", "labeled lookup (1 of 100) + inc", "peer", 0.4),
    ("labeled_cached_inc", "labeled, cached handle inc", None, None),
    ("labeled_new_child", "labeled, create new child", None, None),
    ("encode_10k_counters", "encode 10 counters x 1000 children", "peer", 0.33),
    ("encode_1k_histograms", "encode 1000 histograms", None, None),
]


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns < 10:
        return f"{ns:.2f} ns"
    if ns < 1000:
        return f"{ns:.1f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns / 1e6:.2f} ms"


def median(crit, group, func):
    path = os.path.join(crit, group, func, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def verdict(r, limit, higher_is_better=False):
    if r is None or limit is None:
        return ""
    ok = r >= limit if higher_is_better else r <= limit
    return "met" if ok else "NOT met"


def table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    opts = {}
    while len(args) > 2 and args[-2].startswith("--"):
        opts[args[-2]] = args[-1]
        args = args[:-2]
    crit, results_path = args[0], args[1]
    results = []
    if os.path.exists(results_path):
        with open(results_path) as f:
            results = [l.split() for l in f if l.strip()]

    allocs = {(r[1], r[2]): float(r[3]) for r in results if r[0] == "allocs" and len(r) == 4}
    present = [lib for lib in LIBS if any(median(crit, g[0], lib) is not None for g in GROUPS)]
    if present:
        criterion_table(crit, present)

    # A difference of zero or less means the program's own noise (a peer's randomly seeded hash
    # tables) swamped the operation: left out rather than shown as a cost.
    instr = {(r[1], r[2]): int(r[3]) for r in results if r[0] == "instr" and len(r) == 4 and int(r[3]) > 0}
    if instr:
        print("\ninstructions per operation (callgrind; stable where timings are noisy):")
        workloads = []
        for w, _ in instr:
            if w not in workloads:
                workloads.append(w)
        libs = [lib for lib in LIBS if any((w, lib) in instr for w in workloads)]
        irows = []
        for w in workloads:
            peers = [instr[(w, p)] for p in PEERS if (w, p) in instr]
            for ours in [o for o in OURS if (w, o) in instr]:
                best = instr.get((w, "metrics")) if ours == FACADE else (min(peers) if peers else None)
                label = w if ours == "promstack" else f"{w} [{ours}]"
                irows.append(
                    [label] + [str(instr.get((w, l), "-")) for l in libs]
                    + [fmt_ratio(ratio(instr[(w, ours)], best)), fmt_ratio(ratio(instr[(w, ours)], instr.get((w, "baseline"))))]
                )
        print(table(irows, ["workload"] + libs + ["ours/best peer", "ours/baseline"]))
    print_rest(results, allocs)
    s = Summary(crit, results)
    if "--markdown" in opts:
        with open(opts["--markdown"], "w") as f:
            f.write(s.markdown(opts.get("--note", "")))
        print(f"\nmarkdown summary: {opts['--markdown']}")
    if "--svg" in opts:
        with open(opts["--svg"], "w") as f:
            f.write(s.svg(opts.get("--note", "")))
        print(f"chart: {opts['--svg']}")


def criterion_table(crit, present):
    header = ["workload (median per op)"] + present + ["ours/best peer", "ours/baseline", "target", ""]
    rows, extras = [], []
    for group, title, kind, limit in GROUPS:
        m = {lib: median(crit, group, lib) for lib in LIBS}
        peers = [m[p] for p in PEERS if m[p] is not None]
        for ours in OURS:
            if m[ours] is None:
                continue
            best = m["metrics"] if ours == FACADE else (min(peers) if peers else None)
            r_peer, r_base = ratio(m[ours], best), ratio(m[ours], m["baseline"])
            name = title if ours == "promstack" else f"{title} [{ours}]"
            target, v = "", ""
            if ours == FACADE:
                pass
            elif kind == "peer":
                target, v = f"<= {limit}x peer", verdict(r_peer, limit)
            elif kind == "base":
                target, v = f"<= {limit}x baseline", verdict(r_base, limit)
            cells = [fmt_ns(m[lib]) for lib in present]
            rows.append([name] + cells + [fmt_ratio(r_peer), fmt_ratio(r_base), target, v])
        # Other variants measured in the group (e.g. promstack_openmetrics, metrics_with_drain).
        gdir = os.path.join(crit, group)
        if os.path.isdir(gdir):
            for func in sorted(os.listdir(gdir)):
                if func in LIBS or func == "report":
                    continue
                v = median(crit, group, func)
                if v is not None:
                    extras.append(f"  {group}/{func}: {fmt_ns(v)}")
    print(table(rows, header))
    if extras:
        print("\nother variants:")
        print("\n".join(extras))


def print_rest(results, allocs):
    if allocs:
        print("\nheap allocations per operation:")
        workloads = sorted({w for w, _ in allocs})
        libs = [lib for lib in LIBS if any((w, lib) in allocs for w in workloads)]
        arows = [[w] + [f"{allocs[(w, l)]:g}" if (w, l) in allocs else "-" for l in libs] for w in workloads]
        print(table(arows, ["workload"] + libs))

    mem = {r[1]: (int(r[2]), int(r[3])) for r in results if r[0] == "mem" and len(r) == 4}
    if "none" in mem and len(mem) > 1:
        base, n = mem["none"]
        per = {lib: (peak - base) / n for lib, (peak, _) in mem.items() if lib != "none"}
        peer_vals = [per[p] for p in PEERS if p in per]
        best = min(peer_vals) if peer_vals else None
        print(f"\nmemory per labeled series at {n} series (peak RSS minus the empty run):")
        mrows = []
        for lib in [l for l in MEM_LIBS if l in per]:
            ours = lib in MEM_OURS
            r = ratio(per[lib], best) if ours else None
            mrows.append(
                [lib, f"{per[lib]:.0f} B", fmt_ratio(r), "<= 0.5x smallest peer" if ours else "",
                 verdict(r, 0.5) if ours else ""]
            )
        print(table(mrows, ["library", "bytes/series", "ours/smallest peer", "target", ""]))

    enc1m = {r[1]: (float(r[2]), int(r[3])) for r in results if r[0] == "enc1m" and len(r) == 5}
    if enc1m:
        print("\nencode 1M series (10 families x 100,000 children, text, reused buffer):")
        rows = [[lib, fmt_ns(ns), f"{extra / 1024:.0f} KiB"] for lib, (ns, extra) in enc1m.items()]
        print(table(rows, ["library", "median time", "extra heap"]))

    scrape = {r[1]: (float(r[2]), float(r[3])) for r in results if r[0] == "scrape" and len(r) == 4}
    if scrape:
        print("\nHTTP scrape of 10k series (wrk, 1 thread, 4 connections):")
        peer = scrape.get("metrics", (None, None))[0]
        srows = []
        for lib, (rps, p99) in scrape.items():
            r = ratio(rps, peer) if lib in OURS else None
            srows.append(
                [lib, f"{rps:.0f}", f"{p99:.2f} ms", fmt_ratio(r),
                 ">= 2x metrics" if lib in OURS else "", verdict(r, 2.0, True) if lib in OURS else ""]
            )
        print(table(srows, ["server", "requests/s", "p99 latency", "ours/metrics", "target", ""]))


# ---- the summary: the workloads, ours against the best of the six peers ----

# (key, title, callgrind workload, Criterion group, instruction goal, time goal)
SUMMARY = [
    ("lookup", "labeled lookup (2 labels, 1 of 100) + inc", "lookup_inc", "labeled_lookup_inc", 0.5, 0.4),
    ("encode_10k", "encode 10 counters x 1,000 children (text)", "encode_10k", "encode_10k_counters", 0.33, 0.33),
    ("encode_hist", "encode 1,000 histograms (text)", "encode_histograms", "encode_1k_histograms", 0.33, 0.33),
    ("observe", "histogram observe, 14 buckets", "histogram_observe", "histogram_observe", 0.8, 0.6),
    ("memory", "memory per series at 100k series", None, None, None, None),
    ("encode_1m", "encode 1M series (time, extra heap)", "encode_1m", None, None, 0.5),
    ("counter_inc", "counter inc", "counter_inc", "counter_inc", None, None),
    ("cached_inc", "labeled, cached handle inc", "cached_inc", "labeled_cached_inc", None, None),
]
OURS_MAIN = ["promstack", "promstack_alloc"]
CHART_LIBS = ["baseline", "promstack", "promstack_alloc"] + PEERS


def fmt_instr(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e4:
        return f"{v / 1e3:.0f} k"
    return f"{v:g}"


def fmt_bytes(v):
    return "-" if v is None else f"{v:.0f} B"


class Summary:
    def __init__(self, crit, results):
        self.instr = {(r[1], r[2]): int(r[3]) for r in results if r[0] == "instr" and len(r) == 4 and int(r[3]) > 0}
        self.crit = crit
        mem = {r[1]: (int(r[2]), int(r[3])) for r in results if r[0] == "mem" and len(r) == 4}
        self.mem = {}
        if "none" in mem:
            base, n = mem["none"]
            self.mem = {("promstack" if l == "promstack_fixed" else l): (p - base) / n for l, (p, _) in mem.items() if l != "none"}
        self.enc1m = {r[1]: (float(r[2]), int(r[3])) for r in results if r[0] == "enc1m" and len(r) == 5}

    def values(self, key, kind):
        """{lib: value} of one workload: kind "instr" (callgrind), "time" (ns) or "bytes"."""
        _, _, w, group, _, _ = next(s for s in SUMMARY if s[0] == key)
        if key == "memory":
            return dict(self.mem) if kind == "bytes" else {}
        if kind == "instr":
            return {l: self.instr[(w, l)] for l in LIBS if (w, l) in self.instr}
        if kind == "extra":
            return {l: v[1] for l, v in self.enc1m.items()}
        if key == "encode_1m":
            return {l: v[0] for l, v in self.enc1m.items()}
        return {l: m for l in LIBS if (m := median(self.crit, group, l)) is not None}

    @staticmethod
    def best_peer(vals):
        peers = [(vals[p], p) for p in PEERS if p in vals]
        return min(peers) if peers else (None, None)

    def markdown(self, note):
        out = ["# promstack beside the six Rust peers", ""]
        if note:
            out += [note, ""]
        out += [
            "Ratios are ours / the best of the six peers (prometheus, prometheus-client, metrics +",
            "metrics-exporter-prometheus, fastmetrics, measured, embeprom) for that workload; lower is",
            "better. Instructions: callgrind, per operation (difference of two iteration counts).",
            "Time: Criterion median (encode 1M: median of 5 runs of `examples/encode1m`).",
            "",
            "| workload | promstack (fixed / alloc) | best peer | ours / best: instructions | ours / best: time | goal |",
            "|---|---|---|---|---|---|",
        ]
        for key, title, w, group, gi, gt in SUMMARY:
            if key == "memory":
                v = self.values(key, "bytes")
                bv, bp = self.best_peer(v)
                ours = " / ".join(fmt_bytes(v.get(o)) for o in OURS_MAIN)
                rat = " / ".join(fmt_ratio(ratio(v.get(o), bv)) for o in OURS_MAIN)
                out.append(f"| {title} | {ours} | {bp} {fmt_bytes(bv)} | {rat} (bytes) | | fixed <= 60 B, dynamic <= 120 B |")
                continue
            iv, tv = self.values(key, "instr"), self.values(key, "time")
            bi, bip = self.best_peer(iv)
            bt, btp = self.best_peer(tv)
            fmt_t = fmt_ns
            ours_i = " / ".join(fmt_instr(iv.get(o)) for o in OURS_MAIN)
            ours_t = " / ".join(fmt_t(tv.get(o)) for o in OURS_MAIN)
            ri = " / ".join(fmt_ratio(ratio(iv.get(o), bi)) for o in OURS_MAIN)
            rt = " / ".join(fmt_ratio(ratio(tv.get(o), bt)) for o in OURS_MAIN)
            best = "; ".join(
                [f"{bip} {fmt_instr(bi)} instr"] * (bip is not None) + [f"{btp} {fmt_t(bt)}"] * (btp is not None)
            )
            goal = []
            if gi:
                goal.append(f"<= {gi}x instr")
            if gt:
                goal.append(f"<= {gt}x time")
            if key == "encode_1m":
                ex = self.values(key, "extra")
                ours_t += " (extra " + " / ".join(f"{ex[o] / 1024:.0f} KiB" if o in ex else "-" for o in OURS_MAIN) + ")"
                goal.append("< 1 MiB extra")
            out.append(f"| {title} | {ours_i} instr; {ours_t} | {best} | {ri} | {rt} | {', '.join(goal)} |")
        out += ["", "## Every library, instructions per operation (callgrind)", ""]
        out += self.matrix("instr", fmt_instr)
        out += ["", "## Every library, time per operation (Criterion median; encode 1M: examples/encode1m)", ""]
        out += self.matrix("time", fmt_ns)
        if self.mem:
            out += ["", "## Memory per series at 100k series (peak RSS minus the empty run, / 100,000)", ""]
            out += ["| " + " | ".join(self.mem_libs()) + " |", "|" + "---|" * len(self.mem_libs())]
            out.append("| " + " | ".join(fmt_bytes(self.mem.get(l)) for l in self.mem_libs()) + " |")
        if self.enc1m:
            out += ["", "## Encode 1M series: extra heap during one encode (peak heap in use minus before)", ""]
            libs = [l for l in LIBS if l in self.enc1m]
            out += ["| " + " | ".join(libs) + " |", "|" + "---|" * len(libs)]
            out.append("| " + " | ".join(f"{self.enc1m[l][1] / 1024:.0f} KiB" for l in libs) + " |")
        return "\n".join(out) + "\n"

    def mem_libs(self):
        return [l for l in LIBS if l in self.mem]

    def matrix(self, kind, fmt):
        rows = []
        keys = [s for s in SUMMARY if s[0] != "memory"]
        libs = [l for l in LIBS if any(l in self.values(k[0], kind) for k in keys)]
        rows.append("| workload | " + " | ".join(libs) + " |")
        rows.append("|---|" + "---|" * len(libs))
        for k in keys:
            v = self.values(k[0], kind)
            if v:
                rows.append(f"| {k[1]} | " + " | ".join(fmt(v.get(l)) if l in v else "-" for l in libs) + " |")
        return rows

    def svg(self, note):
        panels = []
        for key, title, *_ in SUMMARY:
            if key == "memory":
                panels.append((title, "bytes per series", self.values(key, "bytes"), fmt_bytes))
            elif key == "encode_1m":
                panels.append((title.replace(", extra heap", ""), "median time per encode", self.values(key, "time"), fmt_ns))
            else:
                v = self.values(key, "instr")
                if v:
                    panels.append((title, "instructions per operation (callgrind)", v, fmt_instr))
                else:
                    panels.append((title, "median time per operation (Criterion)", self.values(key, "time"), fmt_ns))
        panels = [p for p in panels if p[2]]
        return render_svg(panels, note)


def esc(t):
    return str(t).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_svg(panels, note):
    """Panels side by side, two per row: one bar per library, ours highlighted, each of ours
    labeled with its ratio to the best peer."""
    cols, pw, bar, gap, label_w = 2, 540, 16, 4, 130
    heights = [72 + len([l for l in CHART_LIBS if l in p[2]]) * (bar + gap) for p in panels]
    rows = (len(panels) + cols - 1) // cols
    row_h = [max(heights[r * cols:(r + 1) * cols]) for r in range(rows)]
    width, top = cols * pw + 20, 60
    height = top + sum(row_h) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        '<text x="10" y="22" font-size="16" font-weight="bold">promstack beside the six Rust peers'
        " (lower is better)</text>",
        f'<text x="10" y="40" fill="#555">{esc(note)}</text>',
    ]
    y0 = top
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            if i >= len(panels):
                continue
            title, unit, vals, fmt = panels[i]
            x0 = 10 + c * pw
            libs = [l for l in CHART_LIBS if l in vals]
            best, _ = Summary.best_peer(vals)
            vmax = max(vals[l] for l in libs) or 1
            out.append(f'<text x="{x0}" y="{y0 + 14}" font-size="13" font-weight="bold">{esc(title)}</text>')
            out.append(f'<text x="{x0}" y="{y0 + 28}" fill="#555">{esc(unit)}</text>')
            span = pw - label_w - 150
            for j, lib in enumerate(libs):
                y = y0 + 38 + j * (bar + gap)
                v = vals[lib]
                w = max(1.0, span * v / vmax)
                ours = lib in OURS_MAIN
                color = "#e8590c" if ours else ("#ced4da" if lib == "baseline" else "#5c7cfa")
                name = "baseline" if lib == "baseline" else lib
                weight = ' font-weight="bold"' if ours else ""
                out.append(f'<text x="{x0 + label_w - 6}" y="{y + bar - 4}" text-anchor="end"{weight}>{esc(name)}</text>')
                out.append(f'<rect x="{x0 + label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="{color}"/>')
                text = fmt(v)
                if ours and best:
                    text += f"  ({v / best:.2f}x best peer)"
                elif lib in PEERS and v == best:
                    text += "  (best peer)"
                out.append(f'<text x="{x0 + label_w + w + 4:.1f}" y="{y + bar - 4}"{weight}>{esc(text)}</text>')
            missing = [p for p in PEERS if p not in vals]
            if missing:
                y = y0 + 38 + len(libs) * (bar + gap) + 10
                out.append(f'<text x="{x0 + label_w}" y="{y}" fill="#555">not measured: {esc(", ".join(missing))}</text>')
        y0 += row_h[r]
    out.append(
        f'<text x="10" y="{height - 10}" fill="#555">orange: promstack (core FixedFamily / alloc Family);'
        " blue: peers; grey: baseline (bare atomics; lookup: a plain hash map; encode: copying the output bytes). Generated by ci/bench.sh (bench/report.py).</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
