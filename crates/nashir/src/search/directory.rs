//! The search index's directory: tantivy's `MmapDirectory`, except that the big files a
//! search or a merge reads a small piece of at a time — postings, positions, the doc store —
//! are read with `pread` instead of being mapped.
//!
//! Why: every page of a mapped file a search touches stays in the process's RSS (as
//! `RssFile`) for as long as the file is mapped, so a search load counted most of the index
//! in the server's peak RSS (329 MB at 200,000 articles, RssAnon ~60 MB of it), and the merge
//! into one segment counted every segment it read in the import's (1.9 GB of RssFile at
//! 1,000,000 articles). Read with `pread`, those pages stay in the kernel's page cache, shared
//! and reclaimable, and are not the process's. Small files that tantivy reads whole on every
//! query (field norms, fast fields) and the term dictionaries (searched in place) stay mapped.
//!
//! A search reads each posting list with one `pread` of its own. A rebuild's merges read every
//! term's postings of every segment in term order, a few bytes each, and one `pread` per list
//! made them several times slower than mapped files: while a rebuild runs (see
//! [`IndexDirectory::rebuilding`]) each file is read through a window of [`MERGE_WINDOW`]
//! bytes, one `pread` per window, so a merge's reads cost about what mapped reads cost and
//! its memory is a window per file it merges.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::directory::error::{DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError};
use tantivy::directory::{Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback, WatchHandle, WritePtr};
use tantivy::HasLen;

/// Files read with `pread`, by extension: postings, positions, doc store.
const READ_NOT_MAPPED: [&str; 3] = ["idx", "pos", "store"];
/// The bytes a rebuild's merge reads at once from each file it merges (see the module's
/// comment): a merge of 64 segments holds about 64 × 2 × 64 KiB = 8 MiB of windows.
const MERGE_WINDOW: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub(super) struct IndexDirectory {
    mapped: MmapDirectory,
    root: PathBuf,
    /// While set, files opened are read through windows (a rebuild runs); shared by the
    /// clones tantivy makes of this directory.
    rebuilding: Arc<AtomicBool>,
}

impl IndexDirectory {
    pub(super) fn open(root: &Path) -> Result<IndexDirectory, OpenDirectoryError> {
        Ok(IndexDirectory { mapped: MmapDirectory::open(root)?, root: root.to_path_buf(), rebuilding: Arc::new(AtomicBool::new(false)) })
    }

    /// The switch that makes the big files opened from now on read through windows, for a
    /// rebuild's merges (true), or one `pread` per read, for searches (false); files already
    /// open stay as they were opened.
    pub(super) fn rebuilding(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.rebuilding)
    }

    /// Whether `path` is read with `pread` rather than mapped.
    fn read_not_mapped(path: &Path) -> bool {
        path.extension().and_then(|e| e.to_str()).is_some_and(|e| READ_NOT_MAPPED.contains(&e))
    }
}

/// An open index file; each read is one `pread` into a buffer of its own, or, with a window,
/// a slice of the last window read when the window holds it.
#[derive(Debug)]
struct ReadFile {
    file: File,
    len: usize,
    /// The last [`MERGE_WINDOW`] bytes read and where they start (rebuilds only). Slices
    /// handed out share it, so it lives as long as tantivy keeps any of them.
    window: Option<Mutex<(usize, OwnedBytes)>>,
}

impl ReadFile {
    fn pread(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        let mut buffer = vec![0; range.len()];
        self.file.read_exact_at(&mut buffer, range.start as u64)?;
        Ok(OwnedBytes::new(buffer))
    }
}

impl HasLen for ReadFile {
    fn len(&self) -> usize {
        self.len
    }
}

impl FileHandle for ReadFile {
    fn read_bytes(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        if range.start > range.end || range.end > self.len {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("read of {range:?} in a file of {} bytes", self.len)));
        }
        if range.is_empty() {
            return Ok(OwnedBytes::empty());
        }
        // Outside a rebuild, and for reads as big as half a window, one `pread` of their own.
        let Some(window) = self.window.as_ref().filter(|_| range.len() < MERGE_WINDOW / 2) else {
            return self.pread(range);
        };
        // A poisoned lock only means another read panicked mid-way; the window is whole.
        let mut window = window.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (start, bytes) = &mut *window;
        if range.start < *start || range.end > *start + bytes.len() {
            // Reads go forward through the file: the next window starts at this read.
            let end = (range.start + MERGE_WINDOW).min(self.len);
            *bytes = self.pread(range.start..end)?;
            *start = range.start;
        }
        Ok(bytes.slice(range.start - *start..range.end - *start))
    }
}

