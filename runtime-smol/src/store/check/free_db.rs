//! LMDB's free-page database (dbi 0) read record by record, as `mdb_stat -f` reads it. Each
//! record lists the pages one transaction freed: its key is that transaction's id, its value
//! a count and then the page numbers, largest first. Every write transaction that needs pages
//! reads these records, oldest first, and trusts them: it copies as many page numbers as the
//! count says and hands those pages out to be overwritten. So a damaged record can kill the
//! daemon at its first write (the shutdown flush is one) or make it overwrite pages in use;
//! reading the tables never touches this database, so the walk reads it too. What these
//! checks cannot see is a list naming, in order and in range, a page that a table still uses:
//! that would take a walk of every page of every tree.
//!
//! heed opens no cursor on dbi 0 and does not expose its raw handles, so this goes through
//! LMDB's C API (heed's own sys crate, the same build of LMDB). A write transaction begun and
//! aborted here would read only the records one allocation needs, and trust them as LMDB does;
//! reading every record with the checks below covers more, and cannot change the file.

use lmdb_master_sys as ffi;
use std::ffi::CString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// LMDB's first two pages are its meta pages, never listed as free.
const FIRST_DATA_PAGE: u64 = 2;

/// Why the free-page database is refused.
#[derive(Debug)]
pub enum FreeDbError {
    /// The directory's path holds a NUL byte, which LMDB's C API cannot take.
    Path,
    /// LMDB could not open the environment (the file is not one, or cannot be read).
    Open(heed::Error),
    /// LMDB reported an error while reading the free-page database.
    Read(heed::Error),
    /// A key that is not a transaction id (8 bytes).
    Key { bytes: usize },
    /// The list of pages freed by transaction `txn` is damaged.
    List { txn: u64, damage: ListDamage },
}

/// What is wrong with one record's list of pages.
#[derive(Debug, PartialEq, Eq)]
pub enum ListDamage {
    /// The value's length is not that of its count and that many page numbers.
    Length { bytes: usize, count: u64 },
    /// A page number not below the one before it (lists are sorted, largest first).
    Unsorted { page: u64, after: u64 },
    /// A meta page, or a page past the last one in use.
    OutOfRange { page: u64, last: u64 },
    /// A page listed again by the record of transaction `also`.
    ListedTwice { page: u64, also: u64 },
}

impl fmt::Display for FreeDbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const FREE_DB: &str = "the free-page database";
        match self {
            FreeDbError::Path => write!(f, "the directory's path holds a NUL byte"),
            FreeDbError::Open(e) => write!(f, "{e}"),
            FreeDbError::Read(e) => write!(f, "{FREE_DB}: {e}"),
            FreeDbError::Key { bytes } => {
                write!(f, "{FREE_DB}: a key of {bytes} bytes, not a transaction id")
            }
            FreeDbError::List { txn, damage } => {
                write!(
                    f,
                    "{FREE_DB}: the pages freed by transaction {txn}: {damage}"
                )
            }
        }
    }
}

impl fmt::Display for ListDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListDamage::Length { bytes, count } => {
                write!(f, "{bytes} bytes cannot hold a count of {count} pages")
            }
            ListDamage::Unsorted { page, after } => {
                write!(f, "page {page} after page {after}, out of order")
            }
            ListDamage::OutOfRange { page, last } => {
                write!(f, "page {page} is not a data page (the last is {last})")
            }
            ListDamage::ListedTwice { page, also } => {
                write!(f, "page {page} is also freed by transaction {also}")
            }
        }
    }
}

/// Reads every record of the free-page database of the environment in `dir` (opened with a
/// map of `map_size` bytes, as the daemon opens it) and checks each list: its length, its
/// order, every page a data page (not a meta page, not past the last page), no page in two
/// lists. Gives the number of pages listed.
pub fn walk(dir: &Path, map_size: usize) -> Result<u64, FreeDbError> {
    let path = CString::new(dir.as_os_str().as_bytes()).map_err(|_| FreeDbError::Path)?;
    let mut snapshot = Snapshot::open(&path, map_size).map_err(FreeDbError::Open)?;
    let last = snapshot.last_page;
    let mut listed = Vec::new();
    while let Some((key, value)) = snapshot.next().map_err(FreeDbError::Read)? {
        let txn = txn_id(key)?;
        let pages = pages(value, last).map_err(|damage| FreeDbError::List { txn, damage })?;
        listed.extend(pages.into_iter().map(|page| (page, txn)));
    }
    listed_once(listed)
}

