//! One multiprocess file: a dictionary of `f64` values in a memory-mapped file, in the exact
//! layout of Python 0.8.0's `MmapedDict`, so Python and Rust processes can share a directory.
//!
//! Layout (all integers little-endian):
//! ```text
//! u32 used | 4 bytes padding | entry | entry | ... | free space up to the file size
//! entry = u32 key length | UTF-8 key | 1..=8 spaces so that (4 + key + spaces) % 8 == 0 | f64
//! ```
//! An entry whose last padding byte is [`REMOVED`] instead of a space belongs to a removed
//! child (`multiprocess::Family::remove`): readers of this crate skip it. Python's reader
//! ignores the padding, so the file stays readable there (the entry's value is zeroed).
//! The file starts at 1 MiB and doubles when an entry does not fit. Only the owning process
//! writes; an entry is complete before `used` grows to include it, and every value is an aligned
//! 8-byte word written in one store, so a reader that reads `used` and then that many bytes sees
//! whole entries (and a process killed at any point leaves a readable file).
//!
//! Within the owning process, values are updated lock-free: each is used as an `AtomicU64`
//! in place. Mappings are never unmapped while the dictionary lives, because a remap after growth
//! must not invalidate the pointers other threads hold; every mapping of the file shares the
//! same page cache, so writes through an old mapping show in the new one.

use super::error::MultiProcessError;
use memmap2::{MmapOptions, MmapRaw};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Size of a new file, as in Python.
pub const INITIAL_MMAP_SIZE: usize = 1 << 20;

/// The most bytes a file may use: its header is a signed 32-bit integer in Python.
const MAX_USED: usize = i32::MAX as usize;

/// The last padding byte of an entry whose child was removed (a space otherwise; see the
/// module documentation).
pub(crate) const REMOVED: u8 = 0x7f;

/// Length of the padded key field (length word + key + spaces) for a key of `len` bytes.
fn padded_len(len: usize) -> usize {
    len + (8 - (len + 4) % 8)
}

/// Entries of a file's first `used` bytes: (key, value, offset of the value).
///
/// `data` holds at least `used` bytes. Any entry that does not fit in `used`, or whose key is
/// not UTF-8, makes the whole file an error: a partial read could yield wrong totals.
pub(crate) fn parse_entries<'d>(
    data: &'d [u8],
    used: usize,
    path: &Path,
) -> Result<Vec<(&'d str, f64, usize)>, MultiProcessError> {
    let mut out = Vec::new();
    for_each_entry(data, used, path, |key, value, pos| {
        out.push((key, value, pos));
        Ok(())
    })?;
    Ok(out)
}

/// Calls `f` with (key, value, offset of the value) for each entry of `data[..used]`, as
/// [`parse_entries`] returns them, stopping at the first error (of the layout or of `f`).
pub(crate) fn for_each_entry<'d>(
    data: &'d [u8],
    used: usize,
    path: &Path,
    mut f: impl FnMut(&'d str, f64, usize) -> Result<(), MultiProcessError>,
) -> Result<(), MultiProcessError> {
    for_each_raw_entry(data, used, path, |key, value, pos| {
        let key = std::str::from_utf8(key).map_err(|_| MultiProcessError::Corrupt {
            path: path.to_path_buf(),
            offset: pos - 4 - padded_len(key.len()),
            reason: "key is not valid UTF-8",
        })?;
        f(key, value, pos)
    })
}

