//! Time and extra memory of one text encode of 1M series (10 labeled counters x 100,000
//! children) into a reused buffer, in one library.
//!
//! `encode1m LIB [RUNS]` builds the series, encodes once untimed (the buffer grows to the
//! output's size), encodes RUNS times timed (5 by default), then once more with the heap
//! tracked. It prints `enc1m LIB MEDIAN_NS EXTRA_BYTES SERIES`: the median wall time of one
//! encode, and the peak of heap bytes in use during the tracked encode above those in use
//! before it: the memory an encode needs beyond the series and the reused output buffer.
//! (Heap, not RSS: the allocator keeps freed pages, so an RSS difference would hide a large
//! temporary freed by the untimed encode.) LIB: promstack, promstack_alloc, prometheus,
//! prometheus_client, metrics, fastmetrics, measured, embeprom.

use promstack_bench::{BIG_CHILDREN, ENCODE_FAMILIES};
use promstack_core::{Encoder, Format};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../common/peers.rs"]
mod peers;
use peers::*;

/// Heap bytes in use and their peak, counted only while `TRACK` is set (the timed runs pay one
/// relaxed load per allocation).
struct Tracking;
static TRACK: AtomicBool = AtomicBool::new(false);
static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Tracking {
    fn grow(n: usize) {
        if TRACK.load(Relaxed) {
            let now = IN_USE.fetch_add(n, Relaxed) + n;
            PEAK.fetch_max(now, Relaxed);
        }
    }
    fn shrink(n: usize) {
        if TRACK.load(Relaxed) {
            IN_USE.fetch_sub(n, Relaxed);
        }
    }
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::grow(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Self::shrink(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::grow(new_size);
        Self::shrink(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// One encode into the reused byte buffer or the reused `String` (the libraries that write a
/// `fmt::Write`).
type EncodeFn = Box<dyn FnMut(&mut Vec<u8>, &mut String)>;

fn main() {
    let mut args = std::env::args().skip(1);
    let lib = args.next().unwrap_or_else(|| "promstack".into());
    let runs: usize = args.next().map(|s| s.parse().expect("RUNS")).unwrap_or(5);
    let mut buf: Vec<u8> = Vec::new();
    let mut s = String::new();
    let mut encode: EncodeFn = match lib.as_str() {
        "promstack" => {
            let fams = promstack_bench::fixed_1m_families();
            Box::new(move |buf, _| {
                buf.clear();
                let mut enc = Encoder::new(Format::Text, buf);
                enc.encode(&fams).unwrap();
                enc.finish().unwrap();
            })
        }
        "promstack_alloc" => {
            let reg = promstack_bench::alloc_1m_registry();
            Box::new(move |buf, _| {
                buf.clear();
                reg.encode_text(buf).unwrap();
            })
        }
        "prometheus" => {
            let reg = prometheus_1m_registry();
            let enc = prometheus::TextEncoder::new();
            Box::new(move |buf, _| {
                use prometheus::Encoder as _;
                buf.clear();
                enc.encode(&reg.gather(), buf).unwrap();
            })
        }
        "prometheus_client" => {
            let reg = prometheus_client_1m_registry();
            Box::new(move |_, s| {
                s.clear();
                prometheus_client::encoding::text::encode(s, &reg).unwrap();
            })
        }
        "metrics" => {
            let h = metrics_1m_handle();
            Box::new(move |buf, _| {
                buf.clear();
                h.render_to_write(buf).unwrap();
            })
        }
        "fastmetrics" => {
            let reg = fastmetrics_1m_registry();
            Box::new(move |_, s| {
                s.clear();
                fm_encode(s, &reg);
            })
        }
        "measured" => {
            let fams = measured_1m_families();
            Box::new(move |buf, _| {
                buf.clear();
                fams.encode(buf);
            })
        }
        "embeprom" => {
            let reg = embeprom_1m_registry();
            Box::new(move |_, s| {
                s.clear();
                ep_encode(s, reg);
            })
        }
        other => {
            eprintln!("unknown library {other}");
            std::process::exit(2);
        }
    };
    encode(&mut buf, &mut s);
    let lines = sample_lines(&buf) + sample_lines(s.as_bytes());
    assert_eq!(lines, ENCODE_FAMILIES * BIG_CHILDREN, "{lib} encoded another series count");
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            encode(&mut buf, &mut s);
            t.elapsed()
        })
        .collect();
    // Frees of blocks allocated before tracking may take IN_USE below zero: it starts high.
    let base = usize::MAX / 2;
    IN_USE.store(base, Relaxed);
    PEAK.store(base, Relaxed);
    TRACK.store(true, Relaxed);
    encode(&mut buf, &mut s);
    TRACK.store(false, Relaxed);
    let extra = PEAK.load(Relaxed) - base;
    times.sort();
    black_box((&buf, &s));
    println!("enc1m {lib} {} {extra} {lines}", times[times.len() / 2].as_nanos());
}
