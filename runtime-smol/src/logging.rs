//! Logging as btcd does it: `2006-01-02 15:04:05.000 [INF] SUBS: message` lines to stdout and a
//! rotated log file, with a level per subsystem (`--debuglevel=info,PEER=debug`) that the
//! `debuglevel` RPC changes while the daemon runs ([`apply`]). Specifications are parsed by
//! the core's [`LevelSpec`], which the node also checks RPC ones with.
//!
//! Code logs through the `log` facade; the subsystem tag comes from the module a line was
//! logged in, so the core never needs to know about tags.

use log::LevelFilter;
use rbtcd_core::rpc::debug_level::{LevelError, LevelSpec};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{OnceLock, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// btcd's subsystem tags and the module path prefixes that log under each. The first matching
/// prefix wins, so more specific prefixes come first.
const SUBSYSTEMS: &[(&str, &[&str])] = &[
    ("AMGR", &["rbtcd_core::net::addrmgr"]),
    ("CMGR", &["rbtcd_core::net::connmgr"]),
    (
        "SYNC",
        &["rbtcd_core::net::syncmgr", "rbtcd_core::net::download"],
    ),
    ("PEER", &["rbtcd_core::net::peer", "rbtcd::p2p::peer"]),
    (
        "SRVR",
        &["rbtcd_core::net", "rbtcd_core::node", "rbtcd::p2p"],
    ),
    (
        "INDX",
        &[
            "rbtcd_core::chain::tx_index",
            "rbtcd_core::chain::state::indexing",
        ],
    ),
    ("CHAN", &["rbtcd_core::chain"]),
    ("BCDB", &["rbtcd::store"]),
    ("TXMP", &["rbtcd_core::mempool"]),
    ("MINR", &["rbtcd_core::mining", "rbtcd::miner"]),
    ("RPCS", &["rbtcd_core::rpc", "rbtcd::rpc"]),
    ("SCRP", &["rbtcd_core::script"]),
    ("BTCD", &["rbtcd", "rbtcd_core"]),
];

/// Lines logged by other crates (HTTP server, database bindings) are kept only from this level.
const FOREIGN_LEVEL: LevelFilter = LevelFilter::Warn;
/// A log file is rotated when it reaches this size (btcd: 10 MiB).
pub const ROTATE_BYTES: u64 = 10 * 1024 * 1024;
/// Rotated files kept besides the current one (btcd keeps 3).
pub const KEEP_ROTATED: usize = 3;

/// The subsystem tag for a log target (a module path), or `None` for other crates.
pub fn subsystem_of(target: &str) -> Option<&'static str> {
    SUBSYSTEMS.iter().find_map(|(tag, prefixes)| {
        prefixes
            .iter()
            .any(|p| target == *p || target.starts_with(&format!("{p}::")))
            .then_some(*tag)
    })
}

/// The subsystem tags, sorted, as `--debuglevel=show` prints them.
pub fn subsystems() -> Vec<&'static str> {
    let mut tags: Vec<&'static str> = SUBSYSTEMS.iter().map(|(t, _)| *t).collect();
    tags.sort_unstable();
    tags
}

/// Why a `debuglevel` specification or the log file was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum LogError {
    /// The specification names an unknown level or subsystem.
    Spec(LevelError),
    /// The log directory or file could not be created.
    File(String),
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Spec(e) => e.fmt(f),
            LogError::File(e) => write!(f, "failed to open the log file: {e}"),
        }
    }
}

impl std::error::Error for LogError {}

/// Levels per subsystem from a `debuglevel` specification.
#[derive(Debug, Clone, PartialEq)]
pub struct Levels {
    default: LevelFilter,
    per_subsystem: BTreeMap<&'static str, LevelFilter>,
}

impl Default for Levels {
    fn default() -> Self {
        Levels {
            default: LevelFilter::Info,
            per_subsystem: BTreeMap::new(),
        }
    }
}

impl Levels {
    /// Parses `level` or `SUBS=level,SUBS2=level` or both mixed (`info,PEER=debug`).
    pub fn parse(spec: &str) -> Result<Levels, LogError> {
        let spec = LevelSpec::parse(spec, &subsystems()).map_err(LogError::Spec)?;
        Ok(Levels::default().updated(&spec))
    }