/// [`for_each_entry`] with the keys as bytes, not checked to be UTF-8. Entries marked
/// [`REMOVED`] are skipped.
pub(crate) fn for_each_raw_entry<'d>(
    data: &'d [u8],
    used: usize,
    path: &Path,
    mut f: impl FnMut(&'d [u8], f64, usize) -> Result<(), MultiProcessError>,
) -> Result<(), MultiProcessError> {
    let corrupt = |offset, reason| MultiProcessError::Corrupt { path: path.to_path_buf(), offset, reason };
    let data = data.get(..used).ok_or_else(|| corrupt(0, "the used bytes run past the data"))?;
    let mut pos = 8;
    while pos < used {
        let len_bytes = data.get(pos..pos + 4);
        let len_bytes = len_bytes.ok_or_else(|| corrupt(pos, "entry header runs past the used bytes"))?;
        let len = u32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
        if len > used {
            return Err(corrupt(pos, "read beyond file size detected: entry runs past the used bytes"));
        }
        let value_pos = pos + 4 + padded_len(len);
        let end = value_pos + 8;
        if end > used {
            return Err(corrupt(pos, "read beyond file size detected: entry runs past the used bytes"));
        }
        if data[value_pos - 1] == REMOVED {
            pos = end;
            continue;
        }
        let key = &data[pos + 4..pos + 4 + len];
        let mut v = [0u8; 8];
        v.copy_from_slice(&data[value_pos..end]);
        f(key, f64::from_le_bytes(v), value_pos)?;
        pos = end;
    }
    Ok(())
}

/// Validates the `used` header word.
fn check_used(used: u32, path: &Path) -> Result<usize, MultiProcessError> {
    let used = used as usize;
    if used > MAX_USED || (used != 0 && (used < 8 || !used.is_multiple_of(8))) {
        return Err(MultiProcessError::Corrupt {
            path: path.to_path_buf(),
            offset: 0,
            reason: "the used-bytes header is not a multiple of 8 between 8 and 2^31",
        });
    }
    Ok(used)
}

/// Reads every entry of a file without mapping it, tolerating a writer that appends meanwhile:
/// reads `used`, then exactly that many bytes. Entries are (key, value, offset of the value).
///
/// An empty file or a zero header (a file being created) has no entries. A file shorter than
/// its header says is [`MultiProcessError::Truncated`] (found before anything is allocated for
/// it); a malformed entry is [`MultiProcessError::Corrupt`]; a FIFO, socket, device or directory
/// is [`MultiProcessError::NotAFile`] (opened without blocking). Each names the file.
///
/// ```
/// use promstack::multiprocess::{read_all_values_from_file, MmapDict};
/// let path = std::env::temp_dir().join(format!("doc-read-{}.db", std::process::id()));
/// let mut d = MmapDict::open(&path).unwrap();
/// d.write_value("abc", 42.0).unwrap();
/// let entries = read_all_values_from_file(&path).unwrap();
/// assert_eq!(entries[0].0, "abc");
/// assert_eq!(entries[0].1, 42.0);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn read_all_values_from_file(
    path: impl AsRef<Path>,
) -> Result<Vec<(String, f64, usize)>, MultiProcessError> {
    let path = path.as_ref();
    let mut data = Vec::new();
    read_used_bytes(path, &mut data)?;
    let entries = parse_entries(&data, data.len(), path)?;
    Ok(entries.into_iter().map(|(k, v, pos)| (k.to_owned(), v, pos)).collect())
}

/// Opens `path` without ever blocking (a FIFO would block a plain open until a writer comes)
/// and refuses anything but a regular file. Returns the file and its metadata.
fn open_regular(path: &Path, opts: &mut OpenOptions) -> Result<(File, std::fs::Metadata), MultiProcessError> {
    let io = |e| MultiProcessError::io(path, e);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let f = opts.open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(MultiProcessError::NotAFile(path.to_path_buf()));
    }
    Ok((f, meta))
}

