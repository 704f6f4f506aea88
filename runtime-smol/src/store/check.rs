//! The block database checked before the daemon opens it. LMDB keeps no page checksums: a
//! damaged page can point a reader outside the memory map, and the process dies with SIGSEGV
//! where no error handling can catch it. So every database is walked in a child process (this
//! same executable, asked to by [`CHILD_ENV`]) and a child that dies is reported as a corrupt
//! database in one line, instead of the daemon crashing somewhere in its start.
//!
//! The walk reads every record of every table, which touches every page of the tables
//! (branch, leaf and overflow pages), and every record of LMDB's free-page database
//! ([`free_db`]), which the daemon's first write transaction reads. What it does not read is
//! the free pages themselves: LMDB overwrites a free page whole before it uses it again, so
//! damage there is harmless and passes.

mod free_db;

use super::lmdb::MAP_SIZE;
use heed::types::Bytes;
use heed::{CommitOrAbort, EnvOpenOptions};
use rbtcd_core::chain::FileKind;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// Environment variable that makes the executable walk the database in the directory it names,
/// print what it read, and exit (status 0 when every record was read, 2 with the reason on
/// stderr when LMDB reported an error) instead of running the daemon.
pub const CHILD_ENV: &str = "RBTCD_CHECK_BLOCK_DB";

/// LMDB's data file in the environment's directory.
const DATA_FILE: &str = "data.mdb";

/// What a walk read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walked {
    /// Named databases (tables) found.
    pub tables: u64,
    /// Records read, over all tables.
    pub records: u64,
    /// Key and value bytes read.
    pub bytes: u64,
    /// Pages listed as free by LMDB's free-page database.
    pub free_pages: u64,
}

/// Why the block database is refused at start.
#[derive(Debug)]
pub enum CheckError {
    /// `data.mdb` is missing or empty while block files are beside it: the chain they hold
    /// would be forgotten and overwritten by a new one from genesis.
    EmptyDatabase(PathBuf),
    /// LMDB reported an error while the child read the records.
    Damaged { dir: PathBuf, reason: String },
    /// The child died by a signal while it read the records (a damaged page).
    Crashed { dir: PathBuf, signal: i32 },
    /// The child could not be started or waited for.
    Spawn(std::io::Error),
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const REMEDY: &str = "restore it from a backup, or delete the directory to sync again";
        match self {
            CheckError::EmptyDatabase(dir) => write!(
                f,
                "the block database {} is missing or empty but block files are beside it: \
                 refusing to start a new chain over them ({REMEDY})",
                dir.join(DATA_FILE).display()
            ),
            CheckError::Damaged { dir, reason } => write!(
                f,
                "the block database in {} is corrupt: {reason} ({REMEDY})",
                dir.display()
            ),
            CheckError::Crashed { dir, signal } => write!(
                f,
                "the block database in {} is corrupt: reading it killed the checking process \
                 with signal {signal}{} ({REMEDY})",
                dir.display(),
                match signal {
                    7 => " (SIGBUS)",
                    11 => " (SIGSEGV)",
                    _ => "",
                }
            ),
            CheckError::Spawn(e) => write!(f, "cannot start the block database check: {e}"),
        }
    }
}

/// Checks the database in `dir` before it is opened: refuses an empty or missing data file
/// beside block files, and walks every record in a child process running `program` (the
/// daemon's own executable). A directory without a data file or block files is new: nothing
/// to check.
pub fn check(program: &Path, dir: &Path) -> Result<Option<Walked>, CheckError> {
    let data_len = std::fs::metadata(dir.join(DATA_FILE)).map_or(0, |m| m.len());
    if data_len == 0 {
        let has_files = [FileKind::Blocks, FileKind::Undo]
            .iter()
            .any(|kind| dir.join(kind.file_name(0)).exists());
        return match has_files {
            true => Err(CheckError::EmptyDatabase(dir.to_path_buf())),
            false => Ok(None),
        };
    }
    let out = Command::new(program)
        .env(CHILD_ENV, dir)
        .stdin(Stdio::null())
        .output()
        .map_err(CheckError::Spawn)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    verdict(dir, out.status, &stdout, &stderr).map(Some)
}

