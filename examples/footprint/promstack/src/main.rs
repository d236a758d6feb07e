//! The 5-metric footprint firmware with promstack-core: two counters, a gauge, a histogram with
//! 8 buckets and a counter family with 2 labels, encoded as Prometheus text. Its twin,
//! ../embeprom, does the same with embeprom 0.3; ci/footprint.sh builds both, runs them under
//! QEMU (mps2-an385, Cortex-M3) and prints their flash, RAM and encode stack side by side.
//!
//! The metrics are declared with `metrics!`: their names, help texts, bucket bounds and label
//! names stay in flash, and RAM holds only their values (zero-initialised, in .bss).
//!
//! Feature `floats` (default): promstack-core's default features (`float`, `openmetrics`), an
//! `f64` gauge and histogram, and a gauge ending on a fraction. Without it, promstack-core is
//! built with no default feature: integer metrics only (`IntGauge`, `IntHistogram`), no float
//! formatting and no OpenMetrics writer linked.
#![no_std]
#![no_main]

#[path = "../../common.rs"]
mod common;

use cortex_m_rt::entry;
use panic_halt as _;
use promstack_core::{Counter, CounterValue, FixedFamily, StaticRegistry};

/// Iterations of the main loop; ci/footprint.sh checks the totals they imply.
const ITERATIONS: u32 = 1000;

#[cfg(feature = "floats")]
use promstack_core::{Gauge, Histogram};
#[cfg(not(feature = "floats"))]
use promstack_core::{IntGauge as Gauge, IntHistogram as Histogram};

#[cfg(feature = "floats")]
const PACKET_BOUNDS: [f64; 8] = [6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0];
#[cfg(not(feature = "floats"))]
const PACKET_BOUNDS: [i64; 8] = [6, 8, 10, 12, 14, 16, 18, 20];

promstack_core::metrics! {
    static LOOPS: Counter = Counter::new("fp_loop_iterations_total", "Main loop iterations.");
    static BYTES_SENT: Counter = Counter::new("fp_bytes_sent_total", "Bytes sent on the radio.");
    static TEMPERATURE: Gauge = Gauge::new("fp_temperature_celsius", "Temperature of the board sensor.");
    static PACKET_SIZE: Histogram<8> =
        Histogram::new("fp_packet_size_bytes", "Sizes of the packets sent.", PACKET_BOUNDS);
    static PACKETS: FixedFamily<CounterValue, 2, 8> =
        FixedFamily::counter("fp_packets", "Packets sent, by kind and result.", ["kind", "result"]);
}

static REGISTRY: StaticRegistry =
    StaticRegistry::new(&[&LOOPS, &BYTES_SENT, &TEMPERATURE, &PACKET_SIZE, &PACKETS]);

#[entry]
fn main() -> ! {
    for i in 0..ITERATIONS {
        // A packet of 5..=20 bytes.
        let len = 5 + i % 16;
        LOOPS.inc();
        record(i, len);
        let kind = ["data", "ack", "beacon"][(i % 3) as usize];
        let result = if i % 10 == 9 { "retry" } else { "ok" };
        if let Ok(child) = PACKETS.get([kind, result]) {
            child.inc();
        }
    }
    common::run(encode)
}

#[cfg(feature = "floats")]
fn record(i: u32, len: u32) {
    BYTES_SENT.inc_by_int(u64::from(len));
    TEMPERATURE.set(20.0 + f64::from(i % 10) * 0.5);
    PACKET_SIZE.observe(f64::from(len));
}

#[cfg(not(feature = "floats"))]
fn record(i: u32, len: u32) {
    BYTES_SENT.inc_by_int(u64::from(len));
    TEMPERATURE.set(i64::from(20 + i % 10 / 2));
    PACKET_SIZE.observe(i64::from(len));
}

fn encode(buf: &mut [u8]) -> Option<usize> {
    let capacity = buf.len();
    let rest = REGISTRY.encode_text(buf).ok()?;
    Some(capacity - rest.len())
}