/// Replaces `data` with the first `used` bytes of a file (nothing for an empty file or a zero
/// header), checked as [`read_all_values_from_file`] describes. `data`'s allocation is reused.
pub(crate) fn read_used_bytes(path: &Path, data: &mut Vec<u8>) -> Result<(), MultiProcessError> {
    let io = |e| MultiProcessError::io(path, e);
    data.clear();
    let (mut f, _) = open_regular(path, OpenOptions::new().read(true))?;
    let mut header = [0u8; 8];
    let got = read_up_to(&mut f, &mut header).map_err(io)?;
    if got == 0 {
        return Ok(());
    }
    if got < 8 {
        return Err(MultiProcessError::Truncated { path: path.to_path_buf(), used: 8, len: got as u64 });
    }
    let used = check_used(u32::from_le_bytes([header[0], header[1], header[2], header[3]]), path)?;
    if used == 0 {
        return Ok(());
    }
    // The length after the header: a writer grows the file before `used` covers the growth, so
    // a sound file is at least `used` long now. A header claiming more is not believed before
    // the allocation below, which is then bounded by the file's real size.
    let len = f.metadata().map_err(io)?.len();
    if used as u64 > len {
        return Err(MultiProcessError::Truncated { path: path.to_path_buf(), used: used as u64, len });
    }
    data.reserve(used);
    data.extend_from_slice(&header);
    // Into the spare capacity: a reused buffer is not zeroed first.
    (&mut f).take(used as u64 - 8).read_to_end(data).map_err(io)?;
    let got = data.len();
    if got < used {
        data.clear();
        return Err(MultiProcessError::Truncated {
            path: path.to_path_buf(),
            used: used as u64,
            len: got as u64,
        });
    }
    Ok(())
}

/// Makes `file` at least `len` bytes long with its blocks allocated, so that writing through a
/// mapping of it cannot hit a full filesystem (a sparse file would: SIGBUS). A full disk is an
/// `ENOSPC` error here instead.
fn reserve(file: &File, len: usize) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        use std::os::fd::AsRawFd;
        let off =
            libc::off_t::try_from(len).map_err(|_| std::io::Error::from(std::io::ErrorKind::FileTooLarge))?;
        loop {
            // SAFETY: a plain syscall wrapper on a descriptor `file` owns.
            match unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, off) } {
                0 => return Ok(()),
                libc::EINTR => continue,
                // A filesystem without fallocate (musl does not emulate it): the old way, sparse.
                libc::EOPNOTSUPP | libc::EINVAL => break,
                e => return Err(std::io::Error::from_raw_os_error(e)),
            }
        }
    }
    if file.metadata()?.len() < len as u64 {
        file.set_len(len as u64)?;
    }
    Ok(())
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A dictionary of `f64` values backed by a memory-mapped file in Python's `MmapedDict` layout.
///
/// This is the file layer of multiprocess mode; metrics use it through a
/// [`Store`](super::Store). Opening a file that exists keeps its entries and values (a restarted
/// process with the same pid continues where it stopped, as in Python).
///
/// ```
/// use promstack::multiprocess::MmapDict;
/// let path = std::env::temp_dir().join(format!("doc-mmap-{}.db", std::process::id()));
/// let mut d = MmapDict::open(&path).unwrap();
/// d.write_value("abc", 123.0).unwrap();
/// drop(d);
/// let mut d = MmapDict::open(&path).unwrap();
/// assert_eq!(d.read_value("abc").unwrap(), 123.0);
/// assert_eq!(d.read_all_values(), [("abc".to_string(), 123.0)]);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub struct MmapDict {
    path: PathBuf,
    file: File,
    /// Every mapping made so far; the last one covers the whole current capacity.
    maps: Vec<MmapRaw>,
    capacity: usize,
    used: usize,
    /// Keys in file order with the offset of their value.
    entries: Vec<(Box<str>, usize)>,
    positions: HashMap<Box<str>, usize>,
}

