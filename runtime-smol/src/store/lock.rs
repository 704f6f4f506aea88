//! The data directory lock: one daemon per data directory, as btcd's database and Core's
//! `.lock` file ensure. Two daemons writing one LMDB environment destroy it (each keeps its
//! own view of the chain state and overwrites the other's), so the second one must refuse to
//! start and say which process holds the directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Name of the lock file in the data directory.
pub const LOCK_FILE: &str = ".lock";

/// Held for the process's life: the operating system releases the lock when the file closes,
/// so a crash never leaves a stale lock behind.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Why the data directory could not be locked.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it (its pid, when it wrote one).
    Held {
        /// The data directory.
        dir: PathBuf,
        /// The holder's process id.
        pid: Option<u32>,
    },
    /// The directory or lock file could not be created or locked.
    Io {
        /// The lock file.
        path: PathBuf,
        /// What failed.
        error: std::io::Error,
    },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held { dir, pid } => {
                write!(
                    f,
                    "cannot obtain a lock on data directory {}: rbtcd is probably already running",
                    dir.display()
                )?;
                match pid {
                    Some(pid) => write!(f, " (pid {pid})"),
                    None => Ok(()),
                }
            }
            LockError::Io { path, error } => {
                write!(
                    f,
                    "cannot lock the data directory with {}: {error}",
                    path.display()
                )
            }
        }
    }
}

/// Locks `dir` (created if missing) for this process, recording its pid in the lock file.
pub fn lock(dir: &Path) -> Result<DataDirLock, LockError> {
    let path = dir.join(LOCK_FILE);
    let io = |error| LockError::Io {
        path: path.clone(),
        error,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    // Not truncated on open: a refused process reads the holder's pid from it.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LockError::Held {
                dir: dir.to_path_buf(),
                pid: text.trim().parse().ok(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(DataDirLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("rbtcd-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let held = lock(&dir).unwrap();
        match lock(&dir) {
            Err(LockError::Held { dir: d, pid }) => {
                assert_eq!(d, dir);
                assert_eq!(pid, Some(std::process::id()));
            }
            other => panic!("{other:?}"),
        }
        drop(held);
        assert!(lock(&dir).is_ok(), "released when the holder closes it");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
