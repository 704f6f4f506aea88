//! `debuglevel` specifications (btcd's `--debuglevel` and RPC `debuglevel`): a level for
//! every subsystem, per-subsystem levels, or both, as `info,PEER=debug`. The node checks a
//! specification against the daemon's subsystems before answering; the daemon applies it to its
//! logger (the same parser reads the command line option).

use log::LevelFilter;
use std::fmt;

/// One part of a specification: a level for every subsystem (`subsystem` `None`, which drops
/// earlier per-subsystem levels) or for one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelPart {
    /// The subsystem tag (`PEER`), or `None` for all.
    pub subsystem: Option<&'static str>,
    /// The level.
    pub level: LevelFilter,
}

/// A checked specification: its parts, to apply in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LevelSpec(pub Vec<LevelPart>);

/// Why a specification was refused (btcd's wording).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LevelError {
    /// A level name btcd does not know.
    UnknownLevel(String),
    /// A subsystem tag that does not exist; with the supported ones.
    UnknownSubsystem(String, Vec<&'static str>),
}

impl fmt::Display for LevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LevelError::UnknownLevel(l) => write!(
                f,
                "the specified debug level [{l}] is invalid -- use trace, debug, info, warn, error, critical or off"
            ),
            LevelError::UnknownSubsystem(s, known) => write!(
                f,
                "the specified subsystem [{s}] is invalid -- supported subsystems {known:?}"
            ),
        }
    }
}

impl std::error::Error for LevelError {}

impl LevelSpec {
    /// Parses `spec` (comma-separated `level` and `SUBS=level` parts) for a logger whose
    /// subsystems are `subsystems`.
    pub fn parse(spec: &str, subsystems: &[&'static str]) -> Result<LevelSpec, LevelError> {
        spec.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|part| match part.split_once('=') {
                None => Ok(LevelPart {
                    subsystem: None,
                    level: level(part)?,
                }),
                Some((tag, lvl)) => {
                    let subsystem = subsystems.iter().find(|t| **t == tag).ok_or_else(|| {
                        LevelError::UnknownSubsystem(tag.to_string(), subsystems.to_vec())
                    })?;
                    Ok(LevelPart {
                        subsystem: Some(subsystem),
                        level: level(lvl)?,
                    })
                }
            })
            .collect::<Result<_, _>>()
            .map(LevelSpec)
    }
}

/// btcd's level names (`critical` is the most severe; the `log` facade calls it error).
fn level(name: &str) -> Result<LevelFilter, LevelError> {
    Ok(match name {
        "trace" => LevelFilter::Trace,
        "debug" => LevelFilter::Debug,
        "info" => LevelFilter::Info,
        "warn" => LevelFilter::Warn,
        "error" | "critical" => LevelFilter::Error,
        "off" => LevelFilter::Off,
        other => return Err(LevelError::UnknownLevel(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAGS: &[&str] = &["CHAN", "PEER"];

    #[test]
    fn parts_parse_in_order_and_unknown_names_are_refused() {
        let spec = LevelSpec::parse("info, PEER=debug,,critical", TAGS).unwrap();
        assert_eq!(
            spec.0,
            vec![
                LevelPart {
                    subsystem: None,
                    level: LevelFilter::Info
                },
                LevelPart {
                    subsystem: Some("PEER"),
                    level: LevelFilter::Debug
                },
                LevelPart {
                    subsystem: None,
                    level: LevelFilter::Error
                },
            ]
        );
        assert_eq!(
            LevelSpec::parse("loud", TAGS),
            Err(LevelError::UnknownLevel("loud".into()))
        );
        let e = LevelSpec::parse("NOPE=info", TAGS).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the specified subsystem [NOPE] is invalid -- supported subsystems [\"CHAN\", \"PEER\"]"
        );
    }
}
