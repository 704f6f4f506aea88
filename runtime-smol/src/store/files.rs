//! The block files on disk: `blk00000.dat`, `rev00000.dat`, ... beside the LMDB environment,
//! framed and checked as the core says ([`rbtcd_core::chain::block_files`]).
//!
//! Appends go straight to the kernel (no user-space buffer, so reads see them at once) into
//! space preallocated in chunks with `fallocate`, so a full disk shows up as a failed
//! preallocation rather than a torn record, and `fdatasync` has no file-size change to write.
//! [`BlockFiles::sync`] syncs every file appended to since the last sync.

use rbtcd_core::chain::block_files::{
    frame_record, next_record_start, record_size, unframe_record, BadRecord, FileEnd, FileEnds,
    RECORD_HEADER,
};
use rbtcd_core::chain::{BlockFiles, FileKind, FilePos, StoreError};
use rustix::fs::{fallocate, FallocateFlags};
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Preallocation steps (Core's `BLOCKFILE_CHUNK_SIZE` and `UNDOFILE_CHUNK_SIZE`).
fn chunk(kind: FileKind) -> u64 {
    match kind {
        FileKind::Blocks => 16 << 20,
        FileKind::Undo => 1 << 20,
    }
}

/// One sequence of files (blocks or undo).
struct Sequence {
    kind: FileKind,
    /// The file being appended to, opened lazily.
    current: Option<File>,
    end: FileEnd,
    /// Bytes of the current file preallocated so far.
    allocated: u64,
    /// Files written since the last sync.
    unsynced: BTreeSet<u32>,
}

/// The block and undo files of one data directory.
pub struct FlatFiles {
    dir: PathBuf,
    seqs: [Sequence; 2],
    /// Files synced to disk since open.
    syncs: u64,
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("{what} {}: {e}", path.display()))
}

impl FlatFiles {
    /// The files in `dir` (created if missing), appending after the last existing file.
    /// [`BlockFiles::truncate`] then cuts them back to what the database committed.
    pub fn open(dir: &Path) -> Result<FlatFiles, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, "cannot create", e))?;
        let mut files = FlatFiles {
            dir: dir.to_path_buf(),
            seqs: FileKind::ALL.map(|kind| Sequence {
                kind,
                current: None,
                end: FileEnd::default(),
                allocated: 0,
                unsynced: BTreeSet::new(),
            }),
            syncs: 0,
        };
        for kind in FileKind::ALL {
            let numbers = files.existing(kind)?;
            if let Some(&last) = numbers.last() {
                let path = files.path(kind, last);
                let len = std::fs::metadata(&path)
                    .map_err(|e| io_error(&path, "cannot read", e))?
                    .len();
                files.seqs[kind.index()].end = FileEnd {
                    file: last,
                    len: len.min(u64::from(u32::MAX)) as u32,
                };
            }
        }
        Ok(files)
    }

    /// How many times a file was synced to disk since open (one `fdatasync` per file appended
    /// to at each [`BlockFiles::sync`], one `fsync` per file cut back at start).
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    fn path(&self, kind: FileKind, file: u32) -> PathBuf {
        self.dir.join(kind.file_name(file))
    }

    /// Numbers of the files of `kind` present, in order.
    fn existing(&self, kind: FileKind) -> Result<Vec<u32>, StoreError> {
        let prefix = &kind.file_name(0)[..3];
        let mut numbers = Vec::new();
        let entries =
            std::fs::read_dir(&self.dir).map_err(|e| io_error(&self.dir, "cannot list", e))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let number = name
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(".dat"))
                .filter(|n| n.len() == 5)
                .and_then(|n| n.parse::<u32>().ok());
            numbers.extend(number);
        }
        numbers.sort_unstable();
        Ok(numbers)
    }

    fn open_file(&self, kind: FileKind, file: u32) -> Result<File, StoreError> {
        let path = self.path(kind, file);
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error(&path, "cannot open", e))
    }

    /// Checks that every file up to `end` is present and the last one holds at least the
    /// committed bytes: a file lost or cut short since is damage, reported with the file and
    /// the offset where its bytes stop, never papered over by the cut back to `end`.
    fn check_committed(&self, kind: FileKind, end: FileEnd) -> Result<(), StoreError> {
        for file in 0..=end.file {
            let path = self.path(kind, file);
            let len = std::fs::metadata(&path).map_or(0, |m| m.len());
            let (needed, what) = match file == end.file {
                true => (u64::from(end.len), format!("{} committed bytes", end.len)),
                false => (1, "the records the database refers to".to_string()),
            };
            if len < needed {
                return Err(StoreError::BadFile(BadRecord {
                    file: kind.file_name(file),
                    offset: len,
                    reason: format!("the file ends there, short of {what}"),
                }));
            }
        }
        Ok(())
    }

    /// Makes sure bytes up to `needed` of the current file of `seq` exist on disk.
    fn preallocate(&mut self, i: usize, needed: u64) -> Result<(), StoreError> {
        let (kind, file, allocated) = {
            let s = &self.seqs[i];
            (s.kind, s.end.file, s.allocated)
        };
        if needed <= allocated {
            return Ok(());
        }
        let step = chunk(kind);
        let target = needed.div_ceil(step) * step;
        let path = self.path(kind, file);
        let f = self.seqs[i].current.as_ref().expect("opened before");
        fallocate(f, FallocateFlags::empty(), allocated, target - allocated)
            .map_err(|e| io_error(&path, "cannot preallocate", e.into()))?;
        self.seqs[i].allocated = target;
        Ok(())
    }
}

