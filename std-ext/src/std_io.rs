//! Bridges between `std::io` and the `embedded_io` traits the core encoders write to.
//!
//! The adapters are [`embedded-io-adapters`](embedded_io_adapters)' [`FromStd`] and [`ToStd`],
//! re-exported here; [`encode_to_writer`] is the common case of streaming an exposition into a
//! `std::io::Write` (a file, a socket, a compressor).

pub use embedded_io_adapters::std::{FromStd, ToStd};

use promstack_core::{Collector, EncodeError, Encoder, Format};
use std::io;

/// Streams `collector` in `format` into `writer` (through [`FromStd`]) and returns the writer.
///
/// A collector failure becomes an [`io::ErrorKind::Other`] error naming the failure.
///
/// ```
/// use promstack::{Counter, Format};
/// static JOBS: Counter = Counter::new("jobs", "Jobs run.");
/// let out = promstack::std_io::encode_to_writer(Vec::new(), Format::Text, &JOBS).unwrap();
/// assert_eq!(out, b"# HELP jobs_total Jobs run.\n# TYPE jobs_total counter\njobs_total 0.0\n");
/// ```
pub fn encode_to_writer<W: io::Write>(writer: W, format: Format, collector: &dyn Collector) -> io::Result<W> {
    let mut enc = Encoder::new(format, FromStd::new(writer));
    enc.encode(collector).map_err(encode_error_to_io)?;
    enc.finish().map(FromStd::into_inner).map_err(encode_error_to_io)
}

/// Turns an encoder error over a std writer into an `io::Error`.
pub fn encode_error_to_io(e: EncodeError<io::Error>) -> io::Error {
    match e {
        EncodeError::Write(e) => e,
        EncodeError::Collect(c) => io::Error::other(c),
        other => io::Error::other(other.to_string()),
    }
}
