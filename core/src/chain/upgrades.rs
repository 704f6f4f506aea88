//! Database schema migrations: ordered, versioned steps run at startup before the chain loads
//! (btcd's `doUpgrades`). The runner is generic over the store so every backend shares it.

use super::store::{ChainStore, StoreError};
use std::fmt;

/// One schema step: brings a store at `version - 1` to `version`. Steps must be idempotent, since
/// a crash between the step and recording its version runs it again.
pub struct Migration<S> {
    /// The schema version the step produces.
    pub version: u32,
    /// What it does, for the log.
    pub description: &'static str,
    /// The step itself.
    pub apply: fn(&mut S) -> Result<(), StoreError>,
}

/// Why the schema could not be brought up to date.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum UpgradeError {
    /// The database was written by a newer rbtcd; refusing to touch it.
    NewerSchema {
        /// Version found in the database.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// The migration list is not strictly increasing from 1 without gaps (a programming error).
    BadMigrationList {
        /// Index of the offending migration.
        index: usize,
    },
    /// The store failed.
    Store(StoreError),
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpgradeError::NewerSchema { found, supported } => write!(
                f,
                "database schema version {found} is newer than this build supports ({supported}); \
                 run a newer rbtcd or use another data directory"
            ),
            UpgradeError::BadMigrationList { index } => write!(
                f,
                "migration {index} does not follow the previous one by exactly one version"
            ),
            UpgradeError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for UpgradeError {}

impl From<StoreError> for UpgradeError {
    fn from(e: StoreError) -> Self {
        UpgradeError::Store(e)
    }
}

/// Applies every migration newer than the store's schema, in order, recording the version after
/// each; returns the versions applied. A fresh store (no version) is created at the latest
/// version without running anything. The list must hold versions 1, 2, 3... in order.
pub fn do_upgrades<S: ChainStore>(
    store: &mut S,
    migrations: &[Migration<S>],
) -> Result<Vec<u32>, UpgradeError> {
    if let Some(index) = migrations
        .iter()
        .enumerate()
        .position(|(i, m)| m.version as usize != i + 1)
    {
        return Err(UpgradeError::BadMigrationList { index });
    }
    let latest = migrations.len() as u32;
    let Some(found) = store.schema_version()? else {
        store.set_schema_version(latest)?;
        return Ok(Vec::new());
    };
    if found > latest {
        return Err(UpgradeError::NewerSchema {
            found,
            supported: latest,
        });
    }
    let mut applied = Vec::new();
    for m in &migrations[found as usize..] {
        log::info!(
            "Upgrading database to schema {}: {}",
            m.version,
            m.description
        );
        (m.apply)(store)?;
        store.set_schema_version(m.version)?;
        applied.push(m.version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::mem_store::MemStore;
    use crate::chain::store::{WriteBatch, WriteOp};

    fn append(store: &mut MemStore, byte: u8) -> Result<(), StoreError> {
        let mut book = store.addr_book()?.unwrap_or_default();
        book.push(byte);
        store.write(WriteBatch {
            ops: vec![WriteOp::PutAddrBook(book)],
        })
    }

    fn migrations() -> Vec<Migration<MemStore>> {
        vec![
            Migration {
                version: 1,
                description: "append 1",
                apply: |s| append(s, 1),
            },
            Migration {
                version: 2,
                description: "append 2",
                apply: |s| append(s, 2),
            },
        ]
    }

    #[test]
    fn fresh_store_starts_at_latest_without_migrating() {
        let mut s = MemStore::new();
        assert_eq!(do_upgrades(&mut s, &migrations()), Ok(vec![]));
        assert_eq!(s.schema_version().unwrap(), Some(2));
        assert_eq!(s.addr_book().unwrap(), None);
    }

    #[test]
    fn old_store_runs_remaining_migrations_in_order_once() {
        let mut s = MemStore::new();
        s.set_schema_version(0).unwrap();
        assert_eq!(do_upgrades(&mut s, &migrations()), Ok(vec![1, 2]));
        assert_eq!(s.addr_book().unwrap(), Some(vec![1, 2]));
        assert_eq!(do_upgrades(&mut s, &migrations()), Ok(vec![]));
        s.set_schema_version(1).unwrap();
        assert_eq!(do_upgrades(&mut s, &migrations()), Ok(vec![2]));
        assert_eq!(s.addr_book().unwrap(), Some(vec![1, 2, 2]));
    }

    #[test]
    fn newer_schema_is_refused_untouched() {
        let mut s = MemStore::new();
        s.set_schema_version(7).unwrap();
        let e = do_upgrades(&mut s, &migrations()).unwrap_err();
        assert_eq!(
            e,
            UpgradeError::NewerSchema {
                found: 7,
                supported: 2
            }
        );
        assert!(e.to_string().contains("newer than this build supports"));
        assert_eq!(s.schema_version().unwrap(), Some(7));
    }

    #[test]
    fn gaps_in_the_list_are_rejected() {
        let mut list = migrations();
        list.remove(0);
        assert_eq!(
            do_upgrades(&mut MemStore::new(), &list),
            Err(UpgradeError::BadMigrationList { index: 0 })
        );
    }

    #[test]
    fn crash_during_upgrade_resumes_from_recorded_version() {
        let mut s = MemStore::new();
        s.set_schema_version(0).unwrap();
        // Write 1: migration 1's batch, 2: version 1, 3: migration 2's batch crashes.
        s.fail_at_write(3);
        assert_eq!(
            do_upgrades(&mut s, &migrations()),
            Err(UpgradeError::Store(StoreError::Closed))
        );
        let mut s = s.reopen();
        assert_eq!(s.schema_version().unwrap(), Some(1));
        assert_eq!(do_upgrades(&mut s, &migrations()), Ok(vec![2]));
        assert_eq!(s.addr_book().unwrap(), Some(vec![1, 2]));
    }
}
