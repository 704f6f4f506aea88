//! Blocks and undo data in append-only flat files, as Bitcoin Core's `blk*.dat`/`rev*.dat`
//! (and btcd's ffldb): the [`BlockFiles`] interface every store implements, where a record is,
//! how a record is framed and checked, and [`MemFiles`], the in-memory files of
//! [`MemStore`](super::MemStore) with a real crash's semantics.
//!
//! A block is stored as the bytes it arrived as, never re-serialized. Appends are not durable
//! until [`BlockFiles::sync`]; the chain syncs the files before the store batch that refers to
//! them (see [`super::state`] for the whole argument), and at start cuts every file back to the
//! end the last batch recorded, so bytes a crash left half-written are never read.

use super::store::StoreError;
use crate::primitives::{Decodable, DecodeError, Encodable, Reader};
use crate::script::hashes::sha256;
use std::fmt;

/// Which sequence of files.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord, Hash)]
pub enum FileKind {
    /// Raw blocks (`blk00000.dat`, ...).
    Blocks,
    /// Undo data of connected blocks (`rev00000.dat`, ...).
    Undo,
}

impl FileKind {
    /// Both kinds.
    pub const ALL: [FileKind; 2] = [FileKind::Blocks, FileKind::Undo];

    /// The file name of number `file` of this kind (Core's names).
    pub fn file_name(self, file: u32) -> String {
        match self {
            FileKind::Blocks => format!("blk{file:05}.dat"),
            FileKind::Undo => format!("rev{file:05}.dat"),
        }
    }

    /// Position in [`FileKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Largest size of one file (Core's `MAX_BLOCKFILE_SIZE`); a record that does not fit starts
/// the next file.
pub const MAX_FILE_SIZE: u32 = 128 << 20;
/// Bytes before a record's payload: four magic bytes, then its length (u32 LE).
pub const RECORD_HEADER: u32 = 8;
/// Bytes after a record's payload: the first four bytes of its SHA-256.
pub const RECORD_TRAILER: u32 = 4;
/// Every record starts with these, so a scan or a bad offset is recognised.
pub const RECORD_MAGIC: [u8; 4] = *b"rbtc";

/// Where a record's payload is.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct FilePos {
    /// File number.
    pub file: u32,
    /// Offset of the payload in the file (after the record header).
    pub offset: u32,
    /// Payload length.
    pub len: u32,
}

/// How far one sequence of files is committed: its last file and that file's length (the
/// files before it are complete).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, PartialOrd, Ord)]
pub struct FileEnd {
    /// Number of the file being appended to.
    pub file: u32,
    /// Its committed length in bytes.
    pub len: u32,
}

/// The committed ends of both sequences, recorded with every store batch that refers to
/// records in them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct FileEnds(pub [FileEnd; 2]);

impl FileEnds {
    /// The end of the files of `kind`.
    pub fn of(&self, kind: FileKind) -> FileEnd {
        self.0[kind.index()]
    }
}

impl Encodable for FilePos {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.file.to_le_bytes());
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
    }
}

impl Decodable for FilePos {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FilePos {
            file: r.u32_le()?,
            offset: r.u32_le()?,
            len: r.u32_le()?,
        })
    }
}

impl Encodable for FileEnds {
    fn encode_to(&self, out: &mut Vec<u8>) {
        for end in &self.0 {
            out.extend_from_slice(&end.file.to_le_bytes());
            out.extend_from_slice(&end.len.to_le_bytes());
        }
    }
}

impl Decodable for FileEnds {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut end = || -> Result<FileEnd, DecodeError> {
            Ok(FileEnd {
                file: r.u32_le()?,
                len: r.u32_le()?,
            })
        };
        Ok(FileEnds([end()?, end()?]))
    }
}

/// Why a record read back does not match what the index says is there.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BadRecord {
    /// The file, e.g. `blk00003.dat`.
    pub file: String,
    /// Offset of the record's header in it.
    pub offset: u64,
    /// What was wrong.
    pub reason: String,
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "block file {} damaged at offset {}: {}; restore it from a backup or delete the \
             data directory and resync",
            self.file, self.offset, self.reason
        )
    }
}

/// Storage for raw blocks and undo data: append, read back, make durable, cut back.
pub trait BlockFiles {
    /// Appends one record with `payload` to the files of `kind` (starting a new file when the
    /// current one is full) and says where its payload is. Not durable until [`Self::sync`].
    fn append(&mut self, kind: FileKind, payload: &[u8]) -> Result<FilePos, StoreError>;
    /// The payload of the record at `pos`, checked against its header and checksum; a
    /// mismatch is [`StoreError::BadFile`] naming the file and offset.
    fn read(&self, kind: FileKind, pos: FilePos) -> Result<Vec<u8>, StoreError>;
    /// Makes every append so far durable and returns the ends of both sequences.
    fn sync(&mut self) -> Result<FileEnds, StoreError>;
    /// Cuts both sequences back to `ends` (files after them removed): what the last committed
    /// batch did not refer to is dropped at start.
    fn truncate(&mut self, ends: FileEnds) -> Result<(), StoreError>;
}

