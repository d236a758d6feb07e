//! Textfile output for node_exporter's textfile collector (SPEC §6).
//!
//! The exposition is written to a new temporary file beside `<path>`, flushed to disk, and
//! renamed over `<path>`: a reader (node_exporter) sees the old file or the new one, never a
//! partial one. The temporary file is `<path>.<pid>.<random>.tmp` (node_exporter ignores it: it
//! reads only `*.prom`), created exclusively, so a file or symlink planted at that name is never
//! written through; an unpredictable name means no one can plant one in advance. On any failure,
//! a panicking collector included, the old file stays and the temporary file is removed.

use crate::std_io::encode_to_writer;
use promstack_core::{Collector, Format};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `collector` as text 0.0.4 to `path` atomically (node_exporter reads files ending in
/// `.prom`).
///
/// ```
/// use promstack::{write_to_textfile, Gauge};
/// static LAST_BACKUP: Gauge = Gauge::new("backup_last_success_timestamp_seconds", "Last backup.");
/// LAST_BACKUP.set(1_700_000_000.0);
/// let path = std::env::temp_dir().join(format!("doc-{}.prom", std::process::id()));
/// write_to_textfile(&path, &LAST_BACKUP).unwrap();
/// assert!(std::fs::read_to_string(&path).unwrap().ends_with("backup_last_success_timestamp_seconds 1700000000.0\n"));
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn write_to_textfile(path: impl AsRef<Path>, collector: &dyn Collector) -> io::Result<()> {
    let path = path.as_ref();
    let (file, tmp) = create_temp(path, std::iter::repeat_with(|| temp_name(path)).take(16))?;
    write_and_sync(file, collector)?;
    fs::rename(&tmp.0, path)?;
    tmp.keep();
    // Make the rename itself durable; a failure here does not undo the new file.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// A temporary file removed when dropped (on an error return or a panic) unless kept.
#[derive(Debug)]
struct TempFile(PathBuf);

impl TempFile {
    /// The file was renamed into place: nothing to remove.
    fn keep(mut self) {
        self.0 = PathBuf::new();
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.0);
        }
    }
}

/// `<path>.<pid>.<64 random bits>.tmp`.
fn temp_name(path: &Path) -> OsString {
    // std's hasher keys come from the OS's random source; hashing a counter with them gives a
    // new unpredictable number per call without a dependency on a random number crate.
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.{:016x}.tmp", std::process::id(), h.finish()));
    name
}

/// Creates the first of `names` that does not exist yet. `create_new` (`O_CREAT | O_EXCL`) fails
/// on any existing entry, a symlink included, instead of following it.
fn create_temp(path: &Path, names: impl Iterator<Item = OsString>) -> io::Result<(File, TempFile)> {
    for name in names {
        match OpenOptions::new().write(true).create_new(true).open(&name) {
            Ok(file) => return Ok((file, TempFile(name.into()))),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free temporary file name beside {}", path.display()),
    ))
}

fn write_and_sync(file: File, collector: &dyn Collector) -> io::Result<()> {
    let mut out = encode_to_writer(BufWriter::new(file), Format::Text, collector)?;
    out.flush()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_planted_symlink_is_skipped_not_followed() {
        let dir = std::env::temp_dir().join(format!("promstack-textfile-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.prom");
        let planted = dir.join("m.prom.planted");
        let target = dir.join("victim");
        std::os::unix::fs::symlink(&target, &planted).unwrap();
        let names = [planted.clone().into_os_string(), dir.join("m.prom.free").into_os_string()];
        let (_file, tmp) = create_temp(&path, names.into_iter()).unwrap();
        assert_eq!(tmp.0, dir.join("m.prom.free"));
        assert!(!target.exists(), "the symlink was followed");
        drop(tmp);
        assert!(!dir.join("m.prom.free").exists(), "the temporary file was not removed");
        // Every name taken: an error, nothing created or followed.
        let err = create_temp(&path, std::iter::once(planted.into_os_string())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(!target.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temp_names_differ() {
        let a = temp_name(Path::new("/x/m.prom"));
        let b = temp_name(Path::new("/x/m.prom"));
        assert_ne!(a, b);
        assert!(a.to_string_lossy().starts_with(&format!("/x/m.prom.{}.", std::process::id())));
        assert!(a.to_string_lossy().ends_with(".tmp"));
    }
}
