//! The pull encoder: the caller asks for the next chunk of the exposition into its own buffer.
//!
//! It holds no output between calls, only where it is: how many bytes it has handed out, and
//! the latest point it can restart from, the start of a member of the collector (a metric of a
//! registry) before which everything had been handed out. Each [`PullEncoder::fill`] encodes
//! again from that point with a fresh [`Encoder`], skips the bytes handed out already and
//! copies the next ones into the caller's buffer, stopping the collection when it is full.

use super::{All, Encoder, Format, FormatKind};
use crate::collector::Collector;
use crate::error::{CollectError, EncodeError};
use core::convert::Infallible;

/// Fills a caller's buffer with the exposition of a collector, chunk by chunk, without
/// allocating: any chunk size gives the bytes [`Encoder`] writes, in the same order.
///
/// ```
/// use promstack_core::{Counter, Gauge, PullEncoder, StaticRegistry, TextFormat};
/// static HITS: Counter = Counter::new("hits", "Cache hits.");
/// static TEMP: Gauge = Gauge::new("temperature_celsius", "Temperature.");
/// static REGISTRY: StaticRegistry = StaticRegistry::new(&[&HITS, &TEMP]);
///
/// let mut pull = PullEncoder::new(&REGISTRY, TextFormat);
/// let mut chunk = [0u8; 16];
/// let mut out = Vec::new();
/// loop {
///     let n = pull.fill(&mut chunk).unwrap();
///     if n == 0 {
///         break;
///     }
///     out.extend_from_slice(&chunk[..n]); // a socket, a UART, a USB endpoint
/// }
/// assert_eq!(out, promstack_core::encode_text(Vec::new(), &REGISTRY).unwrap());
/// ```
///
/// # Cost
/// A call encodes from its restart point: the start of the member (see
/// [`Collector::members`]) in which the previous call stopped, whose bytes up to there it
/// encodes again and skips. With a registry of metrics, a call costs about its chunk plus one
/// metric; a collector that is not made of members (one large family, a custom collector) is
/// encoded from its start on every call, so its total cost grows with its size squared over
/// the chunk size: give it a chunk as large as its exposition when that matters. The stack is
/// one [`Encoder`] (with a line buffer of `N` bytes, none by default) and a collection.
///
/// # Values that change between calls
/// The bytes skipped must be the ones handed out: a metric updated between two calls would
/// shift them. Each call hashes the bytes it skips and compares them with what it handed out
/// from the same restart point; when they differ it fails with [`CollectError::Changed`]
/// rather than splice two versions of a line (abort the response: the scraper tries again).
/// Values updated while a member is being sent are the only cause; with a registry, only the
/// member in progress at the end of a chunk is encoded twice. (A 32-bit hash: a change that
/// leaves it equal, one chance in 2^32, goes unseen.)
///
/// # OpenMetrics and `N`
/// With no line buffer (`N = 0`), OpenMetrics refuses a histogram `_count` that comes without
/// its `_sum` (see [`Encoder`]); give `N` the length of such lines to have it taken back.
pub struct PullEncoder<'c, F: FormatKind = Format, const N: usize = 0> {
    collector: &'c dyn Collector,
    format: F,
    created_in_text: bool,
    /// Bytes handed out so far.
    pos: usize,
    /// The restart point: the index of a member of `collector` (0 for a collector that has no
    /// members), the offset of its first byte, and the hash of the bytes from there to `pos`.
    resume_member: usize,
    resume_at: usize,
    resume_hash: u32,
    done: bool,
}

impl<'c, F: FormatKind> PullEncoder<'c, F> {
    /// A pull encoder of `collector` in `format` ([`Format`], [`crate::TextFormat`] or
    /// [`crate::OpenMetricsFormat`]), with no line buffer.
    pub fn new(collector: &'c dyn Collector, format: F) -> Self {
        Self::with_buffer(collector, format)
    }
}

impl<'c, F: FormatKind, const N: usize> PullEncoder<'c, F, N> {
    /// A pull encoder whose encoder has a line buffer of `N` bytes (see [`Encoder`]).
    pub fn with_buffer(collector: &'c dyn Collector, format: F) -> Self {
        PullEncoder {
            collector,
            format,
            created_in_text: false,
            pos: 0,
            resume_member: 0,
            resume_at: 0,
            resume_hash: FNV_BASIS,
            done: false,
        }
    }

    /// See [`Encoder::with_created_in_text`].
    pub fn with_created_in_text(mut self, on: bool) -> Self {
        self.created_in_text = on;
        self
    }

