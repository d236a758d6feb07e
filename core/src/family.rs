//! Fixed-capacity labeled metrics: `L` label names, room for `N` children, label values of up
//! to `V` bytes, all inline and `const`-constructible, so a labeled metric can be a `static`
//! on a target with no allocator.
//!
//! # Concurrency
//! Finding an existing child takes no lock and allocates nothing. Each slot carries a state word
//! `generation << 2 | status`. Label bytes are stored in atomics and read under a sequence-lock
//! discipline: a reader loads the state (Acquire), compares hash and bytes (Relaxed), issues an
//! Acquire fence and re-loads the state; if it changed, the read may be torn and is retried.
//! Writers (claim, remove, clear) run inside `sync::exclusive` (a critical section), so at most one writes at
//! a time; a writer first publishes a BUSY state, then a Release fence, then the bytes, then the
//! READY state with Release. A reader that saw READY twice with the same generation therefore
//! read exactly the bytes of that generation. Because the claim path re-scans under the critical
//! section before taking a slot, one label set never gets two slots.
//!
//! The bytes are read and written a machine word at a time (`ValueBytes`: a lookup compares a
//! 22-byte value in three loads), and the claim records, under the same discipline, whether any
//! value needs escaping, so a scrape checks neither again. A scrape hands the copied bytes on as
//! `&str` without UTF-8 validation only when they are ASCII (then they are UTF-8 whatever a
//! concurrent writer did); anything else is validated, so no `str` invariant rests on the
//! sequence lock being right.
//!
//! # Removed children
//! One rule for every family of promstack (this `FixedFamily`, promstack-alloc's `Family` and
//! `promstack::multiprocess::Family`): **an update through a handle whose child was removed
//! never reaches any exported series, in particular not a child re-created with the same
//! labels.** Here handles returned by [`FixedFamily::get`] remember the generation they were
//! found in; after the child is removed (and its slot perhaps reused) their updates are
//! dropped, as the handshake below makes sure even for an update already under way.
//!
//! Checking the generation and then updating is not enough on its own: a handle could pass the
//! check, be delayed, and update after the child was removed and its slot re-claimed and reset
//! for another label set. So each slot also counts the updates in flight through its handles
//! (`inflight`), and the two sides run a store-then-load handshake on the two words, all
//! `SeqCst`:
//! - an update: `inflight += 1`, load `state`; only if it still equals the handle's generation,
//!   update the metric; then `inflight -= 1` (Release);
//! - a claim of a removed slot (inside the critical section): store the new generation (BUSY)
//!   into `state`, then load `inflight`; if it is not zero, the slot is handed back (FREE) and
//!   another free slot is tried.
//!
//! In the single order of `SeqCst` operations, either the update's load of `state` comes after
//! the claim's store, and the update sees a new generation and is dropped; or the update's
//! increment comes before the claim's load of `inflight`, and the claim sees it unless the
//! update already finished: then its Release decrement is read by the claim's load, so the
//! update happened before the metric is reset and the reset erases it. No side ever waits for
//! the other, so this is safe in interrupt handlers: an update never blocks, and a claim that
//! meets an update in flight takes another slot (or reports the table full) instead of
//! spinning. A slot that was never used has no handles, so claiming an EMPTY one always works.

use crate::collector::{Collector, Sink};
use crate::counter::{Counter, CounterValue};
use crate::counter32::Counter32Value;
#[cfg(feature = "float")]
use crate::desc::assert_buckets;
use crate::desc::{assert_label_names, assert_states, Desc, MetricType};
use crate::described::{Spec, SpecSource};
use crate::enumeration::EnumValue;
use crate::error::{BoundedStr, CollectError, LabelError, ValueError};
#[cfg(feature = "float")]
use crate::gauge::GaugeValue;
#[cfg(feature = "float")]
use crate::histogram::{HistogramValue, Observe, SummaryValue};
use crate::info::{InfoPairs, InfoValue};
use crate::integer::{Gauge32Value, IntGaugeValue, IntHistogramValue};
use crate::labels::{LabelSet, ValueBuf};
use crate::metric::Metric;
use crate::sample::Labels;
use crate::sync::{self, exclusive, AtomicU64};
use core::sync::atomic::fence;
// Slot state and label bytes are only loaded and stored (writers are serialized by
// `exclusive`): native on every target.
use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

const EMPTY: u32 = 0; // never used: ends a probe sequence
const BUSY: u32 = 1; // being written under the critical section
const READY: u32 = 2; // holds a live child
const FREE: u32 = 3; // was removed: reusable, but probing continues past it
const STATUS: u32 = 3;

use value_bytes::ValueBytes;

/// The bytes of one stored label value, read and written a machine word at a time: a lookup
/// compares a 22-byte value in three loads instead of 22, and a scrape copies it out as fast.
///
/// Const generics cannot size a word array from the byte capacity `V`, so the storage is
/// declared as `V` atomic bytes, aligned for words, and viewed as `V / size_of::<usize>()`
/// `AtomicUsize`s followed by the `V % size_of::<usize>()` tail bytes. Every access to a
/// word's bytes goes through that word (never through its bytes one by one), so no location is
/// accessed atomically with two sizes; the tail bytes are only ever accessed as bytes. With
/// `small` (firmware, size over speed) every access is byte by byte instead, as before.
mod value_bytes {
    #![allow(unsafe_code)]
    #[cfg(not(feature = "small"))]
    use core::sync::atomic::AtomicUsize;
    use core::sync::atomic::{AtomicU8, Ordering::Relaxed};

    #[cfg(not(feature = "small"))]
    pub(super) const W: usize = core::mem::size_of::<usize>();
    // The alignment below is at least a word's on every target Rust supports.
    #[cfg(not(feature = "small"))]
    const _: () = assert!(core::mem::align_of::<AtomicUsize>() <= 8);

    #[repr(C, align(8))]
    pub(super) struct ValueBytes<const V: usize>([AtomicU8; V]);

    impl<const V: usize> ValueBytes<V> {
        pub(super) const EMPTY: Self = ValueBytes([const { AtomicU8::new(0) }; V]);

        /// The bytes one at a time (`small` only: the other build reads them as words).
        #[cfg(feature = "small")]
        #[inline]
        pub(super) fn bytes(&self) -> &[AtomicU8; V] {
            &self.0
        }

        /// Word `i` of the storage (`i < V / W`).
        #[cfg(not(feature = "small"))]
        #[inline(always)]
        fn word(&self, i: usize) -> &AtomicUsize {
            assert!(i < V / W);
            // SAFETY: the struct is aligned to 8 >= align_of::<AtomicUsize>() (checked above),
            // so `i * W` bytes in is aligned too, and `(i + 1) * W <= V` keeps the word inside
            // the array. The bytes are `AtomicU8`s, so they may be written through a shared
            // reference, and no byte of a word is ever accessed other than through the word
            // (see the type's docs): no mixed-size atomic access.
            unsafe { AtomicUsize::from_ptr(self.0.as_ptr().cast::<usize>().cast_mut().add(i)) }
        }

        /// The word `v[at..at + W]` (little-endian, so that the stored words mean the same on
        /// every target).
        #[cfg(not(feature = "small"))]
        #[inline(always)]
        fn full(v: &[u8], at: usize) -> usize {
            let mut w = [0u8; W];
            w.copy_from_slice(&v[at..at + W]);
            usize::from_le_bytes(w)
        }

        /// How `len` bytes split: full words, whether a partial word follows, and where the
        /// tail bytes (stored one by one) start.
        #[cfg(not(feature = "small"))]
        #[inline(always)]
        fn split(len: usize) -> (usize, bool) {
            let full = (len / W).min(V / W);
            (full, full < V / W && len > full * W)
        }

        /// Stores `v` (at most `V` bytes). The word holding its end is zero past it, so that
        /// [`ValueBytes::eq`] can compare whole words.
        #[inline]
        pub(super) fn store(&self, v: &[u8]) {
            #[cfg(not(feature = "small"))]
            {
                let (full, part) = Self::split(v.len());
                for i in 0..full {
                    self.word(i).store(Self::full(v, i * W), Relaxed);
                }
                if part {
                    self.word(full).store(tail(v), Relaxed);
                }
                // Constant: compiled out when `V` is a whole number of words.
                if !V.is_multiple_of(W) {
                    for (b, c) in self.0.iter().zip(v).skip(V / W * W) {
                        b.store(*c, Relaxed);
                    }
                }
            }
            #[cfg(feature = "small")]
            for (b, c) in self.0.iter().zip(v) {
                b.store(*c, Relaxed);
            }
        }

