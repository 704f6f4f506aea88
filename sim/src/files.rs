//! A simulated node's block and undo files, with every payload held once per run: a thousand
//! nodes store the same blocks and (on the same chain) the same undo data, so each node keeps
//! only where its records are and a shared reference to their bytes ([`Payloads`]).
//!
//! Records sit at the offsets the core's framing gives them ([`record_size`],
//! [`next_record_start`]), so positions are those a real file would have; a crash keeps only
//! what was synced, as [`rbtcd_core::chain::MemStore`]'s files do. The frame's checksum is not
//! computed: nothing in the simulator damages file bytes.

use rbtcd_core::chain::block_files::{
    next_record_start, record_size, BadRecord, FileEnd, FileEnds, RECORD_HEADER, RECORD_TRAILER,
};
use rbtcd_core::chain::{BlockFiles, ChainStore, FileKind, FilePos, MemStore, StoreError};
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

/// The payloads of one run's records, each held once whichever nodes store it. Only looked up,
/// never iterated, so its hashing order cannot reach a run's outcome.
#[derive(Default)]
pub struct Payloads(RefCell<HashSet<Rc<[u8]>>>);

impl Payloads {
    /// The shared copy of `bytes`.
    fn intern(&self, bytes: &[u8]) -> Rc<[u8]> {
        let mut set = self.0.borrow_mut();
        if let Some(held) = set.get(bytes) {
            return held.clone();
        }
        let held: Rc<[u8]> = Rc::from(bytes);
        set.insert(held.clone());
        held
    }

    /// Distinct payloads held and their bytes.
    pub fn size(&self) -> (usize, usize) {
        let set = self.0.borrow();
        (set.len(), set.iter().map(|p| p.len()).sum())
    }
}

/// One file: its records by payload offset, its length, and how much of it is durable.
#[derive(Clone, Default)]
struct File {
    records: Vec<(u32, Rc<[u8]>)>,
    len: u32,
    synced_records: usize,
    synced_len: u32,
}

/// A node's block and undo files (see the module docs). Clones are independent files sharing
/// the payloads.
#[derive(Clone)]
pub struct SimFiles {
    files: [Vec<File>; 2],
    payloads: Rc<Payloads>,
}

impl SimFiles {
    /// Empty files storing their payloads in `payloads`.
    pub fn new(payloads: Rc<Payloads>) -> SimFiles {
        SimFiles {
            files: Default::default(),
            payloads,
        }
    }

    /// Files holding, at the same positions, every record `base`'s committed index refers to,
    /// durable, and as long as `base` says its files are: what a copy of its synced files holds
    /// for the blocks it knows.
    pub fn copy_of(base: &MemStore, payloads: Rc<Payloads>) -> Result<SimFiles, StoreError> {
        let mut records: Vec<(FileKind, FilePos)> = Vec::new();
        for entry in base.index_entries()? {
            records.extend(entry.data.map(|pos| (FileKind::Blocks, pos)));
            records.extend(entry.undo.map(|pos| (FileKind::Undo, pos)));
        }
        records.sort_by_key(|(kind, pos)| (*kind, pos.file, pos.offset));
        let mut files = SimFiles::new(payloads);
        for (kind, pos) in records {
            let payload = files.payloads.intern(&base.read(kind, pos)?);
            let seq = &mut files.files[kind.index()];
            while seq.len() <= pos.file as usize {
                seq.push(File::default());
            }
            let file = &mut seq[pos.file as usize];
            file.records.push((pos.offset, payload));
            file.len = file.len.max(pos.offset + pos.len + RECORD_TRAILER);
        }
        if let Some(ends) = base.file_ends()? {
            for kind in FileKind::ALL {
                let end = ends.of(kind);
                let seq = &mut files.files[kind.index()];
                while seq.len() <= end.file as usize {
                    seq.push(File::default());
                }
                seq[end.file as usize].len = end.len;
            }
        }
        files.sync()?;
        Ok(files)
    }

    /// Drops every record not synced, as a power cut does.
    pub fn crash(&mut self) {
        for file in self.files.iter_mut().flatten() {
            file.records.truncate(file.synced_records);
            file.len = file.synced_len;
        }
    }

    fn end(&self, kind: FileKind) -> FileEnd {
        let seq = &self.files[kind.index()];
        seq.last().map_or(FileEnd::default(), |f| FileEnd {
            file: seq.len() as u32 - 1,
            len: f.len,
        })
    }
}