impl Directory for IndexDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        if !IndexDirectory::read_not_mapped(path) {
            return self.mapped.get_file_handle(path);
        }
        // Index files are written once and never change after (tantivy's contract), so the
        // length read here stays right.
        let file = File::open(self.root.join(path)).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => OpenReadError::FileDoesNotExist(path.to_path_buf()),
            _ => OpenReadError::wrap_io_error(e, path.to_path_buf()),
        })?;
        let len = file.metadata().map_err(|e| OpenReadError::wrap_io_error(e, path.to_path_buf()))?.len();
        let len = usize::try_from(len).map_err(|_| OpenReadError::wrap_io_error(io::Error::other("file too large"), path.to_path_buf()))?;
        let window = self.rebuilding.load(Ordering::SeqCst).then(|| Mutex::new((0, OwnedBytes::empty())));
        Ok(Arc::new(ReadFile { file, len, window }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.mapped.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.mapped.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.mapped.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.mapped.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.mapped.atomic_write(path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.mapped.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.mapped.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.mapped.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_files_are_read_and_small_ones_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let directory = IndexDirectory::open(dir.path()).unwrap();
        for name in ["a.idx", "a.fieldnorm"] {
            directory.atomic_write(Path::new(name), b"0123456789").unwrap();
        }
        let read = directory.get_file_handle(Path::new("a.idx")).unwrap();
        assert!(format!("{read:?}").starts_with("ReadFile"), "{read:?}");
        assert_eq!(read.len(), 10);
        assert_eq!(read.read_bytes(2..5).unwrap().as_slice(), b"234");
        assert_eq!(read.read_bytes(10..10).unwrap().as_slice(), b"");
        assert!(read.read_bytes(5..11).is_err(), "past the end is an error, not a panic");
        let mapped = directory.get_file_handle(Path::new("a.fieldnorm")).unwrap();
        assert!(!format!("{mapped:?}").starts_with("ReadFile"), "{mapped:?}");
        assert_eq!(mapped.read_bytes(2..5).unwrap().as_slice(), b"234");
        assert!(matches!(directory.get_file_handle(Path::new("b.idx")), Err(OpenReadError::FileDoesNotExist(_))));
        // While a rebuild runs, big files are read through a window, in every clone of the
        // directory; files opened after it are read one `pread` per read again.
        let clone = tantivy::directory::DirectoryClone::box_clone(&directory);
        directory.rebuilding().store(true, Ordering::SeqCst);
        let during = clone.get_file_handle(Path::new("a.idx")).unwrap();
        assert!(format!("{during:?}").contains("window: Some"), "{during:?}");
        assert_eq!(during.read_bytes(2..5).unwrap().as_slice(), b"234");
        assert!(during.read_bytes(5..11).is_err(), "past the end is an error, not a panic");
        directory.rebuilding().store(false, Ordering::SeqCst);
        assert!(format!("{:?}", clone.get_file_handle(Path::new("a.idx")).unwrap()).contains("window: None"));
    }

    /// A merge's reads through a window return the file's bytes wherever they fall: inside the
    /// window, across its end, behind it, bigger than it; slices handed out stay right after
    /// the window has moved on.
    #[test]
    fn windowed_reads_return_the_files_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let directory = IndexDirectory::open(dir.path()).unwrap();
        let content: Vec<u8> = (0..MERGE_WINDOW * 3 + 777).map(|i| (i * 7 + i / 251) as u8).collect();
        directory.atomic_write(Path::new("b.pos"), &content).unwrap();
        directory.rebuilding().store(true, Ordering::SeqCst);
        let file = directory.get_file_handle(Path::new("b.pos")).unwrap();
        let w = MERGE_WINDOW;
        let mut kept = Vec::new();
        let mut reads =
            vec![0..10, 10..300, 5..6, w - 3..w + 5, w + 5..w + 9, 3..w * 2, w * 3..content.len(), 1..2, content.len() - 1..content.len()];
        // Forward in small steps, as a merge reads, then jumps both ways.
        let mut at = 0;
        while at + 97 <= content.len() {
            reads.push(at..at + 97);
            at += 1_000;
        }
        for (i, range) in reads.into_iter().enumerate() {
            let bytes = file.read_bytes(range.clone()).unwrap();
            assert_eq!(bytes.as_slice(), &content[range.clone()], "read {i}: {range:?}");
            kept.push((range, bytes));
        }
        for (range, bytes) in kept {
            assert_eq!(bytes.as_slice(), &content[range.clone()], "{range:?} after the window moved on");
        }
        assert!(file.read_bytes(content.len() - 1..content.len() + 1).is_err());
    }
}