        /// `true` if the stored value of length `v.len()` (the caller compared lengths) is `v`;
        /// may be torn (the caller validates). `tail` is [`tail`]`(v)`, computed once per lookup
        /// instead of once per compare (`small` ignores it).
        #[inline]
        pub(super) fn eq(&self, v: &[u8], tail: usize) -> bool {
            if v.len() > V {
                return false;
            }
            #[cfg(not(feature = "small"))]
            {
                // The hash matched, so the bytes almost always do: the differences are ORed
                // together instead of a branch per word.
                let mut diff = 0;
                if V.is_multiple_of(W) {
                    // Every word boundary of the value is one of the storage: the whole words,
                    // then the zero-padded partial one. The chunks end first, so the word after
                    // them is still there for the tail.
                    let mut words = (0..V / W).map(|i| self.word(i));
                    let mut chunks = v.chunks_exact(W);
                    for (c, word) in (&mut chunks).zip(&mut words) {
                        diff |= word.load(Relaxed) ^ Self::full(c, 0);
                    }
                    if !chunks.remainder().is_empty() {
                        diff |= words.next().map_or(1, |w| w.load(Relaxed) ^ tail);
                    }
                } else {
                    let (full, part) = Self::split(v.len());
                    for i in 0..full {
                        diff |= self.word(i).load(Relaxed) ^ Self::full(v, i * W);
                    }
                    if part {
                        diff |= self.word(full).load(Relaxed) ^ tail;
                    }
                    for (b, c) in self.0.iter().zip(v).skip(V / W * W) {
                        diff |= usize::from(b.load(Relaxed) ^ c);
                    }
                }
                diff == 0
            }
            #[cfg(feature = "small")]
            {
                let _ = tail;
                self.0.iter().zip(v).all(|(a, b)| a.load(Relaxed) == *b)
            }
        }

        /// Copies the first `len` (at most `V`) stored bytes to the start of `out`, which has
        /// room for `V`: whole words are copied, so bytes of `out` after the first `len` may
        /// be overwritten too.
        #[cfg(not(feature = "small"))]
        #[inline]
        pub(super) fn copy_to(&self, out: &mut [u8], len: usize) {
            let (full, part) = Self::split(len.min(V));
            let words = full + usize::from(part);
            for i in 0..words {
                out[i * W..i * W + W].copy_from_slice(&self.word(i).load(Relaxed).to_le_bytes());
            }
            if !V.is_multiple_of(W) {
                for (o, b) in out.iter_mut().zip(&self.0).take(len.min(V)).skip(V / W * W) {
                    *o = b.load(Relaxed);
                }
            }
        }
    }

    impl<const V: usize> ValueBytes<V> {
        /// The first `len` stored bytes to the start of `out` (`V` bytes), by whole words;
        /// the bytes after `len` get what the storage holds there. A value of up to 8 words
        /// is copied whole, with no length arithmetic.
        #[cfg(not(feature = "small"))]
        #[inline(always)]
        pub(super) fn copy_words_to(&self, out: &mut [u8], len: usize) {
            if V.is_multiple_of(W) && V <= 8 * W {
                for i in 0..V / W {
                    out[i * W..i * W + W].copy_from_slice(&self.word(i).load(Relaxed).to_le_bytes());
                }
            } else {
                self.copy_to(out, len);
            }
        }
    }

    /// `b` as a `&str` when it is ASCII (then it is UTF-8 by definition, whatever happened
    /// while it was copied); `None` otherwise, and the caller validates it the long way.
    #[cfg(not(feature = "small"))]
    #[inline]
    pub(super) fn ascii_str(b: &[u8]) -> Option<&str> {
        if !b.is_ascii() {
            return None;
        }
        // SAFETY: every byte is below 0x80, and a run of ASCII bytes is valid UTF-8.
        Some(unsafe { core::str::from_utf8_unchecked(b) })
    }

    /// The last `v.len() % W` bytes of `v` as a little-endian word, zero-padded (0 when the
    /// length is a whole number of words): how the storage holds a value's partial last word.
    #[cfg(not(feature = "small"))]
    #[inline(always)]
    pub(super) fn tail(v: &[u8]) -> usize {
        super::padded_tail::<W>(v) as usize
    }

    /// `small` compares byte by byte and needs no tail (the tests call this either way).
    #[cfg(all(feature = "small", test))]
    #[inline(always)]
    pub(super) fn tail(_: &[u8]) -> usize {
        0
    }
}

crate::metrics! {
    /// Every label lookup a fixed-capacity family refused (wrong count, value too long, table full),
    /// across all families. Register it to expose the rejections.
    /// Declared with [`metrics!`](crate::metrics): 8 or 16 bytes of RAM, its description in flash.
    pub static LABEL_REJECTIONS: Counter = Counter::new(
        "promstack_label_rejections_total",
        "Label lookups refused by fixed-capacity families: wrong label count, over-long value or full table.",
    );
}

struct Slot<M, const L: usize, const V: usize> {
    state: AtomicU32,
    /// Updates through handles that are between their generation check and their update.
    inflight: sync::AtomicU32,
    /// [`tag`] of the label hash.
    hash: AtomicU32,
    lens: [AtomicU8; L],
    /// 1 when no label value needs escaping in the exposition (checked once, at the claim,
    /// instead of at every scrape).
    plain: AtomicU8,
    bytes: [ValueBytes<V>; L],
    metric: M,
}

impl<M: Metric, const L: usize, const V: usize> Slot<M, L, V> {
    const EMPTY: Self = Slot {
        state: AtomicU32::new(EMPTY),
        inflight: sync::AtomicU32::new(0),
        hash: AtomicU32::new(0),
        lens: [const { AtomicU8::new(0) }; L],
        plain: AtomicU8::new(0),
        bytes: [const { ValueBytes::EMPTY }; L],
        metric: M::INIT,
    };

    /// `true` if the slot holds `key` (may be torn; the caller validates). Inlined into the
    /// probe loops: as a call it cost ~10 instructions of a ~250-instruction lookup.
    #[cfg_attr(not(feature = "small"), inline(always))]
    #[cfg_attr(feature = "small", inline)]
    fn matches(&self, key: &Key<'_, L>) -> bool {
        let mut i = 0;
        key.values.iter().zip(&self.lens).zip(&self.bytes).all(|((v, len), bytes)| {
            let v = v.as_bytes();
            let tail = key.tail(i);
            i += 1;
            usize::from(len.load(Ordering::Relaxed)) == v.len() && bytes.eq(v, tail)
        })
    }

    /// Copies the label values out as strings; `false` if the slot changed meanwhile (or is not
    /// READY). The bytes are decoded as UTF-8 into chars and pushed (`small`: no `from_utf8`,
    /// which links 600 bytes): an intact read holds the bytes of a `&str`, which decode and
    /// re-encode to themselves; a torn one may not, and is caught by the state check anyway.
    #[cfg(feature = "small")]
    fn read_strings(&self, out: &mut [heapless::String<V>; L]) -> bool {
        let s = self.state.load(Ordering::Acquire);
        if s & STATUS != READY {
            return false;
        }
        let mut ok = true;
        for ((out, len), bytes) in out.iter_mut().zip(&self.lens).zip(&self.bytes) {
            out.clear();
            let len = usize::from(len.load(Ordering::Relaxed)).min(V);
            let mut bytes = bytes.bytes()[..len].iter().map(|b| b.load(Ordering::Relaxed));
            while let Some(b) = bytes.next() {
                // The lead byte says how many continuation bytes follow, and its payload bits.
                let (mut c, more) = match b {
                    0..0x80 => (u32::from(b), 0),
                    0xc0..0xe0 => (u32::from(b & 0x1f), 1),
                    0xe0..0xf0 => (u32::from(b & 0x0f), 2),
                    0xf0..0xf8 => (u32::from(b & 0x07), 3),
                    _ => (u32::MAX, 0),
                };
                for _ in 0..more {
                    c = match bytes.next() {
                        Some(x) if x & 0xc0 == 0x80 => c << 6 | u32::from(x & 0x3f),
                        _ => u32::MAX,
                    };
                }
                match char::from_u32(c) {
                    Some(ch) => ok &= out.push(ch).is_ok(),
                    None => ok = false,
                }
            }
        }
        fence(Ordering::Acquire);
        ok && self.state.load(Ordering::Relaxed) == s
    }

