//! Streaming encoders for Prometheus text 0.0.4 and OpenMetrics 1.0 text.
//!
//! An [`Encoder`] is a [`Sink`]: collectors push families and samples into it and it writes
//! each line straight into an [`embedded_io::Write`]. It never holds more than one line, so the
//! exposition of any size streams through a UART, a socket or a `Vec<u8>`. A [`PullEncoder`]
//! does the same the other way round: the caller asks for the next chunk into its own buffer
//! (and `encode_async`, feature `async`, awaits an `embedded_io_async::Write` with it).
//!
//! The format is a type parameter ([`FormatKind`]): [`Format`] picks it at run time (HTTP
//! content negotiation), [`TextFormat`] and [`OpenMetricsFormat`] at compile time, so that a
//! firmware which only writes text links none of the OpenMetrics writer (timestamps in seconds,
//! exemplars, `# UNIT`, `# EOF`, the `_count`/`_sum` pairing). Without the `openmetrics` cargo
//! feature (on by default) that writer does not exist at all.

pub(crate) mod decimal;
#[cfg(feature = "float")]
mod float;
#[cfg(feature = "openmetrics")]
mod openmetrics;
mod pull;
#[cfg(feature = "async")]
mod pull_async;
mod text;

#[cfg(feature = "float")]
pub use float::{go_float, shortest, FLOAT_BUF};
pub use pull::PullEncoder;
#[cfg(feature = "async")]
pub use pull_async::{encode_async, encode_text_async};

#[cfg(not(feature = "small"))]
use crate::collector::{BatchSink, LineRows, LineRun, SampleRows};
use crate::collector::{Collector, NameFilter, NameSet, Sink};
use crate::desc::{is_valid_metric_name, Desc, MetricType};
use crate::error::{BoundedStr, CollectError, DescError, EncodeError};
use crate::sample::{Labels, Sample, Value};
#[cfg(feature = "openmetrics")]
use crate::timestamp::Timestamp;
use embedded_io::Write;
#[cfg(feature = "float")]
use float::FloatStyle;

/// Content type of Prometheus text 0.0.4.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content type of OpenMetrics 1.0 text (what current Prometheus servers ask for).
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// An exposition format, chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0 text format (cargo feature `openmetrics`, on by default).
    #[cfg(feature = "openmetrics")]
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` header value for this format.
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Text => TEXT_CONTENT_TYPE,
            #[cfg(feature = "openmetrics")]
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }

    /// Picks the format an HTTP `Accept` header asks for: OpenMetrics when it names
    /// `application/openmetrics-text` (any version), text 0.0.4 otherwise (always, without the
    /// `openmetrics` feature).
    ///
    /// ```
    /// use promstack_core::Format;
    /// assert_eq!(Format::from_accept("application/openmetrics-text; version=0.0.1"), Format::OpenMetrics);
    /// assert_eq!(Format::from_accept("text/plain"), Format::Text);
    /// assert_eq!(Format::from_accept("application/openmetrics-text;q=0,text/plain"), Format::Text);
    /// assert_eq!(Format::from_accept("application/openmetrics-text;€=1"), Format::OpenMetrics);
    /// ```
    pub fn from_accept(accept: &str) -> Format {
        #[cfg(feature = "openmetrics")]
        {
            let wants_om = accept.split(',').any(|part| {
                let mut params = part.split(';');
                let media = params.next().unwrap_or("").trim();
                // `q=0` means "not acceptable".
                let refused = params.any(|p| {
                    let p = p.trim();
                    p.get(..2).is_some_and(|k| k.eq_ignore_ascii_case("q="))
                        && p.get(2..).is_some_and(|q| q.trim().parse::<f32>() == Ok(0.0))
                });
                media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
            });
            if wants_om {
                return Format::OpenMetrics;
            }
        }
        let _ = accept;
        Format::Text
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Format {}
    impl Sealed for super::TextFormat {}
    #[cfg(feature = "openmetrics")]
    impl Sealed for super::OpenMetricsFormat {}
}

/// How an encoder knows its format: [`Format`] at run time, or [`TextFormat`] /
/// [`OpenMetricsFormat`] fixed by the type, so that the encoder is compiled for that format
/// alone (an encoder typed [`TextFormat`] has no OpenMetrics branch left to link).
pub trait FormatKind: Copy + sealed::Sealed {
    /// The format.
    fn format(self) -> Format;
}

/// Prometheus text 0.0.4, fixed at compile time (see [`FormatKind`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TextFormat;

/// OpenMetrics 1.0 text, fixed at compile time (see [`FormatKind`]).
#[cfg(feature = "openmetrics")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OpenMetricsFormat;

impl FormatKind for Format {
    #[inline(always)]
    fn format(self) -> Format {
        self
    }
}

impl FormatKind for TextFormat {
    #[inline(always)]
    fn format(self) -> Format {
        Format::Text
    }
}

#[cfg(feature = "openmetrics")]
impl FormatKind for OpenMetricsFormat {
    #[inline(always)]
    fn format(self) -> Format {
        Format::OpenMetrics
    }
}

/// Which samples a collection pass writes (text 0.0.4 moves some into separate gauge families).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Everything the format puts in the family itself.
    Main,
    /// Only samples with this suffix, each family's under its own `gauge` header.
    Split(u8),
}

/// Suffixes that text 0.0.4 writes as separate gauge families after the main ones, in
/// Python 0.8.0's order. Bit `i` of `Encoder::split_seen` stands for `SPLIT_SUFFIXES[i]`.
const SPLIT_SUFFIXES: [&str; 3] = ["_created", "_gcount", "_gsum"];

/// A scrape's name filter, or none: a type parameter, so that an unfiltered encoding links no
/// [`NameFilter`].
trait Names: Copy {
    fn members(
        self,
        collector: &dyn Collector,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError>;
    fn collect<S: Sink>(self, collector: &dyn Collector, sink: &mut S) -> Result<(), CollectError>;
    /// `true` when only some names are kept.
    const FILTERED: bool;
}

/// Every name.
#[derive(Clone, Copy)]
struct All;

impl Names for All {
    fn members(
        self,
        collector: &dyn Collector,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        collector.members(visit)
    }
    #[inline]
    fn collect<S: Sink>(self, collector: &dyn Collector, sink: &mut S) -> Result<(), CollectError> {
        collector.collect(sink)
    }
    const FILTERED: bool = false;
}

impl Names for &NameSet<'_> {
    fn members(
        self,
        collector: &dyn Collector,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        collector.members_named(self, visit)
    }
    fn collect<S: Sink>(self, collector: &dyn Collector, sink: &mut S) -> Result<(), CollectError> {
        collector.collect(&mut NameFilter::new(sink, *self))
    }
    const FILTERED: bool = true;
}

/// Writes collectors into `W` in one format.
///
/// ```
/// use promstack_core::{Counter, Encoder, Format};
/// static HITS: Counter = Counter::new("hits", "Cache hits.");
/// HITS.inc();
/// let mut enc = Encoder::new(Format::OpenMetrics, Vec::new());
/// enc.encode(&HITS).unwrap();
/// let out = enc.finish().unwrap();
/// assert_eq!(
///     core::str::from_utf8(&out).unwrap(),
///     "# HELP hits Cache hits.\n# TYPE hits counter\nhits_total 1.0\n# EOF\n"
/// );
/// ```
///
/// # Format and buffer
/// `F` is the format ([`FormatKind`]): [`Encoder::new`] takes a [`Format`] at run time,
/// [`Encoder::text`] and [`Encoder::openmetrics`] fix it in the type, so that only that format's
/// writer is compiled in. `N` is the size of the line buffer: output goes through it so that
/// the writer sees a few large writes instead of a dozen tiny ones per sample (one syscall or
/// UART transfer per piece otherwise). [`Encoder::encode`] and [`Encoder::finish`] flush it;
/// samples pushed into the encoder directly through its [`Sink`] impl are written at the latest
/// by `finish`. `N = 0` ([`Encoder::with_format`]) writes every piece straight through, which
/// costs no stack (firmware writing into a slice or a UART): then OpenMetrics refuses a histogram
/// `_count` without its `_sum` (see [`CollectError::Failed`]), which a buffer of `N` bytes takes
/// back on lines of up to `N` bytes.
///
/// # How often a collector is collected
/// An OpenMetrics scrape collects every collector once. A text 0.0.4 scrape collects each
/// collector once, and once more for each kind of separate gauge family its samples need, in
/// this order: `x_created` (only [`with_created_in_text`](Encoder::with_created_in_text)),
/// `x_gcount` and `x_gsum` (gauge histograms) — so at most 3 times, and once by default unless
/// it reports a gauge histogram. Text 0.0.4 must write those families after the family they
/// belong to, and their samples come interleaved with the family's own; holding them back
/// would need memory bounded only by the collector's size, which this allocation-free encoder
/// does not have, so it asks the collector again instead. Registries are descended into, so
/// only the collectors with such families are asked again.
pub struct Encoder<W: Write, F: FormatKind = Format, const N: usize = LINE_BUF> {
    writer: W,
    format: F,
    created_in_text: bool,
    /// `false` drops every `_created` sample, whatever the format.
    created: bool,
    error: Option<W::Error>,
    pass: Pass,
    split_seen: u8,
    header_pending: bool,
    held: Option<Held>,
    /// Address and length of the last family name checked (see [`Encoder::check_family`]).
    checked: (usize, usize),
    /// The invalid name that stopped the encoding, for [`EncodeError::Desc`].
    bad_name: Option<DescError>,
    buf: [u8; N],
    len: usize,
}

/// A histogram's `_count` or `_sum` line (OpenMetrics), written into the buffer but taken back
/// unless the other half of the pair, with the same labels, comes next: OpenMetrics 1.0 allows a
/// histogram point's count if and only if it has a sum, and a histogram with a negative bound
/// reports a count but no sum (as Python does, which is right for text 0.0.4).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "openmetrics"), allow(dead_code))]
struct Held {
    /// Where the line starts in the buffer.
    start: usize,
    /// Its `{...}` part, `buf[labels.0..labels.1]` (empty when it has none).
    labels: (usize, usize),
    /// `true` for the sum half.
    sum: bool,
    /// The buffer was written out since: the line can no longer be taken back.
    spilled: bool,
}

/// A write failed; the writer's error is kept in the encoder. What the writing functions
/// return instead of a [`CollectError`] (always [`CollectError::Sink`] for them): it fits in a
/// register, where a `CollectError` result takes a stack slot at every call.
#[derive(Debug, Clone, Copy)]
struct WriteFailed;

type Written = Result<(), WriteFailed>;

impl From<WriteFailed> for CollectError {
    fn from(_: WriteFailed) -> Self {
        CollectError::Sink
    }
}

/// Bytes the [`Encoder`] collects before it writes them out, unless told otherwise: 2 KiB, so
/// that a server's scrape passes its writer one call per 25 lines or so; 256 with `small`
/// (firmware, where the encoder lives on a small stack). `Encoder::<_, _, N>` picks another.
pub const LINE_BUF: usize = if cfg!(feature = "small") { 256 } else { 2048 };

impl<W: Write> Encoder<W> {
    /// An encoder writing `format` (chosen at run time) into `writer`.
    pub fn new(format: Format, writer: W) -> Self {
        Self::with_format(format, writer)
    }
}

impl<W: Write> Encoder<W, TextFormat> {
    /// An encoder writing Prometheus text 0.0.4 into `writer`, with no OpenMetrics code.
    pub fn text(writer: W) -> Self {
        Self::with_format(TextFormat, writer)
    }
}

#[cfg(feature = "openmetrics")]
impl<W: Write> Encoder<W, OpenMetricsFormat> {
    /// An encoder writing OpenMetrics text into `writer`, with no text 0.0.4 passes.
    pub fn openmetrics(writer: W) -> Self {
        Self::with_format(OpenMetricsFormat, writer)
    }
}

impl<W: Write, F: FormatKind, const N: usize> Encoder<W, F, N> {
    /// An encoder writing `format` into `writer` through a line buffer of `N` bytes (`0`: none).
    ///
    /// ```
    /// use promstack_core::{encoding::TextFormat, Counter, Encoder};
    /// static HITS: Counter = Counter::new("hits", "Cache hits.");
    /// let mut out = [0u8; 128];
    /// let mut enc = Encoder::<_, _, 0>::with_format(TextFormat, &mut out[..]);
    /// enc.encode(&HITS).unwrap();
    /// let rest = enc.finish().unwrap().len();
    /// assert_eq!(&out[..128 - rest], b"# HELP hits_total Cache hits.\n# TYPE hits_total counter\nhits_total 0.0\n");
    /// ```
    pub fn with_format(format: F, writer: W) -> Self {
        Encoder {
            writer,
            format,
            created_in_text: false,
            created: true,
            error: None,
            pass: Pass::Main,
            split_seen: 0,
            header_pending: false,
            held: None,
            checked: (0, 0),
            bad_name: None,
            buf: [0; N],
            len: 0,
        }
    }

    /// In text 0.0.4, also write `_created` samples as separate `x_created` gauge families, as
    /// Python 0.8.0 does. Off by default because it doubles the series count; OpenMetrics
    /// always carries `_created`.
    pub fn with_created_in_text(mut self, on: bool) -> Self {
        self.created_in_text = on;
        self
    }

    /// Whether to write `_created` samples at all. On by default (OpenMetrics carries them;
    /// text 0.0.4 only with [`with_created_in_text`](Encoder::with_created_in_text)); off drops
    /// every `_created` sample of counters, summaries and histograms in every format, as
    /// client_golang does unless `EnableOpenMetricsTextCreatedSamples` is set.
    ///
    /// ```
    /// use promstack_core::{Counter, Encoder, Format};
    /// static HITS: Counter = Counter::new("hits", "Cache hits.");
    /// let mut enc = Encoder::new(Format::OpenMetrics, Vec::new()).with_created(false);
    /// enc.encode(&HITS).unwrap();
    /// let out = enc.finish().unwrap();
    /// assert!(!core::str::from_utf8(&out).unwrap().contains("_created"));
    /// ```
    pub fn with_created(mut self, on: bool) -> Self {
        self.created = on;
        self
    }