/// How many pages `listed` (page, transaction that freed it) holds, when none is listed twice.
fn listed_once(mut listed: Vec<(u64, u64)>) -> Result<u64, FreeDbError> {
    listed.sort_unstable();
    match listed.windows(2).find(|w| w[0].0 == w[1].0) {
        Some(w) => Err(FreeDbError::List {
            txn: w[1].1,
            damage: ListDamage::ListedTwice {
                page: w[0].0,
                also: w[0].1,
            },
        }),
        None => Ok(listed.len() as u64),
    }
}

/// A record's key: the id of the transaction that freed the pages, a native `size_t`.
fn txn_id(key: &[u8]) -> Result<u64, FreeDbError> {
    let bytes = key
        .try_into()
        .map_err(|_| FreeDbError::Key { bytes: key.len() })?;
    Ok(u64::from_ne_bytes(bytes))
}

/// The page numbers of one record's value (native words: a count, then that many pages),
/// checked against `last`, the last page in use.
fn pages(value: &[u8], last: u64) -> Result<Vec<u64>, ListDamage> {
    // Words are read from bytes: a value in a leaf page is only 2-byte aligned.
    let mut words = value
        .chunks_exact(8)
        .map(|w| u64::from_ne_bytes(w.try_into().expect("8-byte chunks")));
    // An empty value has no count: 0, which wants 8 bytes.
    let count = words.next().unwrap_or(0);
    if !value.len().is_multiple_of(8) || count.checked_add(1) != Some((value.len() / 8) as u64) {
        return Err(ListDamage::Length {
            bytes: value.len(),
            count,
        });
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut before = u64::MAX;
    for page in words {
        if !(FIRST_DATA_PAGE..=last).contains(&page) {
            return Err(ListDamage::OutOfRange { page, last });
        }
        if page >= before {
            return Err(ListDamage::Unsorted {
                page,
                after: before,
            });
        }
        before = page;
        out.push(page);
    }
    Ok(out)
}

/// An LMDB environment, a read transaction on it and a cursor on its free-page database,
/// through the C API; all three closed when dropped.
struct Snapshot {
    env: *mut ffi::MDB_env,
    txn: *mut ffi::MDB_txn,
    cursor: *mut ffi::MDB_cursor,
    /// The last page in use in the file (`mm_last_pg` of the snapshot's meta page).
    last_page: u64,
}

/// A record's key and value.
type Record<'a> = (&'a [u8], &'a [u8]);

fn lmdb(rc: i32) -> Result<(), heed::Error> {
    match rc {
        0 => Ok(()),
        rc => Err(heed::MdbError::from_err_code(rc).into()),
    }
}

// SAFETY (for the unsafe blocks below): each handle is passed only to the calls LMDB
// documents for it, in its order: the environment closed after the transaction, the
// transaction ended after its cursor, all in one thread. The environment is opened with the
// daemon's flags and map size, and only read. LMDB requires that a process open a file only
// once at a time (closing a second handle drops the first's locks): the walk opens its heed
// environment only after this one is dropped, and the daemon waits for the check's process to
// exit before it opens the file.
#[allow(unsafe_code)]
impl Snapshot {
    fn open(path: &CString, map_size: usize) -> Result<Snapshot, heed::Error> {
        let mut s = Snapshot {
            env: std::ptr::null_mut(),
            txn: std::ptr::null_mut(),
            cursor: std::ptr::null_mut(),
            last_page: 0,
        };
        let mut info = std::mem::MaybeUninit::<ffi::MDB_envinfo>::uninit();
        // SAFETY: see the impl; a handle that failed to open stays null and is not closed.
        unsafe {
            lmdb(ffi::mdb_env_create(&mut s.env))?;
            lmdb(ffi::mdb_env_set_mapsize(s.env, map_size))?;
            lmdb(ffi::mdb_env_open(s.env, path.as_ptr(), 0, 0o600))?;
            lmdb(ffi::mdb_txn_begin(
                s.env,
                std::ptr::null_mut(),
                ffi::MDB_RDONLY,
                &mut s.txn,
            ))?;
            lmdb(ffi::mdb_env_info(s.env, info.as_mut_ptr()))?;
            s.last_page = info.assume_init().me_last_pgno as u64;
            lmdb(ffi::mdb_cursor_open(s.txn, 0, &mut s.cursor))?;
        }
        Ok(s)
    }

    /// The next record's key and value, in the memory map.
    fn next(&mut self) -> Result<Option<Record<'_>>, heed::Error> {
        let empty = || ffi::MDB_val {
            mv_size: 0,
            mv_data: std::ptr::null_mut(),
        };
        let (mut key, mut value) = (empty(), empty());
        // SAFETY: see the impl. The slices point into the map, valid until the transaction
        // ends, and they borrow `self`, which ends it. A damaged length can make one reach
        // past the file's end; reading there faults, and this process exists to fault there
        // instead of the daemon.
        unsafe {
            match ffi::mdb_cursor_get(self.cursor, &mut key, &mut value, ffi::MDB_NEXT) {
                ffi::MDB_NOTFOUND => Ok(None),
                rc => lmdb(rc).map(|()| {
                    Some((
                        std::slice::from_raw_parts(key.mv_data as *const u8, key.mv_size),
                        std::slice::from_raw_parts(value.mv_data as *const u8, value.mv_size),
                    ))
                }),
            }
        }
    }
}

