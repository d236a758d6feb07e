//! Looking up an existing child of a `Family` allocates nothing, by every lookup path, and
//! neither does encoding its children into a reused buffer.
//!
//! A counting global allocator tallies each thread's allocations (a thread-local count, so
//! tests running on other threads do not add to it).

use promstack_alloc::Family;
use promstack_core::{Encoder, Format, DEFAULT_BUCKETS};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // `const` initialization: reading it never allocates (no lazy init inside the allocator).
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only a
// thread-local `Cell`, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: as for `dealloc`, and the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn existing_child_lookups_allocate_nothing() {
    let requests = Family::counter("requests", "Requests.", &["method", "path"]).unwrap();
    let latency = Family::histogram("latency_seconds", "Latency.", &["path"], DEFAULT_BUCKETS).unwrap();
    let up = Family::gauge("up", "Up.", &[]).unwrap();
    let paths: Vec<String> = (0..64).map(|i| format!("/api/v1/resource/{i:05}")).collect();
    for p in &paths {
        requests.get(["GET", p]).unwrap();
        latency.get([p]).unwrap();
    }
    // The first lookup ever may seed the hasher; keep it out of the count.
    requests.get(["GET", &paths[0]]).unwrap().inc();

    let n = allocations_during(|| {
        for round in 0..100 {
            for p in &paths {
                requests.get(["GET", p]).unwrap().inc();
                requests.get_by_name(&[("path", p), ("method", "GET")]).unwrap().inc();
                requests.with(&["GET", p], |c| c.inc()).unwrap();
                requests.with_label_values(&["GET", p]).unwrap().inc();
                latency.get([p]).unwrap().observe(f64::from(round) / 100.0);
            }
            up.get(()).unwrap().set(1.0);
            // Refused lookups do not allocate either.
            assert!(requests.get(["GET"]).is_err());
        }
    });
    assert_eq!(n, 0, "allocations while looking up existing children");
    assert_eq!(requests.get(["GET", &paths[5]]).unwrap().get(), 400.0);

    // Creating a child does allocate (its key and node), which shows the counter works.
    assert!(allocations_during(|| drop(requests.get(["PUT", "/new"]).unwrap())) > 0);
}

#[test]
fn encoding_children_into_a_reused_buffer_allocates_nothing() {
    let requests = Family::counter("requests", "Requests.", &["method", "path"]).unwrap();
    let latency = Family::histogram("latency_seconds", "Latency.", &["path"], DEFAULT_BUCKETS).unwrap();
    let names: Vec<String> = (0..16).map(|i| format!("l{i:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    // 16 labels: the most a scrape keeps on the stack.
    let wide = Family::gauge("wide", "Wide.", &names).unwrap();
    // More children than one chunk of the walk (64).
    for i in 0..200 {
        let p = format!("/api/v1/resource/{i:05}");
        requests.get(["GET", &p]).unwrap().inc();
        latency.get([&p]).unwrap().observe(0.25);
        let values: Vec<String> = (0..16).map(|k| format!("{i}-{k}")).collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        wide.with_label_values(&values).unwrap().set(1.0);
    }
    let mut buf: Vec<u8> = Vec::new();
    let encode = |buf: &mut Vec<u8>| {
        buf.clear();
        let mut enc = Encoder::new(Format::Text, &mut *buf);
        enc.encode(&requests).unwrap();
        enc.encode(&latency).unwrap();
        enc.encode(&wide).unwrap();
        enc.finish().unwrap();
    };
    // The first encode grows the buffer to the exposition's size.
    encode(&mut buf);
    let first = buf.clone();
    assert_eq!(allocations_during(|| encode(&mut buf)), 0, "allocations while encoding");
    assert_eq!(buf, first);
    let text = String::from_utf8(buf).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("requests_total{")).count(), 200);
    assert_eq!(text.lines().filter(|l| l.starts_with("wide{")).count(), 200);
}