    /// `_created` samples go into text 0.0.4's separate `x_created` families.
    #[inline]
    fn created_families(&self) -> bool {
        self.created && self.created_in_text
    }

    /// The format written.
    pub fn format(&self) -> Format {
        self.format.format()
    }

    /// `true` when writing OpenMetrics (a constant for a format fixed by the type).
    #[inline(always)]
    fn om(&self) -> bool {
        #[cfg(feature = "openmetrics")]
        {
            self.format.format() == Format::OpenMetrics
        }
        #[cfg(not(feature = "openmetrics"))]
        {
            false
        }
    }

    /// Writes everything `collector` reports.
    pub fn encode(&mut self, collector: &dyn Collector) -> Result<(), EncodeError<W::Error>> {
        self.run(collector, All)
    }

    /// Writes only samples whose full name is in `names`, and only the headers of families
    /// that have such a sample. Members of a registry that claim none of the names are not
    /// collected at all (see [`Collector::members_named`]).
    pub fn encode_filtered(
        &mut self,
        collector: &dyn Collector,
        names: &NameSet<'_>,
    ) -> Result<(), EncodeError<W::Error>> {
        self.run(collector, names)
    }

    fn run<S: Names>(&mut self, collector: &dyn Collector, names: S) -> Result<(), EncodeError<W::Error>> {
        let mut result = self.run_passes(collector, names).map_err(|e| self.encode_error(e));
        if let Err(e) = self.withdraw() {
            result = result.and(Err(EncodeError::Collect(e)));
        }
        // Flushed even after a collector's error, as the unbuffered encoder had written it.
        let flushed = self.flush_buf();
        match (result, flushed) {
            (Err(e), _) => Err(e),
            (Ok(()), Ok(())) => Ok(()),
            (Ok(()), Err(_)) => Err(self.take_error()),
        }
    }

    /// The stored write error (always there after a failed write).
    fn take_error(&mut self) -> EncodeError<W::Error> {
        match self.error.take() {
            Some(w) => EncodeError::Write(w),
            None => EncodeError::Collect(CollectError::Sink),
        }
    }

    /// What stopped a collection that failed with `e`: the writer's error or the invalid name
    /// the encoder stored, otherwise `e`.
    #[cold]
    fn encode_error(&mut self, e: CollectError) -> EncodeError<W::Error> {
        match (self.error.take(), self.bad_name.take()) {
            (Some(w), _) => EncodeError::Write(w),
            (None, Some(bad)) => EncodeError::Desc(bad),
            (None, None) => EncodeError::Collect(e),
        }
    }

    /// Collects `collector` (descending into its members for text 0.0.4 and filtered scrapes).
    /// Errors stay small on the way up (the cause is in `self`): this recursion is the deepest
    /// stack of an encoding.
    // Inlined into `descend`'s visitor: one frame less per level.
    #[inline(always)]
    fn run_passes<S: Names>(&mut self, collector: &dyn Collector, names: S) -> Result<(), CollectError> {
        // Text 0.0.4 writes split families (`x_created`, ...) after each member's own families,
        // as Python does: descend into registries and arrays and run the passes per member. A
        // filtered scrape descends too, to skip the members that claim none of the names.
        // Otherwise OpenMetrics splits nothing and takes one pass.
        if (!self.om() || S::FILTERED) && self.descend(collector, names)? {
            return Ok(());
        }
        self.run_member(collector, names)
    }

    /// Runs the passes over each member of `collector`; `false` if it has none. Not inlined:
    /// its locals stay out of the frame a leaf collector runs under.
    #[inline(never)]
    fn descend<S: Names>(&mut self, collector: &dyn Collector, names: S) -> Result<bool, CollectError> {
        let mut failed = None;
        let composite = names.members(collector, &mut |member: &dyn Collector| {
            self.run_passes(member, names).inspect_err(|&e| {
                failed.get_or_insert(e);
            })
        });
        match (composite, failed) {
            (_, Some(e)) => Err(e),
            (Ok(composite), None) => Ok(composite),
            (Err(e), None) => Err(e),
        }
    }

    /// The passes over one collector that is not descended into.
    #[inline(always)]
    fn run_member<S: Names>(&mut self, collector: &dyn Collector, names: S) -> Result<(), CollectError> {
        self.pass = Pass::Main;
        self.split_seen = 0;
        names.collect(collector, self)?;
        if !self.om() {
            for i in 0..SPLIT_SUFFIXES.len() as u8 {
                if self.split_seen & (1 << i) != 0 {
                    self.pass = Pass::Split(i);
                    names.collect(collector, self)?;
                }
            }
        }
        self.pass = Pass::Main;
        Ok(())
    }

    // ---- names: checked here, because a `Desc`, suffix or label name made at run time (a
    // custom collector) has not been through the `const` checks, and a name holding a newline
    // or a space would write lines of its own ----

    /// Checks a family's name and unit (once per family: its samples compare the name's address).
    fn check_family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        let unit_ok = bytes_in(desc.unit.as_bytes(), METRIC_BYTE);
        if !is_valid_metric_name(desc.name) || !unit_ok {
            return self.refuse_family(desc, unit_ok);
        }
        self.checked = (desc.name.as_ptr() as usize, desc.name.len());
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn refuse_family(&mut self, desc: &Desc<'_>, unit_ok: bool) -> Result<(), CollectError> {
        self.bad_name = Some(if unit_ok {
            DescError::InvalidMetricName(BoundedStr::new(desc.name))
        } else {
            DescError::InvalidUnit(BoundedStr::new(desc.unit))
        });
        Err(CollectError::Sink)
    }