#[allow(unsafe_code)]
impl Drop for Snapshot {
    fn drop(&mut self) {
        // SAFETY: see the impl; each handle is closed once, the cursor before its transaction
        // and the transaction before its environment.
        unsafe {
            if !self.cursor.is_null() {
                ffi::mdb_cursor_close(self.cursor);
            }
            if !self.txn.is_null() {
                ffi::mdb_txn_abort(self.txn);
            }
            if !self.env.is_null() {
                ffi::mdb_env_close(self.env);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(words: &[u64]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }

    #[test]
    fn a_list_is_its_count_then_that_many_data_pages_largest_first() {
        assert_eq!(pages(&value(&[3, 40, 9, 2]), 40), Ok(vec![40, 9, 2]));
        assert_eq!(pages(&value(&[0]), 40), Ok(vec![]));
        let damage = |words: &[u64]| super::pages(&value(words), 40).unwrap_err();
        // A count larger than the record is what LMDB would read past the record's end.
        assert_eq!(
            damage(&[1 << 28, 7]),
            ListDamage::Length {
                bytes: 16,
                count: 1 << 28
            }
        );
        assert_eq!(
            damage(&[1, 7, 5]),
            ListDamage::Length {
                bytes: 24,
                count: 1
            }
        );
        assert!(matches!(
            super::pages(&[0; 12], 40),
            Err(ListDamage::Length { bytes: 12, .. })
        ));
        assert!(matches!(
            super::pages(&[], 40),
            Err(ListDamage::Length { bytes: 0, .. })
        ));
        assert_eq!(
            damage(&[2, 41, 3]),
            ListDamage::OutOfRange { page: 41, last: 40 }
        );
        assert_eq!(
            damage(&[2, 9, 1]),
            ListDamage::OutOfRange { page: 1, last: 40 }
        );
        assert_eq!(
            damage(&[2, 9, 9]),
            ListDamage::Unsorted { page: 9, after: 9 }
        );
        assert_eq!(
            damage(&[3, 9, 12, 3]),
            ListDamage::Unsorted { page: 12, after: 9 }
        );
        assert!(matches!(
            txn_id(&[1, 2, 3]),
            Err(FreeDbError::Key { bytes: 3 })
        ));
        assert_eq!(txn_id(&7u64.to_ne_bytes()).unwrap(), 7);
    }

    #[test]
    fn no_page_is_listed_by_two_transactions() {
        assert_eq!(listed_once(vec![(9, 4), (3, 4), (8, 6)]).unwrap(), 3);
        let e = listed_once(vec![(9, 4), (3, 4), (9, 6)]).unwrap_err();
        assert!(
            matches!(
                e,
                FreeDbError::List {
                    txn: 6,
                    damage: ListDamage::ListedTwice { page: 9, also: 4 }
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "the free-page database: the pages freed by transaction 6: page 9 is also freed \
             by transaction 4"
        );
    }
}
