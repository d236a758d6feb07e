//! The 5-metric footprint firmware with embeprom 0.3, twin of ../promstack: the same metrics,
//! the same updates, the same output path (../common.rs), for a side-by-side measurement of
//! flash, RAM and encode stack (ci/footprint.sh).
//!
//! Feature `floats` (default): embeprom's `float` feature, an `f64` gauge (`GaugeF64`) and
//! histogram (`Histogram`). Without it, its integer types: `Gauge` (i64) and `IntHistogram`
//! (u64), and no float code at all. Counters are `u64` in both.
#![no_std]
#![no_main]

#[path = "../../common.rs"]
mod common;

use cortex_m_rt::entry;
use panic_halt as _;

/// Iterations of the main loop; ci/footprint.sh checks the totals they imply.
const ITERATIONS: u32 = 1000;

#[cfg(feature = "floats")]
mod metrics {
    embeprom::metrics! {
        namespace = "fp";

        /// Main loop iterations.
        loop_iterations_total: Counter,
        /// Bytes sent on the radio.
        bytes_sent_total: Counter,
        /// Temperature of the board sensor.
        temperature_celsius: GaugeF64,
        /// Sizes of the packets sent.
        #[buckets(6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0)]
        packet_size_bytes: Histogram,
        /// Packets sent, by kind and result.
        #[labels("kind", "result")]
        packets_total: CounterVec<8>,
    }
}

#[cfg(not(feature = "floats"))]
mod metrics {
    embeprom::metrics! {
        namespace = "fp";

        /// Main loop iterations.
        loop_iterations_total: Counter,
        /// Bytes sent on the radio.
        bytes_sent_total: Counter,
        /// Temperature of the board sensor.
        temperature_celsius: Gauge,
        /// Sizes of the packets sent.
        #[buckets(6, 8, 10, 12, 14, 16, 18, 20)]
        packet_size_bytes: IntHistogram,
        /// Packets sent, by kind and result.
        #[labels("kind", "result")]
        packets_total: CounterVec<8>,
    }
}

#[entry]
fn main() -> ! {
    // Registered up front, as promstack's static registry is, so every metric is exposed.
    if embeprom::register(&metrics::METRICS).is_err() {
        common::exit(false);
    }
    let m = metrics::get();
    for i in 0..ITERATIONS {
        // A packet of 5..=20 bytes.
        let len = 5 + i % 16;
        m.loop_iterations_total.inc();
        m.bytes_sent_total.inc_by(u64::from(len));
        record(i, len);
        let kind = ["data", "ack", "beacon"][(i % 3) as usize];
        let result = if i % 10 == 9 { "retry" } else { "ok" };
        m.packets_total.inc(&[kind, result]);
    }
    common::run(encode)
}

#[cfg(feature = "floats")]
fn record(i: u32, len: u32) {
    let m = metrics::get();
    m.temperature_celsius.set(20.0 + f64::from(i % 10) * 0.5);
    m.packet_size_bytes.observe(f64::from(len));
}

#[cfg(not(feature = "floats"))]
fn record(i: u32, len: u32) {
    let m = metrics::get();
    m.temperature_celsius.set(i64::from(20 + i % 10 / 2));
    m.packet_size_bytes.observe(u64::from(len));
}

fn encode(buf: &mut [u8]) -> Option<usize> {
    let mut renderer = embeprom::Renderer::new();
    let mut len = 0;
    while let Some(line) = renderer.next_line().ok()? {
        let line = line.as_bytes();
        buf.get_mut(len..len + line.len())?.copy_from_slice(line);
        len += line.len();
    }
    Some(len)
}
