//! Bitcoin Core's cookie authentication: when no RPC user is configured, the daemon writes a
//! random admin password to `.cookie` in the network's data directory at start, readable by its
//! owner alone, and deletes it at shutdown; a client on the same machine (rbtcctl, Core's
//! `bitcoin-cli`) reads it instead of asking for credentials.

use crate::entropy::os_random;
use rbtcd_core::primitives::hash::hex_encode;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The cookie's file name in the data directory (Core's).
pub const COOKIE_FILENAME: &str = ".cookie";
/// The user name a cookie authenticates as (Core's).
pub const COOKIE_USER: &str = "__cookie__";

/// A written cookie, deleted when dropped (the daemon holds it until it has shut down).
#[derive(Debug)]
pub struct Cookie {
    path: PathBuf,
    password: String,
}

impl Cookie {
    /// Writes a new cookie at `path` with a password of 32 random bytes from the operating
    /// system, replacing any left by a daemon that did not shut down. It is written whole
    /// under another name first, so a client never reads half of it.
    pub fn write(path: &Path) -> std::io::Result<Cookie> {
        let password = hex_encode(&os_random::<32>()?);
        let partial = path.with_extension("tmp");
        let mut file = owner_only().open(&partial)?;
        file.write_all(format!("{COOKIE_USER}:{password}").as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&partial, path)?;
        Ok(Cookie {
            path: path.to_path_buf(),
            password,
        })
    }

    /// The (user, password) pair the cookie grants admin rights to.
    pub fn credentials(&self) -> (String, String) {
        (COOKIE_USER.to_string(), self.password.clone())
    }
}

impl Drop for Cookie {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            log::warn!("cannot delete {}: {e}", self.path.display());
        }
    }
}

/// Reads the (user, password) pair of the cookie at `path`, as a client does.
pub fn read(path: &Path) -> std::io::Result<(String, String)> {
    let text = std::fs::read_to_string(path)?;
    let (user, pass) = text.trim_end().split_once(':').ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "no ':' in the cookie")
    })?;
    Ok((user.to_string(), pass.to_string()))
}

/// Options creating a file (truncating any old one) that only its owner may read or write.
pub(crate) fn owner_only() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_random_private_readable_and_gone_when_dropped() {
        let dir = std::env::temp_dir().join(format!("rbtcd-cookie-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(COOKIE_FILENAME);
        // A stale cookie from a killed daemon is replaced.
        std::fs::write(&path, "__cookie__:stale").unwrap();
        let cookie = Cookie::write(&path).unwrap();
        let (user, pass) = read(&path).unwrap();
        assert_eq!((user.clone(), pass.clone()), cookie.credentials());
        assert_eq!(user, "__cookie__");
        assert_eq!(pass.len(), 64);
        assert!(pass.bytes().all(|b| b.is_ascii_hexdigit()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = Cookie::write(&dir.join("second")).unwrap();
        assert_ne!(
            other.credentials(),
            cookie.credentials(),
            "fresh randomness"
        );
        drop(cookie);
        assert!(!path.exists());
        assert!(read(&path).is_err());
        drop(other);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