/// What the child's exit says about the database in `dir`.
fn verdict(
    dir: &Path,
    status: ExitStatus,
    stdout: &str,
    stderr: &str,
) -> Result<Walked, CheckError> {
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        return Err(CheckError::Crashed {
            dir: dir.to_path_buf(),
            signal,
        });
    }
    let parsed = || {
        let mut n = stdout.split_whitespace().map(str::parse::<u64>);
        match (n.next(), n.next(), n.next(), n.next()) {
            (Some(Ok(tables)), Some(Ok(records)), Some(Ok(bytes)), Some(Ok(free_pages))) => {
                Some(Walked {
                    tables,
                    records,
                    bytes,
                    free_pages,
                })
            }
            _ => None,
        }
    };
    match (status.success(), parsed()) {
        (true, Some(walked)) => Ok(walked),
        _ => Err(CheckError::Damaged {
            dir: dir.to_path_buf(),
            reason: stderr
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("the check ended without a result")
                .trim()
                .to_string(),
        }),
    }
}

/// The child's side: walks the database in `dir`, prints `tables records bytes free_pages` on
/// stdout and gives the exit status (0 read, 2 refused with the reason on stderr).
pub fn child(dir: &Path) -> i32 {
    match walk(dir) {
        Ok(w) => {
            println!("{} {} {} {}", w.tables, w.records, w.bytes, w.free_pages);
            0
        }
        Err(e) => {
            eprintln!("{e}");
            2
        }
    }
}

/// Reads a byte in every 1 KiB of `bytes` and the last one: a record's bytes can lie on
/// overflow pages, or (when its length is damaged) past the file's end, which only a read
/// reaches.
fn touch(bytes: &[u8]) {
    let sampled = bytes.iter().step_by(1024).chain(bytes.last());
    std::hint::black_box(sampled.fold(0u8, |a, &b| a ^ b));
}

/// Why the child's walk stopped.
#[derive(Debug)]
enum WalkError {
    /// LMDB reported an error while reading the tables.
    Tables(heed::Error),
    /// The free-page database could not be read or is damaged.
    FreeDb(free_db::FreeDbError),
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkError::Tables(e) => write!(f, "{e}"),
            WalkError::FreeDb(e) => write!(f, "{e}"),
        }
    }
}

/// Reads every record of LMDB's free-page database and of every named database in `dir`,
/// without writing.
fn walk(dir: &Path) -> Result<Walked, WalkError> {
    // First, and closed before the tables' environment opens: LMDB allows one open handle
    // on a file per process.
    let free_pages = free_db::walk(dir, MAP_SIZE).map_err(WalkError::FreeDb)?;
    let mut walked = walk_tables(dir).map_err(WalkError::Tables)?;
    walked.free_pages = free_pages;
    Ok(walked)
}

