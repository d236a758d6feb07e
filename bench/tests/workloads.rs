//! The hot paths promstack promises allocate nothing, and every library's workload holds the
//! same series (so the benchmark compares like with like).

use promstack_bench::{
    label_pairs, LookupFamily, ENCODE_CHILDREN, ENCODE_FAMILIES, HISTOGRAMS, LOOKUP_CHILDREN,
};
use promstack_core::{Encoder, Format, Histogram};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

#[allow(dead_code)]
#[path = "../common/peers.rs"]
mod peers;
use peers::*;

/// Counts allocations of the current thread only (tests run in parallel threads).
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: no count while the thread-local is being torn down.
    let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

#[test]
fn promstack_hot_paths_allocate_nothing() {
    let pairs = label_pairs(LOOKUP_CHILDREN);
    let fam: Box<LookupFamily> = promstack_bench::fixed_counter("http_requests", &pairs);
    let n = allocations(|| {
        for _ in 0..10 {
            for p in &pairs {
                fam.get(p).unwrap().inc();
            }
        }
    });
    assert_eq!(n, 0, "labeled lookup + inc allocated");

    static H: Histogram<14> = Histogram::new("h_seconds", "H.", promstack_bench::BUCKETS);
    let obs = promstack_bench::observations();
    assert_eq!(allocations(|| obs.iter().for_each(|v| H.observe(*v))), 0, "observe allocated");

    let fams = promstack_bench::fixed_encode_families();
    let mut buf = Vec::new();
    let encode = |buf: &mut Vec<u8>| {
        buf.clear();
        let mut enc = Encoder::new(Format::Text, buf);
        enc.encode(&fams).unwrap();
        enc.finish().unwrap();
    };
    encode(&mut buf);
    assert_eq!(allocations(|| encode(&mut buf)), 0, "encode into a reused buffer allocated");
}

#[test]
fn every_library_encodes_the_same_series() {
    let series = ENCODE_FAMILIES * ENCODE_CHILDREN;
    let fams = promstack_bench::fixed_encode_families();
    let ps = promstack_core::encode_text(Vec::new(), &fams).unwrap();
    assert_eq!(sample_lines(&ps), series);

    let mut out = Vec::new();
    prometheus::Encoder::encode(
        &prometheus::TextEncoder::new(),
        &prometheus_encode_registry().gather(),
        &mut out,
    )
    .unwrap();
    assert_eq!(sample_lines(&out), series);

    let mut s = String::new();
    prometheus_client::encoding::text::encode(&mut s, &prometheus_client_encode_registry()).unwrap();
    assert_eq!(sample_lines(s.as_bytes()), series);

    let m = metrics_encode_handle().render();
    assert_eq!(sample_lines(m.as_bytes()), series);

    let mut s = String::new();
    fm_encode(&mut s, &fastmetrics_encode_registry());
    assert_eq!(sample_lines(s.as_bytes()), series);

    let mut out = Vec::new();
    measured_encode_families().encode(&mut out);
    assert_eq!(sample_lines(&out), series);

    let mut s = String::new();
    ep_encode(&mut s, embeprom_encode_registry());
    assert_eq!(sample_lines(s.as_bytes()), series);

    // Histograms: 15 buckets + count + sum per child.
    let per = 17;
    let ps = promstack_core::encode_text(Vec::new(), promstack_bench::fixed_histograms()).unwrap();
    assert_eq!(sample_lines(&ps), HISTOGRAMS * per);
    let mut out = Vec::new();
    prometheus::Encoder::encode(
        &prometheus::TextEncoder::new(),
        &prometheus_histogram_registry().gather(),
        &mut out,
    )
    .unwrap();
    assert_eq!(sample_lines(&out), HISTOGRAMS * per);
    let mut s = String::new();
    prometheus_client::encoding::text::encode(&mut s, &prometheus_client_histogram_registry()).unwrap();
    assert_eq!(sample_lines(s.as_bytes()), HISTOGRAMS * per);
    let m = metrics_histogram_handle().render();
    assert_eq!(sample_lines(m.as_bytes()), HISTOGRAMS * per);
    let mut s = String::new();
    fm_encode(&mut s, &fastmetrics_histogram_registry());
    assert_eq!(sample_lines(s.as_bytes()), HISTOGRAMS * per);
    let mut out = Vec::new();
    measured_histograms().encode(&mut out);
    assert_eq!(sample_lines(&out), HISTOGRAMS * per);
    let mut s = String::new();
    ep_encode(&mut s, embeprom_histogram_registry());
    assert_eq!(sample_lines(s.as_bytes()), HISTOGRAMS * per);
}