    /// Checks the names a sample line is made of: the family name (unless it is the one checked
    /// last), the suffix, and every label name, its exemplar's too.
    #[inline]
    fn check_sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        if (desc.name.as_ptr() as usize, desc.name.len()) != self.checked {
            self.check_family(desc)?;
        }
        #[cfg(feature = "float")]
        let exemplar_ok = sample.exemplar.as_ref().is_none_or(|e| label_names_ok(&e.labels));
        #[cfg(not(feature = "float"))]
        let exemplar_ok = true;
        if is_suffix(sample.suffix) && label_names_ok(&sample.labels) && exemplar_ok {
            return Ok(());
        }
        self.refuse_sample(desc, sample)
    }

    #[cold]
    #[inline(never)]
    fn refuse_sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        #[cfg(feature = "float")]
        let exemplar = sample.exemplar.as_ref().map(|e| e.labels);
        #[cfg(not(feature = "float"))]
        let exemplar: Option<Labels<'_>> = None;
        let bad_label = sample
            .labels
            .iter()
            .chain(exemplar.iter().flat_map(|l| l.iter()))
            .find(|(n, _)| !is_label_name(n));
        self.bad_name = Some(match bad_label {
            Some((n, _)) => DescError::InvalidLabelName(BoundedStr::new(n)),
            None => {
                let mut full = heapless::String::<128>::new();
                let _ = full.push_str(desc.name);
                for c in sample.suffix.chars() {
                    let _ = full.push(c);
                }
                DescError::InvalidMetricName(BoundedStr::new(&full))
            }
        });
        Err(CollectError::Sink)
    }

    /// Ends the exposition (OpenMetrics: `# EOF`), flushes, and returns the writer.
    pub fn finish(mut self) -> Result<W, EncodeError<W::Error>> {
        self.close()?;
        Ok(self.writer)
    }

    /// [`Encoder::finish`] without moving the encoder: ends the exposition and flushes the
    /// writer.
    fn close(&mut self) -> Result<(), EncodeError<W::Error>> {
        if self.end().is_err() {
            return Err(self.take_error());
        }
        self.writer.flush().map_err(EncodeError::Write)
    }

    /// Everything [`Encoder::finish`] writes, without flushing the writer.
    fn end(&mut self) -> Result<(), CollectError> {
        let mut done = self.withdraw();
        if self.om() && done.is_ok() {
            done = self.put(b"# EOF\n").map_err(CollectError::from);
        }
        done?;
        Ok(self.flush_buf()?)
    }

    /// The writer, for callers that interleave their own output.
    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.writer
    }

    // ---- low-level writing; every failure is stored and reported as CollectError::Sink ----

    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Written {
        if N == 0 {
            // No buffer: every piece straight to the writer, one call less deep (this is the
            // bottom of the encoder's deepest stack).
            return self.put_direct(bytes);
        }
        let end = self.len + bytes.len();
        if let Some(room) = self.buf.get_mut(self.len..end) {
            copy_short(room, bytes);
            self.len = end;
            Ok(())
        } else {
            self.put_through(bytes)
        }
    }

    /// The buffer is full: write it out, then buffer `bytes` (or write them straight through
    /// when they are larger than the buffer).
    #[inline(never)]
    fn put_through(&mut self, bytes: &[u8]) -> Written {
        if let Some(h) = &mut self.held {
            h.spilled = true;
        }
        self.flush_buf()?;
        if bytes.len() <= N {
            self.buf[..bytes.len()].copy_from_slice(bytes);
            self.len = bytes.len();
            return Ok(());
        }
        self.write_out(bytes)
    }

    /// [`Encoder::put`] without a buffer (`N = 0`): a held line is written out with it.
    #[inline(never)]
    fn put_direct(&mut self, bytes: &[u8]) -> Written {
        if let Some(h) = &mut self.held {
            h.spilled = true;
        }
        self.write_out(bytes)
    }

    fn flush_buf(&mut self) -> Written {
        if self.len == 0 {
            return Ok(());
        }
        let len = core::mem::take(&mut self.len);
        match self.writer.write_all(&self.buf[..len]) {
            Ok(()) => Ok(()),
            Err(e) => self.failed(e),
        }
    }

    fn write_out(&mut self, bytes: &[u8]) -> Written {
        match self.writer.write_all(bytes) {
            Ok(()) => Ok(()),
            Err(e) => self.failed(e),
        }
    }

    /// Keeps the writer's first error.
    #[cold]
    fn failed(&mut self, e: W::Error) -> Written {
        self.error.get_or_insert(e);
        Err(WriteFailed)
    }
    #[inline]
    fn put_str(&mut self, s: &str) -> Written {
        self.put(s.as_bytes())
    }

    /// Writes `s` escaping `\` and newline, and `"` when `quote` is set.
    #[inline]
    fn put_escaped(&mut self, s: &str, quote: bool) -> Written {
        let b = s.as_bytes();
        // `small`: the byte scan alone writes the same.
        if !cfg!(feature = "small") && !needs_escape(b, quote) {
            return self.put(b);
        }
        self.put_escaped_slow(b, quote)
    }

    fn put_escaped_slow(&mut self, b: &[u8], quote: bool) -> Written {
        let mut start = 0;
        for (i, &c) in b.iter().enumerate() {
            let esc: &[u8] = match c {
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'"' if quote => b"\\\"",
                _ => continue,
            };
            self.put(&b[start..i])?;
            self.put(esc)?;
            start = i + 1;
        }
        self.put(&b[start..])
    }

    #[cfg(not(feature = "small"))]
    fn put_labels(&mut self, labels: &Labels<'_>) -> Written {
        let n = labels.len();
        if n == 0 {
            return Ok(());
        }
        if n <= 2 {
            // One or two pairs (most children, and a one-label histogram's buckets with `le`):
            // when they fit and need no escaping, the whole `{...}` with one bounds check.
            let first = labels.pair(0);
            let (a, b) = if n == 1 {
                (first, None)
            } else {
                let second = labels.pair(1);
                if name_lt(second.0, first.0) {
                    (second, Some(first))
                } else {
                    (first, Some(second))
                }
            };
            let need = 2 + pair_len(a) + b.map_or(0, |b| 1 + pair_len(b));
            if self.len + need <= N
                && !needs_escape(a.1.as_bytes(), true)
                && !b.is_some_and(|b| needs_escape(b.1.as_bytes(), true))
            {
                let mut at = self.len;
                self.buf[at] = b'{';
                at = self.raw_pair(at + 1, a);
                if let Some(b) = b {
                    self.buf[at] = b',';
                    at = self.raw_pair(at + 1, b);
                }
                self.buf[at] = b'}';
                self.len = at + 1;
                return Ok(());
            }
            self.put(b"{")?;
            self.put_label(0, a)?;
            if let Some(b) = b {
                self.put_label(1, b)?;
            }
            return self.put(b"}");
        }
        self.put_labels_sorted(labels)
    }

    /// Every label set in one way (`small`): the bytes of the other build's fast paths, by
    /// selection (label sets are short) instead of three ways of sorting.
    #[cfg(feature = "small")]
    fn put_labels(&mut self, labels: &Labels<'_>) -> Written {
        let mut last = None;
        let mut open: &[u8] = b"{";
        while let Some(i) = next_label(labels, last) {
            last = Some(i);
            let (name, value) = labels.pair(i);
            self.put(open)?;
            open = b",";
            self.put_str(name)?;
            self.put(b"=\"")?;
            self.put_escaped(value, true)?;
            self.put(b"\"")?;
        }
        if last.is_none() {
            return Ok(());
        }
        self.put(b"}")
    }

    /// Three pairs or more: in name order.
    #[cfg(not(feature = "small"))]
    #[inline(never)]
    fn put_labels_sorted(&mut self, labels: &Labels<'_>) -> Written {
        let n = labels.len();
        self.put(b"{")?;
        if n <= SMALL_LABELS {
            // Sort the positions by name with an insertion sort (label names are usually
            // already in order: one comparison per pair), instead of the general iterator's
            // scan of every pair for each one written.
            let mut order = [0u8; SMALL_LABELS];
            for i in 1..n {
                let name = labels.pair(i).0;
                let mut j = i;
                while j > 0 && name_lt(name, labels.pair(usize::from(order[j - 1])).0) {
                    order[j] = order[j - 1];
                    j -= 1;
                }
                order[j] = i as u8;
            }
            for (k, &i) in order[..n].iter().enumerate() {
                self.put_label(k, labels.pair(usize::from(i)))?;
            }
        } else {
            for (k, pair) in labels.sorted().enumerate() {
                self.put_label(k, pair)?;
            }
        }
        self.put(b"}")
    }

    /// Writes `name="value"` at `at` (the caller checked the room and that nothing needs
    /// escaping); returns the end.
    #[cfg(not(feature = "small"))]
    #[inline(always)]
    fn raw_pair(&mut self, at: usize, (name, value): (&str, &str)) -> usize {
        let (n, v) = (name.as_bytes(), value.as_bytes());
        copy_short(&mut self.buf[at..at + n.len()], n);
        let at = at + n.len();
        self.buf[at..at + 2].copy_from_slice(b"=\"");
        let at = at + 2;
        copy_short(&mut self.buf[at..at + v.len()], v);
        let at = at + v.len();
        self.buf[at] = b'"';
        at + 1
    }

    #[cfg(not(feature = "small"))]
    #[inline]
    fn put_label(&mut self, k: usize, (name, value): (&str, &str)) -> Written {
        let (n, v) = (name.as_bytes(), value.as_bytes());
        // The common case in one go: room in the buffer and nothing to escape.
        if self.len + n.len() + v.len() + 4 <= N && !needs_escape(v, true) {
            let mut at = self.len;
            if k > 0 {
                self.buf[at] = b',';
                at += 1;
            }
            copy_short(&mut self.buf[at..at + n.len()], n);
            at += n.len();
            self.buf[at..at + 2].copy_from_slice(b"=\"");
            at += 2;
            copy_short(&mut self.buf[at..at + v.len()], v);
            at += v.len();
            self.buf[at] = b'"';
            self.len = at + 1;
            return Ok(());
        }
        if k > 0 {
            self.put(b",")?;
        }
        self.put_str(name)?;
        self.put(b"=\"")?;
        self.put_escaped(value, true)?;
        self.put(b"\"")
    }

    /// The digits of an integer value (and its sign).
    fn put_int(&mut self, v: Value) -> Written {
        #[cfg(feature = "small")]
        let mut b = [0u8; decimal::DEC_BUF];
        #[cfg(feature = "small")]
        let s = match v {
            Value::Signed(i) => decimal::signed(i, &mut b),
            Value::Int(i) => decimal::unsigned(i, &mut b),
            #[cfg(feature = "float")]
            Value::Float(_) => b"",
        };
        #[cfg(not(feature = "small"))]
        let mut b = itoa::Buffer::new();
        #[cfg(not(feature = "small"))]
        let s = match v {
            Value::Signed(i) => b.format(i).as_bytes(),
            Value::Int(i) => b.format(i).as_bytes(),
            #[cfg(feature = "float")]
            Value::Float(_) => b"",
        };
        self.put(s)
    }

    /// The space before the value, then the value.
    fn put_value(&mut self, v: Value) -> Written {
        match v {
            #[cfg(feature = "small")]
            Value::Int(_) | Value::Signed(_) => {
                self.put(b" ")?;
                self.put_int(v)?;
                self.put(b".0")
            }
            #[cfg(not(feature = "small"))]
            Value::Int(_) | Value::Signed(_) => {
                let mut b = itoa::Buffer::new();
                let s = match v {
                    Value::Signed(i) => b.format(i).as_bytes(),
                    Value::Int(i) => b.format(i).as_bytes(),
                    #[cfg(feature = "float")]
                    Value::Float(_) => b"",
                };
                // ` ` + at most 20 digits + `.0`
                if self.len + 23 <= N {
                    let at = self.len;
                    self.buf[at] = b' ';
                    copy_short(&mut self.buf[at + 1..at + 1 + s.len()], s);
                    let at = at + 1 + s.len();
                    self.buf[at..at + 2].copy_from_slice(b".0");
                    self.len = at + 2;
                    Ok(())
                } else {
                    self.put(b" ")?;
                    self.put(s)?;
                    self.put(b".0")
                }
            }
            #[cfg(feature = "float")]
            Value::Float(f) => {
                self.put(b" ")?;
                self.put_f64(f, FloatStyle::Shortest)
            }
        }
    }

    /// The one place the encoder spells an `f64` (values, and exemplar values in OpenMetrics).
    #[cfg(feature = "float")]
    #[inline(never)]
    fn put_f64(&mut self, f: f64, style: FloatStyle) -> Written {
        float::write_f64(f, style, |s| self.put(s))
    }

    /// An OpenMetrics timestamp, exactly as given (see [`Timestamp::write_seconds`]).
    #[cfg(feature = "openmetrics")]
    fn put_seconds(&mut self, ts: Timestamp) -> Written {
        let mut buf = [0u8; Timestamp::BUF];
        self.put_str(ts.write_seconds(&mut buf))
    }

    fn put_header(&mut self, name: &str, suffix: &str, help: &str, type_name: &str) -> Written {
        let om = self.om();
        if cfg!(feature = "small") {
            // The same pieces, from a table: one call site instead of eleven.
            for piece in [b"# HELP ", name.as_bytes(), suffix.as_bytes(), b" "] {
                self.put(piece)?;
            }
            self.put_escaped(help, om)?;
            for piece in [b"\n# TYPE ", name.as_bytes(), suffix.as_bytes(), b" ", type_name.as_bytes(), b"\n"]
            {
                self.put(piece)?;
            }
            return Ok(());
        }
        self.put(b"# HELP ")?;
        self.put_str(name)?;
        self.put_str(suffix)?;
        self.put(b" ")?;
        self.put_escaped(help, om)?;
        self.put(b"\n# TYPE ")?;
        self.put_str(name)?;
        self.put_str(suffix)?;
        self.put(b" ")?;
        self.put_str(type_name)?;
        self.put(b"\n")
    }

    /// A histogram `_count`/`_sum` sample in OpenMetrics (`sum` tells which), or any sample
    /// while one is held: keeps a line only when its pair is complete (see [`Held`]).
    #[cfg(feature = "openmetrics")]
    #[inline(never)]
    fn put_paired(
        &mut self,
        desc: &Desc<'_>,
        sample: &Sample<'_>,
        sum: Option<bool>,
    ) -> Result<(), CollectError> {
        let Some(sum) = sum else {
            self.withdraw()?;
            return self.put_sample(desc, sample);
        };
        if let Some(held) = self.held.filter(|h| h.sum != sum) {
            // The other half: keep both when the labels match.
            let start = self.len;
            self.put_sample(desc, sample)?;
            let Some(now) = self.held.take() else { return Ok(()) };
            if now.spilled {
                // Written out already; nothing left to compare or take back.
                return Ok(());
            }
            let labels = self.labels_at(start, desc, sample);
            if self.buf[held.labels.0..held.labels.1] == self.buf[labels.0..labels.1] {
                return Ok(());
            }
            // Two halves of different points: drop the first, hold the second in its place.
            let shift = start - held.start;
            self.buf.copy_within(start..self.len, held.start);
            self.len -= shift;
            self.held = Some(Held {
                start: held.start,
                labels: (labels.0 - shift, labels.1 - shift),
                sum,
                spilled: false,
            });
            return Ok(());
        }
        self.withdraw()?;
        // The held line starts the buffer, so whether it can be taken back depends on its own
        // length only, never on what came before it (and a pull encoder, which restarts with an
        // empty buffer, writes the same bytes).
        self.flush_buf()?;
        let start = self.len;
        self.held = Some(Held { start, labels: (start, start), sum, spilled: false });
        self.put_sample(desc, sample)?;
        if self.held.is_some_and(|h| !h.spilled) {
            let labels = self.labels_at(start, desc, sample);
            self.held = Some(Held { start, labels, sum, spilled: false });
        }
        Ok(())
    }

    /// Where the `{...}` of the sample line written at `start` lies (the line is still in the
    /// buffer). Its value and timestamp hold no `}`, so the last one closes the labels.
    #[cfg(feature = "openmetrics")]
    fn labels_at(&self, start: usize, desc: &Desc<'_>, sample: &Sample<'_>) -> (usize, usize) {
        let from = start + desc.name.len() + sample.suffix.len();
        match self.buf[from..self.len].iter().rposition(|&c| c == b'}') {
            Some(end) if self.buf[from] == b'{' => (from, from + end + 1),
            _ => (from, from),
        }
    }

    /// Takes back a held half pair (see [`Held`]); an error if it was written out already.
    fn withdraw(&mut self) -> Result<(), CollectError> {
        match self.held.take() {
            None => Ok(()),
            Some(h) if h.spilled => Err(CollectError::Failed(
                "a histogram _count or _sum without the other, on a line too long to take back",
            )),
            Some(h) => {
                self.len = h.start;
                Ok(())
            }
        }
    }

    fn put_sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        #[cfg(not(feature = "small"))]
        if self.put_line_fast(desc, sample)? {
            return Ok(());
        }
        let (name, suffix) = (desc.name.as_bytes(), sample.suffix.as_bytes());
        // `small`: no fast path, every piece through `put`.
        if !cfg!(feature = "small") && self.len + name.len() + suffix.len() <= N {
            let at = self.len;
            copy_short(&mut self.buf[at..at + name.len()], name);
            let at = at + name.len();
            copy_short(&mut self.buf[at..at + suffix.len()], suffix);
            self.len = at + suffix.len();
        } else {
            self.put(name)?;
            self.put(suffix)?;
        }
        self.put_labels(&sample.labels)?;
        self.put_value(sample.value)?;
        if !self.om() {
            if let Some(ts) = sample.timestamp {
                self.put(b" ")?;
                self.put_int(Value::Signed(ts.as_millis()))?;
            }
        } else {
            #[cfg(feature = "openmetrics")]
            self.put_om_extras(desc, sample)?;
        }
        let _ = desc;
        Ok(self.put(b"\n")?)
    }

    /// The common sample line in one go: at most two labels, none needing escaping, no
    /// timestamp or exemplar. Its exact length is known before a byte is written, so the
    /// buffer is written out first when the line would not fit (instead of writing the line
    /// piece by piece across the boundary), and then every piece is copied without a check of
    /// its own. `false` when the line is not of that kind (nothing written): the general path
    /// writes it. The bytes are the general path's.
    #[cfg(not(feature = "small"))]
    #[inline]
    fn put_line_fast(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<bool, WriteFailed> {
        #[cfg(feature = "float")]
        let plain = sample.timestamp.is_none() && sample.exemplar.is_none();
        #[cfg(not(feature = "float"))]
        let plain = sample.timestamp.is_none();
        let labels = &sample.labels;
        let n = labels.len();
        if !plain || n > 2 {
            return Ok(false);
        }
        let mut pairs: [(&str, &str); 2] = [("", ""); 2];
        if n > 0 {
            // What the collector vouched for (see `Labels::with_checked_names` and
            // `with_plain_values`) is not checked again: the first group's values, and the
            // order of its names.
            let [own, _] = labels.name_groups();
            let plain = labels.values_plain();
            let first = labels.pair(0);
            pairs[0] = first;
            let mut escape = (!plain || own.is_empty()) && needs_escape(first.1.as_bytes(), true);
            if n == 2 {
                let second = labels.pair(1);
                escape |= (!plain || own.len() != 2) && needs_escape(second.1.as_bytes(), true);
                let in_order = own.len() == 2 && labels.names_sorted();
                if !in_order && name_lt(second.0, first.0) {
                    pairs = [second, first];
                } else {
                    pairs[1] = second;
                }
            }
            if escape {
                return Ok(false);
            }
        }
        let mut bufs = ValueBufs::new();
        let (digits, tail) = bufs.text(sample.value);
        let (name, suffix) = (desc.name.as_bytes(), sample.suffix.as_bytes());
        let mut need = name.len() + suffix.len() + 1 + digits.len() + tail.len() + 1;
        if n > 0 {
            // `{`, `}`, the pairs and a `,` between two.
            need += 1 + pair_len(pairs[0]) + 1;
            if n == 2 {
                need += pair_len(pairs[1]) + 1;
            }
        }
        if self.len + need > N {
            // A held half pair (OpenMetrics) stays in the buffer: the general path decides
            // whether it spills.
            if self.held.is_some() || need > N {
                return Ok(false);
            }
            self.flush_buf()?;
        }
        let mut at = self.len;
        copy_short(&mut self.buf[at..at + name.len()], name);
        at += name.len();
        copy_short(&mut self.buf[at..at + suffix.len()], suffix);
        at += suffix.len();
        if n > 0 {
            self.buf[at] = b'{';
            at = self.raw_pair(at + 1, pairs[0]);
            if n == 2 {
                self.buf[at] = b',';
                at = self.raw_pair(at + 1, pairs[1]);
            }
            self.buf[at] = b'}';
            at += 1;
        }
        self.buf[at] = b' ';
        at += 1;
        copy_short(&mut self.buf[at..at + digits.len()], digits);
        at += digits.len();
        copy_short(&mut self.buf[at..at + tail.len()], tail);
        at += tail.len();
        self.buf[at] = b'\n';
        self.len = at + 1;
        Ok(true)
    }

    /// One line of a [`BatchSink::samples`] batch from its `template`: the fixed pieces and the
    /// row's values in turn, then the value. `false` when the line does not fit the buffer even
    /// empty (nothing written): the general path writes it piece by piece.
    #[cfg(not(feature = "small"))]
    #[inline]
    fn put_templated(
        &mut self,
        template: &LineTemplate,
        labels: &Labels<'_>,
        value: Value,
    ) -> Result<bool, WriteFailed> {
        let [values, extra] = labels.value_groups();
        if !extra.is_empty() {
            return self.put_templated_two_groups(template, values, extra, value);
        }
        let n = values.len();
        let mut bufs = ValueBufs::new();
        let (digits, tail) = bufs.text(value);
        let mut need = template.fixed + digits.len() + tail.len() + 1;
        for v in values {
            need += v.len();
        }
        if self.len + need > N {
            if need > N {
                return Ok(false);
            }
            self.flush_buf()?;
        }
        let mut at = self.len;
        let mut put = |buf: &mut [u8; N], bytes: &[u8]| {
            copy_short(&mut buf[at..at + bytes.len()], bytes);
            at += bytes.len();
        };
        put(&mut self.buf, template.piece(0));
        for k in 0..n {
            put(&mut self.buf, values[usize::from(template.order[k])].as_bytes());
            put(&mut self.buf, template.piece(k + 1));
        }
        put(&mut self.buf, digits);
        put(&mut self.buf, tail);
        self.buf[at] = b'\n';
        self.len = at + 1;
        Ok(true)
    }

    /// The rows through [`SampleRows::write_lines`], when they can (`None` when not). The
    /// lines are written into a buffer of [`LINES_BUF`] bytes on the stack, larger than the
    /// encoder's own so that whole-chunk copies seldom make it pass the buffer on early; what
    /// the encoder's buffer holds is passed on first.
    #[cfg(not(feature = "small"))]
    fn write_lines(&mut self, head: &LineHead, rows: &dyn SampleRows) -> Option<Result<(), CollectError>> {
        if let Err(e) = self.flush_buf() {
            return Some(Err(e.into()));
        }
        let mut buf = [0u8; LINES_BUF];
        let Encoder { writer, error, .. } = self;
        let mut out = |bytes: &[u8]| match writer.write_all(bytes) {
            Ok(()) => Ok(()),
            Err(e) => {
                error.get_or_insert(e);
                Err(WriteFailed)
            }
        };
        let mut lines = LineBuf { buf: &mut buf, len: 0, head, out: &mut out };
        let written = rows.write_lines(&mut lines)?;
        let len = lines.len;
        Some(written.and_then(|()| Ok(self.write_out(&buf[..len])?)))
    }

    /// [`Encoder::put_templated`] for a row with a second label group (out of line: the rows
    /// of counters and gauges have one group, and their loop stays tight).
    #[cfg(not(feature = "small"))]
    #[inline(never)]
    fn put_templated_two_groups(
        &mut self,
        template: &LineTemplate,
        values: &[&str],
        extra: &[&str],
        value: Value,
    ) -> Result<bool, WriteFailed> {
        let n = values.len() + extra.len();
        let mut bufs = ValueBufs::new();
        let (digits, tail) = bufs.text(value);
        let mut need = template.fixed + digits.len() + tail.len() + 1;
        for v in values.iter().chain(extra) {
            need += v.len();
        }
        if self.len + need > N {
            if need > N {
                return Ok(false);
            }
            self.flush_buf()?;
        }
        let mut at = self.len;
        let mut put = |buf: &mut [u8; N], bytes: &[u8]| {
            copy_short(&mut buf[at..at + bytes.len()], bytes);
            at += bytes.len();
        };
        put(&mut self.buf, template.piece(0));
        for k in 0..n {
            let i = usize::from(template.order[k]);
            let v = match values.get(i) {
                Some(v) => v,
                None => extra[i - values.len()],
            };
            put(&mut self.buf, v.as_bytes());
            put(&mut self.buf, template.piece(k + 1));
        }
        put(&mut self.buf, digits);
        put(&mut self.buf, tail);
        self.buf[at] = b'\n';
        self.len = at + 1;
        Ok(true)
    }

    /// One line of a [`BatchSink::lines`] batch: the child's `rendered` pieces with the line's
    /// own label `values` between them, then the value. `false` when the line does not fit the
    /// buffer even empty (nothing written): the general path writes it piece by piece.
    #[cfg(not(feature = "small"))]
    #[inline(always)]
    fn put_rendered(
        &mut self,
        rendered: &Rendered,
        values: &[&str],
        value: Value,
    ) -> Result<bool, WriteFailed> {
        let mut bufs = ValueBufs::new();
        // A one-digit count (most buckets of a sparse histogram) without the integer writer.
        let digit = match value {
            Value::Int(i) if i < 10 => Some(b'0' + i as u8),
            _ => None,
        };
        let (digits, tail) = match digit {
            Some(_) => (&b"0"[..], &b".0"[..]),
            None => bufs.text(value),
        };
        let mut need = rendered.fixed + digits.len() + tail.len() + 1;
        for v in values {
            need += v.len();
        }
        if self.len + need > N {
            if need > N {
                return Ok(false);
            }
            self.flush_buf()?;
        }
        let mut at = self.len;
        let mut put = |buf: &mut [u8; N], bytes: &[u8]| {
            copy_short(&mut buf[at..at + bytes.len()], bytes);
            at += bytes.len();
        };
        put(&mut self.buf, rendered.piece(0));
        if rendered.parts == 1 {
            // A bucket: its `le` and the rest of the child's labels.
            put(&mut self.buf, values[usize::from(rendered.extra_at[0].0)].as_bytes());
            put(&mut self.buf, rendered.piece(1));
        } else {
            for j in 0..rendered.parts {
                put(&mut self.buf, values[usize::from(rendered.extra_at[j].0)].as_bytes());
                put(&mut self.buf, rendered.piece(j + 1));
            }
        }
        match digit {
            Some(d) => {
                self.buf[at] = d;
                at += 1;
            }
            None => put(&mut self.buf, digits),
        }
        // The tail is `.0` or nothing: written with the newline, without a length dispatch.
        if tail.is_empty() {
            self.buf[at] = b'\n';
            self.len = at + 1;
        } else {
            self.buf[at..at + 3].copy_from_slice(b".0\n");
            self.len = at + 3;
        }
        Ok(true)
    }

    /// OpenMetrics' timestamp in seconds and exemplar of a sample line.
    #[cfg(feature = "openmetrics")]
    #[cfg_attr(not(feature = "float"), allow(unused_variables))]
    fn put_om_extras(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        if let Some(ts) = sample.timestamp {
            self.put(b" ")?;
            self.put_seconds(ts)?;
        }
        #[cfg(feature = "float")]
        if let Some(ex) = &sample.exemplar {
            if !openmetrics::allows_exemplar(desc.metric_type, sample.suffix) {
                return Err(CollectError::MisplacedExemplar);
            }
            self.put(b" # ")?;
            // An exemplar with no labels is still written with braces.
            if ex.labels.is_empty() {
                self.put(b"{}")?;
            } else {
                self.put_labels(&ex.labels)?;
            }
            self.put(b" ")?;
            self.put_f64(ex.value, FloatStyle::Go)?;
            if let Some(ts) = ex.timestamp {
                self.put(b" ")?;
                self.put_seconds(ts)?;
            }
        }
        Ok(())
    }
}