/// Reads every record of every named database in `dir`, without writing.
fn walk_tables(dir: &Path) -> Result<Walked, heed::Error> {
    // Opened as the daemon opens it, not read-only: a read-only environment maps only the
    // file's length, so a damaged length reads whatever memory follows the map instead of
    // faulting as it would in the daemon, whose map reaches far past the file's end.
    // SAFETY: this process only reads (no write transaction is ever begun), and the daemon
    // that will write the files waits for it to exit before it opens them.
    #[allow(unsafe_code)]
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(MAP_SIZE)
            .max_dbs(64)
            .open(dir)?
    };
    let mut walked = Walked {
        tables: 0,
        records: 0,
        bytes: 0,
        free_pages: 0,
    };
    let rtxn = env.read_txn()?;
    env.open_databases_and_commit(rtxn, |opener, rtxn| {
        let Some(main) = opener.open_database::<Bytes, Bytes>(rtxn, None)? else {
            return Ok::<_, heed::Error>(CommitOrAbort::<(), ()>::Commit(()));
        };
        let mut names = Vec::new();
        for entry in main.iter(rtxn)? {
            let (name, _) = entry?;
            names.push(String::from_utf8_lossy(name).into_owned());
        }
        for name in names {
            let Some(db) = opener.open_database::<Bytes, Bytes>(rtxn, Some(&name))? else {
                continue;
            };
            walked.tables += 1;
            for entry in db.iter(rtxn)? {
                let (key, value) = entry?;
                walked.records += 1;
                walked.bytes += (key.len() + value.len()) as u64;
                touch(key);
                touch(value);
            }
        }
        Ok(CommitOrAbort::Commit(()))
    })?;
    Ok(walked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbtcd_core::chain::Table;
    use std::process::Command;

    fn status_of(script: &str) -> ExitStatus {
        Command::new("sh").arg("-c").arg(script).status().unwrap()
    }

    #[test]
    fn a_child_killed_by_a_signal_is_a_corrupt_database() {
        let dir = Path::new("/data/blocks_lmdb");
        let e = verdict(dir, status_of("kill -SEGV $$"), "", "").unwrap_err();
        assert!(matches!(e, CheckError::Crashed { signal: 11, .. }), "{e:?}");
        let line = e.to_string();
        assert!(line.contains("/data/blocks_lmdb is corrupt") && line.contains("SIGSEGV"));
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn a_child_refusing_gives_its_last_line_as_the_reason() {
        let e = verdict(
            Path::new("/d"),
            status_of("exit 2"),
            "",
            "\nMDB_CORRUPTED: Located page was wrong type\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("corrupt: MDB_CORRUPTED: Located page was wrong type"),
            "{e}"
        );
        // A child that says it succeeded but printed no counts did not finish its walk.
        let e = verdict(Path::new("/d"), status_of("exit 0"), "", "").unwrap_err();
        assert!(matches!(e, CheckError::Damaged { .. }), "{e:?}");
    }

    #[test]
    fn a_file_that_is_not_an_lmdb_database_is_refused_as_such() {
        let dir = std::env::temp_dir().join(format!("rbtcd-check-junk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(DATA_FILE), vec![0x5a; 8192]).unwrap();
        let e = walk(&dir).unwrap_err();
        assert!(matches!(e, WalkError::FreeDb(_)), "{e:?}");
        assert_eq!(e.to_string(), "MDB_INVALID: File is not an LMDB file");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_walk_reads_every_record_of_a_store() {
        use crate::store::lmdb::LmdbStore;
        use rbtcd_core::chain::builder::spending_chain;
        use rbtcd_core::chain::{Chain, ChainStore};
        use rbtcd_core::params::{Network, Params};
        let dir = std::env::temp_dir().join(format!("rbtcd-check-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let params = Params::new(Network::Regtest);
        let mut chain = Chain::open(params.clone(), LmdbStore::open(&dir).unwrap()).unwrap();
        for b in spending_chain(&params, 20, 2) {
            chain.process_block(b, 2_000_000_000).unwrap();
        }
        let store = chain.into_store().unwrap();
        let index = store.index_entries().unwrap().len() as u64;
        let coins = store.utxo_snapshot().unwrap().len() as u64;
        store.close();
        let walked = walk(&dir).unwrap();
        assert_eq!(walked.tables, Table::ALL.len() as u64, "{walked:?}");
        // Every index entry and coin is a record; metadata adds a few more.
        assert!(walked.records > index + coins, "{walked:?} {index} {coins}");
        // Twenty commits, each copying the pages it changes: the old copies are listed free.
        assert!(walked.free_pages > 0, "{walked:?}");
        assert_eq!(
            check(Path::new("/bin/false"), &dir.join("absent")).unwrap(),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
