//! The workloads every library is measured on, so that promstack and each peer get exactly the
//! same label values, bucket bounds and observed values; and promstack's fixed-capacity setups.
//!
//! The peers (prometheus 0.14, prometheus-client 0.26, metrics 0.24 + metrics-exporter-prometheus
//! 0.18, fastmetrics 0.7, measured 0.0.25, embeprom 0.3) are dev-dependencies of this crate: the
//! Criterion bench (`benches/compare.rs`) and the profile, memory, encode, allocation and scrape
//! programs (`examples/`) build them. `ci/bench.sh` runs everything in the `bench-lto` profile
//! and prints the comparison table; `BENCHMARKS.md` explains each row.

use promstack_alloc::{Family, Registry};
use promstack_core::{Collector, CounterValue, FixedFamily, HistogramValue, DEFAULT_BUCKETS};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// HTTP methods of the labeled workloads.
pub const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];

/// Children of the labeled counter whose lookup is measured.
pub const LOOKUP_CHILDREN: usize = 100;
/// Labeled counter families in the 10k-series encode.
pub const ENCODE_FAMILIES: usize = 10;
/// Children of each of those families.
pub const ENCODE_CHILDREN: usize = 1000;
/// Histograms in the histogram encode (children of one family labeled by `path`).
pub const HISTOGRAMS: usize = 1000;
/// Labeled series created by the memory programs.
pub const MEM_SERIES: usize = 100_000;
/// Children of each of the 10 families of the 1M-series encode (10 x 100,000).
pub const BIG_CHILDREN: usize = 100_000;

/// Histogram bucket bounds of every histogram workload: the Prometheus default buckets
/// (`+Inf` implied), the same for every library.
pub const BUCKETS: [f64; 14] = DEFAULT_BUCKETS;

/// The path label value number `i` (22 bytes, a realistic route).
pub fn path(i: usize) -> String {
    format!("/api/v1/resource/{i:05}")
}

/// `n` distinct `(method, path)` pairs, leaked so every library can take them as `&'static str`
/// (the cheapest form each peer accepts). Pair `i` is `METHODS[i % 4]` and `path(i / 4)`.
pub fn label_pairs(n: usize) -> Vec<[&'static str; 2]> {
    (0..n).map(|i| [METHODS[i % METHODS.len()], &*path(i / METHODS.len()).leak()]).collect()
}

/// `n` distinct `(method, path)` pairs as owned strings, for the memory programs (100k distinct
/// values cannot be `'static` in a real program).
pub fn owned_pairs(n: usize) -> Vec<[String; 2]> {
    (0..n).map(|i| [METHODS[i % METHODS.len()].to_string(), path(i / METHODS.len())]).collect()
}

/// 1024 observations (a power of two, so a loop indexes them with a mask), log-uniform between
/// 1 ms and 20 s: they land in every bucket, in an order a branch predictor cannot learn.
pub fn observations() -> Vec<f64> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..1024)
        .map(|_| {
            // xorshift64*
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let u = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
            0.001 * 20_000f64.powf(u)
        })
        .collect()
}

/// Name of encode family `f`.
pub fn family_name(f: usize) -> String {
    format!("http_requests_{f}")
}

/// The labeled counter of the lookup workload: 100 children in a table of 256 slots.
pub type LookupFamily = FixedFamily<CounterValue, 2, 256, 32>;
/// One labeled counter of the encode workload: 1000 children in 1024 slots.
pub type EncodeFamily = FixedFamily<CounterValue, 2, 1024, 32>;
/// The labeled histogram of the histogram encode workload: 1000 children in 1024 slots.
pub type HistogramFamily = FixedFamily<HistogramValue<14>, 1, 1024, 32>;

/// The wall clock, as promstack's std layer installs it (`start_http_server` does): children
/// then carry their creation time, which OpenMetrics exposes as `_created`.
struct SystemClock;

impl promstack_core::Clock for SystemClock {
    fn unix_time(&self) -> f64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
    }
}

/// Installs the wall clock, as a std program using promstack has it. Every setup below calls it,
/// so promstack is measured as it runs on a server.
pub fn install_clock() {
    promstack_core::install_clock(&SystemClock);
}

/// A counter family named `name` with the children `pairs`, each incremented `i + 1` times.
pub fn fixed_counter<const N: usize>(
    name: &'static str,
    pairs: &[[&str; 2]],
) -> Box<FixedFamily<CounterValue, 2, N, 32>> {
    install_clock();
    let fam = Box::new(FixedFamily::counter(name, "Requests served.", ["method", "path"]));
    for (i, p) in pairs.iter().enumerate() {
        fam.get(p).expect("capacity").value().inc_by_int(i as u64 + 1);
    }
    fam
}

/// The 10 families of the 10k-series encode, leaked (`'static`, as a server's metrics are).
pub fn fixed_encode_families() -> [&'static dyn Collector; ENCODE_FAMILIES] {
    let pairs = label_pairs(ENCODE_CHILDREN);
    core::array::from_fn(|f| {
        let name: &'static str = family_name(f).leak();
        let fam: &'static EncodeFamily = Box::leak(fixed_counter(name, &pairs));
        fam as &'static dyn Collector
    })
}

/// The 1000-children histogram of the histogram encode, each child given 8 observations.
pub fn fixed_histograms() -> &'static HistogramFamily {
    install_clock();
    let fam: &'static HistogramFamily = Box::leak(Box::new(FixedFamily::histogram(
        "request_duration_seconds",
        "Request duration.",
        ["path"],
        BUCKETS,
    )));
    let obs = observations();
    for i in 0..HISTOGRAMS {
        let p = path(i);
        let child = fam.get([p.as_str()]).expect("capacity");
        for k in 0..8 {
            child.observe(obs[(i * 8 + k) % obs.len()]);
        }
    }
    fam
}