impl<W: Write, F: FormatKind, const N: usize> Sink for Encoder<W, F, N> {
    fn wants_created(&self) -> bool {
        // Text 0.0.4 writes `_created` only as its own families, and only when asked.
        self.created && (self.om() || self.created_in_text)
    }

    #[cfg(not(feature = "small"))]
    fn batch(&mut self) -> Option<&mut dyn crate::collector::BatchSink> {
        Some(self)
    }

    fn family(&mut self, desc: &Desc<'_>) -> Result<(), CollectError> {
        self.check_family(desc)?;
        if let Pass::Split(_) = self.pass {
            self.header_pending = true;
            return Ok(());
        }
        if !self.om() {
            let (suffix, type_name) = text::header(desc.metric_type);
            return Ok(self.put_header(desc.name, suffix, desc.help, type_name)?);
        }
        #[cfg(feature = "openmetrics")]
        {
            self.withdraw()?;
            self.put_header(desc.name, "", desc.help, desc.metric_type.as_str())?;
            if !desc.unit.is_empty() {
                self.put(b"# UNIT ")?;
                self.put_str(desc.name)?;
                self.put(b" ")?;
                self.put_str(desc.unit)?;
                self.put(b"\n")?;
            }
        }
        Ok(())
    }

    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        self.check_sample(desc, sample)?;
        #[cfg(feature = "openmetrics")]
        if self.om() {
            if !self.created && sample.suffix == "_created" && has_created(desc.metric_type) {
                return Ok(());
            }
            let pair = openmetrics::pair_part(desc.metric_type, sample.suffix);
            if pair.is_none() && self.held.is_none() {
                return self.put_sample(desc, sample);
            }
            return self.put_paired(desc, sample, pair);
        }
        let split = text::split_index(desc.metric_type, sample.suffix);
        match (self.pass, split) {
            (Pass::Main, None) => self.put_sample(desc, sample),
            (Pass::Main, Some(i)) => {
                if i != 0 || self.created_families() {
                    self.split_seen |= 1 << i;
                }
                Ok(())
            }
            (Pass::Split(p), Some(i)) if p == i => {
                if self.header_pending {
                    self.header_pending = false;
                    self.put_header(desc.name, sample.suffix, desc.help, "gauge")?;
                }
                self.put_sample(desc, sample)
            }
            (Pass::Split(_), _) => Ok(()),
        }
    }
}

/// Rows of one family written from a per-family line template: the name, suffix and label
/// names once, then per row only the values and the value (see [`Sink::batch`]).
#[cfg(not(feature = "small"))]
impl<W: Write, F: FormatKind, const N: usize> BatchSink for Encoder<W, F, N> {
    fn samples(
        &mut self,
        desc: &Desc<'_>,
        suffix: &'static str,
        rows: &dyn SampleRows,
    ) -> Result<(), CollectError> {
        if (desc.name.as_ptr() as usize, desc.name.len()) != self.checked {
            self.check_family(desc)?;
        }
        let plain_lines = if self.om() {
            #[cfg(feature = "openmetrics")]
            {
                suffix != "_created"
                    && openmetrics::pair_part(desc.metric_type, suffix).is_none()
                    && self.held.is_none()
            }
            #[cfg(not(feature = "openmetrics"))]
            false
        } else {
            match (self.pass, text::split_index(desc.metric_type, suffix)) {
                (Pass::Main, None) => true,
                // None of these rows belongs to this pass.
                (Pass::Split(p), i) if i != Some(p) => return Ok(()),
                _ => false,
            }
        };
        if !plain_lines || !is_suffix(suffix) {
            return rows.each(&mut |labels, value| self.sample(desc, &Sample::new(suffix, labels, value)));
        }
        if let Some(head) = LineHead::new(desc.name, suffix) {
            if let Some(written) = self.write_lines(&head, rows) {
                return written;
            }
        }
        let mut template = LineTemplate::EMPTY;
        rows.each(&mut |labels, value| {
            // A new template only for other names (not for a value that needs escaping).
            let templated = if template.same_names(&labels) {
                LineTemplate::plain(&labels)
            } else {
                template.build(desc.name, suffix, &labels)
            };
            if templated && self.put_templated(&template, &labels, value)? {
                return Ok(());
            }
            self.sample(desc, &Sample::new(suffix, labels, value))
        })
    }

    fn lines(&mut self, desc: &Desc<'_>, rows: &mut dyn LineRows) -> Result<(), CollectError> {
        if (desc.name.as_ptr() as usize, desc.name.len()) != self.checked {
            self.check_family(desc)?;
        }
        let mut slots = [const { LineSlot::EMPTY }; LINE_SLOTS];
        let mut les = LeChunks::EMPTY;
        let mut used = 0;
        let mut child_no = 0u64;
        rows.each(&mut |labels, lines| {
            child_no += 1;
            let child_no = child_no;
            let mut last = 0;
            let mut plain = None;
            lines.each(&mut |run| {
                let suffix = run.suffix();
                // Runs come in the same order for every child: this slot or the next first.
                let same = |i: usize| {
                    slots.get(i).is_some_and(|s| {
                        s.suffix.as_ptr() == suffix.as_ptr() && s.suffix.len() == suffix.len()
                    })
                };
                if same(last + 1) {
                    last += 1;
                } else if !same(last) {
                    last = match slots[..used].iter().position(|s| s.suffix == suffix) {
                        Some(i) => i,
                        None if used < LINE_SLOTS => {
                            used += 1;
                            slots[used - 1] =
                                LineSlot { suffix, way: self.line_way(desc, suffix), ..LineSlot::EMPTY };
                            used - 1
                        }
                        // More suffixes than slots: the general path for the rest.
                        None => LINE_SLOTS,
                    };
                }
                let Some(slot) = slots.get_mut(last) else {
                    return self.run_samples(desc, &labels, run, 0);
                };
                match slot.way {
                    LineWay::Skip => Ok(()),
                    // A held half pair (OpenMetrics) is settled by the general path.
                    LineWay::Template if self.held.is_none() && !run.is_empty() => {
                        // Lines without labels of their own (`_count`, `_sum`) of a one-label
                        // child are written from the template and its value: rendering them
                        // first costs more than it saves on one line.
                        let direct = run.names().is_empty() && matches!(labels.value_groups(), [[_], []]);
                        if slot.child != child_no || slot.direct != direct {
                            slot.child = child_no;
                            slot.direct = direct;
                            // The child's values are scanned once for all its suffixes.
                            let plain = *plain.get_or_insert_with(|| LineTemplate::plain(&labels));
                            slot.ready = plain
                                && if direct {
                                    slot.matches(desc.name, suffix, &labels, run)
                                } else {
                                    slot.prepare(desc.name, suffix, &labels, run)
                                };
                        }
                        if direct && slot.ready {
                            return self.put_templated_run(desc, &labels, run, &slot.template);
                        }
                        if !(slot.ready && slot.fits(run)) {
                            return self.run_samples(desc, &labels, run, 0);
                        }
                        self.put_run(desc, &labels, run, &slot.rendered, &mut les)
                    }
                    _ => self.run_samples(desc, &labels, run, 0),
                }
            })
        })
    }
}

#[cfg(not(feature = "small"))]
impl<W: Write, F: FormatKind, const N: usize> Encoder<W, F, N> {
    /// The lines of `run` from the child's `rendered` labels (a line that needs escaping or
    /// does not fit the buffer through [`Sink::sample`]).
    #[inline(never)]
    fn put_run(
        &mut self,
        desc: &Desc<'_>,
        labels: &Labels<'_>,
        run: &LineRun<'_>,
        rendered: &Rendered,
        les: &mut LeChunks,
    ) -> Result<(), CollectError> {
        let mut samples = run.samples().iter().enumerate();
        // A histogram's buckets: one `le` each, from a `static` (checked), between two pieces.
        if run.known() && run.names().len() == 1 && rendered.parts == 1 {
            let done = if run.shared_values() && les.fill(run.all_values()) {
                self.put_bucket_chunks(rendered, les, run.samples())?
            } else {
                0
            };
            let done =
                done + self.put_bucket_lines(rendered, &run.all_values()[done..], &run.samples()[done..])?;
            if done == run.len() {
                return Ok(());
            }
            let values = &run.all_values()[done..];
            return values.iter().zip(samples.skip(done)).try_for_each(|(value_of, (i, &value))| {
                self.put_run_line(desc, labels, run, rendered, i, core::slice::from_ref(value_of), value)
            });
        }
        match run.names().len() {
            0 => samples
                .try_for_each(|(i, &value)| self.put_run_line(desc, labels, run, rendered, i, &[], value)),
            n => run.all_values().chunks_exact(n).zip(samples).try_for_each(|(values, (i, &value))| {
                self.put_run_line(desc, labels, run, rendered, i, values, value)
            }),
        }
    }