/// The bytes of one record: header, payload, checksum.
pub fn frame_record(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + (RECORD_HEADER + RECORD_TRAILER) as usize);
    out.extend_from_slice(&RECORD_MAGIC);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&sha256(payload)[..RECORD_TRAILER as usize]);
    out
}

/// Total bytes a record with `len` payload bytes takes.
pub fn record_size(len: u32) -> u32 {
    RECORD_HEADER + len + RECORD_TRAILER
}

/// Checks `record` (the whole framed record read from the file of `kind` number `pos.file`,
/// `record_size(pos.len)` bytes or fewer when the file ended early) and returns its payload.
pub fn unframe_record(kind: FileKind, pos: FilePos, record: &[u8]) -> Result<&[u8], StoreError> {
    let bad = |reason: String| {
        StoreError::BadFile(BadRecord {
            file: kind.file_name(pos.file),
            offset: u64::from(pos.offset.saturating_sub(RECORD_HEADER)),
            reason,
        })
    };
    let want = record_size(pos.len) as usize;
    if pos.offset < RECORD_HEADER || record.len() < want {
        return Err(bad(format!(
            "record of {want} bytes expected, the file holds {}",
            record.len()
        )));
    }
    if record[..4] != RECORD_MAGIC {
        return Err(bad("no record starts here".into()));
    }
    let len = u32::from_le_bytes(record[4..8].try_into().expect("4 bytes"));
    if len != pos.len {
        return Err(bad(format!(
            "record of {len} bytes where the index says {}",
            pos.len
        )));
    }
    let payload = &record[RECORD_HEADER as usize..want - RECORD_TRAILER as usize];
    if sha256(payload)[..4] != record[want - RECORD_TRAILER as usize..want] {
        return Err(bad("checksum mismatch".into()));
    }
    Ok(payload)
}

/// Where the next record of `size` bytes goes after `end`: the same file while it fits, else
/// the start of the next one.
pub fn next_record_start(end: FileEnd, size: u32) -> FileEnd {
    if end.len > 0 && end.len.saturating_add(size) > MAX_FILE_SIZE {
        FileEnd {
            file: end.file + 1,
            len: 0,
        }
    } else {
        end
    }
}

/// One in-memory file: its bytes and how many of them are durable.
#[derive(Clone, Debug, Default)]
struct MemFile {
    bytes: Vec<u8>,
    synced: usize,
}

/// Flat files in memory for tests and the simulator. A crash ([`MemFiles::crash`]) keeps
/// only what was synced, as a power cut would (a killed process would keep more, so this is
/// the harsher case).
#[derive(Clone, Debug, Default)]
pub struct MemFiles {
    files: [Vec<MemFile>; 2],
}

impl MemFiles {
    /// Drops every byte not synced.
    pub fn crash(&mut self) {
        for seq in &mut self.files {
            for f in seq.iter_mut() {
                f.bytes.truncate(f.synced);
            }
        }
    }

    /// Overwrites the byte at `offset` of file `file` of `kind` (tests of damaged files).
    pub fn corrupt(&mut self, kind: FileKind, file: u32, offset: usize) {
        if let Some(b) = self.files[kind.index()]
            .get_mut(file as usize)
            .and_then(|f| f.bytes.get_mut(offset))
        {
            *b ^= 0x55;
        }
    }

    /// Total bytes held, synced or not.
    pub fn total_bytes(&self) -> usize {
        self.files.iter().flatten().map(|f| f.bytes.len()).sum()
    }

    fn end(&self, kind: FileKind) -> FileEnd {
        let seq = &self.files[kind.index()];
        match seq.last() {
            None => FileEnd::default(),
            Some(f) => FileEnd {
                file: seq.len() as u32 - 1,
                len: f.bytes.len() as u32,
            },
        }
    }
}

impl BlockFiles for MemFiles {
    fn append(&mut self, kind: FileKind, payload: &[u8]) -> Result<FilePos, StoreError> {
        let record = frame_record(payload);
        let at = next_record_start(self.end(kind), record.len() as u32);
        let seq = &mut self.files[kind.index()];
        while seq.len() <= at.file as usize {
            seq.push(MemFile::default());
        }
        seq[at.file as usize].bytes.extend_from_slice(&record);
        Ok(FilePos {
            file: at.file,
            offset: at.len + RECORD_HEADER,
            len: payload.len() as u32,
        })
    }

