//! `mempool.dat` in the data directory (Core's `-persistmempool`): read into the node at
//! start, written at clean shutdown and by `savemempool`. A write never leaves a half file
//! behind: the bytes go to a temporary file that is synced and then renamed over the old one.

use rbtcd_core::chain::ChainStore;
use rbtcd_core::node::Node;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The file's name, as Core names it.
const FILE_NAME: &str = "mempool.dat";
/// Where a write goes until it is whole.
const TEMP_NAME: &str = "mempool.dat.new";

/// Where the data directory keeps the pool.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Replaces the data directory's `mempool.dat` with `bytes`: temporary file, fsync, rename,
/// fsync of the directory, so a crash leaves the old file or the new one.
pub fn save(data_dir: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = data_dir.join(TEMP_NAME);
    let mut file = File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp, path(data_dir))?;
    File::open(data_dir)?.sync_all()
}

/// [`save`], logging the outcome (a failed dump loses only the pool, never the node);
/// whether the file was written.
pub fn save_logged(data_dir: &Path, bytes: &[u8]) -> bool {
    match save(data_dir, bytes) {
        Ok(()) => {
            log::info!(
                target: "rbtcd::mempool",
                "Dumped mempool to {} ({} bytes)",
                path(data_dir).display(),
                bytes.len()
            );
            true
        }
        Err(e) => {
            log::error!(
                target: "rbtcd::mempool",
                "Failed to dump mempool to {}: {e}",
                path(data_dir).display()
            );
            false
        }
    }
}

/// Loads the data directory's `mempool.dat` into `node`, if there is one. A file that cannot
/// be read or decoded gets one log line and leaves the pool empty.
pub fn load<S: ChainStore>(node: &mut Node<S>, data_dir: &Path) {
    let file = path(data_dir);
    let bytes = match fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(e) => {
            log::warn!(target: "rbtcd::mempool", "Failed to read {}: {e}", file.display());
            return;
        }
    };
    match node.load_mempool(&bytes) {
        Ok(n) => log::info!(
            target: "rbtcd::mempool",
            "Imported mempool transactions from {}: {} succeeded, {} failed, {} already there, \
             {} waiting to be mined are rebroadcast, {} fee deltas ignored",
            file.display(),
            n.accepted,
            n.failed,
            n.already_there,
            n.unbroadcast,
            n.deltas_ignored
        ),
        Err(e) => log::warn!(
            target: "rbtcd::mempool",
            "Failed to load {}, starting with an empty mempool: {e}",
            file.display()
        ),
    }
}