    /// [`Encoder::put_bucket_lines`] with the `le` texts in chunks (`les`, made once for all
    /// the children of the call) and the two pieces and the line's end copied as whole chunks
    /// too, so a line is four fixed-size copies and its count's digits: the spare bytes of a
    /// chunk are overwritten by the next one, or lie past the line's end. Returns how many
    /// lines it wrote: none when the pieces are longer than a chunk or the buffer shorter than
    /// [`BUCKET_ROOM`], and it stops at a count that is not an unsigned integer.
    #[inline(never)]
    fn put_bucket_chunks(
        &mut self,
        rendered: &Rendered,
        les: &LeChunks,
        samples: &[Value],
    ) -> Result<usize, WriteFailed> {
        let (head_len, rest_start) = (usize::from(rendered.ends[0]), usize::from(rendered.ends[0]));
        let rest_len = usize::from(rendered.ends[1]) - rest_start;
        // The rest ends with the space before the value, which the line's end writes again.
        let (Some(head), Some(rest)) = (
            rendered.bytes.first_chunk::<64>(),
            rendered.bytes.get(rest_start..).and_then(|r| r.first_chunk::<64>()),
        ) else {
            return Ok(0);
        };
        if N < BUCKET_ROOM || head_len > 64 || !(1..=64).contains(&rest_len) || rest[rest_len - 1] != b' ' {
            return Ok(0);
        }
        for (i, &value) in samples.iter().enumerate().take(les.n) {
            let Value::Int(count) = value else { return Ok(i) };
            if self.len + BUCKET_ROOM > N {
                self.flush_buf()?;
            }
            let mut at = self.len;
            self.buf[at..at + 64].copy_from_slice(head);
            at += head_len;
            self.buf[at..at + 32].copy_from_slice(&les.chunks[i]);
            at += usize::from(les.lens[i]);
            self.buf[at..at + 64].copy_from_slice(rest);
            at += rest_len - 1;
            let Some(end) = self.buf[at..].first_chunk_mut::<32>() else { return Ok(i) };
            self.len = at + decimal::int_line_end(count, false, end);
        }
        Ok(samples.len().min(les.n))
    }

    /// Lines of one own label value each (`values`, needing no escapes) from `rendered`'s two
    /// pieces, as [`Encoder::put_rendered`] writes them, with the pieces looked up once; stops
    /// at a line that is not an unsigned integer or does not fit the buffer even empty, and
    /// returns how many it wrote. (Not [`Encoder::put_line3`]: this loop, with integers only,
    /// is ~15 instructions a line shorter.)
    #[inline(never)]
    fn put_bucket_lines(
        &mut self,
        rendered: &Rendered,
        values: &[&str],
        samples: &[Value],
    ) -> Result<usize, WriteFailed> {
        let (head, rest) = (rendered.piece(0), rendered.piece(1));
        let mut ints = itoa::Buffer::new();
        for (i, (le, &value)) in values.iter().zip(samples).enumerate() {
            let le = le.as_bytes();
            let Value::Int(count) = value else { return Ok(i) };
            let (digit, digits): (u8, &[u8]) = match count {
                0..=9 => (b'0' + count as u8, &[]),
                _ => (0, ints.format(count).as_bytes()),
            };
            let need = head.len() + le.len() + rest.len() + digits.len().max(1) + 3;
            if self.len + need > N {
                if need > N {
                    return Ok(i);
                }
                self.flush_buf()?;
            }
            let mut at = self.len;
            for piece in [head, le, rest] {
                copy_short(&mut self.buf[at..at + piece.len()], piece);
                at += piece.len();
            }
            if digits.is_empty() {
                self.buf[at] = digit;
                at += 1;
            } else {
                copy_short(&mut self.buf[at..at + digits.len()], digits);
                at += digits.len();
            }
            self.buf[at..at + 3].copy_from_slice(b".0\n");
            self.len = at + 3;
        }
        Ok(values.len().min(samples.len()))
    }

    /// One line `head`, `mid`, `rest`, then `value` (as the general path writes it); `false`
    /// when it does not fit the buffer even empty (nothing written).
    #[inline(always)]
    fn put_line3(
        &mut self,
        head: &[u8],
        mid: &[u8],
        rest: &[u8],
        value: Value,
        bufs: &mut ValueBufs,
    ) -> Result<bool, WriteFailed> {
        // A one-digit count (most buckets of a sparse histogram) without the integer writer.
        let (digit, digits, tail): (u8, &[u8], &[u8]) = match value {
            Value::Int(c) if c < 10 => (b'0' + c as u8, &[], b".0"),
            _ => {
                let (digits, tail) = bufs.text(value);
                (0, digits, tail)
            }
        };
        let need = head.len() + mid.len() + rest.len() + digits.len().max(1) + tail.len() + 1;
        if self.len + need > N {
            if need > N {
                return Ok(false);
            }
            self.flush_buf()?;
        }
        let mut at = self.len;
        for piece in [head, mid, rest] {
            copy_short(&mut self.buf[at..at + piece.len()], piece);
            at += piece.len();
        }
        if digits.is_empty() {
            self.buf[at] = digit;
            at += 1;
        } else {
            copy_short(&mut self.buf[at..at + digits.len()], digits);
            at += digits.len();
        }
        // The tail is `.0` or nothing: written with the newline, without a length dispatch.
        if tail.is_empty() {
            self.buf[at] = b'\n';
            self.len = at + 1;
        } else {
            self.buf[at..at + 3].copy_from_slice(b".0\n");
            self.len = at + 3;
        }
        Ok(true)
    }

    /// The lines of `run`, which has no labels of its own, from `template` and the child's
    /// one label (checked to fit it).
    #[inline(never)]
    fn put_templated_run(
        &mut self,
        desc: &Desc<'_>,
        labels: &Labels<'_>,
        run: &LineRun<'_>,
        template: &LineTemplate,
    ) -> Result<(), CollectError> {
        let [values, _] = labels.value_groups();
        // (Not `put_templated`: a second caller keeps it out of `samples`' loop.)
        let (Some(1), [value_of]) = (template.labels, values) else {
            return self.run_samples(desc, labels, run, 0);
        };
        let (head, rest) = (template.piece(0), template.piece(1));
        let mut bufs = ValueBufs::new();
        for (i, &value) in run.samples().iter().enumerate() {
            if !self.put_line3(head, value_of.as_bytes(), rest, value, &mut bufs)? {
                self.run_samples(desc, labels, &run.line(i), 0)?;
            }
        }
        Ok(())
    }

    /// Line `i` of `run`, whose own label values are `values`, for [`Encoder::put_run`].
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn put_run_line(
        &mut self,
        desc: &Desc<'_>,
        labels: &Labels<'_>,
        run: &LineRun<'_>,
        rendered: &Rendered,
        i: usize,
        values: &[&str],
        value: Value,
    ) -> Result<(), CollectError> {
        let plain = run.known() || values.iter().all(|v| !needs_escape(v.as_bytes(), true));
        if !(plain && self.put_rendered(rendered, values, value)?) {
            self.run_samples(desc, labels, &run.line(i), 0)?;
        }
        Ok(())
    }

    /// The lines of `run` from line `from` on, one [`Sink::sample`] each.
    #[inline(never)]
    fn run_samples(
        &mut self,
        desc: &Desc<'_>,
        labels: &Labels<'_>,
        run: &LineRun<'_>,
        from: usize,
    ) -> Result<(), CollectError> {
        for (i, &value) in run.samples().iter().enumerate().skip(from) {
            let labels = labels.with_extra(run.names(), run.values(i));
            self.sample(desc, &Sample::new(run.suffix(), labels, value))?;
        }
        Ok(())
    }
}

/// How the rows with one suffix of a [`BatchSink::lines`] batch are written.
#[cfg(not(feature = "small"))]
#[derive(Clone, Copy, PartialEq, Eq)]
enum LineWay {
    /// From the slot's template.
    Template,
    /// One [`Sink::sample`] each: lines that another pass writes, or that OpenMetrics pairs.
    Sample,
    /// Not at all: text 0.0.4 writes nothing of them in this pass.
    Skip,
}

/// One suffix of a [`BatchSink::lines`] batch: how its lines are written, their template, and
/// the template with the current child's labels filled in.
#[cfg(not(feature = "small"))]
struct LineSlot {
    suffix: &'static str,
    way: LineWay,
    template: LineTemplate,
    /// The child `rendered` was prepared for (numbered from 1), and whether it is usable.
    child: u64,
    ready: bool,
    /// Whether `ready` was decided for lines without labels of their own (written from the
    /// template, `rendered` untouched) or with (from `rendered`).
    direct: bool,
    rendered: Rendered,
    /// Where the checked names of lines that matched the template live (see
    /// [`LineSlot::fits`]); `(0, 0)` for none.
    extra_names: (usize, usize),
}

/// A [`LineTemplate`] with one child's label values written in (escaped as the general path
/// escapes them): the pieces between the line's own label values (a bucket's `le`), so that a
/// line is those pieces and values, then its value.
#[cfg(not(feature = "small"))]
struct Rendered {
    bytes: [u8; RENDERED_BYTES],
    /// Piece `j` is `bytes[ends[j - 1]..ends[j]]` (piece 0 starts at 0); `parts + 1` pieces.
    ends: [u16; TEMPLATE_LABELS + 1],
    /// For the `j`-th value of the line written: its position in the line's labels, and its
    /// place among all the labels in the template (whose name the line's must match).
    extra_at: [(u8, u8); TEMPLATE_LABELS],
    /// How many of the line's own values go between the pieces.
    parts: usize,
    /// The length of all the pieces together.
    fixed: usize,
}

/// The room [`Encoder::put_bucket_chunks`] needs for a line: the chunks of its two pieces, its
/// `le` and its end.
#[cfg(not(feature = "small"))]
const BUCKET_ROOM: usize = 64 + 32 + 64 + 32;

/// A histogram family's `le` texts, each in a 32-byte chunk, made once per
/// [`BatchSink::lines`] call from the first child's bucket run (whose texts every child shares,
/// see [`LineRun::shared_values`]).
#[cfg(not(feature = "small"))]
struct LeChunks {
    /// The texts' slice (address and length) the chunks were made from; `(0, 0)` before.
    from: (usize, usize),
    chunks: [[u8; 32]; LE_CHUNKS],
    lens: [u8; LE_CHUNKS],
    /// How many chunks hold texts (0: the texts did not fit).
    n: usize,
}

/// Bucket runs of up to this many lines are written from [`LeChunks`].
#[cfg(not(feature = "small"))]
const LE_CHUNKS: usize = 40;

#[cfg(not(feature = "small"))]
impl LeChunks {
    const EMPTY: LeChunks =
        LeChunks { from: (0, 0), chunks: [[0; 32]; LE_CHUNKS], lens: [0; LE_CHUNKS], n: 0 };

    /// Makes the chunks of `texts` unless made already; `false` when there are more texts than
    /// chunks, or one longer than a chunk.
    #[inline]
    fn fill(&mut self, texts: &[&str]) -> bool {
        let from = (texts.as_ptr() as usize, texts.len());
        if self.from != from {
            self.from = from;
            self.n = 0;
            if texts.len() <= LE_CHUNKS && texts.iter().all(|t| t.len() <= 32) {
                for ((chunk, len), t) in self.chunks.iter_mut().zip(&mut self.lens).zip(texts) {
                    chunk[..t.len()].copy_from_slice(t.as_bytes());
                    *len = t.len() as u8;
                }
                self.n = texts.len();
            }
        }
        self.n == texts.len() && self.n > 0
    }
}

/// Bytes of one child's rendered pieces (its label values, the metric name and label names);
/// longer ones take the general path.
#[cfg(not(feature = "small"))]
const RENDERED_BYTES: usize = 320;

#[cfg(not(feature = "small"))]
impl LineSlot {
    const EMPTY: LineSlot = LineSlot {
        suffix: "",
        way: LineWay::Sample,
        template: LineTemplate::EMPTY,
        child: 0,
        ready: false,
        direct: false,
        extra_names: (0, 0),
        rendered: Rendered {
            bytes: [0; RENDERED_BYTES],
            ends: [0; TEMPLATE_LABELS + 1],
            extra_at: [(0, 0); TEMPLATE_LABELS],
            parts: 0,
            fixed: 0,
        },
    };

    /// Makes the template fit a child with `labels` (whose values need no escapes) and the
    /// lines of `run`, and renders the child's values into it; `false` when the child's lines
    /// take the general path.
    #[inline(never)]
    fn prepare(&mut self, name: &str, suffix: &str, labels: &Labels<'_>, run: &LineRun<'_>) -> bool {
        if !self.matches(name, suffix, labels, run) {
            return false;
        }
        let t = &self.template;
        let r = &mut self.rendered;
        let [values, _] = labels.value_groups();
        let n = values.len() + t.extra;
        let mut len = 0;
        let mut parts = 0;
        for k in 0..n {
            if !push_at(&mut r.bytes, &mut len, t.piece(k)) {
                return false;
            }
            let i = usize::from(t.order[k]);
            match values.get(i) {
                Some(v) => {
                    if !push_at(&mut r.bytes, &mut len, v.as_bytes()) {
                        return false;
                    }
                }
                None => {
                    r.ends[parts] = len as u16;
                    r.extra_at[parts] = ((i - values.len()) as u8, k as u8);
                    parts += 1;
                }
            }
        }
        if !push_at(&mut r.bytes, &mut len, t.piece(n)) {
            return false;
        }
        r.ends[parts] = len as u16;
        r.parts = parts;
        r.fixed = len;
        true
    }

