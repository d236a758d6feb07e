//! RAM each promstack metric takes: `size_of` of the static types and of one labeled child
//! (a `FixedFamily` slot), on the target this is built for. BENCHMARKS.md lists the numbers for
//! x86_64 (this program) and thumbv7m (the same expressions in a `no_std` static).

use promstack_core::{
    Counter, CounterValue, FixedFamily, Gauge, GaugeValue, Histogram, HistogramValue, Summary,
};
use std::mem::size_of;

/// Bytes one more child slot adds to a family: the size at N = 2 minus the size at N = 1.
macro_rules! slot {
    ($m:ty, $l:literal, $v:literal) => {
        size_of::<FixedFamily<$m, $l, 2, $v>>() - size_of::<FixedFamily<$m, $l, 1, $v>>()
    };
}

fn main() {
    println!("size Counter {}", size_of::<Counter>());
    println!("size Gauge {}", size_of::<Gauge>());
    println!("size Summary {}", size_of::<Summary>());
    println!("size Histogram<11> {}", size_of::<Histogram<11>>());
    println!("size Histogram<14> {}", size_of::<Histogram<14>>());
    println!("size child:counter,L=2,V=16 {}", slot!(CounterValue, 2, 16));
    println!("size child:counter,L=2,V=32 {}", slot!(CounterValue, 2, 32));
    println!("size child:gauge,L=1,V=16 {}", slot!(GaugeValue, 1, 16));
    println!("size child:histogram<11>,L=1,V=16 {}", slot!(HistogramValue<11>, 1, 16));
}