    /// Copies the label values out, one after the other, into `out` (`L * V` bytes), and where
    /// each ends into `ends`; `None` if the slot changed meanwhile (or is not READY).
    /// `Some(true)` when no value needs escaping (as [`Slot::plain`] recorded).
    #[cfg(not(feature = "small"))]
    fn read_values(&self, out: &mut [u8], ends: &mut [usize; L]) -> Option<bool> {
        let s = self.state.load(Ordering::Acquire);
        if s & STATUS != READY {
            return None;
        }
        let plain = self.plain.load(Ordering::Relaxed) != 0;
        let mut at = 0;
        for ((end, len), bytes) in ends.iter_mut().zip(&self.lens).zip(&self.bytes) {
            let len = usize::from(len.load(Ordering::Relaxed)).min(V);
            bytes.copy_to(&mut out[at..], len);
            at += len;
            *end = at;
        }
        fence(Ordering::Acquire);
        (self.state.load(Ordering::Relaxed) == s).then_some(plain)
    }
}

#[cfg(not(feature = "small"))]
impl<M: Metric, const L: usize, const V: usize> Slot<M, L, V> {
    /// Writes the slot's line into `lines`, its label block copied in place from `pieces`
    /// (made for the family's names) and the stored words, its value after it; the sequence
    /// check decides whether the copy stands (else nothing is committed). Inlined into the
    /// family's loop: as a call it cost a tenth of a line.
    #[inline(always)]
    fn write_line(
        &self,
        pieces: &crate::encoding::LabelPieces,
        config: &M::Config,
        lines: &mut crate::encoding::LineBuf<'_>,
    ) -> Result<Line, CollectError> {
        let s = self.state.load(Ordering::Acquire);
        if s & STATUS != READY {
            return Ok(Line::Changed);
        }
        if self.plain.load(Ordering::Relaxed) == 0 {
            return Ok(Line::Values);
        }
        let max = pieces.fixed() + L * V + crate::encoding::LabelPieces::CHUNK;
        let Some(out) = lines.room(max)? else {
            return Ok(Line::Values);
        };
        const C: usize = crate::encoding::LabelPieces::CHUNK;
        let mut at = 0;
        for k in 0..L {
            let (chunk, len) = pieces.chunk(k);
            out[at..at + C].copy_from_slice(chunk);
            at += len;
            let i = pieces.label(k);
            let len = usize::from(self.lens[i].load(Ordering::Relaxed)).min(V);
            // Whole words: may write past the value, where the next piece goes.
            self.bytes[i].copy_words_to(&mut out[at..at + V], len);
            at += len;
        }
        let (chunk, len) = pieces.chunk(L);
        out[at..at + C].copy_from_slice(chunk);
        at += len;
        fence(Ordering::Acquire);
        if self.state.load(Ordering::Relaxed) != s {
            return Ok(Line::Changed);
        }
        // The line's end into the 32 bytes kept after the block.
        let Some(end) = out[at..].first_chunk_mut::<32>() else {
            return Ok(Line::Values);
        };
        let end = crate::encoding::line_end(self.metric.single_value(config), end);
        lines.commit(at + end);
        Ok(Line::Written)
    }
}

/// The part of a label hash a slot keeps to tell label sets apart before comparing bytes:
/// the upper half (the probe start comes from the lower bits), 4 bytes per slot instead of 8.
#[inline(always)]
fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32
}

const SEED: u64 = 0x243F_6A88_85A3_08D3;
const MUL: u64 = 0x9E37_79B9_7F4A_7C15;
const LEN_MUL: u64 = 0xA076_1D64_78BD_642F;

/// The 128-bit product of `a` and `b`, its halves XORed: one multiply that mixes every input
/// bit into the low bits the table index is taken from.
// `small`: one out-of-line copy of the 64x64-bit multiply instead of one per call site.
#[cfg_attr(not(feature = "small"), inline(always))]
#[cfg_attr(feature = "small", inline(never))]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline(always)]
fn le64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

#[inline(always)]
fn le32(b: &[u8]) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    u64::from(u32::from_le_bytes(w))
}

/// The last `v.len() % B` bytes of `v` (`B` is 4 or 8) as a little-endian word, zero-padded;
/// 0 when the length is a whole number of `B`-byte words. One overlapping load and a shift
/// when `v` has `B` bytes or more, so no byte loop.
#[cfg(not(feature = "small"))]
#[inline(always)]
fn padded_tail<const B: usize>(v: &[u8]) -> u64 {
    let n = v.len();
    if n >= B {
        let mut w = [0u8; 8];
        w[..B].copy_from_slice(&v[n - B..]);
        // Shifts out the bytes before the tail; a shift by 64 (no tail) is `None`.
        u64::from_le_bytes(w).checked_shr((8 * (B - n % B)) as u32).unwrap_or(0)
    } else if n >= 4 {
        le32(v) | le32(&v[n - 4..]) << (8 * (n - 4))
    } else if n > 0 {
        u64::from(v[0]) | u64::from(v[n / 2]) << (8 * (n / 2)) | u64::from(v[n - 1]) << (8 * (n - 1))
    } else {
        0
    }
}

/// One value into the hash state `s`: its length, each whole 8-byte word and then `tail`
/// ([`padded_tail::<8>`] of `b`, which the byte compare reuses) XORed in and multiplied
/// (one 64-bit multiply per word, no widening), so every byte counts once and `("ab","c")`
/// and `("a","bc")` differ. The low bits this leaves depend only on low input bits, so the
/// label set's state gets one widening [`fold`] at the end, where the table index comes from.
#[cfg(not(feature = "small"))]
#[inline(always)]
fn hash_value(mut s: u64, b: &[u8], tail: u64) -> u64 {
    s ^= (b.len() as u64).wrapping_mul(LEN_MUL);
    for c in b.chunks_exact(8) {
        s = (s ^ le64(c)).wrapping_mul(MUL);
    }
    (s ^ tail).wrapping_mul(MUL)
}

/// A label set's values with what every slot compare needs, computed once per lookup: the
/// hash, and (word-wise builds) each value's partial last word.
struct Key<'v, const L: usize> {
    values: &'v [&'v str; L],
    hash: u64,
    /// [`value_bytes::tail`] of each value.
    #[cfg(not(feature = "small"))]
    tails: [usize; L],
}

impl<'v, const L: usize> Key<'v, L> {
    /// Not keyed: a table is bounded anyway, and equal hashes only cost a byte compare.
    #[cfg(not(feature = "small"))]
    #[inline]
    fn new(values: &'v [&'v str; L]) -> Self {
        let mut hash = SEED;
        let mut tails = [0; L];
        for (v, t) in values.iter().zip(&mut tails) {
            let b = v.as_bytes();
            let tail = padded_tail::<8>(b);
            // On 64-bit targets the compare's word is the hash's; otherwise computed apart.
            *t = if value_bytes::W == 8 { tail as usize } else { value_bytes::tail(b) };
            hash = hash_value(hash, b, tail);
        }
        Key { values, hash: fold(hash, LEN_MUL), tails }
    }

    #[cfg(feature = "small")]
    #[inline]
    fn new(values: &'v [&'v str; L]) -> Self {
        Key { values, hash: hash_values(values) }
    }

    /// The partial last word of value `i` (`small`: unused).
    #[inline(always)]
    fn tail(&self, i: usize) -> usize {
        #[cfg(not(feature = "small"))]
        return self.tails[i];
        #[cfg(feature = "small")]
        {
            let _ = i;
            0
        }
    }
}

/// A value of up to 16 bytes as two words (overlapping reads when shorter, so no byte loop).
#[cfg(feature = "small")]
#[inline(always)]
fn short_words(b: &[u8]) -> (u64, u64) {
    let n = b.len();
    if n >= 8 {
        (le64(b), le64(&b[n - 8..]))
    } else if n >= 4 {
        (le32(b), le32(&b[n - 4..]))
    } else if n > 0 {
        (u64::from(b[0]) << 16 | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]), 0)
    } else {
        (0, 0)
    }
}

