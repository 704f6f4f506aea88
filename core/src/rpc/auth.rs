//! RPC credentials as btcd keeps them: the SHA-256 of each accepted `Authorization` header
//! value, compared in constant time. The HTTP transport checks the header of every request
//! with these; the node checks a WebSocket client's `authenticate` command with the same.

use super::caller::Rights;
use super::jsonrpc::{self, Body, Request};
use crate::primitives::hash::sha256;
use serde_json::Value;

/// SHA-256 digests of the accepted `Authorization` header values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    admin: Option<[u8; 32]>,
    limited: Option<[u8; 32]>,
}

impl Credentials {
    /// Digests for the configured admin (`rpcuser`/`rpcpass`) and limited (`rpclimituser`/
    /// `rpclimitpass`) users, each a (user, password) pair.
    pub fn new(admin: Option<&(String, String)>, limited: Option<&(String, String)>) -> Self {
        let digest = |(user, pass): &(String, String)| sha256(basic_auth(user, pass).as_bytes());
        Credentials {
            admin: admin.map(digest),
            limited: limited.map(digest),
        }
    }

    /// The rights an `Authorization` header value grants, if any. Both digests are always
    /// compared, in constant time, so timing reveals neither which user nor how much matched.
    pub fn check(&self, header: &str) -> Option<Rights> {
        let got = sha256(header.as_bytes());
        let is = |want: &Option<[u8; 32]>| want.is_some_and(|w| constant_time_eq(&w, &got));
        let (admin, limited) = (is(&self.admin), is(&self.limited));
        if admin {
            Some(Rights::Admin)
        } else if limited {
            Some(Rights::Limited)
        } else {
            None
        }
    }
}

/// The HTTP Basic `Authorization` header value for `user` and `pass`.
pub fn basic_auth(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        crate::base64::encode(format!("{user}:{pass}").as_bytes())
    )
}

/// A WebSocket message read as btcd's `authenticate "user" "pass"`: the request (its id and
/// dialect, for the reply) and the `Authorization` header value its credentials stand for;
/// `None` for any other message. The node decides a client's session with it, and the
/// connection task learns from it what the node will decide, to answer lookups beside it.
pub fn authenticate_message(message: &[u8]) -> Option<(Request, String)> {
    let Body::Single(Ok(req)) = jsonrpc::parse_body(message) else {
        return None;
    };
    let header = match (req.method.as_str(), req.params.as_slice()) {
        ("authenticate", [Value::String(user), Value::String(pass), ..]) => basic_auth(user, pass),
        _ => return None,
    };
    Some((req, header))
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_grant_rights_by_whole_header() {
        let admin = ("a".to_string(), "pw".to_string());
        let limited = ("l".to_string(), "lpw".to_string());
        let c = Credentials::new(Some(&admin), Some(&limited));
        assert_eq!(c.check(&basic_auth("a", "pw")), Some(Rights::Admin));
        assert_eq!(c.check(&basic_auth("l", "lpw")), Some(Rights::Limited));
        assert_eq!(c.check(&basic_auth("a", "lpw")), None);
        assert_eq!(c.check("Basic"), None);
        assert_eq!(
            Credentials::new(None, None).check(&basic_auth("", "")),
            None
        );
    }
}
