//! Encoding into an `embedded_io_async::Write` (an embassy-net TCP socket, an async UART), one
//! [`PullEncoder`] chunk at a time.

use super::{FormatKind, PullEncoder, TextFormat};
use crate::collector::Collector;
use crate::error::EncodeError;

/// Writes the exposition of `collector` in `format` into `writer`, awaiting each chunk of at
/// most `buf.len()` bytes, then flushes it. Nothing is allocated; the future holds `buf`'s
/// reference and a [`PullEncoder`] (a few words), and a chunk is encoded between awaits (see
/// [`PullEncoder`] for what a chunk costs and for values that change while it is sent).
///
/// ```
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output {
/// #     let waker = core::task::Waker::noop();
/// #     let mut f = core::pin::pin!(f);
/// #     loop {
/// #         if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut core::task::Context::from_waker(&waker)) {
/// #             return v;
/// #         }
/// #     }
/// # }
/// use promstack_core::{encoding::encode_async, Counter, TextFormat};
/// static HITS: Counter = Counter::new("hits", "Cache hits.");
/// let mut socket = Vec::new(); // any embedded_io_async::Write
/// let mut chunk = [0u8; 64];
/// block_on(encode_async(&mut socket, TextFormat, &HITS, &mut chunk)).unwrap();
/// assert_eq!(socket, b"# HELP hits_total Cache hits.\n# TYPE hits_total counter\nhits_total 0.0\n");
/// ```
pub async fn encode_async<W: embedded_io_async::Write, F: FormatKind>(
    writer: &mut W,
    format: F,
    collector: &dyn Collector,
    buf: &mut [u8],
) -> Result<(), EncodeError<W::Error>> {
    let mut pull = PullEncoder::new(collector, format);
    loop {
        let n = pull.fill(buf).map_err(|e| match e {
            EncodeError::Write(never) => match never {},
            EncodeError::Collect(c) => EncodeError::Collect(c),
            EncodeError::Desc(d) => EncodeError::Desc(d),
        })?;
        if n == 0 {
            break;
        }
        writer.write_all(&buf[..n]).await.map_err(EncodeError::Write)?;
    }
    writer.flush().await.map_err(EncodeError::Write)
}

/// [`encode_async`] in Prometheus text 0.0.4 (no OpenMetrics code is linked for it).
pub async fn encode_text_async<W: embedded_io_async::Write>(
    writer: &mut W,
    collector: &dyn Collector,
    buf: &mut [u8],
) -> Result<(), EncodeError<W::Error>> {
    encode_async(writer, TextFormat, collector, buf).await
}