/// Hash of the label values, 16 bytes per multiply: a byte-at-a-time hash (FNV) spent most of
/// a lookup on a dependent multiply per byte. Each value's length goes into the state, so
/// `("ab","c")` and `("a","bc")` hash differently. Not keyed: a table is bounded anyway, and
/// equal hashes only cost a byte compare.
#[cfg(feature = "small")]
#[inline(never)]
fn hash_values(values: &[&str]) -> u64 {
    let mut h = SEED;
    for v in values {
        let b = v.as_bytes();
        let mut s = h ^ (b.len() as u64).wrapping_mul(LEN_MUL);
        let (x, y) = if b.len() <= 16 {
            short_words(b)
        } else {
            let mut rest = b;
            while rest.len() > 16 {
                s = fold(le64(rest) ^ MUL, le64(&rest[8..]) ^ s);
                rest = &rest[16..];
            }
            // The last 16 bytes, overlapping what the loop read.
            (le64(&b[b.len() - 16..]), le64(&b[b.len() - 8..]))
        };
        h = fold(x ^ MUL, y ^ s);
    }
    h
}

/// Checks `(name, value)` pairs given by name against a metric's label names: every label name
/// exactly once. The first problem found, in this order, is the error: a name that is not a
/// label name ([`LabelError::UnknownName`], the first in `pairs`), a name given twice
/// ([`LabelError::DuplicateName`], the first repeated in `pairs`), a label name not given
/// ([`LabelError::MissingName`], the first in `label_names`). Every family's by-name lookup
/// reports its errors through this, so they all agree.
///
/// ```
/// use promstack_core::{check_label_pairs, BoundedStr, LabelError};
/// let names = ["method", "code"];
/// assert_eq!(check_label_pairs(&names, &[("code", "200"), ("method", "get")]), Ok(()));
/// assert_eq!(
///     check_label_pairs(&names, &[("code", "200"), ("code", "404")]),
///     Err(LabelError::DuplicateName(BoundedStr::new("code")))
/// );
/// assert_eq!(
///     check_label_pairs(&names, &[("code", "200")]),
///     Err(LabelError::MissingName(BoundedStr::new("method")))
/// );
/// ```
pub fn check_label_pairs<N: AsRef<str>>(label_names: &[N], pairs: &[(&str, &str)]) -> Result<(), LabelError> {
    let is_label = |name: &str| label_names.iter().any(|l| l.as_ref() == name);
    if let Some((name, _)) = pairs.iter().find(|(n, _)| !is_label(n)) {
        return Err(LabelError::UnknownName(BoundedStr::new(name)));
    }
    // Label sets are small; a quadratic scan allocates nothing.
    for (i, (name, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(LabelError::DuplicateName(BoundedStr::new(name)));
        }
    }
    if let Some(l) = label_names.iter().find(|l| !pairs.iter().any(|(n, _)| *n == l.as_ref())) {
        return Err(LabelError::MissingName(BoundedStr::new(l.as_ref())));
    }
    Ok(())
}

/// The error for pairs that [`check_label_pairs`] refuses (the callers only ask after they did).
#[cold]
fn pairs_error(label_names: &[&str], pairs: &[(&str, &str)]) -> LabelError {
    match check_label_pairs(label_names, pairs) {
        Err(e) => e,
        // Unreachable for the callers; the count is the remaining way pairs can be wrong.
        Ok(()) => LabelError::WrongCount { expected: label_names.len(), got: pairs.len() },
    }
}

/// A labeled metric with `L` label names and room for `N` children whose label values are at
/// most `V` bytes each (default 32, at most 255).
///
/// # Removed children
/// One rule for every family of promstack (this `FixedFamily`, promstack-alloc's `Family` and
/// `promstack::multiprocess::Family`): **an update through a handle whose child was removed
/// never reaches any exported series, in particular not a child re-created with the same
/// labels.** Here the update is dropped: the handle's generation no longer matches its slot,
/// and an update already under way when the slot is re-claimed is caught by a handshake (see
/// the comments of the `family` module's source).
///
/// ```
/// use promstack_core::{CounterValue, FixedFamily, encode_text};
/// static BY_ROUTE: FixedFamily<CounterValue, 2, 16> =
///     FixedFamily::counter("http_requests", "Requests by route.", ["method", "path"]);
/// BY_ROUTE.get(["get", "/"]).unwrap().inc();
/// BY_ROUTE.get(["get", "/"]).unwrap().inc();
/// // A count known only at run time is checked then:
/// assert!(BY_ROUTE.with_label_values(&["get"]).is_err());
/// let out = String::from_utf8(encode_text(Vec::new(), &BY_ROUTE).unwrap()).unwrap();
/// assert!(out.ends_with("http_requests_total{method=\"get\",path=\"/\"} 2.0\n"));
/// ```
///
/// Label names are checked at compile time:
/// ```compile_fail
/// use promstack_core::{CounterValue, FixedFamily};
/// static BAD: FixedFamily<CounterValue, 1, 4> = FixedFamily::counter("c", "", ["__reserved"]);
/// ```
///
/// Declared with [`metrics!`](crate::metrics), its description, label names and configuration
/// stay in read-only memory and the family takes RAM for its slots only (`S` then names where
/// the spec is).
pub struct FixedFamily<
    M: Metric,
    const L: usize,
    const N: usize,
    const V: usize = 32,
    S = Spec<<M as Metric>::Config, L>,
> {
    spec: S,
    slots: [Slot<M, L, V>; N],
    rejected: AtomicU64,
}

/// A handle to one child of a [`FixedFamily`]. Updates through a handle whose child was removed
/// are dropped.
pub struct Child<'a, M: Metric> {
    metric: &'a M,
    config: &'a M::Config,
    state: &'a AtomicU32,
    inflight: &'a sync::AtomicU32,
    generation: u32,
    slot_hash: &'a AtomicU32,
    /// The label hash's [`tag`], so a handle whose 30-bit generation comes round again (after
    /// 2^29 removals and re-claims of its slot) still does not match another label set.
    hash: u32,
}

/// Ends an update's in-flight window, also if the update unwinds.
struct InFlight<'a>(&'a sync::AtomicU32);

impl Drop for InFlight<'_> {
    #[inline]
    fn drop(&mut self) {
        // Release: a claim that reads the count after this sees the update as done.
        self.0.fetch_sub(1, Ordering::Release);
    }
}

impl<M: Metric> Clone for Child<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M: Metric> Copy for Child<'_, M> {}

impl<'a, M: Metric> Child<'a, M> {
    /// `true` while the child has not been removed.
    #[inline]
    pub fn is_live(&self) -> bool {
        self.state.load(Ordering::Relaxed) == self.generation
            && self.slot_hash.load(Ordering::Relaxed) == self.hash
    }

    /// The child's value, for reading. After the child was removed this may be another child's
    /// value; and updating through it skips the check that drops stale updates, so update
    /// through the handle's own methods.
    pub fn value(&self) -> &'a M {
        self.metric
    }

    /// Runs `update` on the metric if the child is still live (see the module docs for why this
    /// cannot race with a re-claim of the slot).
    #[inline]
    fn update<R>(&self, update: impl FnOnce(&M) -> R) -> Option<R> {
        // An in-flight count cannot overflow: that would take 2^32 updates at once on one slot.
        self.inflight.fetch_add(1, Ordering::SeqCst);
        let _done = InFlight(self.inflight);
        // Once the state matched, no claim can rewrite the hash while we are in flight (it would
        // see us and back off), so the hash read is that generation's.
        let live = self.state.load(Ordering::SeqCst) == self.generation
            && self.slot_hash.load(Ordering::Relaxed) == self.hash;
        live.then(|| update(self.metric))
    }
}

impl Child<'_, Counter32Value> {
    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.update(Counter32Value::inc);
    }

    /// Adds `n`, wrapping at 2^32.
    #[inline]
    pub fn inc_by(&self, n: u32) {
        self.update(|m| m.inc_by(n));
    }

    /// The current count.
    pub fn get(&self) -> u32 {
        self.metric.get()
    }
}

impl Child<'_, CounterValue> {
    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.update(CounterValue::inc);
    }

    /// Adds `v`; negative or NaN is refused.
    #[cfg(feature = "float")]
    #[inline]
    pub fn inc_by(&self, v: f64) -> Result<(), ValueError> {
        // Checked first, so a refused value is an error whether or not the child is live.
        crate::counter::check_increment(v)?;
        self.update(|m| m.inc_by(v)).unwrap_or(Ok(()))
    }

    /// The current value.
    #[cfg(feature = "float")]
    pub fn get(&self) -> f64 {
        self.metric.get()
    }
}