impl BlockFiles for FlatFiles {
    fn append(&mut self, kind: FileKind, payload: &[u8]) -> Result<FilePos, StoreError> {
        let i = kind.index();
        let record = frame_record(payload);
        let at = next_record_start(self.seqs[i].end, record.len() as u32);
        if at.file != self.seqs[i].end.file || self.seqs[i].current.is_none() {
            let f = self.open_file(kind, at.file)?;
            let allocated = f
                .metadata()
                .map_err(|e| io_error(&self.path(kind, at.file), "cannot read", e))?
                .len();
            let s = &mut self.seqs[i];
            s.current = Some(f);
            s.allocated = allocated;
            s.end = at;
        }
        self.preallocate(i, u64::from(at.len) + record.len() as u64)?;
        let path = self.path(kind, at.file);
        let s = &mut self.seqs[i];
        s.current
            .as_ref()
            .expect("opened above")
            .write_all_at(&record, u64::from(at.len))
            .map_err(|e| io_error(&path, "cannot write", e))?;
        s.end.len = at.len + record.len() as u32;
        s.unsynced.insert(at.file);
        Ok(FilePos {
            file: at.file,
            offset: at.len + RECORD_HEADER,
            len: payload.len() as u32,
        })
    }

    fn read(&self, kind: FileKind, pos: FilePos) -> Result<Vec<u8>, StoreError> {
        read(&self.dir, kind, pos)
    }

    fn sync(&mut self) -> Result<FileEnds, StoreError> {
        for i in 0..self.seqs.len() {
            let kind = self.seqs[i].kind;
            for file in std::mem::take(&mut self.seqs[i].unsynced) {
                let path = self.path(kind, file);
                let f = match (&self.seqs[i].current, file == self.seqs[i].end.file) {
                    (Some(f), true) => f.try_clone(),
                    _ => File::open(&path),
                }
                .map_err(|e| io_error(&path, "cannot open", e))?;
                f.sync_data()
                    .map_err(|e| io_error(&path, "cannot sync", e))?;
                self.syncs += 1;
            }
        }
        Ok(FileEnds([self.seqs[0].end, self.seqs[1].end]))
    }

    fn truncate(&mut self, ends: FileEnds) -> Result<(), StoreError> {
        // Checked before anything is cut, so a refused start changes nothing on disk.
        for kind in FileKind::ALL {
            self.check_committed(kind, ends.of(kind))?;
        }
        for kind in FileKind::ALL {
            let end = ends.of(kind);
            for file in self.existing(kind)? {
                let path = self.path(kind, file);
                if file > end.file {
                    std::fs::remove_file(&path).map_err(|e| io_error(&path, "cannot remove", e))?;
                } else if file == end.file {
                    let f = self.open_file(kind, file)?;
                    f.set_len(u64::from(end.len))
                        .and_then(|()| f.sync_all())
                        .map_err(|e| io_error(&path, "cannot truncate", e))?;
                    self.syncs += 1;
                }
            }
            let s = &mut self.seqs[kind.index()];
            s.current = None;
            s.end = end;
            s.allocated = 0;
            s.unsynced.clear();
        }
        Ok(())
    }
}

