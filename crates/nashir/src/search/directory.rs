//! The search index's directory: tantivy's `MmapDirectory`, except that the big files a
//! search or a merge reads a small piece of at a time — postings, positions, the doc store —
//! are read with `pread` into short-lived buffers instead of being mapped.
//!
//! Why: every page of a mapped file a search touches stays in the process's RSS (as
//! `RssFile`) for as long as the file is mapped, so a search load counted most of the index
//! in the server's peak RSS (329 MB at 200,000 articles, RssAnon ~60 MB of it), and the merge
//! into one segment counted every segment it read in the import's. Read with `pread`, those
//! pages stay in the kernel's page cache, shared and reclaimable, and are not the process's.
//! Small files that tantivy reads whole on every query (field norms, fast fields) and the
//! term dictionaries (searched in place) stay mapped.
//!
//! A rebuild maps everything while it runs (see [`IndexDirectory::map_all`]): its merge into
//! one segment reads every term's postings of every segment (hundreds of segments at 200,000
//! articles), and one `pread` each made that merge several times slower.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tantivy::directory::error::{DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError};
use tantivy::directory::{Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback, WatchHandle, WritePtr};
use tantivy::HasLen;

/// Files read with `pread`, by extension: postings, positions, doc store.
const READ_NOT_MAPPED: [&str; 3] = ["idx", "pos", "store"];

#[derive(Clone, Debug)]
pub(super) struct IndexDirectory {
    mapped: MmapDirectory,
    root: PathBuf,
    /// While set, files opened are all mapped (a rebuild runs); shared by the clones tantivy
    /// makes of this directory.
    map_all: Arc<AtomicBool>,
}

impl IndexDirectory {
    pub(super) fn open(root: &Path) -> Result<IndexDirectory, OpenDirectoryError> {
        Ok(IndexDirectory { mapped: MmapDirectory::open(root)?, root: root.to_path_buf(), map_all: Arc::new(AtomicBool::new(false)) })
    }

    /// The switch that makes files opened from now on mapped (true) or read (false); files
    /// already open stay as they were opened.
    pub(super) fn map_all(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.map_all)
    }

    /// Whether `path` is read with `pread` rather than mapped.
    fn read_not_mapped(&self, path: &Path) -> bool {
        !self.map_all.load(Ordering::SeqCst) && path.extension().and_then(|e| e.to_str()).is_some_and(|e| READ_NOT_MAPPED.contains(&e))
    }
}

/// An open index file; each read is one `pread` into a buffer of its own.
#[derive(Debug)]
struct ReadFile {
    file: File,
    len: usize,
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
        let mut buffer = vec![0; range.len()];
        self.file.read_exact_at(&mut buffer, range.start as u64)?;
        Ok(OwnedBytes::new(buffer))
    }
}

impl Directory for IndexDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        if !self.read_not_mapped(path) {
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
        Ok(Arc::new(ReadFile { file, len }))
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
        // While a rebuild runs, everything is mapped, in every clone of the directory.
        let clone = tantivy::directory::DirectoryClone::box_clone(&directory);
        directory.map_all().store(true, Ordering::SeqCst);
        let during = clone.get_file_handle(Path::new("a.idx")).unwrap();
        assert!(!format!("{during:?}").starts_with("ReadFile"), "{during:?}");
        assert_eq!(during.read_bytes(2..5).unwrap().as_slice(), b"234");
        directory.map_all().store(false, Ordering::SeqCst);
        assert!(format!("{:?}", clone.get_file_handle(Path::new("a.idx")).unwrap()).starts_with("ReadFile"));
    }
}
