//! Heap allocations per operation of each library, counted by a global allocator.
//!
//! Prints one line per (workload, library): `allocs WORKLOAD LIB PER_OP`. Every operation runs
//! once untimed first, so buffers that grow on first use are not counted.

use promstack_bench::{label_pairs, LookupFamily, LOOKUP_CHILDREN};
use promstack_core::{Encoder, Format};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[allow(dead_code)]
#[path = "../common/peers.rs"]
mod peers;
use peers::*;

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations per call of `f` over `n` calls, after one warm-up call.
fn per_op(n: u64, mut f: impl FnMut(u64)) -> f64 {
    f(0);
    let before = ALLOCS.load(Relaxed);
    for i in 0..n {
        f(i);
    }
    (ALLOCS.load(Relaxed) - before) as f64 / n as f64
}

fn print(workload: &str, lib: &str, v: f64) {
    println!("allocs {workload} {lib} {v}");
}

fn main() {
    let pairs = label_pairs(LOOKUP_CHILDREN);
    let n = pairs.len() as u64;
    let pick = |i: u64| &pairs[(i % n) as usize];

    // Lookup of an existing child + inc.
    let ps: Box<LookupFamily> = promstack_bench::fixed_counter("http_requests", &pairs);
    print("labeled_lookup_inc", "promstack", per_op(10_000, |i| ps.get(pick(i)).unwrap().inc()));
    let pa = promstack_bench::alloc_counter("http_requests", &pairs);
    print(
        "labeled_lookup_inc",
        "promstack_alloc",
        per_op(10_000, |i| pa.with(pick(i), |c| c.inc()).unwrap()),
    );
    print("labeled_lookup_get_inc", "promstack_alloc", per_op(10_000, |i| pa.get(pick(i)).unwrap().inc()));
    let prom = prometheus::IntCounterVec::new(
        prometheus::Opts::new("http_requests_total", "Requests."),
        &["method", "path"],
    )
    .unwrap();
    for p in &pairs {
        prom.with_label_values(p).inc();
    }
    print("labeled_lookup_inc", "prometheus", per_op(10_000, |i| prom.with_label_values(pick(i)).inc()));
    let pc = PcCounterFamily::default();
    for p in &pairs {
        pc.get_or_create(&MethodPath { method: p[0], path: p[1] }).inc();
    }
    print(
        "labeled_lookup_inc",
        "prometheus_client",
        per_op(10_000, |i| {
            let p = pick(i);
            pc.get_or_create(&MethodPath { method: p[0], path: p[1] }).inc();
        }),
    );
    let rec = metrics_recorder();
    metrics::with_local_recorder(&rec, || {
        for p in &pairs {
            metrics::counter!("http_requests", "method" => p[0], "path" => p[1]).increment(1);
        }
        print(
            "labeled_lookup_inc",
            "metrics",
            per_op(10_000, |i| {
                let p = pick(i);
                metrics::counter!("http_requests", "method" => p[0], "path" => p[1]).increment(1);
            }),
        );
    });

    // Encode 10k series into a reused buffer.
    let fams = promstack_bench::fixed_encode_families();
    let mut buf = Vec::new();
    print(
        "encode_10k_counters",
        "promstack",
        per_op(20, |_| {
            buf.clear();
            let mut enc = Encoder::new(Format::Text, &mut buf);
            enc.encode(&fams).unwrap();
            enc.finish().unwrap();
        }),
    );
    let reg = promstack_bench::alloc_encode_registry();
    print(
        "encode_10k_counters",
        "promstack_alloc",
        per_op(20, |_| {
            buf.clear();
            reg.encode_text(&mut buf).unwrap();
        }),
    );
    let reg = prometheus_encode_registry();
    let enc = prometheus::TextEncoder::new();
    print(
        "encode_10k_counters",
        "prometheus",
        per_op(20, |_| {
            use prometheus::Encoder as _;
            buf.clear();
            enc.encode(&reg.gather(), &mut buf).unwrap();
        }),
    );
    let reg = prometheus_client_encode_registry();
    let mut s = String::new();
    print(
        "encode_10k_counters",
        "prometheus_client",
        per_op(20, |_| {
            s.clear();
            prometheus_client::encoding::text::encode(&mut s, &reg).unwrap();
        }),
    );
    let h = metrics_encode_handle();
    print(
        "encode_10k_counters",
        "metrics",
        per_op(20, |_| {
            buf.clear();
            h.render_to_write(&mut buf).unwrap();
        }),
    );
    black_box(&buf);
}