/// Reads into `buf` from `offset` until it is full or the file ends; the bytes read.
/// Reads the record at `pos` from the files of `kind` in `dir`. It needs nothing of the
/// writer but the directory, so readers on other threads call it too (the RPC server's block
/// lookups): records are appended and never moved while the daemon runs.
pub fn read(dir: &Path, kind: FileKind, pos: FilePos) -> Result<Vec<u8>, StoreError> {
    let path = dir.join(kind.file_name(pos.file));
    let size = record_size(pos.len) as usize;
    let mut record = vec![0u8; size];
    let start = u64::from(pos.offset.saturating_sub(RECORD_HEADER));
    // A missing or short file is damage the checks below report with the file and offset.
    let got = match File::open(&path) {
        Ok(f) => read_up_to(&f, &mut record, start),
        Err(_) => 0,
    };
    record.truncate(got);
    unframe_record(kind, pos, &record).map(<[u8]>::to_vec)
}

fn read_up_to(f: &File, buf: &mut [u8], offset: u64) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match f.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    got
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rbtcd-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn records_survive_a_reopen_and_damage_names_file_and_offset() {
        let dir = temp_dir("reopen");
        let mut f = FlatFiles::open(&dir).unwrap();
        let a = f.append(FileKind::Blocks, b"block one").unwrap();
        let u = f.append(FileKind::Undo, b"undo one").unwrap();
        let ends = f.sync().unwrap();
        let lost = f.append(FileKind::Blocks, b"not committed").unwrap();
        drop(f);
        // Preallocation made the file longer than its records.
        let len = std::fs::metadata(dir.join("blk00000.dat")).unwrap().len();
        assert!(len >= 16 << 20, "{len}");
        let mut f = FlatFiles::open(&dir).unwrap();
        f.truncate(ends).unwrap();
        assert_eq!(f.read(FileKind::Blocks, a).unwrap(), b"block one");
        assert_eq!(f.read(FileKind::Undo, u).unwrap(), b"undo one");
        assert!(f.read(FileKind::Blocks, lost).is_err(), "cut back at start");
        let b = f.append(FileKind::Blocks, b"block two").unwrap();
        assert_eq!(
            b.offset, lost.offset,
            "appends continue at the committed end"
        );
        // A damaged byte in the middle of a record.
        let file = OpenOptions::new()
            .write(true)
            .open(dir.join("blk00000.dat"))
            .unwrap();
        file.write_all_at(b"X", u64::from(b.offset) + 2).unwrap();
        match f.read(FileKind::Blocks, b) {
            Err(StoreError::BadFile(bad)) => {
                assert_eq!(bad.file, "blk00000.dat");
                assert_eq!(bad.offset, u64::from(b.offset - RECORD_HEADER));
            }
            other => panic!("{other:?}"),
        }
        // A file cut short.
        std::fs::remove_file(dir.join("rev00000.dat")).unwrap();
        let e = f.read(FileKind::Undo, u).unwrap_err().to_string();
        assert!(e.contains("rev00000.dat damaged at offset 0"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn files_short_of_the_committed_ends_are_refused_untouched() {
        let dir = temp_dir("short");
        let mut f = FlatFiles::open(&dir).unwrap();
        f.append(FileKind::Blocks, &[1; 100]).unwrap();
        f.append(FileKind::Undo, b"undo").unwrap();
        let ends = f.sync().unwrap();
        drop(f);
        let blk = dir.join("blk00000.dat");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&blk)
            .unwrap()
            .set_len(50)
            .unwrap();
        let e = FlatFiles::open(&dir)
            .unwrap()
            .truncate(ends)
            .unwrap_err()
            .to_string();
        assert!(e.contains("blk00000.dat damaged at offset 50"), "{e}");
        assert_eq!(std::fs::metadata(&blk).unwrap().len(), 50, "left as found");
        // A whole file missing below the committed end.
        let later = FileEnds([FileEnd { file: 1, len: 0 }, ends.of(FileKind::Undo)]);
        std::fs::remove_file(&blk).unwrap();
        let e = FlatFiles::open(&dir)
            .unwrap()
            .truncate(later)
            .unwrap_err()
            .to_string();
        assert!(e.contains("blk00000.dat damaged at offset 0"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_fresh_store_removes_stray_files() {
        let dir = temp_dir("stray");
        let mut f = FlatFiles::open(&dir).unwrap();
        f.append(FileKind::Blocks, b"x").unwrap();
        f.sync().unwrap();
        std::fs::write(dir.join("blk00001.dat"), b"junk").unwrap();
        f.truncate(FileEnds::default()).unwrap();
        assert!(!dir.join("blk00001.dat").exists());
        assert_eq!(
            std::fs::metadata(dir.join("blk00000.dat")).unwrap().len(),
            0
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
