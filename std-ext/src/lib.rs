//! promstack: Prometheus instrumentation for Rust servers.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod clock;
mod graphite;
pub mod http;
mod instrument;
mod platform;
mod process;
mod registry;
pub mod push;
pub mod std_io;
mod textfile;

pub use clock::{install_std_clock, StdClock, STD_CLOCK};
pub use instrument::{CounterExt, GaugeClosure, GaugeExt, GaugeTimer, InProgress, ObserveExt, Timer};
pub use graphite::{GraphiteBridge, GraphitePusher};
pub use platform::{PlatformCollector, RUSTC_VERSION, TARGET};
pub use process::ProcessCollector;
pub use registry::default_registry;
pub use textfile::write_to_textfile;
pub use http::{start_http_server, HttpServer, HttpServerHandle, MetricsService};
pub use promstack_alloc;
pub use promstack_core;
pub use promstack_alloc::*;
pub use promstack_core::*;
