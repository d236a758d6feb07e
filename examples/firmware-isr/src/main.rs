//! promstack-core under interrupt load: a periodic interrupt handler and the main loop update the
//! same `static` metrics at the same time, then the exposition is printed and checked.
//!
//! Both contexts run the same operation set ([`op`]): a `Counter` increment, a `Gauge` step, a
//! `Histogram` observation and two `FixedFamily` lookups with an increment each: one child every
//! operation uses, and one that is claimed on first use (label sets shared by both contexts and
//! label sets only one context uses, so both claim new children while the other looks up);
//! halfway, each context also encodes the whole registry.
//!
//! On each tick the handler catches up with the main loop: it runs as many operation sets as
//! the main loop ran since (at most [`ISR_BATCH`]), until it has done [`ISR_OPS`]; the main loop
//! runs operation sets until it has done at least [`MAIN_OPS_MIN`] and the handler has
//! finished. So both contexts advance at about the same pace and the handler lands in the
//! middle of the main loop's operations throughout, however fast QEMU delivers the ticks.
//!
//! Then the timer is stopped, `isr-test: main_ops=M isr_ops=I ticks=T ...` and the Prometheus
//! text exposition are printed, and the machine exits. ci/firmware.sh computes every exact total
//! from M and I: a lost update, a torn value or a duplicated child shows as a wrong number, a
//! lock taken by the main loop and wanted by the handler as a hang.
//!
//! One crate for four QEMU machines; the board module starts the tick and does the I/O:
//! - thumbv7m / thumbv7em: `mps2-an385` / `mps2-an386`, SysTick on the core clock;
//! - thumbv6m: `microbit` (nRF51, Cortex-M0), its TIMER0 (the nRF51 has no SysTick);
//! - riscv32imc: `virt`, the CLINT machine timer; output on the 16550 UART, exit through the
//!   SiFive test device.
#![no_std]
#![no_main]

use core::fmt::Write as _;
use core::sync::atomic::{AtomicU32, Ordering};

use promstack_core::{
    Child, Counter, CounterValue, FixedFamily, Gauge, Histogram, StaticRegistry, LABEL_REJECTIONS,
};

#[cfg_attr(target_arch = "arm", path = "arm.rs")]
#[cfg_attr(target_arch = "riscv32", path = "riscv.rs")]
mod board;

/// Operation sets the interrupt handler runs in all.
const ISR_OPS: u32 = 100_000;
/// At most this many operation sets per tick. QEMU delivers a few thousand ticks a second at
/// best (its timers follow the host clock), fewer on a busy host: one operation set per tick
/// would take minutes.
const ISR_BATCH: u32 = 64;
/// Operation sets the main loop runs at least; it goes on while the handler is still working.
const MAIN_OPS_MIN: u32 = 100_000;
/// A tick that never comes would leave the main loop spinning: past this many operation sets
/// the run fails with a message instead of timing out.
const MAIN_OPS_MAX: u32 = 50_000_000;

/// At this operation count each context also encodes the whole registry, into a writer that
/// drops the bytes: an encode inside the handler, and one the handler interrupts.
const ENCODE_AT: u32 = ISR_OPS / 2;

/// Operation sets per claimed-child label: every `STRIDE` operations a context moves on to the
/// next label of [`SHARED_KEYS`] and of its own keys, claiming it if it is new.
const STRIDE: u32 = 2048;
/// Labels per key set; after the last one a context starts over at the first.
const KEYS: usize = 16;
const SHARED_KEYS: [&str; KEYS] =
    ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13", "c14", "c15"];
const MAIN_KEYS: [&str; KEYS] =
    ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11", "m12", "m13", "m14", "m15"];
const ISR_KEYS: [&str; KEYS] =
    ["i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8", "i9", "i10", "i11", "i12", "i13", "i14", "i15"];
/// Observed in turn; one per bucket of [`SIZES`], the last above every bound. Halves keep the
/// sum exact in an f64.
const OBSERVED: [f64; 4] = [0.5, 1.5, 2.5, 3.5];

static HITS: Counter = Counter::new("isr_hits_total", "Operation sets run, by both contexts.");
static LEVEL: Gauge = Gauge::new("isr_level", "Up 1 per main-loop operation set, down 2 per handler one.");
static SIZES: Histogram<3> = Histogram::new("isr_size", "Values observed by both contexts.", [1.0, 2.0, 3.0]);
/// 1 + 3 * 16 children used, room for 64.
static BY_KEY: FixedFamily<CounterValue, 1, 64, 8> =
    FixedFamily::counter("isr_keyed", "Increments by key, from both contexts.", ["key"]);