impl BlockFiles for SimFiles {
    fn append(&mut self, kind: FileKind, payload: &[u8]) -> Result<FilePos, StoreError> {
        let size = record_size(payload.len() as u32);
        let at = next_record_start(self.end(kind), size);
        let held = self.payloads.intern(payload);
        let seq = &mut self.files[kind.index()];
        while seq.len() <= at.file as usize {
            seq.push(File::default());
        }
        let file = &mut seq[at.file as usize];
        let offset = at.len + RECORD_HEADER;
        file.records.push((offset, held));
        file.len = at.len + size;
        Ok(FilePos {
            file: at.file,
            offset,
            len: payload.len() as u32,
        })
    }

    fn read(&self, kind: FileKind, pos: FilePos) -> Result<Vec<u8>, StoreError> {
        let bad = |reason: &str| {
            StoreError::BadFile(BadRecord {
                file: kind.file_name(pos.file),
                offset: u64::from(pos.offset.saturating_sub(RECORD_HEADER)),
                reason: reason.into(),
            })
        };
        let records = self.files[kind.index()]
            .get(pos.file as usize)
            .map_or(&[][..], |f| f.records.as_slice());
        let at = records
            .binary_search_by_key(&pos.offset, |(offset, _)| *offset)
            .map_err(|_| bad("no record starts here"))?;
        let payload = &records[at].1;
        if payload.len() != pos.len as usize {
            return Err(bad(&format!(
                "record of {} bytes where the index says {}",
                payload.len(),
                pos.len
            )));
        }
        Ok(payload.to_vec())
    }

    fn sync(&mut self) -> Result<FileEnds, StoreError> {
        for file in self.files.iter_mut().flatten() {
            file.synced_records = file.records.len();
            file.synced_len = file.len;
        }
        Ok(FileEnds([
            self.end(FileKind::Blocks),
            self.end(FileKind::Undo),
        ]))
    }

    fn truncate(&mut self, ends: FileEnds) -> Result<(), StoreError> {
        for kind in FileKind::ALL {
            let end = ends.of(kind);
            let seq = &mut self.files[kind.index()];
            seq.truncate(end.file as usize + 1);
            if let Some(file) = seq.get_mut(end.file as usize) {
                // A record cut anywhere is gone: its bytes no longer read back.
                let kept = file.records.partition_point(|(offset, p)| {
                    offset + p.len() as u32 + RECORD_TRAILER <= end.len
                });
                file.records.truncate(kept);
                file.len = file.len.min(end.len);
                file.synced_records = file.synced_records.min(kept);
                file.synced_len = file.synced_len.min(file.len);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbtcd_core::chain::block_files::MemFiles;

    /// Both files after the same operations: the same positions, the same bytes read back.
    #[test]
    fn records_land_where_mem_files_put_them_and_share_their_bytes() {
        let payloads = Rc::new(Payloads::default());
        let (mut a, mut b) = (
            SimFiles::new(payloads.clone()),
            SimFiles::new(payloads.clone()),
        );
        let mut mem = MemFiles::default();
        let mut positions = Vec::new();
        for (kind, payload) in [
            (FileKind::Blocks, &b"first block"[..]),
            (FileKind::Undo, b"undo"),
            (FileKind::Blocks, b"second"),
        ] {
            let pos = a.append(kind, payload).unwrap();
            assert_eq!(b.append(kind, payload).unwrap(), pos);
            assert_eq!(mem.append(kind, payload).unwrap(), pos);
            positions.push((kind, pos, payload));
        }
        assert_eq!(payloads.size(), (3, 21), "each payload held once");
        assert_eq!(a.sync().unwrap(), mem.sync().unwrap());
        for (kind, pos, payload) in &positions {
            assert_eq!(a.read(*kind, *pos).unwrap(), *payload);
        }
        let wrong = FilePos {
            len: 3,
            ..positions[0].1
        };
        assert!(matches!(
            a.read(FileKind::Blocks, wrong),
            Err(StoreError::BadFile(_))
        ));
    }

    #[test]
    fn a_crash_keeps_what_was_synced_and_truncation_cuts_whole_records() {
        let mut f = SimFiles::new(Rc::default());
        let first = f.append(FileKind::Blocks, b"kept").unwrap();
        let ends = f.sync().unwrap();
        let lost = f.append(FileKind::Blocks, b"lost").unwrap();
        f.crash();
        assert!(f.read(FileKind::Blocks, lost).is_err());
        assert_eq!(f.read(FileKind::Blocks, first).unwrap(), b"kept");
        assert_eq!(f.append(FileKind::Blocks, b"next").unwrap(), lost);
        f.truncate(ends).unwrap();
        assert!(f.read(FileKind::Blocks, lost).is_err());
        assert_eq!(f.sync().unwrap(), ends);
    }
}