/// One family of the 1M-series encode: 100,000 children in 131,072 slots (76 % full), too large
/// for the stack, so the ten live in a `static` as a server would hold them.
pub type BigFamily = FixedFamily<CounterValue, 2, 131_072, 32>;

macro_rules! big_families {
    ($($name:literal),*) => {
        [$(FixedFamily::counter($name, "Requests served.", ["method", "path"])),*]
    };
}

static BIG: [BigFamily; ENCODE_FAMILIES] = big_families!(
    "http_requests_0",
    "http_requests_1",
    "http_requests_2",
    "http_requests_3",
    "http_requests_4",
    "http_requests_5",
    "http_requests_6",
    "http_requests_7",
    "http_requests_8",
    "http_requests_9"
);

/// The 1M series (10 families x 100,000 children, child `i` counted `i + 1`) in core's
/// fixed-capacity families. Call once per process: the families are a `static`.
pub fn fixed_1m_families() -> [&'static dyn Collector; ENCODE_FAMILIES] {
    install_clock();
    let pairs = label_pairs(BIG_CHILDREN);
    for fam in &BIG {
        for (i, p) in pairs.iter().enumerate() {
            fam.get(p).expect("capacity").value().inc_by_int(i as u64 + 1);
        }
    }
    core::array::from_fn(|f| &BIG[f] as &'static dyn Collector)
}

/// The 1M series in promstack-alloc's `Registry` of dynamic families.
pub fn alloc_1m_registry() -> Registry {
    let reg = Registry::new();
    let pairs = label_pairs(BIG_CHILDREN);
    for f in 0..ENCODE_FAMILIES {
        reg.register(Arc::new(alloc_counter(&family_name(f), &pairs))).expect("distinct names");
    }
    reg
}

fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// promstack-alloc's dynamic family named `name` with the children `pairs`, child `i` counted
/// `i + 1`.
pub fn alloc_counter(name: &str, pairs: &[[&str; 2]]) -> Family<CounterValue> {
    install_clock();
    let fam = Family::counter(name, "Requests served.", &["method", "path"]).expect("valid");
    for (i, p) in pairs.iter().enumerate() {
        fam.get(p).expect("two values").inc_by_int(i as u64 + 1);
    }
    fam
}

/// The 10k series in promstack-alloc's `Registry` of dynamic families.
pub fn alloc_encode_registry() -> Registry {
    let reg = Registry::new();
    let pairs = label_pairs(ENCODE_CHILDREN);
    for f in 0..ENCODE_FAMILIES {
        reg.register(Arc::new(alloc_counter(&family_name(f), &pairs))).expect("distinct names");
    }
    reg
}

/// The 1000 histograms as children of one promstack-alloc family, in a `Registry`.
pub fn alloc_histograms() -> Registry {
    install_clock();
    let fam = Family::histogram("request_duration_seconds", "Request duration.", &["path"], BUCKETS)
        .expect("valid");
    let obs = observations();
    for i in 0..HISTOGRAMS {
        let child = fam.get([path(i).as_str()]).expect("one value");
        for k in 0..8 {
            child.observe(obs[(i * 8 + k) % obs.len()]);
        }
    }
    let reg = Registry::new();
    reg.register(Arc::new(fam)).expect("one family");
    reg
}

/// Peak resident set size of this process in bytes (`VmHWM` of `/proc/self/status`).
pub fn peak_rss() -> Option<u64> {
    status_kib("VmHWM:").map(|k| k * 1024)
}

/// A promstack-alloc native histogram (schema 3, at most 160 buckets), unlabeled: the child
/// the native observe benchmark records into.
pub fn native_histogram() -> promstack_alloc::OwnedChild<promstack_alloc::NativeHistogramValue> {
    let cfg = promstack_alloc::NativeConfig::new(3).expect("valid schema");
    let fam = promstack_alloc::Opts::new("latency_seconds", "Latency.").native_histogram(cfg).expect("valid");
    fam.get(()).expect("unlabeled")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_distinct_and_sized() {
        let pairs = label_pairs(1000);
        let mut set: Vec<_> = pairs.clone();
        set.sort();
        set.dedup();
        assert_eq!(set.len(), 1000);
        assert_eq!(path(3).len(), 22);
        let obs = observations();
        assert_eq!(obs.len(), 1024);
        assert!(obs.iter().all(|v| (0.001..=20.0).contains(v)));
    }

    #[test]
    fn promstack_setups_encode() {
        let fams = fixed_encode_families();
        let out = promstack_core::encode_text(Vec::new(), &fams).unwrap();
        let lines = out.split(|b| *b == b'\n').filter(|l| !l.is_empty() && l[0] != b'#').count();
        assert_eq!(lines, ENCODE_FAMILIES * ENCODE_CHILDREN);
        let h = fixed_histograms();
        assert_eq!(h.len(), HISTOGRAMS);
        // Same lines; a fixed family reports in slot order, a dynamic one in creation order.
        let sorted = |text: Vec<u8>| {
            let mut lines: Vec<Vec<u8>> = text.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            lines.sort();
            lines
        };
        assert_eq!(sorted(alloc_encode_registry().encode_text(Vec::new()).unwrap()), sorted(out));
        let hist = promstack_core::encode_text(Vec::new(), h).unwrap();
        assert_eq!(sorted(alloc_histograms().encode_text(Vec::new()).unwrap()), sorted(hist));
    }
}
