//! User agents: ours, with the operator's BIP14 comments (`uacomment`), and which peers' agents
//! we accept (`agentblacklist`, `agentwhitelist`, as btcd's `HasUndesiredUserAgent`).

use crate::wire::protocol::MAX_USER_AGENT_LEN;
use std::fmt;

/// Characters BIP14 reserves for the agent's structure, so a comment may not hold them.
pub const RESERVED_CHARS: &[char] = &['/', ':', '(', ')'];

/// Why the user agent comments were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserAgentError {
    /// A comment holds one of [`RESERVED_CHARS`].
    ReservedChar(String),
    /// The whole agent would be longer than peers accept.
    TooLong(usize),
}

impl fmt::Display for UserAgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserAgentError::ReservedChar(c) => write!(
                f,
                "the user agent comment '{c}' holds one of the characters BIP 14 reserves: \
                 '/', ':', '(', ')'"
            ),
            UserAgentError::TooLong(n) => write!(
                f,
                "the user agent with its comments is {n} bytes, more than the \
                 {MAX_USER_AGENT_LEN} peers accept -- shorten the uacomment values"
            ),
        }
    }
}

impl std::error::Error for UserAgentError {}

/// Our user agent, `/rbtcd:VERSION(comment; comment)/` (BIP14), or why the comments cannot
/// be part of it.
pub fn user_agent(comments: &[String]) -> Result<String, UserAgentError> {
    if let Some(bad) = comments.iter().find(|c| c.contains(RESERVED_CHARS)) {
        return Err(UserAgentError::ReservedChar(bad.clone()));
    }
    let mut agent = format!("/rbtcd:{}", env!("CARGO_PKG_VERSION"));
    if !comments.is_empty() {
        agent.push('(');
        agent.push_str(&comments.join("; "));
        agent.push(')');
    }
    agent.push('/');
    match agent.len() > MAX_USER_AGENT_LEN {
        true => Err(UserAgentError::TooLong(agent.len())),
        false => Ok(agent),
    }
}

/// Whether a peer announcing `agent` is welcome: none of `blacklist` may occur in it, and one
/// of `whitelist` must unless that list is empty.
pub fn agent_allowed(agent: &str, blacklist: &[String], whitelist: &[String]) -> bool {
    if blacklist.iter().any(|b| agent.contains(b.as_str())) {
        return false;
    }
    whitelist.is_empty() || whitelist.iter().any(|w| agent.contains(w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn comments_follow_bip14() {
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(user_agent(&[]).unwrap(), format!("/rbtcd:{version}/"));
        assert_eq!(
            user_agent(&strings(&["pool", "eu-1"])).unwrap(),
            format!("/rbtcd:{version}(pool; eu-1)/")
        );
        for bad in ["a/b", "a:b", "(x", "y)"] {
            assert_eq!(
                user_agent(&strings(&[bad])),
                Err(UserAgentError::ReservedChar(bad.to_string()))
            );
        }
        let long = "x".repeat(MAX_USER_AGENT_LEN);
        assert!(matches!(
            user_agent(&[long]),
            Err(UserAgentError::TooLong(_))
        ));
    }

    #[test]
    fn blacklist_then_whitelist() {
        let knots = "/Satoshi:27.1.0/Knots:20240801/";
        let btcd = "/btcwire:0.5.0/btcd:0.24.2/";
        assert!(agent_allowed(knots, &[], &[]));
        assert!(!agent_allowed(knots, &strings(&["Knots"]), &[]));
        assert!(agent_allowed(btcd, &strings(&["Knots"]), &[]));
        assert!(agent_allowed(btcd, &[], &strings(&["btcd", "Satoshi"])));
        assert!(!agent_allowed("/bcoin:2.2.0/", &[], &strings(&["btcd"])));
        // The blacklist is applied first.
        assert!(!agent_allowed(
            knots,
            &strings(&["Knots"]),
            &strings(&["Satoshi"])
        ));
    }
}