static REGISTRY: StaticRegistry = StaticRegistry::new(&[&HITS, &LEVEL, &SIZES, &BY_KEY, &LABEL_REJECTIONS]);

/// Operation sets the main loop has run. Only the main loop writes it.
static MAIN_DONE: AtomicU32 = AtomicU32::new(0);
/// Operation sets the handler has run. Only the handler writes it (a load and a store, which
/// every target has, even those without read-modify-write atomics).
static ISR_DONE: AtomicU32 = AtomicU32::new(0);
/// Ticks taken, including those after the handler finished its work.
static TICKS: AtomicU32 = AtomicU32::new(0);

#[derive(Clone, Copy)]
enum Context {
    Main,
    Isr,
}

/// The operation set both contexts run; `k` is the context's own operation count.
#[inline(never)]
fn op(k: u32, ctx: Context) {
    HITS.inc();
    match ctx {
        Context::Main => LEVEL.inc(),
        Context::Isr => LEVEL.sub(2.0),
    }
    SIZES.observe(OBSERVED[k as usize % OBSERVED.len()]);
    child("shared").inc();
    let j = (k / STRIDE) as usize % KEYS;
    let key = match (k % 2, ctx) {
        (0, _) => SHARED_KEYS[j],
        (_, Context::Main) => MAIN_KEYS[j],
        (_, Context::Isr) => ISR_KEYS[j],
    };
    child(key).inc();
    if k == ENCODE_AT && REGISTRY.encode_text(Discard).is_err() {
        fail("isr-test: an encode in the middle of the run failed");
    }
}

/// A writer that takes every byte and keeps none.
struct Discard;

impl embedded_io::ErrorType for Discard {
    type Error = core::convert::Infallible;
}

impl embedded_io::Write for Discard {
    fn write(&mut self, data: &[u8]) -> Result<usize, Self::Error> {
        Ok(data.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn child(key: &str) -> Child<'static, CounterValue> {
    match BY_KEY.get([key]) {
        Ok(child) => child,
        Err(_) => fail("isr-test: a FixedFamily lookup was refused"),
    }
}

/// Called by the board's tick handler.
fn on_tick() {
    TICKS.store(TICKS.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    let mut k = ISR_DONE.load(Ordering::Relaxed);
    let until = MAIN_DONE.load(Ordering::Relaxed).min(ISR_OPS).min(k + ISR_BATCH);
    while k < until {
        op(k, Context::Isr);
        k += 1;
        ISR_DONE.store(k, Ordering::Release);
    }
}

fn run() -> ! {
    if REGISTRY.check().is_err() {
        fail("isr-test: the registry's names collide");
    }
    board::start_ticks();
    let mut k = 0;
    while k < MAIN_OPS_MIN || ISR_DONE.load(Ordering::Acquire) < ISR_OPS {
        if k == MAIN_OPS_MAX {
            fail("isr-test: the tick interrupt did not run its operations (is it firing?)");
        }
        op(k, Context::Main);
        k += 1;
        MAIN_DONE.store(k, Ordering::Relaxed);
    }
    board::stop_ticks();

    let mut out = board::Out::new();
    let isr = ISR_DONE.load(Ordering::Relaxed);
    let ticks = TICKS.load(Ordering::Relaxed);
    // The check recomputes every total from these (and from `op`, which it mirrors).
    if writeln!(out, "isr-test: main_ops={k} isr_ops={isr} ticks={ticks} stride={STRIDE} keys={KEYS}")
        .is_err()
    {
        fail("isr-test: output failed");
    }
    match REGISTRY.encode_text(out) {
        Ok(mut out) => {
            if embedded_io::Write::flush(&mut out).is_err() {
                fail("isr-test: output failed");
            }
            board::exit(true)
        }
        Err(_) => fail("isr-test: encoding failed"),
    }
}

/// Prints `msg` and exits with a failure status.
fn fail(msg: &str) -> ! {
    let mut out = board::Out::new();
    let _ = writeln!(out, "{msg}");
    let _ = embedded_io::Write::flush(&mut out);
    board::exit(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut out = board::Out::new();
    let _ = writeln!(out, "isr-test: panic: {info}");
    let _ = embedded_io::Write::flush(&mut out);
    board::exit(false)
}