#[cfg(feature = "float")]
impl Child<'_, GaugeValue> {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.update(|m| m.set(v));
    }

    /// Adds `v`.
    #[inline]
    pub fn add(&self, v: f64) {
        self.update(|m| m.add(v));
    }

    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts 1.
    #[inline]
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.metric.get()
    }
}

impl Child<'_, CounterValue> {
    /// Adds a whole number; see [`CounterValue::inc_by_int`].
    #[inline]
    pub fn inc_by_int(&self, n: u64) {
        self.update(|m| m.inc_by_int(n));
    }
}

macro_rules! int_gauge_child {
    ($value:ty, $int:ty) => {
        impl Child<'_, $value> {
            /// Sets the value.
            #[inline]
            pub fn set(&self, v: $int) {
                self.update(|m| m.set(v));
            }

            /// Adds `v` (which may be negative), wrapping.
            #[inline]
            pub fn add(&self, v: $int) {
                self.update(|m| m.add(v));
            }

            /// Adds 1.
            #[inline]
            pub fn inc(&self) {
                self.add(1);
            }

            /// Subtracts 1.
            #[inline]
            pub fn dec(&self) {
                self.add(-1);
            }

            /// The current value.
            pub fn get(&self) -> $int {
                self.metric.get()
            }
        }
    };
}
int_gauge_child!(IntGaugeValue, i64);
int_gauge_child!(Gauge32Value, i32);

impl<const B: usize> Child<'_, IntHistogramValue<B>> {
    /// Records one observation.
    #[inline]
    pub fn observe(&self, v: i64) {
        self.update(|m| m.observe(self.config, v));
    }
}

#[cfg(feature = "float")]
impl<const B: usize> Child<'_, HistogramValue<B>> {
    /// Records one observation.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.update(|m| m.observe(self.config, v));
    }
}

#[cfg(feature = "float")]
impl<const B: usize> Observe for Child<'_, HistogramValue<B>> {
    fn observe(&self, v: f64) {
        self.update(|m| m.observe(self.config, v));
    }
}

#[cfg(feature = "float")]
impl Child<'_, SummaryValue> {
    /// Records one observation.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.update(|m| m.observe(v));
    }
}

#[cfg(feature = "float")]
impl Observe for Child<'_, SummaryValue> {
    fn observe(&self, v: f64) {
        self.update(|m| m.observe(v));
    }
}

impl Child<'_, EnumValue> {
    /// Switches to `state`; unknown states are refused.
    pub fn set(&self, state: &str) -> Result<(), ValueError> {
        self.update(|m| m.set(self.config, state)).unwrap_or(Ok(()))
    }

    /// The current state.
    pub fn get(&self) -> &'static str {
        let states: &'static [&'static str] = self.config;
        states[self.metric.index().min(states.len() - 1)]
    }
}

impl<M: Metric, const L: usize, const N: usize, const V: usize> FixedFamily<M, L, N, V> {
    const fn build(desc: Desc<'static>, label_names: [&'static str; L], config: M::Config) -> Self {
        assert_label_names(&label_names, M::METRIC_TYPE);
        Self::with_spec(Spec::new(desc, label_names, config))
    }
}

impl<M: Metric, const L: usize, const N: usize, const V: usize, S> FixedFamily<M, L, N, V, S> {
    /// An empty family whose spec is found through `spec`. The named constructors
    /// ([`FixedFamily::counter`], ...) check the spec; [`metrics!`](crate::metrics) calls this
    /// with a spec they checked.
    ///
    /// # Panics
    /// When `V` is above 255 or `N` is 0: a compile error in a `static`.
    pub const fn with_spec(spec: S) -> Self {
        if V > 255 {
            panic!("label value capacity V must be at most 255 bytes");
        }
        if N == 0 {
            panic!("a family needs room for at least one child");
        }
        FixedFamily { spec, slots: [const { Slot::<M, L, V>::EMPTY }; N], rejected: AtomicU64::new(0) }
    }

    /// Where the spec is found. (Used by [`metrics!`](crate::metrics) to copy a checked spec
    /// into flash.)
    pub const fn spec_source(&self) -> &S {
        &self.spec
    }
}