    /// Makes the template fit a child with `labels` and the lines of `run` (their names; the
    /// values are not looked at); `false` when no template fits.
    #[inline]
    fn matches(&mut self, name: &str, suffix: &str, labels: &Labels<'_>, run: &LineRun<'_>) -> bool {
        // Names this crate marked, at the addresses the template was last matched with: the
        // same names (see `same_names` and `fits`).
        let [names, _] = labels.name_groups();
        let extra = run.names();
        let known = labels.names_checked()
            && self.template.labels == Some(names.len())
            && (names.as_ptr() as usize, names.len()) == self.template.names
            && self.template.extra == extra.len()
            && (extra.is_empty()
                || run.known() && (extra.as_ptr() as usize, extra.len()) == self.extra_names);
        if known {
            return true;
        }
        let line = labels.with_extra(run.names(), run.values(0));
        if !self.template.same_names(&line) {
            self.extra_names = (0, 0);
            self.template.build(name, suffix, &line);
            if self.template.labels.is_none() {
                return false;
            }
        }
        true
    }

    /// The lines of `run` have the template's names for their own labels. Names a family of
    /// this crate marked as checked (a histogram's `le`, from a `static`) are compared by
    /// address once their content matched.
    #[inline]
    fn fits(&mut self, run: &LineRun<'_>) -> bool {
        let names = run.names();
        if names.len() != self.rendered.parts {
            return false;
        }
        let at = (names.as_ptr() as usize, names.len());
        if run.known() && at == self.extra_names {
            return true;
        }
        let (template, rendered) = (&self.template, &self.rendered);
        let fits = rendered.extra_at[..names.len()]
            .iter()
            .all(|&(i, k)| names[usize::from(i)].as_bytes() == template.name(usize::from(k)));
        if fits && run.known() {
            self.extra_names = at;
        }
        fits
    }
}

/// Appends `part` to `bytes` at `*len`; `false` when it does not fit.
#[cfg_attr(feature = "small", allow(dead_code))]
fn push_at(bytes: &mut [u8], len: &mut usize, part: &[u8]) -> bool {
    let Some(dst) = bytes.get_mut(*len..*len + part.len()) else { return false };
    copy_short(dst, part);
    *len += part.len();
    true
}

#[cfg(not(feature = "small"))]
impl Rendered {
    fn piece(&self, j: usize) -> &[u8] {
        let start = if j == 0 { 0 } else { usize::from(self.ends[j - 1]) };
        &self.bytes[start..usize::from(self.ends[j])]
    }
}

/// A [`BatchSink::lines`] batch keeps templates for this many suffixes (a histogram's
/// `_bucket`, `_count`, `_sum`, `_created`); lines with others take the general path.
#[cfg(not(feature = "small"))]
const LINE_SLOTS: usize = 4;

#[cfg(not(feature = "small"))]
impl<W: Write, F: FormatKind, const N: usize> Encoder<W, F, N> {
    /// How this pass writes the rows of `desc` with `suffix`: what [`Sink::sample`] would do
    /// with each, decided once (every `Sample` row is still checked there).
    fn line_way(&self, desc: &Desc<'_>, suffix: &str) -> LineWay {
        if N == 0 || !is_suffix(suffix) {
            return LineWay::Sample;
        }
        if self.om() {
            // `_created` when dropped: the general path drops it (after checking the row).
            #[cfg(feature = "openmetrics")]
            if openmetrics::pair_part(desc.metric_type, suffix).is_some()
                || (!self.created && suffix == "_created")
            {
                return LineWay::Sample;
            }
            return LineWay::Template;
        }
        match (self.pass, text::split_index(desc.metric_type, suffix)) {
            (Pass::Main, None) => LineWay::Template,
            (Pass::Split(p), i) if i != Some(p) => LineWay::Skip,
            _ => LineWay::Sample,
        }
    }
}

/// Encodes `collector` as Prometheus text 0.0.4 into `writer` and returns the writer (an
/// [`Encoder::text`]: no OpenMetrics code is linked for it).
pub fn encode_text<W: Write>(writer: W, collector: &dyn Collector) -> Result<W, EncodeError<W::Error>> {
    encode_once::<W, TextFormat, LINE_BUF>(TextFormat, writer, collector)
}

/// A whole exposition of `collector` in `format` through a fresh encoder with an `N`-byte
/// buffer. What `encode` then `finish` do, except that the encoder is never moved: `finish`
/// takes it by value, which copies it (most of the caller's stack frame) on a small target.
pub(crate) fn encode_once<W: Write, F: FormatKind, const N: usize>(
    format: F,
    writer: W,
    collector: &dyn Collector,
) -> Result<W, EncodeError<W::Error>> {
    let mut enc = Encoder::<W, F, N>::with_format(format, writer);
    enc.encode(collector)?;
    enc.close()?;
    Ok(enc.writer)
}

/// Encodes `collector` as OpenMetrics text (ending in `# EOF`) into `writer` and returns it.
#[cfg(feature = "openmetrics")]
pub fn encode_openmetrics<W: Write>(
    writer: W,
    collector: &dyn Collector,
) -> Result<W, EncodeError<W::Error>> {
    encode_once::<W, OpenMetricsFormat, LINE_BUF>(OpenMetricsFormat, writer, collector)
}

/// `true` for the types whose `_created` sample text 0.0.4 moves into its own family.
pub(crate) fn has_created(t: MetricType) -> bool {
    matches!(t, MetricType::Counter | MetricType::Summary | MetricType::Histogram)
}

/// Bit of [`NAME_BYTES`] set for the bytes of label names, `[a-zA-Z0-9_]`.
const LABEL_BYTE: u8 = 1;
/// Bit of [`NAME_BYTES`] set for the bytes of metric names, `[a-zA-Z0-9_:]`.
const METRIC_BYTE: u8 = 2;

/// The classes of every byte value: a table, so the per-sample check is one load and one `and`
/// per byte with no branch. (`small` tests the ranges instead of linking 256 bytes.)
#[cfg(not(feature = "small"))]
static NAME_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'_' {
            t[c] = LABEL_BYTE | METRIC_BYTE;
        } else if b == b':' {
            t[c] = METRIC_BYTE;
        }
        c += 1;
    }
    t
};

/// `true` if every byte of `b` is in `class` (an empty `b` is).
#[inline]
fn bytes_in(b: &[u8], class: u8) -> bool {
    // A table lookup and an `and` per byte, no branch: faster on names (a few bytes) than
    // eight-byte range checks were.
    let mut all = class;
    for &c in b {
        all &= byte_class(c);
    }
    all != 0
}

/// The classes of byte `c` ([`LABEL_BYTE`], [`METRIC_BYTE`]).
#[inline(always)]
fn byte_class(c: u8) -> u8 {
    #[cfg(not(feature = "small"))]
    return NAME_BYTES[usize::from(c)];
    #[cfg(feature = "small")]
    if c.is_ascii_alphanumeric() || c == b'_' {
        LABEL_BYTE | METRIC_BYTE
    } else if c == b':' {
        METRIC_BYTE
    } else {
        0
    }
}

/// `true` if `name` matches `[a-zA-Z_][a-zA-Z0-9_]*` ([`crate::is_valid_label_name`], cheaper
/// for the per-sample check).
#[inline]
fn is_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.first().is_some_and(|c| !c.is_ascii_digit()) && bytes_in(b, LABEL_BYTE)
}

/// `true` if every label name of `labels` is valid (the first group's are not checked again
/// when the collector did, see [`label_names_valid`]).
#[inline]
fn label_names_ok(labels: &Labels<'_>) -> bool {
    let [a, b] = labels.name_groups();
    let mut ok = true;
    if !labels.names_checked() {
        ok = label_names_valid(a);
    }
    for n in b {
        ok &= is_label_name(n);
    }
    ok
}

/// `true` if a label value needs escaping (a collector that stores values checks each once
/// and marks its labels plain, see `Labels::with_plain_values`).
#[cfg(not(feature = "small"))]
#[inline]
pub(crate) fn value_needs_escape(v: &str) -> bool {
    needs_escape(v.as_bytes(), true)
}

/// `true` if `names` are in strictly ascending order (as encoders write them).
#[cfg(not(feature = "small"))]
pub(crate) fn label_names_sorted(names: &[&str]) -> bool {
    names.windows(2).all(|w| w[0] < w[1])
}

/// `true` if every name in `names` passes the check an encoder makes on each sample's label
/// names. A collector reporting many samples with the same names checks them once with this
/// and marks its labels, so the encoder skips the check per sample.
#[inline]
pub(crate) fn label_names_valid(names: &[&str]) -> bool {
    let mut ok = true;
    for n in names {
        ok &= is_label_name(n);
    }
    ok
}

/// `true` if a sample suffix may follow a metric name: the suffixes metric types use are matched
/// as literals (length check and a word compare), anything else byte by byte.
#[inline]
fn is_suffix(suffix: &str) -> bool {
    if cfg!(feature = "small") {
        // The same answer: every literal below is made of metric name bytes.
        return bytes_in(suffix.as_bytes(), METRIC_BYTE);
    }
    match suffix.as_bytes() {
        b"" | b"_total" | b"_bucket" | b"_count" | b"_sum" | b"_created" | b"_info" | b"_gcount"
        | b"_gsum" => true,
        other => bytes_in(other, METRIC_BYTE),
    }
}

/// Length of `name="value"` unescaped.
#[cfg(not(feature = "small"))]
#[inline(always)]
fn pair_len((name, value): (&str, &str)) -> usize {
    name.len() + value.len() + 3
}

/// Where a sample value is spelled for the one-pass line writers (`put_line_fast`,
/// `put_templated`): digits then a tail, `.0` after an integer as the general path writes it.
#[cfg(not(feature = "small"))]
struct ValueBufs {
    ints: itoa::Buffer,
    #[cfg(feature = "float")]
    floats: ryu::Buffer,
}

#[cfg(not(feature = "small"))]
impl ValueBufs {
    #[inline]
    fn new() -> Self {
        ValueBufs {
            ints: itoa::Buffer::new(),
            #[cfg(feature = "float")]
            floats: ryu::Buffer::new(),
        }
    }

    #[inline]
    fn text(&mut self, value: Value) -> (&[u8], &'static [u8]) {
        match value {
            Value::Int(i) => (self.ints.format(i).as_bytes(), b".0"),
            Value::Signed(i) => (self.ints.format(i).as_bytes(), b".0"),
            #[cfg(feature = "float")]
            Value::Float(f) => (float::shortest(f, &mut self.floats).as_bytes(), b""),
        }
    }
}

/// The bytes every line of one [`BatchSink::samples`] batch (or of one suffix of a
/// [`BatchSink::lines`] batch) shares, built from its first row: for `x_total{a="1",b="2"} 3`
/// the pieces `x_total{a="`, `",b="` and `"} `, the values going between them in label name
/// order. A second label group (a histogram bucket's `le`) takes its place among them in that
/// order. Rows with other names, invalid names or values that need escaping take the general
/// path.
#[cfg(not(feature = "small"))]
struct LineTemplate {
    bytes: [u8; TEMPLATE_BYTES],
    /// Piece `k` is `bytes[ends[k - 1]..ends[k]]` (piece 0 starts at 0); `labels + 1` pieces.
    ends: [u16; TEMPLATE_LABELS + 1],
    /// The position of the `k`-th value to write (label names sorted), counting the first
    /// group's values, then the second group's.
    order: [u8; TEMPLATE_LABELS],
    /// The first group's label names the template was built for (address and length), `(0, 0)`
    /// before.
    names: (usize, usize),
    /// How many labels in the first group; `None` until built.
    labels: Option<usize>,
    /// How many labels in the second group.
    extra: usize,
    /// Where the `{` is in piece 0 (the metric name and suffix come before it).
    head: usize,
    /// The length of all the pieces together.
    fixed: usize,
}

/// A batch's template holds at most this many bytes of fixed pieces ...
#[cfg(not(feature = "small"))]
const TEMPLATE_BYTES: usize = 192;
/// ... and this many labels; larger label sets take the general path.
#[cfg_attr(feature = "small", allow(dead_code))]
const TEMPLATE_LABELS: usize = 8;

#[cfg(not(feature = "small"))]
impl LineTemplate {
    const EMPTY: LineTemplate = LineTemplate {
        bytes: [0; TEMPLATE_BYTES],
        ends: [0; TEMPLATE_LABELS + 1],
        order: [0; TEMPLATE_LABELS],
        names: (0, 0),
        labels: None,
        extra: 0,
        head: 0,
        fixed: 0,
    };

    /// Appends `part` at `*len`; `false` when it does not fit.
    fn push(&mut self, len: &mut usize, part: &[u8]) -> bool {
        push_at(&mut self.bytes, len, part)
    }

    fn piece(&self, k: usize) -> &[u8] {
        let start = if k == 0 { 0 } else { usize::from(self.ends[k - 1]) };
        &self.bytes[start..usize::from(self.ends[k])]
    }

    /// The `k`-th label name in the template (in written order).
    fn name(&self, k: usize) -> &[u8] {
        let piece = self.piece(k);
        let start = if k == 0 { self.head + 1 } else { 2 };
        piece.get(start..piece.len() - 2).unwrap_or_default()
    }

    /// `true` when a row with `labels` can be written from this template as it is: its names
    /// are the template's and no value needs escaping. Labels a family of this crate marked are
    /// decided without a look at their first group's bytes: its names live in the family's spec
    /// (the same address is the same names) and its values were checked when stored. Others
    /// (promstack-alloc's, a custom collector's, whose slices may even be refilled in place
    /// between rows), and every second group, are compared and scanned.
    #[inline]
    fn fits(&self, labels: &Labels<'_>) -> bool {
        self.same_names(labels) && Self::plain(labels)
    }

    /// `labels` has the template's names, in both groups.
    #[inline(always)]
    fn same_names(&self, labels: &Labels<'_>) -> bool {
        let [names, extra] = labels.name_groups();
        if Some(names.len()) != self.labels || extra.len() != self.extra {
            return false;
        }
        let checked = labels.names_checked();
        if checked && (names.as_ptr() as usize, names.len()) != self.names {
            return false;
        }
        if extra.is_empty() {
            // One group (every counter and gauge row): the names alone.
            return checked
                || (0..names.len()).all(|k| names[usize::from(self.order[k])].as_bytes() == self.name(k));
        }
        (0..names.len() + extra.len()).all(|k| {
            let i = usize::from(self.order[k]);
            match names.get(i) {
                Some(_) if checked => true,
                Some(n) => n.as_bytes() == self.name(k),
                None => extra[i - names.len()].as_bytes() == self.name(k),
            }
        })
    }