    /// These levels changed by `spec`, parts applied in order: a level for every subsystem
    /// drops earlier per-subsystem levels, `SUBS=level` sets one.
    pub fn updated(&self, spec: &LevelSpec) -> Levels {
        let mut levels = self.clone();
        for part in &spec.0 {
            match part.subsystem {
                None => {
                    levels.default = part.level;
                    levels.per_subsystem.clear();
                }
                Some(tag) => {
                    levels.per_subsystem.insert(tag, part.level);
                }
            }
        }
        levels
    }

    /// Whether a line from `target` at `lvl` is logged.
    pub fn enabled(&self, target: &str, lvl: log::Level) -> bool {
        let max = match subsystem_of(target) {
            Some(tag) => *self.per_subsystem.get(tag).unwrap_or(&self.default),
            None => FOREIGN_LEVEL.min(self.default),
        };
        lvl <= max
    }

    /// The most verbose level any subsystem uses (for `log::set_max_level`).
    fn max(&self) -> LevelFilter {
        self.per_subsystem
            .values()
            .copied()
            .fold(self.default, std::cmp::Ord::max)
    }
}

/// btcd's three-letter level names.
fn level_tag(lvl: log::Level) -> &'static str {
    match lvl {
        log::Level::Trace => "TRC",
        log::Level::Debug => "DBG",
        log::Level::Info => "INF",
        log::Level::Warn => "WRN",
        log::Level::Error => "ERR",
    }
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC for a time since the Unix epoch.
pub fn timestamp(since_epoch: std::time::Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since_epoch.subsec_millis()
    )
}

/// A log file that rolls over to `name.1`, `name.2`, ... when it reaches `limit` bytes.
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    written: u64,
    limit: u64,
    keep: usize,
}

impl RotatingFile {
    /// Opens (appending to) `path`, creating its directory.
    pub fn open(path: &Path, limit: u64, keep: usize) -> io::Result<RotatingFile> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            written,
            limit,
            keep,
        })
    }

    fn rolled(&self, n: usize) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        for n in (1..self.keep).rev() {
            let from = self.rolled(n);
            if from.exists() {
                std::fs::rename(&from, self.rolled(n + 1))?;
            }
        }
        if self.keep > 0 {
            std::fs::rename(&self.path, self.rolled(1))?;
        } else {
            std::fs::remove_file(&self.path)?;
        }
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written > 0 && self.written + buf.len() as u64 > self.limit {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// The levels in force, read by the logger's filter and replaced by [`apply`].
fn current() -> &'static RwLock<Levels> {
    static CURRENT: OnceLock<RwLock<Levels>> = OnceLock::new();
    CURRENT.get_or_init(|| RwLock::new(Levels::default()))
}

fn install(levels: Levels) {
    log::set_max_level(levels.max());
    *current().write().unwrap_or_else(|p| p.into_inner()) = levels;
}

/// Changes the levels in force by a checked `debuglevel` specification (see
/// [`Levels::updated`]).
pub fn apply(spec: &LevelSpec) {
    let updated = current()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .updated(spec);
    install(updated);
}