    fn read(&self, kind: FileKind, pos: FilePos) -> Result<Vec<u8>, StoreError> {
        let bytes = self.files[kind.index()]
            .get(pos.file as usize)
            .map_or(&[][..], |f| f.bytes.as_slice());
        let start = (pos.offset.saturating_sub(RECORD_HEADER) as usize).min(bytes.len());
        let end = (start + record_size(pos.len) as usize).min(bytes.len());
        unframe_record(kind, pos, &bytes[start..end]).map(<[u8]>::to_vec)
    }

    fn sync(&mut self) -> Result<FileEnds, StoreError> {
        for seq in &mut self.files {
            for f in seq.iter_mut() {
                f.synced = f.bytes.len();
            }
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
            if let Some(f) = seq.get_mut(end.file as usize) {
                f.bytes.truncate(end.len as usize);
                // What was cut is given back: a simulated node's store starts as a copy of a
                // prepared chain truncated to nothing, and kept the copy's bytes allocated.
                f.bytes.shrink_to_fit();
                f.synced = f.synced.min(f.bytes.len());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_and_damage_is_reported_with_file_and_offset() {
        let mut f = MemFiles::default();
        let a = f.append(FileKind::Blocks, b"first block").unwrap();
        let b = f.append(FileKind::Blocks, b"second").unwrap();
        let u = f.append(FileKind::Undo, b"undo").unwrap();
        assert_eq!(f.read(FileKind::Blocks, a).unwrap(), b"first block");
        assert_eq!(f.read(FileKind::Blocks, b).unwrap(), b"second");
        assert_eq!(f.read(FileKind::Undo, u).unwrap(), b"undo");
        assert_eq!(b.offset, a.offset + record_size(a.len));
        f.corrupt(FileKind::Blocks, 0, b.offset as usize + 2);
        match f.read(FileKind::Blocks, b) {
            Err(StoreError::BadFile(bad)) => {
                assert_eq!(bad.file, "blk00000.dat");
                assert_eq!(bad.offset, u64::from(b.offset - RECORD_HEADER));
                assert!(bad.reason.contains("checksum"), "{bad}");
            }
            other => panic!("{other:?}"),
        }
        // A position past the end (a truncated file) and one inside another record.
        let past = FilePos {
            offset: b.offset + 100,
            ..b
        };
        assert!(matches!(
            f.read(FileKind::Blocks, past),
            Err(StoreError::BadFile(_))
        ));
        let inside = FilePos {
            offset: a.offset + 1,
            ..a
        };
        assert!(matches!(
            f.read(FileKind::Blocks, inside),
            Err(StoreError::BadFile(_))
        ));
    }

    #[test]
    fn a_crash_keeps_what_was_synced_and_truncate_cuts_back() {
        let mut f = MemFiles::default();
        let a = f.append(FileKind::Blocks, b"kept").unwrap();
        let ends = f.sync().unwrap();
        let b = f.append(FileKind::Blocks, b"lost").unwrap();
        f.crash();
        assert_eq!(f.read(FileKind::Blocks, a).unwrap(), b"kept");
        assert!(f.read(FileKind::Blocks, b).is_err());
        let c = f.append(FileKind::Blocks, b"again").unwrap();
        assert_eq!(c.offset, b.offset, "appends continue at the durable end");
        f.truncate(ends).unwrap();
        assert!(f.read(FileKind::Blocks, c).is_err());
        assert_eq!(f.sync().unwrap(), ends);
    }

    #[test]
    fn a_full_file_moves_on_to_the_next() {
        let end = FileEnd {
            file: 3,
            len: MAX_FILE_SIZE - 10,
        };
        assert_eq!(next_record_start(end, 11), FileEnd { file: 4, len: 0 });
        assert_eq!(next_record_start(end, 10), end);
        // A record larger than a whole file still goes into an empty file.
        let empty = FileEnd { file: 0, len: 0 };
        assert_eq!(next_record_start(empty, MAX_FILE_SIZE + 1), empty);
    }

    #[test]
    fn positions_and_ends_round_trip() {
        let p = FilePos {
            file: 7,
            offset: 1234,
            len: 99,
        };
        assert_eq!(FilePos::decode(&p.encode()).unwrap(), p);
        let e = FileEnds([FileEnd { file: 1, len: 2 }, FileEnd { file: 3, len: 4 }]);
        assert_eq!(FileEnds::decode(&e.encode()).unwrap(), e);
    }
}