    /// No value of `labels` needs escaping.
    #[inline(always)]
    fn plain(labels: &Labels<'_>) -> bool {
        let [values, extra] = labels.value_groups();
        let first = if labels.names_checked() {
            values.is_empty() || labels.values_plain()
        } else {
            values.iter().all(|v| !needs_escape(v.as_bytes(), true))
        };
        first && extra.iter().all(|v| !needs_escape(v.as_bytes(), true))
    }

    /// Builds the template for `labels`' names; `false` (and the template unusable) when a name
    /// is invalid, a value needs escaping, or the pieces do not fit.
    #[cold]
    fn build(&mut self, name: &str, suffix: &str, labels: &Labels<'_>) -> bool {
        self.labels = None;
        self.names = (0, 0);
        let [names, extra] = labels.name_groups();
        let n = names.len() + extra.len();
        if n > TEMPLATE_LABELS
            || !(labels.names_checked() || label_names_valid(names))
            || !label_names_valid(extra)
        {
            return false;
        }
        let name_at = |i: usize| match names.get(i) {
            Some(n) => *n,
            None => extra[i - names.len()],
        };
        // Label name order, as the general path writes them (a stable insertion sort).
        let mut order = [0u8; TEMPLATE_LABELS];
        for i in 0..n {
            let mut j = i;
            while j > 0 && name_lt(name_at(i), name_at(usize::from(order[j - 1]))) {
                order[j] = order[j - 1];
                j -= 1;
            }
            order[j] = i as u8;
        }
        let mut len = 0;
        let mut ok = true;
        for (k, &i) in order[..n].iter().enumerate() {
            let open: &[u8] = if k == 0 { b"{" } else { b"\"," };
            let prefix = if k == 0 { [name.as_bytes(), suffix.as_bytes()] } else { [&[][..], &[][..]] };
            for part in prefix.into_iter().chain([open, name_at(usize::from(i)).as_bytes(), b"=\""]) {
                ok &= self.push(&mut len, part);
            }
            self.ends[k] = len as u16;
        }
        if n == 0 {
            ok &= self.push(&mut len, name.as_bytes()) && self.push(&mut len, suffix.as_bytes());
        }
        ok &= self.push(&mut len, if n == 0 { b" " } else { b"\"} " });
        if !ok {
            return false;
        }
        self.ends[n] = len as u16;
        self.order = order;
        self.fixed = len;
        self.head = name.len() + suffix.len();
        self.labels = Some(names.len());
        self.extra = extra.len();
        self.names = (names.as_ptr() as usize, names.len());
        // The first row itself must fit too (its values may need escaping).
        self.fits(labels)
    }
}

/// The stack buffer [`SampleRows::write_lines`] rows are written into.
#[cfg_attr(feature = "small", allow(dead_code))]
const LINES_BUF: usize = 2048;

/// The bytes every line of a batch starts with: the name and suffix, together.
#[cfg_attr(feature = "small", allow(dead_code))]
pub(crate) struct LineHead {
    bytes: [u8; LineHead::BYTES],
    len: usize,
}

#[cfg_attr(feature = "small", allow(dead_code))]
impl LineHead {
    /// Longer heads are written piece by piece.
    const BYTES: usize = 64;

    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn new(name: &str, suffix: &str) -> Option<LineHead> {
        let mut head = LineHead { bytes: [0; LineHead::BYTES], len: 0 };
        (push_at(&mut head.bytes, &mut head.len, name.as_bytes())
            && push_at(&mut head.bytes, &mut head.len, suffix.as_bytes()))
        .then_some(head)
    }
}

/// What [`LineBuf::line_in_place`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InPlace {
    /// The line is in the buffer.
    Written,
    /// Nothing was written: the rest of the buffer is too short for the line.
    NoRoom,
    /// Nothing was written: a value needs escaping, which [`LineBuf::line`] does piece by piece.
    Escapes,
}

/// An encoder's line buffer, lent to rows that write their own lines
/// ([`SampleRows::write_lines`]): a family of this crate writes each child's label block
/// straight into it, and the buffer adds the name before and the value after. Only the
/// encoders make one.
#[cfg_attr(feature = "small", allow(dead_code))]
pub struct LineBuf<'a> {
    buf: &'a mut [u8],
    /// The bytes of `buf` written and not yet passed on.
    len: usize,
    head: &'a LineHead,
    /// Passes bytes on to the writer (the first error is kept by the encoder).
    out: &'a mut dyn FnMut(&[u8]) -> Written,
}

#[cfg_attr(feature = "small", allow(dead_code))]
impl LineBuf<'_> {
    /// The room a line's label block of at most `max` bytes is written into, after the line's
    /// name (written now; the line counts once committed). Whole chunks may be copied into it: the name's
    /// ([`LineHead::BYTES`]), the block's up to `max`, the line end's 32 after the block. The
    /// buffer is passed on first when its rest is too short; `None` when even an empty one is
    /// (then the line is written piece by piece).
    #[inline(always)]
    pub(crate) fn room(&mut self, max: usize) -> Result<Option<&mut [u8]>, CollectError> {
        let need = LineHead::BYTES + max + 32;
        if self.len + need > self.buf.len() {
            if need > self.buf.len() {
                return Ok(None);
            }
            self.flush()?;
        }
        Ok(self.room_in_place(max))
    }

    /// [`LineBuf::room`] without passing anything on: `None` when the rest of the buffer is too
    /// short.
    #[inline(always)]
    fn room_in_place(&mut self, max: usize) -> Option<&mut [u8]> {
        let at = self.len;
        if at + LineHead::BYTES + max + 32 > self.buf.len() {
            return None;
        }
        self.buf[at..at + LineHead::BYTES].copy_from_slice(&self.head.bytes);
        self.buf.get_mut(at + self.head.len..)
    }

    /// Completes the line of `len` bytes (label block, value and newline) written into what
    /// [`LineBuf::room`] lent, after the name it wrote.
    #[inline(always)]
    pub(crate) fn commit(&mut self, len: usize) {
        self.len += self.head.len + len;
    }

    /// One line of the batch: its name and suffix, `pieces` with `values` (positional: in the
    /// order of the names the pieces were made for) between them, each escaped as needed, and
    /// `value`. Values that need no escaping are copied in place (the buffer is passed on only
    /// when its rest is too short); others, and lines longer than the buffer, are written
    /// piece by piece. A count of values other than the pieces' is an error.
    pub fn line(&mut self, pieces: &LabelPieces, values: &[&str], value: Value) -> Result<(), CollectError> {
        match self.line_in_place(pieces, values, value)? {
            InPlace::Written => return Ok(()),
            InPlace::NoRoom => {
                // The rest of the buffer was too short: pass it on and try again.
                self.flush()?;
                if self.line_in_place(pieces, values, value)? == InPlace::Written {
                    return Ok(());
                }
            }
            InPlace::Escapes => {}
        }
        self.line_by_pieces(pieces, values, value)
    }

    /// [`LineBuf::line`] when no value needs escaping and the line fits in the rest of the
    /// buffer; otherwise nothing is written and the answer says why. Passes nothing on to the
    /// writer, so it never blocks (see [`LineBuf::line_joined_in_place`]). A count of values
    /// other than the pieces' is an error, as for [`LineBuf::line`].
    #[inline]
    pub fn line_in_place(
        &mut self,
        pieces: &LabelPieces,
        values: &[&str],
        value: Value,
    ) -> Result<InPlace, CollectError> {
        if values.len() != pieces.n {
            return Err(CollectError::Failed("a line's label values do not match its label names"));
        }
        let mut block = pieces.fixed;
        let mut plain = true;
        for v in values {
            block += v.len();
            plain &= !needs_escape(v.as_bytes(), true);
        }
        if !plain {
            return Ok(InPlace::Escapes);
        }
        // The pieces are copied as whole chunks: room for the last one's.
        let Some(out) = self.room_in_place(block + LabelPieces::CHUNK) else {
            return Ok(InPlace::NoRoom);
        };
        let mut at = 0;
        for k in 0..pieces.n {
            let (chunk, len) = pieces.chunk(k);
            out[at..at + LabelPieces::CHUNK].copy_from_slice(chunk);
            at += len;
            let v = values[pieces.label(k)].as_bytes();
            copy_short(&mut out[at..at + v.len()], v);
            at += v.len();
        }
        let (chunk, len) = pieces.chunk(pieces.n);
        out[at..at + LabelPieces::CHUNK].copy_from_slice(chunk);
        at += len;
        match out[at..].first_chunk_mut::<32>() {
            Some(end) => {
                let end = line_end(value, end);
                self.commit(at + end);
                Ok(InPlace::Written)
            }
            None => Ok(InPlace::NoRoom),
        }
    }

    /// One line of the batch from values stored joined: its name and suffix, the first piece,
    /// `joined` as it is, the last piece and `value`. `joined` must be bytes that
    /// [`LabelPieces::join`] wrote for these `pieces` (promstack-alloc keeps each child's in
    /// its node, written when the child was made): they are not scanned again, which is the
    /// point, so other bytes would be written as they are and could make the line malformed.
    /// Debug builds check them ([`LabelPieces::is_joined`]) and return an error.
    ///
    /// ```
    /// use promstack_core::encoding::LabelPieces;
    /// let pieces = LabelPieces::new(&["method", "path"]).unwrap();
    /// let len = pieces.joined_len(&["GET", "/"]).unwrap();
    /// let mut joined = vec![0; len];
    /// assert!(pieces.join(&["GET", "/"], &mut joined));
    /// assert_eq!(joined, br#"GET",path="/"#);
    /// assert!(pieces.is_joined(&joined));
    /// ```
    #[inline]
    pub fn line_joined(
        &mut self,
        pieces: &LabelPieces,
        joined: &[u8],
        value: Value,
    ) -> Result<(), CollectError> {
        if cfg!(debug_assertions) && !pieces.is_joined(joined) {
            return Err(CollectError::Failed("a line's joined label values are not what its pieces join"));
        }
        if self.line_joined_in_place(pieces, joined, value) {
            return Ok(());
        }
        // The rest of the buffer was too short: pass it on and try again.
        self.flush()?;
        if self.line_joined_in_place(pieces, joined, value) {
            return Ok(());
        }
        let (first, first_len) = pieces.chunk(0);
        let (last, last_len) = pieces.chunk(pieces.n);
        self.put(self.head.bytes())?;
        self.put(&first[..first_len])?;
        self.put(joined)?;
        self.put(&last[..last_len])?;
        let mut end = [0u8; 32];
        let end_len = line_end(value, &mut end);
        self.put(&end[..end_len])
    }

    /// [`LineBuf::line_joined`] when the line fits in the rest of the buffer; `false`, with
    /// nothing written, when it does not. Passes nothing on to the writer, so it never blocks:
    /// promstack-alloc writes lines this way while it holds a family's read lock, and lets the
    /// lock go before it writes one that does not fit. `joined` must be what
    /// [`LineBuf::line_joined`] asks for (debug builds check it and report `false`).
    #[inline(always)]
    pub fn line_joined_in_place(&mut self, pieces: &LabelPieces, joined: &[u8], value: Value) -> bool {
        if cfg!(debug_assertions) && !pieces.is_joined(joined) {
            return false;
        }
        let (first, first_len) = pieces.chunk(0);
        let (last, last_len) = pieces.chunk(pieces.n);
        // The pieces are copied as whole chunks: room for the last one's.
        let Some(out) = self.room_in_place(first_len + joined.len() + LabelPieces::CHUNK) else {
            return false;
        };
        out[..LabelPieces::CHUNK].copy_from_slice(first);
        let mut at = first_len;
        copy_short(&mut out[at..at + joined.len()], joined);
        at += joined.len();
        out[at..at + LabelPieces::CHUNK].copy_from_slice(last);
        at += last_len;
        match out[at..].first_chunk_mut::<32>() {
            Some(end) => {
                let end = line_end(value, end);
                self.commit(at + end);
                true
            }
            None => false,
        }
    }

    /// [`LineBuf::line`] piece by piece, escaping.
    #[inline(never)]
    fn line_by_pieces(
        &mut self,
        pieces: &LabelPieces,
        values: &[&str],
        value: Value,
    ) -> Result<(), CollectError> {
        self.put(self.head.bytes())?;
        for (k, _) in values.iter().enumerate() {
            let (chunk, len) = pieces.chunk(k);
            self.put(&chunk[..len])?;
            let v = values[pieces.label(k)].as_bytes();
            let mut start = 0;
            for (i, &c) in v.iter().enumerate() {
                let esc: &[u8] = match c {
                    b'\\' => b"\\\\",
                    b'\n' => b"\\n",
                    b'"' => b"\\\"",
                    _ => continue,
                };
                self.put(&v[start..i])?;
                self.put(esc)?;
                start = i + 1;
            }
            self.put(&v[start..])?;
        }
        let (chunk, len) = pieces.chunk(values.len());
        self.put(&chunk[..len])?;
        let mut end = [0u8; 32];
        let end_len = line_end(value, &mut end);
        self.put(&end[..end_len])
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), CollectError> {
        if self.len + bytes.len() > self.buf.len() {
            self.flush()?;
            if bytes.len() > self.buf.len() {
                return Ok((self.out)(bytes)?);
            }
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }

    #[inline(never)]
    fn flush(&mut self) -> Result<(), CollectError> {
        let len = core::mem::take(&mut self.len);
        Ok((self.out)(&self.buf[..len])?)
    }
}

/// ` value` and the newline, as the general path writes them after a sample's labels, at the
/// start of `out`; returns the length.
#[cfg_attr(feature = "small", allow(dead_code))]
#[inline(always)]
pub(crate) fn line_end(value: Value, out: &mut [u8; 32]) -> usize {
    match value {
        Value::Int(n) => decimal::int_line_end(n, false, out),
        Value::Signed(i) => decimal::int_line_end(i.unsigned_abs(), i < 0, out),
        #[cfg(feature = "float")]
        Value::Float(f) => float_line_end(f, out),
    }
}