/// Installs the global logger: btcd-formatted lines to stdout and to `log_file` (rotated).
pub fn init(levels: Levels, log_file: &Path) -> Result<(), LogError> {
    let file = RotatingFile::open(log_file, ROTATE_BYTES, KEEP_ROTATED)
        .map_err(|e| LogError::File(format!("{}: {e}", log_file.display())))?;
    fern::Dispatch::new()
        // Levels change at run time: the filter decides, and `install` sets the facade's max.
        .level(LevelFilter::Trace)
        .filter(|meta| {
            current()
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .enabled(meta.target(), meta.level())
        })
        .format(|out, message, record| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            out.finish(format_args!(
                "{} [{}] {}: {}",
                timestamp(now),
                level_tag(record.level()),
                subsystem_of(record.target()).unwrap_or("BTCD"),
                message
            ))
        })
        .chain(io::stdout())
        .chain(fern::Output::writer(Box::new(file), "\n"))
        .apply()
        .map_err(|e| LogError::File(e.to_string()))?;
    install(levels);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::Level;

    #[test]
    fn modules_map_to_btcd_subsystems() {
        assert_eq!(subsystem_of("rbtcd_core::net::addrmgr"), Some("AMGR"));
        assert_eq!(
            subsystem_of("rbtcd_core::net::addrmgr::bucket"),
            Some("AMGR")
        );
        assert_eq!(subsystem_of("rbtcd_core::net::download"), Some("SYNC"));
        assert_eq!(subsystem_of("rbtcd_core::net"), Some("SRVR"));
        assert_eq!(subsystem_of("rbtcd_core::chain::validate"), Some("CHAN"));
        assert_eq!(subsystem_of("rbtcd::store::lmdb"), Some("BCDB"));
        assert_eq!(subsystem_of("rbtcd"), Some("BTCD"));
        assert_eq!(subsystem_of("rbtcd_corex"), None);
        assert_eq!(subsystem_of("tide::server"), None);
    }

    #[test]
    fn levels_per_subsystem() {
        let l = Levels::parse("warn,PEER=debug").unwrap();
        assert!(l.enabled("rbtcd_core::net::peer", Level::Debug));
        assert!(!l.enabled("rbtcd_core::net::peer", Level::Trace));
        assert!(!l.enabled("rbtcd_core::chain", Level::Info));
        assert!(l.enabled("rbtcd_core::chain", Level::Warn));
        assert!(
            !l.enabled("tide", Level::Info),
            "other crates are kept quiet"
        );
        assert_eq!(l.max(), LevelFilter::Debug);
        assert_eq!(
            Levels::parse("loud"),
            Err(LogError::Spec(LevelError::UnknownLevel("loud".into())))
        );
        assert!(matches!(
            Levels::parse("NOPE=info"),
            Err(LogError::Spec(LevelError::UnknownSubsystem(..)))
        ));
    }

    #[test]
    fn updates_change_only_what_they_name() {
        let spec = |s| LevelSpec::parse(s, &subsystems()).unwrap();
        let l = Levels::parse("info,PEER=debug").unwrap();
        let u = l.updated(&spec("CHAN=trace"));
        assert!(
            u.enabled("rbtcd_core::net::peer", Level::Debug),
            "PEER kept"
        );
        assert!(u.enabled("rbtcd_core::chain", Level::Trace));
        assert!(!u.enabled("rbtcd_core::mempool", Level::Debug));
        let all = u.updated(&spec("warn"));
        assert!(
            !all.enabled("rbtcd_core::net::peer", Level::Info),
            "bare level resets"
        );
        assert_eq!(all, Levels::parse("warn").unwrap());
        assert_eq!(subsystem_of("rbtcd_core::chain::tx_index"), Some("INDX"));
    }

    #[test]
    fn timestamps_are_civil_utc() {
        use std::time::Duration;
        assert_eq!(timestamp(Duration::ZERO), "1970-01-01 00:00:00.000");
        assert_eq!(
            timestamp(Duration::from_millis(1_231_006_505_123)),
            "2009-01-03 18:15:05.123"
        );
        assert_eq!(
            timestamp(Duration::from_secs(951_782_400)),
            "2000-02-29 00:00:00.000"
        );
    }

    #[test]
    fn file_rotates_and_keeps_three() {
        let dir = std::env::temp_dir().join(format!("rbtcd-logrot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("rbtcd.log");
        let mut f = RotatingFile::open(&path, 100, 3).unwrap();
        for i in 0..10 {
            f.write_all(&[b'a' + i; 60]).unwrap();
        }
        f.flush().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), vec![b'j'; 60]);
        assert_eq!(
            std::fs::read(dir.join("rbtcd.log.1")).unwrap(),
            vec![b'i'; 60]
        );
        assert_eq!(
            std::fs::read(dir.join("rbtcd.log.3")).unwrap(),
            vec![b'g'; 60]
        );
        assert!(!dir.join("rbtcd.log.4").exists());
    }
}
