//! The hop log's file: bounded, so a long run keeps at most twice
//! [`MAX_BYTES`] on disk and nothing in memory. Past that it is moved aside
//! to `FILE.old` (replacing an older one) and started again; `shoplab
//! trace` reads both.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How large a hop log grows before it is moved aside.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// A log file that is moved aside to `FILE.old` when it passes [`MAX_BYTES`].
/// Only the hop log's writer thread writes it (`queue.rs`), a batch of
/// lines at a time.
pub(super) struct CappedFile {
    path: PathBuf,
    file: File,
    written: u64,
}

impl CappedFile {
    pub(super) fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        Ok(Self {
            path: path.to_owned(),
            file,
            written,
        })
    }

    fn roll_if_full(&mut self) -> std::io::Result<()> {
        if self.written < MAX_BYTES {
            return Ok(());
        }
        let mut old = self.path.clone().into_os_string();
        old.push(".old");
        std::fs::rename(&self.path, old)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.file = file;
        self.written = 0;
        Ok(())
    }
}

impl Write for CappedFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.roll_if_full()?;
        let written = self.file.write(bytes)?;
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
