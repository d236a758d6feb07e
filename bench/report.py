#!/usr/bin/env python3
"""Prints the comparison table of ci/bench.sh.

Usage: report.py CRITERION_DIR RESULTS_FILE

CRITERION_DIR holds Criterion's output (GROUP/FUNCTION/new/estimates.json); the medians are
read from there. RESULTS_FILE holds the lines the other programs printed:
  allocs WORKLOAD LIB PER_OP
  mem LIB PEAK_RSS_BYTES SERIES
  scrape LIB REQUESTS_PER_S P99_MS
  instr WORKLOAD LIB INSTRUCTIONS_PER_OP
Ratios are promstack / best peer (lower is better, except scrape throughput) and promstack /
baseline. The table reports; it never fails on a timing.
"""
import json
import os
import sys

LIBS = ["baseline", "promstack", "promstack_alloc", "promstack_native", "promstack_protobuf", "prometheus", "prometheus_client", "metrics", "promstack_metrics"]
PEERS = ["prometheus", "prometheus_client", "metrics"]
# promstack_metrics: the `metrics` macros with promstack's recorder. Its "best peer" is `metrics`
# (metrics-exporter-prometheus behind the same macros) and the targets do not apply to it.
OURS = ["promstack", "promstack_alloc", "promstack_metrics"]
FACADE = "promstack_metrics"
# The memory program names the fixed-capacity family explicitly.
MEM_LIBS = ["promstack_fixed", "promstack_alloc", "prometheus", "prometheus_client", "metrics"]
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
    crit, results_path = sys.argv[1], sys.argv[2]
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


if __name__ == "__main__":
    main()