/// [`line_end`] of a float (out of line: counters and gauges mostly hold integers).
#[cfg(feature = "float")]
#[cfg_attr(feature = "small", allow(dead_code))]
#[inline(never)]
fn float_line_end(f: f64, out: &mut [u8; 32]) -> usize {
    let mut b = ryu::Buffer::new();
    let s = float::shortest(f, &mut b).as_bytes();
    out[0] = b' ';
    out[1..1 + s.len()].copy_from_slice(s);
    out[1 + s.len()] = b'\n';
    s.len() + 2
}

/// The fixed parts of the label blocks of one set of label names, made once per family and
/// scrape, for [`LineBuf::line`]: `{a="`, `",b="`, ..., `"}`, with the names in the order the
/// encoders write them (sorted), so that a line is the pieces with the values between them.
/// Each piece is kept in a chunk of [`LabelPieces::CHUNK`] bytes and copied whole (the spare
/// bytes are overwritten by what follows).
///
/// ```
/// use promstack_core::encoding::LabelPieces;
/// assert!(LabelPieces::new(&["method", "path"]).is_some());
/// assert!(LabelPieces::new(&["not a name"]).is_none());
/// assert!(LabelPieces::new(&[]).is_none());
/// ```
#[cfg_attr(feature = "small", allow(dead_code))]
pub struct LabelPieces {
    chunks: [[u8; LabelPieces::CHUNK]; TEMPLATE_LABELS + 1],
    lens: [u8; TEMPLATE_LABELS + 1],
    order: [u8; TEMPLATE_LABELS],
    /// How many labels.
    n: usize,
    fixed: usize,
}

#[cfg_attr(feature = "small", allow(dead_code))]
impl LabelPieces {
    /// The bytes of a piece's chunk: label names of up to 28 bytes.
    pub const CHUNK: usize = 32;

    /// The pieces for `names`; `None` when there are none, more than 8, a name an encoder
    /// would refuse, or one longer than 28 bytes (a chunk's room). Then the rows go through
    /// [`SampleRows::each`] and the encoder's own checks.
    pub fn new(names: &[&str]) -> Option<LabelPieces> {
        let n = names.len();
        if n == 0 || n > TEMPLATE_LABELS || !label_names_valid(names) {
            return None;
        }
        let mut order = [0u8; TEMPLATE_LABELS];
        for i in 0..n {
            let mut j = i;
            while j > 0 && name_lt(names[i], names[usize::from(order[j - 1])]) {
                order[j] = order[j - 1];
                j -= 1;
            }
            order[j] = i as u8;
        }
        let mut pieces = LabelPieces {
            chunks: [[0; LabelPieces::CHUNK]; TEMPLATE_LABELS + 1],
            lens: [0; TEMPLATE_LABELS + 1],
            order,
            n,
            fixed: 0,
        };
        let mut ok = true;
        for k in 0..=n {
            let open: &[u8] = if k == 0 { b"{" } else { b"\"" };
            let parts: [&[u8]; 3] = match order[..n].get(k) {
                Some(&i) => [open, if k == 0 { b"" } else { b"," }, names[usize::from(i)].as_bytes()],
                None => [b"\"}", b"", b""],
            };
            let mut len = 0;
            for part in parts {
                ok &= push_at(&mut pieces.chunks[k], &mut len, part);
            }
            if k < n {
                ok &= push_at(&mut pieces.chunks[k], &mut len, b"=\"");
            }
            pieces.lens[k] = len as u8;
            pieces.fixed += len;
        }
        ok.then_some(pieces)
    }

    /// Piece `k` (`0..=n`) in its chunk, and its length.
    #[inline(always)]
    pub(crate) fn chunk(&self, k: usize) -> (&[u8; LabelPieces::CHUNK], usize) {
        (&self.chunks[k], usize::from(self.lens[k]))
    }

    /// How many label names the pieces are for.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always `false`: pieces are made for one name or more (see [`LabelPieces::new`]).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The position (in the family's label names) of the label whose value follows piece `k`.
    #[inline(always)]
    pub(crate) fn label(&self, k: usize) -> usize {
        usize::from(self.order[k])
    }

    /// All the pieces' bytes together.
    #[inline]
    pub(crate) fn fixed(&self) -> usize {
        self.fixed
    }

    /// Piece `k` (`0..=len()`): `{a="` first, `",b="` between two values, `"}` last.
    ///
    /// ```
    /// use promstack_core::encoding::LabelPieces;
    /// let pieces = LabelPieces::new(&["b", "a"]).unwrap();
    /// assert_eq!([pieces.piece(0), pieces.piece(1), pieces.piece(2)], [&b"{a=\""[..], b"\",b=\"", b"\"}"]);
    /// ```
    ///
    /// # Panics
    /// When `k > len()`.
    #[inline]
    pub fn piece(&self, k: usize) -> &[u8] {
        assert!(k <= self.n, "piece {k} of {}", self.n + 1);
        let (chunk, len) = self.chunk(k);
        &chunk[..len]
    }

    /// `true` when the names were given in the order the encoders write them (sorted), so
    /// that values can be [joined](LabelPieces::join) in the order they were given.
    pub fn in_given_order(&self) -> bool {
        self.order[..self.n].iter().enumerate().all(|(i, &k)| usize::from(k) == i)
    }

    /// The length of `values` [joined](LabelPieces::join); `None` when they cannot be: a count
    /// other than the names', names not [in the given order](LabelPieces::in_given_order), or
    /// a value that needs escaping.
    pub fn joined_len(&self, values: &[&str]) -> Option<usize> {
        if values.len() != self.n || !self.in_given_order() {
            return None;
        }
        let mut len = self.fixed - usize::from(self.lens[0]) - usize::from(self.lens[self.n]);
        for v in values {
            if needs_escape(v.as_bytes(), true) {
                return None;
            }
            len += v.len();
        }
        Some(len)
    }

    /// Writes `values` with the pieces between them (not the first and last): for names
    /// `a`, `b` and values `x`, `y`, the bytes `x",b="y`. A line is then the first piece, these
    /// bytes and the last piece ([`LineBuf::line_joined`]). `false`, and nothing written, when
    /// `out` is not exactly [`LabelPieces::joined_len`] long (or that is `None`).
    pub fn join(&self, values: &[&str], out: &mut [u8]) -> bool {
        if self.joined_len(values) != Some(out.len()) {
            return false;
        }
        let mut at = 0;
        for (k, v) in values.iter().enumerate() {
            if k > 0 {
                let (chunk, len) = self.chunk(k);
                out[at..at + len].copy_from_slice(&chunk[..len]);
                at += len;
            }
            out[at..at + v.len()].copy_from_slice(v.as_bytes());
            at += v.len();
        }
        true
    }

    /// `true` when `bytes` are what [`LabelPieces::join`] writes for some values: the inner
    /// pieces in order, and between them values that need no escaping.
    pub fn is_joined(&self, bytes: &[u8]) -> bool {
        if !self.in_given_order() {
            return false;
        }
        let mut rest = bytes;
        for k in 1..self.n {
            let (chunk, len) = self.chunk(k);
            // A plain value holds no `"`: the piece starts at the first one.
            let Some(q) = rest.iter().position(|&b| b == b'"') else { return false };
            if needs_escape(&rest[..q], true) || !rest[q..].starts_with(&chunk[..len]) {
                return false;
            }
            rest = &rest[q + len..];
        }
        !needs_escape(rest, true)
    }
}

/// Label sets up to this size are sorted on the stack; larger ones use [`Labels::sorted`].
const SMALL_LABELS: usize = 16;

/// The position of the label to write after the one at `last` (`None`: the first), in
/// (name, position) order as the insertion sort of the other build's `put_labels_sorted` gives;
/// above [`SMALL_LABELS`] pairs a repeated name is written once, as [`Labels::sorted`] does.
/// Not inlined: its locals stay out of the frame the label is written from.
#[cfg(feature = "small")]
#[inline(never)]
fn next_label(labels: &Labels<'_>, last: Option<usize>) -> Option<usize> {
    use core::cmp::Ordering::{Equal, Greater, Less};
    let n = labels.len();
    let keep_repeats = n <= SMALL_LABELS;
    let mut best: Option<(&str, usize)> = None;
    for i in 0..n {
        let name = labels.pair(i).0;
        let after = match last {
            None => true,
            Some(li) => match name_cmp(name, labels.pair(li).0) {
                Greater => true,
                Equal => keep_repeats && i > li,
                Less => false,
            },
        };
        if after && best.is_none_or(|(b, _)| name_cmp(name, b) == Less) {
            best = Some((name, i));
        }
    }
    best.map(|(_, i)| i)
}

/// `a.cmp(b)` a byte at a time (`small`: label names are short, and `str`'s comparison links
/// `memcmp`).
#[cfg(feature = "small")]
fn name_cmp(a: &str, b: &str) -> core::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// `a < b`, deciding on the first byte without a `memcmp` call when it differs (label names
/// nearly always differ there).
#[cfg_attr(feature = "small", allow(dead_code))]
#[inline]
fn name_lt(a: &str, b: &str) -> bool {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(x), Some(y)) if x != y => x < y,
        _ => a < b,
    }
}

/// `true` if `b` holds a byte that must be escaped: `\\`, newline, and `"` when `quote`.
/// Eight bytes per step (SWAR): a byte of `w ^ c` is zero where `w` holds `c`, and
/// `(x - 0x01..) & !x & 0x80..` is non-zero exactly when some byte of `x` is zero.
#[inline]
fn needs_escape(b: &[u8], quote: bool) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let q = LO * u64::from(if quote { b'"' } else { b'\\' });
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let hit = |w: u64| zero(w ^ (LO * u64::from(b'\\'))) | zero(w ^ (LO * u64::from(b'\n'))) | zero(w ^ q);
    let n = b.len();
    if n < 8 {
        // One word for short values too: two overlapping 4-byte reads, or three bytes (first,
        // middle, last cover every length up to 3) over a filler that needs no escaping.
        let w = if n >= 4 {
            le32(b) | le32(&b[n - 4..]) << 32
        } else if n > 0 {
            (LO * u64::from(b'a')) & !0xff_ffff
                | u64::from(b[0])
                | u64::from(b[n / 2]) << 8
                | u64::from(b[n - 1]) << 16
        } else {
            return false;
        };
        return hit(w) != 0;
    }
    // An early exit per word keeps this a short scalar loop (a reduction over every word gets
    // vectorized with a setup that costs more than label values are long).
    let mut i = 0;
    while i + 8 < n {
        if hit(le64(&b[i..])) != 0 {
            return true;
        }
        i += 8;
    }
    // The last eight bytes (overlapping what the loop read) cover the remainder.
    hit(le64(&b[n - 8..])) != 0
}

#[inline(always)]
fn le32(b: &[u8]) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    u64::from(u32::from_le_bytes(w))
}

#[inline(always)]
fn le64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// `dst.copy_from_slice(src)` for the short pieces a sample is made of, without a `memcpy`
/// call: two overlapping fixed-size copies cover any length from 2 to 64.
// Inlined everywhere for speed; with `small` (flash-constrained firmware) left to the compiler,
// which keeps one copy (-0.5 KB on thumbv7m).
#[cfg_attr(not(feature = "small"), inline(always))]
#[cfg_attr(feature = "small", inline)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if cfg!(feature = "small") || n > 64 || dst.len() != n {
        dst.copy_from_slice(src);
    } else if n >= 32 {
        dst[..32].copy_from_slice(&src[..32]);
        dst[n - 32..].copy_from_slice(&src[n - 32..]);
    } else if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 16..].copy_from_slice(&src[n - 16..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..].copy_from_slice(&src[n - 4..]);
    } else if n >= 2 {
        dst[..2].copy_from_slice(&src[..2]);
        dst[n - 2..].copy_from_slice(&src[n - 2..]);
    } else if n == 1 {
        // (A byte loop here is turned back into a `memcpy` call: ~17 instructions for 1-3
        // bytes, twice per line.)
        dst[0] = src[0];
    }
}

#[cfg(all(test, feature = "float", feature = "openmetrics"))]
mod fast_path_tests {
    use super::*;

    #[test]
    fn needs_escape_matches_a_byte_scan() {
        let specials = [b'\\', b'\n', b'"', b'a', 0x00, 0xff, 0x5b, 0x0b, 0x21, b' ', 0x23, 0x5d, 0x80, 0xa2];
        let mut x: u32 = 12345;
        for len in 0..48 {
            for _ in 0..300 {
                let mut b = [b'x'; 48];
                for c in b.iter_mut().take(len) {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    *c = if x.is_multiple_of(7) {
                        specials[(x >> 8) as usize % specials.len()]
                    } else {
                        (x >> 16) as u8
                    };
                }
                let b = &b[..len];
                for quote in [false, true] {
                    let want = b.iter().any(|&c| c == b'\\' || c == b'\n' || (quote && c == b'"'));
                    assert_eq!(needs_escape(b, quote), want, "{b:?} {quote}");
                }
            }
        }
    }

    #[test]
    fn name_checks_match_the_rules() {
        let mut x: u32 = 987;
        for len in 0..40 {
            for _ in 0..2000 {
                let mut b = [b'a'; 40];
                for c in b.iter_mut().take(len) {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    // Mostly name bytes, sometimes any byte, so both answers are common.
                    let pool = b"azAZ09_:`{@[/";
                    *c = if x.is_multiple_of(29) {
                        (x >> 8) as u8
                    } else {
                        pool[(x >> 8) as usize % pool.len()]
                    };
                }
                let b = &b[..len];
                for (class, colon) in [(LABEL_BYTE, false), (METRIC_BYTE, true)] {
                    let want =
                        b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_' || (colon && c == b':'));
                    assert_eq!(bytes_in(b, class), want, "{b:?} {colon}");
                }
            }
        }
    }

    #[test]
    fn copy_short_copies_every_length() {
        let src: [u8; 70] = core::array::from_fn(|i| i as u8 + 1);
        for n in 0..=70 {
            let mut dst = [0u8; 70];
            copy_short(&mut dst[..n], &src[..n]);
            assert_eq!(dst[..n], src[..n]);
            assert!(dst[n..].iter().all(|&c| c == 0));
        }
    }
}
