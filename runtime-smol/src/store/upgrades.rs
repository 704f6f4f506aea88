//! `do_upgrades` for the daemon's LMDB database: the ordered schema history and the step that
//! brings an older database up to date at startup (btcd's `doUpgrades`).

use crate::store::lmdb::LmdbStore;
use rbtcd_core::chain::upgrades::{do_upgrades, Migration, UpgradeError};

/// The schema history, oldest first. Version 1 is the first layout (tables index, blocks,
/// undo, utxo, meta); there is no database older than it, so its step has nothing to do.
/// Version 2 moves blocks and undo data into flat files. Each later layout change appends a
/// step here.
pub fn migrations() -> Vec<Migration<LmdbStore>> {
    vec![
        Migration {
            version: 1,
            description: "first schema: index, blocks, undo, utxo and meta tables",
            apply: |_| Ok(()),
        },
        Migration {
            version: 2,
            description: "blocks and undo data move into flat files (blk*.dat, rev*.dat)",
            apply: LmdbStore::move_blocks_to_files,
        },
    ]
}

/// Brings `store` to the newest schema, logging each step; refuses a newer database.
pub fn upgrade(store: &mut LmdbStore) -> Result<(), UpgradeError> {
    let applied = do_upgrades(store, &migrations())?;
    if !applied.is_empty() {
        log::info!("Database upgraded through schema versions {applied:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbtcd_core::chain::{ChainStore, StoreError, WriteBatch, WriteOp};

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("rbtcd-upg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// A step a future schema might take: rewrite a record in place.
    fn mark_book(store: &mut LmdbStore) -> Result<(), StoreError> {
        let mut book = store.addr_book()?.unwrap_or_default();
        book.extend_from_slice(b"+v2");
        store.write(WriteBatch {
            ops: vec![WriteOp::PutAddrBook(book)],
        })
    }

    #[test]
    fn older_database_on_disk_is_upgraded_once() {
        let dir = temp_dir("older");
        let mut store = LmdbStore::open(&dir).unwrap();
        upgrade(&mut store).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            Some(2),
            "fresh store at newest"
        );
        store
            .write(WriteBatch {
                ops: vec![WriteOp::PutAddrBook(b"book".to_vec())],
            })
            .unwrap();
        store.close();

        // A build that knows one more schema version opens the version-2 database.
        let mut newer = migrations();
        newer.push(Migration {
            version: 3,
            description: "test step",
            apply: mark_book,
        });
        let mut store = LmdbStore::open(&dir).unwrap();
        assert_eq!(do_upgrades(&mut store, &newer), Ok(vec![3]));
        store.close();
        let mut store = LmdbStore::open(&dir).unwrap();
        assert_eq!(store.schema_version().unwrap(), Some(3));
        assert_eq!(
            do_upgrades(&mut store, &newer),
            Ok(vec![]),
            "not applied twice"
        );
        assert_eq!(store.addr_book().unwrap(), Some(b"book+v2".to_vec()));

        // This build, which knows only version 2, refuses the upgraded database untouched.
        let e = upgrade(&mut store).unwrap_err();
        assert_eq!(
            e,
            UpgradeError::NewerSchema {
                found: 3,
                supported: 2
            }
        );
        assert!(e.to_string().contains("newer than this build supports"));
        assert_eq!(store.schema_version().unwrap(), Some(3));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
