//! A binary that provides its own critical-section implementation, as an application on an RTOS
//! or with a custom scheduler would. promstack must not bring a second one: if it did, linking
//! would fail with duplicate `_critical_section_1_0_acquire` symbols.

use promstack::{encode_text, Collector, Counter, FixedFamily};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A process-wide lock standing in for "disable interrupts"; counts how often it is taken.
struct OwnSection;
static HELD: AtomicBool = AtomicBool::new(false);
static TAKEN: AtomicUsize = AtomicUsize::new(0);
critical_section::set_impl!(OwnSection);

// SAFETY: acquire/release pair up as critical-section requires: acquire spins until it owns the
// flag (nested sections report `true` and leave it held), release clears it only for the
// outermost section.
unsafe impl critical_section::Impl for OwnSection {
    unsafe fn acquire() -> bool {
        TAKEN.fetch_add(1, Ordering::Relaxed);
        while HELD.swap(true, Ordering::Acquire) {
            std::hint::spin_loop();
        }
        false
    }
    unsafe fn release(nested: bool) {
        if !nested {
            HELD.store(false, Ordering::Release);
        }
    }
}

static REQUESTS: Counter = Counter::new("requests", "Requests served.");
static ERRORS: FixedFamily<promstack::CounterValue, 1, 4> =
    FixedFamily::counter("errors", "Errors by kind.", ["kind"]);

fn main() {
    REQUESTS.inc();
    ERRORS.get(["io"]).expect("room for a child").inc();
    // The application's own use of its implementation still works beside promstack.
    critical_section::with(|_| REQUESTS.inc());
    let out = encode_text(Vec::new(), &[&REQUESTS as &dyn Collector, &ERRORS]).expect("encodes");
    let text = String::from_utf8(out).expect("utf-8");
    assert!(text.contains("requests_total 2.0\n"), "{text}");
    assert!(text.contains("errors_total{kind=\"io\"} 1.0\n"), "{text}");
    // With the `std` feature promstack-core takes std mutexes, not this implementation.
    assert_eq!(TAKEN.load(Ordering::Relaxed), 1, "only the application's own section ran");
    println!("own critical-section implementation linked beside promstack: ok");
}