impl std::fmt::Debug for MmapDict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MmapDict")
            .field("path", &self.path)
            .field("capacity", &self.capacity)
            .field("used", &self.used)
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl MmapDict {
    /// Opens (creating it at 1 MiB if missing or empty) the file at `path` for writing.
    ///
    /// A file whose entries are malformed is an error rather than something to append to.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MultiProcessError> {
        let path = path.as_ref().to_path_buf();
        let io = |e| MultiProcessError::io(&path, e);
        let (file, meta) =
            open_regular(&path, OpenOptions::new().read(true).write(true).create(true).truncate(false))?;
        let mut capacity = meta.len() as usize;
        if capacity == 0 {
            capacity = INITIAL_MMAP_SIZE;
        }
        if capacity < 8 {
            return Err(MultiProcessError::Truncated { path, used: 8, len: capacity as u64 });
        }
        // Also for a file that exists: another writer (Python) may have left it sparse.
        reserve(&file, capacity).map_err(io)?;
        let map = MmapOptions::new().len(capacity).map_raw(&file).map_err(io)?;
        let mut d = MmapDict {
            path,
            file,
            maps: vec![map],
            capacity,
            used: 0,
            entries: Vec::new(),
            positions: HashMap::new(),
        };
        let used = check_used(u32::from_le(d.header().load(Ordering::Acquire)), &d.path)?;
        if used == 0 {
            d.used = 8;
            d.header().store(8u32.to_le(), Ordering::Release);
        } else {
            if used > capacity {
                return Err(MultiProcessError::Truncated {
                    path: d.path.clone(),
                    used: used as u64,
                    len: capacity as u64,
                });
            }
            // Copied out word by word: another mapping of the file (another `MmapDict`, or a
            // process that wrongly shares the pid) may write it, so no `&[u8]` may cover it.
            let mut data = Vec::with_capacity(used);
            data.extend_from_slice(&(used as u32).to_le_bytes());
            data.extend_from_slice(&[0; 4]);
            for pos in (8..used).step_by(8) {
                data.extend_from_slice(&d.word_at(pos).load(Ordering::Relaxed).to_ne_bytes());
            }
            for (key, _, pos) in parse_entries(&data, used, &d.path)? {
                let key: Box<str> = key.into();
                if d.positions.insert(key.clone(), pos).is_none() {
                    d.entries.push((key, pos));
                }
            }
            d.used = used;
        }
        Ok(d)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn base(&self) -> *mut u8 {
        self.maps.last().map_or(std::ptr::null_mut(), |m| m.as_mut_ptr())
    }

    fn header(&self) -> &AtomicU32 {
        // SAFETY: the mapping is page-aligned and at least 8 bytes long, lives as long as
        // `self`, and the header word is only ever accessed atomically while mapped.
        unsafe { AtomicU32::from_ptr(self.base().cast::<u32>()) }
    }

    /// Offset of `key`'s value, appending a zero entry for a new key (growing the file if needed).
    fn position(&mut self, key: &str) -> Result<usize, MultiProcessError> {
        if let Some(&pos) = self.positions.get(key) {
            return Ok(pos);
        }
        let k = key.as_bytes();
        let entry_len = 4 + padded_len(k.len()) + 8;
        let needed = self.used + entry_len;
        if needed > MAX_USED || k.len() > u32::MAX as usize {
            return Err(MultiProcessError::FileFull(self.path.clone()));
        }
        if needed > self.capacity {
            let mut capacity = self.capacity;
            while needed > capacity {
                capacity *= 2;
            }
            let io = |e| MultiProcessError::io(&self.path, e);
            reserve(&self.file, capacity).map_err(io)?;
            let map = MmapOptions::new().len(capacity).map_raw(&self.file).map_err(io)?;
            self.maps.push(map);
            self.capacity = capacity;
        }
        let mut entry = Vec::with_capacity(entry_len);
        entry.extend_from_slice(&(k.len() as u32).to_le_bytes());
        entry.extend_from_slice(k);
        entry.resize(4 + padded_len(k.len()), b' ');
        entry.extend_from_slice(&0f64.to_le_bytes());
        // Word by word through atomics, never a `&mut [u8]`: another mapping of the file may
        // look at these bytes. `used` and `entry_len` are multiples of 8, so every word is
        // aligned, and `used + entry_len <= capacity`, the length of the last mapping.
        for (i, word) in entry.chunks_exact(8).enumerate() {
            let word =
                u64::from_ne_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
            self.word_at(self.used + 8 * i).store(word, Ordering::Relaxed);
        }
        self.used = needed;
        // Release: the entry's bytes are in place before `used` covers them.
        self.header().store((needed as u32).to_le(), Ordering::Release);
        let pos = needed - 8;
        let key: Box<str> = key.into();
        self.positions.insert(key.clone(), pos);
        self.entries.push((key, pos));
        Ok(pos)
    }

    /// The value word at `pos`.
    fn slot_at(&self, pos: usize) -> &AtomicU64 {
        self.word_at(pos)
    }

    /// The 8-byte word at `pos`, which must be 8-aligned, at least 8 and inside the mapping.
    fn word_at(&self, pos: usize) -> &AtomicU64 {
        debug_assert!(pos >= 8 && pos.is_multiple_of(8) && pos + 8 <= self.capacity);
        // SAFETY: the latest mapping is page aligned, `capacity` bytes long and lives as long as
        // `self`; past the header, every access to the file's bytes in this crate is an aligned
        // 8-byte atomic one, so this never races a non-atomic or differently sized access.
        unsafe { AtomicU64::from_ptr(self.base().add(pos).cast::<u64>()) }
    }

    /// A pointer to `key`'s value word (created if missing), valid as long as this dictionary.
    pub(crate) fn slot(&mut self, key: &str) -> Result<*mut u64, MultiProcessError> {
        let pos = self.position(key)?;
        Ok(self.slot_at(pos).as_ptr())
    }

    /// Marks `key`'s entry [`REMOVED`] and zeroes its value; a later [`MmapDict::slot`] of the
    /// same key appends a new entry. Nothing happens for a key without an entry.
    pub(crate) fn remove(&mut self, key: &str) {
        let Some(pos) = self.positions.remove(key) else { return };
        self.entries.retain(|(_, p)| *p != pos);
        self.slot_at(pos).store(0, Ordering::Relaxed);
        // The word before the value ends with the last padding byte (there is always one).
        // Only this process writes the file, and its writers hold the dictionary's lock.
        let word = self.word_at(pos - 8);
        let mut bytes = word.load(Ordering::Relaxed).to_ne_bytes();
        bytes[7] = REMOVED;
        word.store(u64::from_ne_bytes(bytes), Ordering::Relaxed);
    }

    /// The value of `key`, creating it at 0.0 if missing (as Python's `read_value`).
    pub fn read_value(&mut self, key: &str) -> Result<f64, MultiProcessError> {
        let pos = self.position(key)?;
        Ok(f64::from_bits(u64::from_le(self.slot_at(pos).load(Ordering::Relaxed))))
    }

    /// Sets the value of `key`, creating the entry if missing.
    pub fn write_value(&mut self, key: &str, value: f64) -> Result<(), MultiProcessError> {
        let pos = self.position(key)?;
        self.slot_at(pos).store(value.to_bits().to_le(), Ordering::Relaxed);
        Ok(())
    }

    /// Every (key, value), in file order.
    pub fn read_all_values(&self) -> Vec<(String, f64)> {
        self.entries
            .iter()
            .map(|(k, pos)| {
                (k.to_string(), f64::from_bits(u64::from_le(self.slot_at(*pos).load(Ordering::Relaxed))))
            })
            .collect()
    }

    /// Bytes used, header included.
    pub fn used(&self) -> usize {
        self.used
    }

    /// The file's current size.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        use std::sync::atomic::AtomicUsize;
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        std::env::temp_dir().join(format!("promstack-mmap-{tag}-{}-{n}.db", std::process::id()))
    }

    #[test]
    fn layout_is_pythons() {
        let p = temp("layout");
        let mut d = MmapDict::open(&p).unwrap();
        d.write_value("abc", 1.5).unwrap();
        d.write_value("abcd", 2.0).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes.len(), INITIAL_MMAP_SIZE);
        // 8 header + (4 + 3 + 1 pad + 8) + (4 + 4 + 8 pad + 8) = 48.
        assert_eq!(&bytes[0..8], &[48, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[8..16], b"\x03\x00\x00\x00abc ");
        assert_eq!(&bytes[16..24], &1.5f64.to_le_bytes());
        assert_eq!(&bytes[24..40], b"\x04\x00\x00\x00abcd        ");
        assert_eq!(&bytes[40..48], &2.0f64.to_le_bytes());
        assert_eq!(d.used(), 48);
        std::fs::remove_file(&p).unwrap();
    }

    // tests/test_multiprocess.py TestMmapedDict.test_expansion / test_multi_expansion.
    #[test]
    fn expansion() {
        let p = temp("grow");
        let mut d = MmapDict::open(&p).unwrap();
        let key = "a".repeat(INITIAL_MMAP_SIZE * 4);
        d.write_value("abc", 42.0).unwrap();
        let early = d.slot("abc").unwrap();
        d.write_value(&key, 123.0).unwrap();
        d.write_value("def", 17.0).unwrap();
        assert_eq!(d.capacity(), INITIAL_MMAP_SIZE * 8);
        // A pointer taken before the remap still writes the file.
        // SAFETY: `early` points into a mapping `d` keeps alive.
        unsafe { AtomicU64::from_ptr(early) }.store(43f64.to_bits().to_le(), Ordering::Relaxed);
        let want = vec![("abc".to_string(), 43.0), (key.clone(), 123.0), ("def".to_string(), 17.0)];
        assert_eq!(d.read_all_values(), want);
        let from_file: Vec<_> =
            read_all_values_from_file(&p).unwrap().into_iter().map(|(k, v, _)| (k, v)).collect();
        assert_eq!(from_file, want);
        std::fs::remove_file(&p).unwrap();
    }

    // tests/test_multiprocess.py TestMmapedDict.test_corruption_detected.
    #[test]
    fn corruption_detected() {
        let p = temp("corrupt");
        let mut d = MmapDict::open(&p).unwrap();
        d.write_value("abc", 42.0).unwrap();
        drop(d);
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[8..16].copy_from_slice(b"somejunk");
        std::fs::write(&p, &bytes).unwrap();
        let e = read_all_values_from_file(&p).unwrap_err();
        assert!(matches!(e, MultiProcessError::Corrupt { offset: 8, .. }), "{e}");
        assert!(e.to_string().contains(&p.display().to_string()));
        assert!(matches!(MmapDict::open(&p), Err(MultiProcessError::Corrupt { .. })));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn truncation_and_bad_headers_detected() {
        let p = temp("trunc");
        let mut d = MmapDict::open(&p).unwrap();
        d.write_value("abc", 42.0).unwrap();
        drop(d);
        let f = OpenOptions::new().write(true).open(&p).unwrap();
        f.set_len(20).unwrap();
        let e = read_all_values_from_file(&p).unwrap_err();
        assert!(matches!(e, MultiProcessError::Truncated { used: 24, len: 20, .. }), "{e}");
        f.set_len(5).unwrap();
        assert!(matches!(read_all_values_from_file(&p), Err(MultiProcessError::Truncated { .. })));
        f.set_len(0).unwrap();
        assert!(read_all_values_from_file(&p).unwrap().is_empty());
        std::fs::write(&p, [9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert!(matches!(read_all_values_from_file(&p), Err(MultiProcessError::Corrupt { offset: 0, .. })));
        std::fs::write(&p, [16, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0, 0, 0]).unwrap();
        assert!(matches!(read_all_values_from_file(&p), Err(MultiProcessError::Corrupt { offset: 8, .. })));
        assert!(matches!(
            read_all_values_from_file(p.with_extension("missing")),
            Err(MultiProcessError::Io { .. })
        ));
        std::fs::remove_file(&p).unwrap();
    }
}
