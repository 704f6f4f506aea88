//! Outbound peer connections as btcd's `btcdDial`: onion addresses go through the onion proxy
//! (`--onion`, else `--proxy`), refused with `--noonion`; everything else goes through
//! `--proxy` when set, directly otherwise. With `--torisolation` each connection logs in to
//! the proxy with fresh random credentials, so Tor gives it a circuit of its own. The node only
//! ever sees the peer's address.

use crate::p2p::onion;
use crate::p2p::socks5::{self, Proxy, Target};
use smol::net::TcpStream;
use std::fmt;
use std::net::SocketAddr;

/// How outbound connections are made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dialer {
    /// `--proxy`: every connection through this SOCKS5 proxy.
    pub proxy: Option<Proxy>,
    /// `--onion`: onion addresses through this one instead.
    pub onion: Option<Proxy>,
    /// `--noonion`: never connect to onion addresses.
    pub no_onion: bool,
    /// `--torisolation`: fresh random proxy credentials for every connection.
    pub tor_isolation: bool,
}

/// How one address is reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// A plain TCP connection.
    Direct(SocketAddr),
    /// Through a SOCKS5 proxy, asking it for this target.
    Proxied(Proxy, Target),
}

/// Why an address cannot be dialled.
#[derive(Debug)]
pub enum DialError {
    /// An onion address with `--noonion`.
    OnionDisabled(String),
    /// An onion address and neither `--onion` nor `--proxy` to reach Tor through.
    OnionWithoutProxy(String),
    /// The TCP connection failed.
    Io(std::io::Error),
    /// The proxy did not connect us.
    Proxy(socks5::Socks5Error),
}

impl fmt::Display for DialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialError::OnionDisabled(name) => write!(f, "tor has been disabled ({name})"),
            DialError::OnionWithoutProxy(name) => {
                write!(f, "{name} needs a Tor proxy: set --onion or --proxy")
            }
            DialError::Io(e) => write!(f, "{e}"),
            DialError::Proxy(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DialError {}

impl Dialer {
    /// Which way `addr` is reached.
    pub fn route(&self, addr: SocketAddr) -> Result<Route, DialError> {
        if let Some(name) = onion::to_name(&addr.ip()) {
            if self.no_onion {
                return Err(DialError::OnionDisabled(name));
            }
            let proxy = self.onion.as_ref().or(self.proxy.as_ref());
            let proxy = proxy.ok_or_else(|| DialError::OnionWithoutProxy(name.clone()))?;
            return Ok(Route::Proxied(
                proxy.clone(),
                Target::Domain(name, addr.port()),
            ));
        }
        Ok(match &self.proxy {
            Some(proxy) => Route::Proxied(proxy.clone(), Target::Addr(addr)),
            None => Route::Direct(addr),
        })
    }

    /// Connects to `addr` the configured way (the caller bounds how long it may take).
    pub async fn dial(&self, addr: SocketAddr) -> Result<TcpStream, DialError> {
        match self.route(addr)? {
            Route::Direct(a) => TcpStream::connect(a).await.map_err(DialError::Io),
            Route::Proxied(proxy, target) => {
                let proxy = match self.tor_isolation {
                    true => isolated(proxy).map_err(DialError::Io)?,
                    false => proxy,
                };
                socks5::connect(&proxy, &target)
                    .await
                    .map_err(DialError::Proxy)
            }
        }
    }
}

/// `proxy` with random credentials of its own (btcd's stream isolation: Tor keeps streams with
/// different logins on different circuits).
fn isolated(proxy: Proxy) -> std::io::Result<Proxy> {
    let hex = |bytes: [u8; 16]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let user = hex(crate::entropy::os_random::<16>()?);
    let pass = hex(crate::entropy::os_random::<16>()?);
    Ok(Proxy {
        credentials: Some((user, pass)),
        ..proxy
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(port: u16) -> Proxy {
        Proxy {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            credentials: None,
        }
    }

    #[test]
    fn isolation_gives_each_connection_its_own_login() {
        let a = isolated(proxy(9050)).unwrap();
        let b = isolated(proxy(9050)).unwrap();
        assert_eq!(a.addr, b.addr);
        let (ua, pa) = a.credentials.unwrap();
        let (ub, pb) = b.credentials.unwrap();
        assert_eq!((ua.len(), pa.len()), (32, 32));
        assert!(ua != ub && pa != pb && ua != pa);
    }

    #[test]
    fn routes_follow_btcds_rules() {
        let plain: SocketAddr = "10.0.0.1:8333".parse().unwrap();
        let onion_ip = onion::to_ip("expyuzz4wqqyqhjn.onion").unwrap();
        let hidden = SocketAddr::new(onion_ip, 8333);
        let onion_target = Target::Domain("expyuzz4wqqyqhjn.onion".into(), 8333);

        let direct = Dialer::default();
        assert_eq!(direct.route(plain).unwrap(), Route::Direct(plain));
        assert!(matches!(
            direct.route(hidden),
            Err(DialError::OnionWithoutProxy(_))
        ));

        let proxied = Dialer {
            proxy: Some(proxy(9050)),
            ..Dialer::default()
        };
        assert_eq!(
            proxied.route(plain).unwrap(),
            Route::Proxied(proxy(9050), Target::Addr(plain))
        );
        assert_eq!(
            proxied.route(hidden).unwrap(),
            Route::Proxied(proxy(9050), onion_target.clone()),
            "onions use --proxy when --onion is not set"
        );

        let bridged = Dialer {
            onion: Some(proxy(9150)),
            ..proxied.clone()
        };
        assert_eq!(
            bridged.route(hidden).unwrap(),
            Route::Proxied(proxy(9150), onion_target)
        );
        assert_eq!(
            bridged.route(plain).unwrap(),
            Route::Proxied(proxy(9050), Target::Addr(plain))
        );

        let no_onion = Dialer {
            no_onion: true,
            ..proxied
        };
        assert!(matches!(
            no_onion.route(hidden),
            Err(DialError::OnionDisabled(_))
        ));
    }
}