    /// `true` once the whole exposition has been handed out.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Bytes handed out so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Writes the next bytes of the exposition into `buf` and returns how many: `buf.len()`
    /// unless the exposition ends in it, and `0` once it has ended.
    ///
    /// An empty `buf` is an error ([`CollectError::Failed`]) while there is something left, so
    /// that `0` always means the end. A collector's error is returned as [`Encoder::encode`]
    /// returns it (the bytes before it were handed out), and again by every later call.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<usize, EncodeError<Infallible>> {
        if self.done {
            return Ok(0);
        }
        if buf.is_empty() {
            return Err(EncodeError::Collect(CollectError::Failed("the buffer to fill is empty")));
        }
        let window = Window {
            skip: self.pos - self.resume_at,
            out: buf,
            len: 0,
            seen: 0,
            hash: FNV_BASIS,
            expect: self.resume_hash,
            stopped: None,
        };
        let mut enc = Encoder::<Window<'_>, F, N>::with_format(self.format, window)
            .with_created_in_text(self.created_in_text);
        let mut restart = None;
        let result = self.encode(&mut enc, &mut restart);
        let w = &enc.writer;
        let stop = match result {
            Ok(()) if w.skip == 0 => {
                self.done = true;
                self.pos += w.len;
                return Ok(w.len);
            }
            // The output ended before the bytes handed out did: it changed.
            Ok(()) => Stop::Changed,
            Err(stop) => stop,
        };
        match stop {
            Stop::Full => {
                self.pos += w.len;
                if let Some((member, at)) = restart {
                    self.resume_member = member;
                    self.resume_at = at;
                }
                self.resume_hash = w.hash;
                Ok(w.len)
            }
            Stop::Changed => Err(EncodeError::Collect(CollectError::Changed)),
            Stop::Failed(e) => Err(e),
        }
    }

    /// Encodes from the restart point until the end or until `enc`'s window is full. Sets
    /// `restart` to the latest member start (index, offset) at which everything before had
    /// gone into the window and the window's hash started anew.
    fn encode<const B: usize>(
        &self,
        enc: &mut Encoder<Window<'_>, F, B>,
        restart: &mut Option<(usize, usize)>,
    ) -> Result<(), Stop> {
        let first = self.resume_member;
        let base = self.resume_at;
        let mut index = 0;
        let mut failed = None;
        let composite = self.collector.members(&mut |member: &dyn Collector| {
            let i = index;
            index += 1;
            if i < first {
                return Ok(());
            }
            // A restart point needs the encoder to hold nothing: no line in its buffer, and no
            // OpenMetrics half pair that the next line could still take back (which must stay
            // in the buffer).
            if enc.held.is_none() {
                enc.flush_buf()?;
                if enc.writer.skip == 0 {
                    enc.writer.hash = FNV_BASIS;
                    *restart = Some((i, base + enc.writer.seen));
                }
            }
            enc.run_passes(member, All).inspect_err(|&e| {
                failed.get_or_insert(e);
            })
        });
        let collected = match (composite, failed) {
            (_, Some(e)) => Err(e),
            (Ok(true), None) => Ok(()),
            (Ok(false), None) => enc.run_passes(self.collector, All),
            (Err(e), None) => Err(e),
        };
        let ended = collected.and_then(|()| enc.end());
        match ended {
            Ok(()) => Ok(()),
            Err(e) => Err(match enc.writer.stopped.take() {
                Some(stop) => stop,
                None => Stop::Failed(match enc.encode_error(e) {
                    // Every write error of the window leaves `stopped` set.
                    EncodeError::Write(Stopped) => EncodeError::Collect(CollectError::Sink),
                    EncodeError::Collect(c) => EncodeError::Collect(c),
                    EncodeError::Desc(d) => EncodeError::Desc(d),
                }),
            }),
        }
    }
}

/// Why an encoding into a window stopped.
enum Stop {
    /// The window is full.
    Full,
    /// The bytes skipped are not the ones handed out.
    Changed,
    /// A collector failed.
    Failed(EncodeError<Infallible>),
}

/// 32-bit FNV-1a: cheap, and enough to tell a changed value from the same one.
const FNV_BASIS: u32 = 0x811c_9dc5;

fn fnv(mut h: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

/// The writer under a pull encoding: skips `skip` bytes, then copies into `out` until it is
/// full. Its error type has no values: why it stopped is in `stopped` (an encoder keeps its
/// writer's error, so it would otherwise be kept twice).
struct Window<'b> {
    skip: usize,
    out: &'b mut [u8],
    len: usize,
    /// Bytes skipped or copied since the hash started.
    seen: usize,
    hash: u32,
    /// What the skipped bytes must hash to.
    expect: u32,
    stopped: Option<Stop>,
}

/// The window stopped the encoding (see [`Window::stopped`]).
#[derive(Debug)]
struct Stopped;

impl core::fmt::Display for Stopped {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the pull encoder's window stopped the encoding")
    }
}

impl core::error::Error for Stopped {}

impl embedded_io::Error for Stopped {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

impl embedded_io::ErrorType for Window<'_> {
    type Error = Stopped;
}

impl embedded_io::Write for Window<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<usize, Stopped> {
        self.write_all(bytes).map(|()| bytes.len())
    }

    fn write_all(&mut self, mut bytes: &[u8]) -> Result<(), Stopped> {
        if self.stopped.is_some() {
            return Err(Stopped);
        }
        if self.skip > 0 {
            let n = self.skip.min(bytes.len());
            self.hash = fnv(self.hash, &bytes[..n]);
            self.seen += n;
            self.skip -= n;
            bytes = &bytes[n..];
            if self.skip == 0 && self.hash != self.expect {
                self.stopped = Some(Stop::Changed);
                return Err(Stopped);
            }
        }
        let n = bytes.len().min(self.out.len() - self.len);
        self.out[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.hash = fnv(self.hash, &bytes[..n]);
        self.seen += n;
        self.len += n;
        if n < bytes.len() {
            self.stopped = Some(Stop::Full);
            return Err(Stopped);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Stopped> {
        Ok(())
    }
}