impl<M: Metric, const L: usize, const N: usize, const V: usize, S: SpecSource<Spec<M::Config, L>>>
    FixedFamily<M, L, N, V, S>
{
    /// The spec (description, label names, configuration).
    #[inline]
    pub fn spec(&self) -> &Spec<M::Config, L> {
        self.spec.spec()
    }

    /// The description.
    pub fn desc(&self) -> &Desc<'static> {
        self.spec().desc()
    }

    /// The label names.
    pub fn label_names(&self) -> &[&'static str; L] {
        self.spec().label_names()
    }

    /// How many lookups this family refused.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    pub(crate) fn reject(&self, e: LabelError) -> LabelError {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        LABEL_REJECTIONS.inc();
        e
    }

    /// The child for `labels` (one value per label name, in order), created on first use.
    /// `labels` is any [`LabelSet<L>`]: `[&str; L]`, a tuple of [`LabelValue`](crate::LabelValue)s
    /// (integers, `bool`s, derived enums: written on the stack, not allocated) or a struct with
    /// `#[derive(LabelSet)]`. A wrong number of values does not compile (see [`LabelSet`]); for a
    /// count known only at run time there is [`FixedFamily::with_label_values`].
    ///
    /// Errors, each counted in [`FixedFamily::rejected`] and [`LABEL_REJECTIONS`], leave every
    /// existing series untouched: a value longer than `V` bytes, or no free slot. A removed
    /// child's slot that an update through a stale handle is writing to at that moment does not
    /// count as free (that update must not land on a new child), so with every other slot taken
    /// the table is reported full until that update is done.
    ///
    /// ```
    /// use promstack_core::{CounterValue, FixedFamily};
    /// static F: FixedFamily<CounterValue, 2, 4> = FixedFamily::counter("f", "", ["core", "irq"]);
    /// F.get(["0", "17"]).unwrap().inc();
    /// F.get((0u8, 17u32)).unwrap().inc(); // the same child, no formatting buffer on the heap
    /// assert_eq!(F.get(&["0", "17"]).unwrap().get(), 2.0);
    /// ```
    ///
    /// One value for a two-label family is a compile error:
    /// ```compile_fail
    /// use promstack_core::{CounterValue, FixedFamily};
    /// static F: FixedFamily<CounterValue, 2, 4> = FixedFamily::counter("f", "", ["core", "irq"]);
    /// F.get(["0"]).unwrap().inc();
    /// ```
    #[inline]
    pub fn get(&self, labels: impl LabelSet<L>) -> Result<Child<'_, M>, LabelError> {
        let mut scratch = [const { ValueBuf::new() }; L];
        self.lookup(&labels.label_values(&mut scratch))
    }

    /// The child for `values` (one per label name, in order), created on first use, for a
    /// number of values known only at run time (client_golang's `WithLabelValues`, returning the
    /// error instead of panicking): a count other than `L` is [`LabelError::WrongCount`]; the
    /// other errors are [`FixedFamily::get`]'s.
    ///
    /// ```
    /// use promstack_core::{CounterValue, FixedFamily, LabelError};
    /// static F: FixedFamily<CounterValue, 2, 4> = FixedFamily::counter("f", "", ["a", "b"]);
    /// let values: Vec<&str> = "x y".split(' ').collect();
    /// assert!(F.with_label_values(&values).is_ok());
    /// assert_eq!(F.with_label_values(&["x"]).err(), Some(LabelError::WrongCount { expected: 2, got: 1 }));
    /// ```
    #[inline]
    pub fn with_label_values(&self, values: &[&str]) -> Result<Child<'_, M>, LabelError> {
        let values: &[&str; L] = values
            .try_into()
            .map_err(|_| self.reject(LabelError::WrongCount { expected: L, got: values.len() }))?;
        self.lookup(values)
    }

    /// The lookup behind every way of naming a child.
    #[inline]
    fn lookup(&self, values: &[&str; L]) -> Result<Child<'_, M>, LabelError> {
        if let Some((index, v)) = values.iter().enumerate().find(|(_, v)| v.len() > V) {
            return Err(self.reject(LabelError::ValueTooLong { index, len: v.len(), max: V }));
        }
        let key = Key::new(values);
        if let Some(child) = self.find(&key) {
            return Ok(child);
        }
        self.claim(&key).map_err(|e| self.reject(e))
    }

    /// The child for `(name, value)` pairs given in any order, every label name exactly once;
    /// otherwise the error [`check_label_pairs`] gives (the same in every family).
    ///
    /// ```
    /// use promstack_core::{BoundedStr, CounterValue, FixedFamily, LabelError};
    /// static F: FixedFamily<CounterValue, 2, 4> = FixedFamily::counter("f", "", ["a", "b"]);
    /// assert!(F.get_by_name(&[("b", "2"), ("a", "1")]).is_ok());
    /// assert_eq!(
    ///     F.get_by_name(&[("a", "1"), ("a", "2")]).err(),
    ///     Some(LabelError::DuplicateName(BoundedStr::new("a")))
    /// );
    /// ```
    pub fn get_by_name<'s>(&self, pairs: &[(&str, &'s str)]) -> Result<Child<'_, M>, LabelError> {
        let mut values: [&'s str; L] = [""; L];
        let mut seen = [false; L];
        for (name, value) in pairs {
            match self.label_names().iter().position(|n| n == name) {
                Some(i) if !seen[i] => {
                    values[i] = value;
                    seen[i] = true;
                }
                _ => return Err(self.reject(pairs_error(self.label_names(), pairs))),
            }
        }
        if seen.contains(&false) {
            return Err(self.reject(pairs_error(self.label_names(), pairs)));
        }
        self.lookup(&values)
    }

    fn probe(hash: u64) -> impl Iterator<Item = usize> {
        let start = (hash % N as u64) as usize;
        (0..N).map(move |i| (start + i) % N)
    }

    /// Lock-free lookup of a READY child.
    #[inline]
    fn find(&self, key: &Key<'_, L>) -> Option<Child<'_, M>> {
        for i in Self::probe(key.hash) {
            let slot = &self.slots[i];
            let s = slot.state.load(Ordering::Acquire);
            match s & STATUS {
                EMPTY => return None,
                READY if slot.hash.load(Ordering::Relaxed) == tag(key.hash) && slot.matches(key) => {
                    fence(Ordering::Acquire);
                    if slot.state.load(Ordering::Relaxed) == s {
                        return Some(self.child(slot, s, key.hash));
                    }
                    // Changed while reading: the writer holds the critical section;
                    // the claim path re-checks under it.
                    return None;
                }
                _ => {}
            }
        }
        None
    }

    fn child<'a>(&'a self, slot: &'a Slot<M, L, V>, state: u32, hash: u64) -> Child<'a, M> {
        Child {
            metric: &slot.metric,
            config: self.spec().config(),
            state: &slot.state,
            inflight: &slot.inflight,
            generation: state,
            slot_hash: &slot.hash,
            hash: tag(hash),
        }
    }

    fn claim(&self, key: &Key<'_, L>) -> Result<Child<'_, M>, LabelError> {
        let hash = key.hash;
        exclusive(|| {
            // Writers are serialized here, so this scan sees a stable table.
            for i in Self::probe(hash) {
                let slot = &self.slots[i];
                let s = slot.state.load(Ordering::Relaxed);
                match s & STATUS {
                    EMPTY => break,
                    READY if slot.hash.load(Ordering::Relaxed) == tag(key.hash) && slot.matches(key) => {
                        return Ok(self.child(slot, s, hash));
                    }
                    _ => {}
                }
            }
            // Not there: take the first free slot on the probe path that no stale update is
            // still writing to (the first EMPTY one at the latest).
            for i in Self::probe(hash) {
                let slot = &self.slots[i];
                let s = slot.state.load(Ordering::Relaxed);
                match s & STATUS {
                    EMPTY | FREE => {
                        if let Some(child) = self.take(slot, s, key) {
                            return Ok(child);
                        }
                        if s & STATUS == EMPTY {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            Err(LabelError::TableFull { capacity: N })
        })
    }

    /// Claims `slot` (EMPTY or FREE, state `s`) for `values`, unless an update through a stale
    /// handle is in flight on it; the caller holds the critical section.
    fn take<'a>(&'a self, slot: &'a Slot<M, L, V>, s: u32, key: &Key<'_, L>) -> Option<Child<'a, M>> {
        let (values, hash) = (key.values, key.hash);
        let generation = (s >> 2).wrapping_add(1);
        // The handshake of the module docs: publish the new generation, then look for updates
        // that passed the old one's check.
        slot.state.store(generation << 2 | BUSY, Ordering::SeqCst);
        if slot.inflight.load(Ordering::SeqCst) != 0 {
            // Back to free (probing continues past it); a later claim tries again.
            slot.state.store(generation << 2 | FREE, Ordering::Release);
            return None;
        }
        // Orders the BUSY state before the bytes, for the lock-free readers' re-check.
        fence(Ordering::Release);
        slot.hash.store(tag(hash), Ordering::Relaxed);
        for ((v, len), bytes) in values.iter().zip(&slot.lens).zip(&slot.bytes) {
            // Lengths were checked against V <= 255 before.
            len.store(v.len() as u8, Ordering::Relaxed);
            bytes.store(v.as_bytes());
        }
        #[cfg(not(feature = "small"))]
        let plain = !values.iter().any(|v| crate::encoding::value_needs_escape(v));
        // `small` writes every value through its escaping loop anyway.
        #[cfg(feature = "small")]
        let plain = false;
        slot.plain.store(u8::from(plain), Ordering::Relaxed);
        slot.metric.reset();
        let ready = generation << 2 | READY;
        slot.state.store(ready, Ordering::Release);
        Some(self.child(slot, ready, hash))
    }

    /// Removes the child for `labels` (any [`LabelSet<L>`], as [`FixedFamily::get`] takes);
    /// `true` if it existed. Its slot becomes free.
    pub fn remove(&self, labels: impl LabelSet<L>) -> bool {
        let mut scratch = [const { ValueBuf::new() }; L];
        self.remove_values(&labels.label_values(&mut scratch))
    }

    /// Removes the child for `values` given as a slice; `true` if it existed, `false` also when
    /// the number of values is not `L`.
    pub fn remove_label_values(&self, values: &[&str]) -> bool {
        values.try_into().is_ok_and(|values| self.remove_values(values))
    }

    fn remove_values(&self, values: &[&str; L]) -> bool {
        let key = Key::new(values);
        exclusive(|| {
            for i in Self::probe(key.hash) {
                let slot = &self.slots[i];
                let s = slot.state.load(Ordering::Relaxed);
                match s & STATUS {
                    EMPTY => return false,
                    READY if slot.hash.load(Ordering::Relaxed) == tag(key.hash) && slot.matches(&key) => {
                        Self::free(slot, s);
                        return true;
                    }
                    _ => {}
                }
            }
            false
        })
    }

    /// Removes every child.
    pub fn clear(&self) {
        exclusive(|| {
            for slot in &self.slots {
                let s = slot.state.load(Ordering::Relaxed);
                if s & STATUS == READY {
                    Self::free(slot, s);
                }
            }
        });
    }

    fn free(slot: &Slot<M, L, V>, s: u32) {
        let generation = (s >> 2).wrapping_add(1);
        slot.state.store(generation << 2 | FREE, Ordering::Release);
    }

    /// Number of live children.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.state.load(Ordering::Relaxed) & STATUS == READY).count()
    }

    /// `true` when there are no live children.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<const L: usize, const N: usize, const V: usize> FixedFamily<CounterValue, L, N, V> {
    /// A labeled counter (a trailing `_total` is dropped from `name`).
    ///
    /// # Panics
    /// On an invalid or reserved name: a compile error in a `static`.
    pub const fn counter(name: &'static str, help: &'static str, label_names: [&'static str; L]) -> Self {
        Self::build(Desc::new(name, help, MetricType::Counter), label_names, ())
    }
}

impl<const L: usize, const N: usize, const V: usize> FixedFamily<Counter32Value, L, N, V> {
    /// A labeled 4-byte integer counter ([`Counter32Value`]: lock-free wherever the core has
    /// 32-bit atomics, wrapping at 2^32 as a counter reset).
    ///
    /// ```
    /// use promstack_core::{encode_text, Counter32Value, FixedFamily};
    /// static IRQS: FixedFamily<Counter32Value, 1, 4> =
    ///     FixedFamily::counter32("irqs_total", "Interrupts.", ["line"]);
    /// IRQS.get(["uart0"]).unwrap().inc();
    /// IRQS.get(["uart0"]).unwrap().inc_by(2);
    /// assert_eq!(IRQS.get(["uart0"]).unwrap().get(), 3);
    /// let out = String::from_utf8(encode_text(Vec::new(), &IRQS).unwrap()).unwrap();
    /// assert!(out.ends_with("irqs_total{line=\"uart0\"} 3.0\n"), "{out}");
    /// ```
    ///
    /// # Panics
    /// On an invalid or reserved name: a compile error in a `static`.
    pub const fn counter32(name: &'static str, help: &'static str, label_names: [&'static str; L]) -> Self {
        Self::build(Desc::new(name, help, MetricType::Counter), label_names, ())
    }
}

#[cfg(feature = "float")]
impl<const L: usize, const N: usize, const V: usize> FixedFamily<GaugeValue, L, N, V> {
    /// A labeled gauge.
    ///
    /// # Panics
    /// On an invalid or reserved name: a compile error in a `static`.
    pub const fn gauge(name: &'static str, help: &'static str, label_names: [&'static str; L]) -> Self {
        Self::build(Desc::new(name, help, MetricType::Gauge), label_names, ())
    }
}

impl<const L: usize, const N: usize, const V: usize> FixedFamily<IntGaugeValue, L, N, V> {
    /// A labeled integer gauge ([`IntGaugeValue`]).
    ///
    /// # Panics
    /// On an invalid or reserved name: a compile error in a `static`.
    pub const fn int_gauge(name: &'static str, help: &'static str, label_names: [&'static str; L]) -> Self {
        Self::build(Desc::new(name, help, MetricType::Gauge), label_names, ())
    }
}

impl<const L: usize, const N: usize, const V: usize> FixedFamily<Gauge32Value, L, N, V> {
    /// A labeled 4-byte integer gauge ([`Gauge32Value`]).
    ///
    /// # Panics
    /// On an invalid or reserved name: a compile error in a `static`.
    pub const fn gauge32(name: &'static str, help: &'static str, label_names: [&'static str; L]) -> Self {
        Self::build(Desc::new(name, help, MetricType::Gauge), label_names, ())
    }
}

impl<const B: usize, const L: usize, const N: usize, const V: usize>
    FixedFamily<IntHistogramValue<B>, L, N, V>
{
    /// A labeled integer histogram with bucket `bounds` (`le` is reserved; `+Inf` implied).
    ///
    /// ```
    /// use promstack_core::{encode_text, FixedFamily, IntHistogramValue};
    /// static RSSI: FixedFamily<IntHistogramValue<2>, 1, 4> =
    ///     FixedFamily::int_histogram("rssi_dbm", "Signal strength.", ["peer"], [-90, -60]);
    /// RSSI.get(["gw1"]).unwrap().observe(-72);
    /// let out = String::from_utf8(encode_text(Vec::new(), &RSSI).unwrap()).unwrap();
    /// assert!(out.contains("rssi_dbm_bucket{le=\"-60.0\",peer=\"gw1\"} 1.0\n"), "{out}");
    /// assert!(!out.contains("_sum"), "observations may be negative: no _sum");
    /// ```
    ///
    /// # Panics
    /// On an invalid name or bounds: a compile error in a `static`.
    pub const fn int_histogram(
        name: &'static str,
        help: &'static str,
        label_names: [&'static str; L],
        bounds: [i64; B],
    ) -> Self {
        crate::integer::assert_int_buckets(&bounds);
        Self::build(Desc::new(name, help, MetricType::Histogram), label_names, bounds)
    }
}

#[cfg(feature = "float")]
impl<const L: usize, const N: usize, const V: usize> FixedFamily<SummaryValue, L, N, V> {
    /// A labeled summary (`quantile` is reserved).
    ///
    /// # Panics
    /// On an invalid or reserved name: a compile error in a `static`.
    pub const fn summary(name: &'static str, help: &'static str, label_names: [&'static str; L]) -> Self {
        Self::build(Desc::new(name, help, MetricType::Summary), label_names, ())
    }
}

#[cfg(feature = "float")]
impl<const B: usize, const L: usize, const N: usize, const V: usize> FixedFamily<HistogramValue<B>, L, N, V> {
    /// A labeled histogram with bucket `bounds` (`le` is reserved; `+Inf` implied).
    ///
    /// # Panics
    /// On an invalid name or bounds: a compile error in a `static`.
    pub const fn histogram(
        name: &'static str,
        help: &'static str,
        label_names: [&'static str; L],
        bounds: [f64; B],
    ) -> Self {
        assert_buckets(&bounds);
        Self::build(Desc::new(name, help, MetricType::Histogram), label_names, bounds)
    }
}

impl<const L: usize, const N: usize, const V: usize> FixedFamily<InfoValue, L, N, V> {
    /// A labeled Info: every child reports `pairs` plus its own label values.
    ///
    /// # Panics
    /// On an invalid name, or pair names overlapping the label names.
    pub const fn info(
        name: &'static str,
        help: &'static str,
        label_names: [&'static str; L],
        pairs: InfoPairs,
    ) -> Self {
        let mut i = 0;
        while i < pairs.names.len() {
            let mut j = 0;
            while j < L {
                if crate::desc::str_eq(pairs.names[i], label_names[j]) {
                    panic!("info pair names may not overlap the metric's label names");
                }
                j += 1;
            }
            i += 1;
        }
        Self::build(Desc::new(name, help, MetricType::Info), label_names, pairs)
    }
}

impl<const L: usize, const N: usize, const V: usize> FixedFamily<EnumValue, L, N, V> {
    /// A labeled Enum; its state label is named after the metric, so no label may take that name.
    ///
    /// # Panics
    /// On an invalid name or states, or a label named like the metric.
    pub const fn enumeration(
        name: &'static str,
        help: &'static str,
        label_names: [&'static str; L],
        states: &'static [&'static str],
    ) -> Self {
        assert_states(states);
        let desc = Desc::new(name, help, MetricType::StateSet);
        let mut j = 0;
        while j < L {
            if crate::desc::str_eq(label_names[j], name) {
                panic!("an enum's label may not be named like the metric");
            }
            j += 1;
        }
        Self::build(desc, label_names, states)
    }
}

impl<M: Metric, const L: usize, const N: usize, const V: usize, S: SpecSource<Spec<M::Config, L>>> Collector
    for FixedFamily<M, L, N, V, S>
{
    #[cfg(feature = "small")]
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let spec = self.spec();
        sink.family(spec.desc())?;
        let mut strings: [heapless::String<V>; L] = [const { heapless::String::new() }; L];
        for slot in &self.slots {
            // A slot rewritten while copied is skipped: it is either gone or brand new.
            if slot.read_strings(&mut strings) {
                let mut values = [""; L];
                for (v, s) in values.iter_mut().zip(&strings) {
                    *v = s.as_str();
                }
                slot.metric.report(
                    spec.config(),
                    spec.desc(),
                    Labels::new(spec.label_names(), &values),
                    sink,
                )?;
            }
        }
        Ok(())
    }

    #[cfg(not(feature = "small"))]
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let spec = self.spec();
        sink.family(spec.desc())?;
        // Counters and gauges: one sample per child, handed over in one call.
        if let Some(suffix) = M::single_suffix(spec.config(), sink.wants_created()) {
            if let Some(batch) = sink.batch() {
                return batch.samples(spec.desc(), suffix, self);
            }
        }
        M::report_children(spec.config(), spec.desc(), sink, &mut |f| {
            self.each_child(|m, labels| f(m, labels))
        })
    }
}

/// The children, as [`BatchSink::samples`](crate::BatchSink::samples) rows (used when the value type reports one sample).
#[cfg(not(feature = "small"))]
impl<M: Metric, const L: usize, const N: usize, const V: usize, S: SpecSource<Spec<M::Config, L>>>
    crate::collector::SampleRows for FixedFamily<M, L, N, V, S>
{
    fn each(
        &self,
        row: &mut dyn FnMut(Labels<'_>, crate::sample::Value) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        let config = self.spec().config();
        self.each_child(|metric, labels| row(labels, metric.single_value(config)))
    }

    /// Each child's line written in place: the label block's pieces are made once, then per
    /// child the pieces and the stored words are copied straight into the encoder's buffer,
    /// and the sequence check decides whether the copy stands (no UTF-8 or escape check: the
    /// bytes are those of stored `&str`s, checked for escapes when claimed). A child with a
    /// value that needs escaping, or a line longer than the buffer, is written from its
    /// copied values.
    fn write_lines(&self, lines: &mut crate::encoding::LineBuf<'_>) -> Option<Result<(), CollectError>> {
        let spec = self.spec();
        let pieces = crate::encoding::LabelPieces::new(spec.label_names())?;
        Some(self.write_block_lines(&pieces, lines))
    }
}

#[cfg(not(feature = "small"))]
impl<M: Metric, const L: usize, const N: usize, const V: usize, S: SpecSource<Spec<M::Config, L>>>
    FixedFamily<M, L, N, V, S>
{
    /// Calls `f` with each live child's value and labels, in slot order. The labels carry what
    /// was checked once for all of them: the names (valid, and whether sorted) and, per child,
    /// whether any value needs escaping.
    #[inline]
    fn each_child<F: FnMut(&M, Labels<'_>) -> Result<(), CollectError>>(
        &self,
        mut f: F,
    ) -> Result<(), CollectError> {
        let spec = self.spec();
        // The names are checked here once, not by the encoder for every child.
        let names_ok = crate::encoding::label_names_valid(spec.label_names());
        let sorted = crate::encoding::label_names_sorted(spec.label_names());
        let mut buf = [[0u8; V]; L];
        let buf = buf.as_flattened_mut();
        let mut ends = [0usize; L];
        for slot in &self.slots {
            if slot.state.load(Ordering::Relaxed) & STATUS != READY {
                continue;
            }
            self.child_labels(slot, names_ok, sorted, buf, &mut ends, &mut f)?;
        }
        Ok(())
    }

    /// Calls `f` with one child's value and labels, copied out through `buf` and `ends`;
    /// nothing when the slot was rewritten while copied (it is either gone or brand new).
    #[inline]
    fn child_labels<F: FnMut(&M, Labels<'_>) -> Result<(), CollectError>>(
        &self,
        slot: &Slot<M, L, V>,
        names_ok: bool,
        sorted: bool,
        buf: &mut [u8],
        ends: &mut [usize; L],
        f: &mut F,
    ) -> Result<(), CollectError> {
        let Some(plain) = slot.read_values(buf, ends) else {
            return Ok(());
        };
        // One check for all the values: ASCII (nearly always) in a few word operations,
        // UTF-8 the long way otherwise. Each value was a `&str` when stored, so every end is
        // a char boundary of an intact read (`get` re-checks that).
        let copied = &buf[..ends.last().copied().unwrap_or(0)];
        let Some(all) = value_bytes::ascii_str(copied).or_else(|| core::str::from_utf8(copied).ok()) else {
            return Ok(());
        };
        let mut values = [""; L];
        let mut start = 0;
        for (v, &end) in values.iter_mut().zip(ends.iter()) {
            match all.get(start..end) {
                Some(s) => *v = s,
                None => return Ok(()),
            }
            start = end;
        }
        let mut labels = Labels::new(self.spec().label_names(), &values);
        if names_ok {
            labels = labels.with_checked_names(sorted);
        }
        if plain {
            labels = labels.with_plain_values();
        }
        f(&slot.metric, labels)
    }

    /// [`SampleRows::write_lines`](crate::SampleRows::write_lines) with the pieces made.
    fn write_block_lines(
        &self,
        pieces: &crate::encoding::LabelPieces,
        lines: &mut crate::encoding::LineBuf<'_>,
    ) -> Result<(), CollectError> {
        let spec = self.spec();
        let config = spec.config();
        let mut buf = [[0u8; V]; L];
        let buf = buf.as_flattened_mut();
        let mut ends = [0usize; L];
        for slot in &self.slots {
            match slot.write_line(pieces, config, lines)? {
                Line::Written | Line::Changed => continue,
                Line::Values => {}
            }
            let sorted = crate::encoding::label_names_sorted(spec.label_names());
            self.child_labels(slot, true, sorted, buf, &mut ends, &mut |metric, labels| {
                let mut values = [""; L];
                for (v, (_, value)) in values.iter_mut().zip(labels.iter()) {
                    *v = value;
                }
                lines.line(pieces, &values, metric.single_value(config))
            })?;
        }
        Ok(())
    }
}

/// What [`Slot::write_line`] did.
#[cfg(not(feature = "small"))]
enum Line {
    Written,
    /// The slot changed while copied (or is not READY): it is either gone or brand new.
    Changed,
    /// A value needs escaping, or the line is longer than the buffer: to be written from the
    /// copied values.
    Values,
}

#[cfg(all(test, feature = "float"))]
mod tests {
    use super::*;

    /// Every length from 0 to `V`, stored over whatever was there before, reads back and
    /// compares as itself; a value differing in any one byte does not compare equal. Capacities
    /// that are a word multiple, shorter than a word, and with tail bytes.
    fn value_bytes_round_trip<const V: usize>() {
        let cell = ValueBytes::<V>::EMPTY;
        let mut x: u32 = 0x2545_f491;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        };
        for round in 0..4 {
            for len in 0..=V {
                let v: [u8; V] = core::array::from_fn(|_| next());
                let v = &v[..len];
                cell.store(v);
                assert!(cell.eq(v, value_bytes::tail(v)), "V={V} len={len} round={round}");
                #[cfg(not(feature = "small"))]
                {
                    let mut out = [0u8; V];
                    cell.copy_to(&mut out, len);
                    assert_eq!(&out[..len], v, "V={V} len={len}");
                }
                for i in 0..len {
                    let mut w: [u8; V] = [0; V];
                    w[..len].copy_from_slice(v);
                    w[i] ^= 1 << (i % 8);
                    let w = &w[..len];
                    assert!(!cell.eq(w, value_bytes::tail(w)), "V={V} len={len} byte {i}");
                }
            }
        }
    }

    /// RAM per child: the state, in-flight count and hash tag in 12 bytes, the lengths and the
    /// escaping flag in the padding before the word-aligned values (it was 104 bytes with an
    /// 8-byte hash).
    #[test]
    #[cfg(not(feature = "created"))]
    fn a_two_label_counter_slot_takes_96_bytes() {
        assert_eq!(size_of::<CounterValue>(), 16);
        assert_eq!(size_of::<Slot<CounterValue, 2, 32>>(), 12 + 2 + 1 + 1 + 64 + 16);
    }

    /// The word a lookup computes for a value's partial end is the zero-padded last
    /// `len % B` bytes at every length, for the compare (`B` = word size) and the hash (`B` = 8).
    #[cfg(not(feature = "small"))]
    #[test]
    fn padded_tail_is_the_partial_last_word_at_every_length() {
        let v: [u8; 40] = core::array::from_fn(|i| 0x80 | i as u8);
        for len in 0..=v.len() {
            for b in [4, 8] {
                let mut w = [0u8; 8];
                let r = len % b;
                w[..r].copy_from_slice(&v[len - r..len]);
                let got = if b == 4 { padded_tail::<4>(&v[..len]) } else { padded_tail::<8>(&v[..len]) };
                assert_eq!(got, u64::from_le_bytes(w), "len={len} B={b}");
            }
        }
    }

    #[test]
    fn value_bytes_store_compare_and_copy_every_length() {
        value_bytes_round_trip::<1>();
        value_bytes_round_trip::<5>();
        value_bytes_round_trip::<8>();
        value_bytes_round_trip::<13>();
        value_bytes_round_trip::<32>();
        value_bytes_round_trip::<41>();
    }

    /// A handle whose generation comes round again (the generation has 30 bits) still does not
    /// update the label set that now holds its slot.
    #[test]
    fn a_generation_that_wraps_round_does_not_revive_a_stale_handle() {
        let f: FixedFamily<CounterValue, 1, 1, 8> = FixedFamily::counter("wrap", "", ["k"]);
        let stale = f.get(["old"]).unwrap();
        assert!(f.remove(["old"]));
        // Skip ahead ~2^30 generations: the next claim gets the stale handle's generation.
        let slot = &f.slots[0];
        let generation = stale.generation >> 2;
        slot.state.store(generation.wrapping_sub(1) << 2 | FREE, Ordering::Relaxed);
        let new = f.get(["new"]).unwrap();
        assert_eq!(new.generation, stale.generation, "the test needs the same generation");
        assert!(!stale.is_live());
        stale.inc();
        assert_eq!(new.get(), 0.0);
        new.inc();
        assert_eq!(new.get(), 1.0);
    }
}
