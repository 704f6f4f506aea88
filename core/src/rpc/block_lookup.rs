//! What the block lookups (`getblockhash`, `getblockheader`, `getblock`) read: the block index
//! as of one moment and the stored blocks' bytes. The node's live chain provides it
//! ([`LiveChain`]), and so does a [`ReadView`] it published with the driver's own reader of the
//! block files ([`ViewLookup`]), which answers these calls beside the node, never waiting
//! behind its message loop. Both run the same handlers, so the answers are the same.

use super::jsonrpc::{self, Body, Request};
use super::methods::{self, LookupKind, Method};
use super::render::{Part, ReplyJob};
use super::view::ChainView;
use super::{Rights, Transport};
use crate::chain::index_view::IndexView;
use crate::chain::{ChainError, FilePos, IndexEntry, StoreError};
use crate::params::Network;
use crate::primitives::BlockHash;

/// The block index and stored blocks, read at one moment.
pub trait BlockLookup {
    /// The network, for addresses.
    fn network(&self) -> Network;
    /// The entry of `hash`.
    fn entry(&self, hash: &BlockHash) -> Option<IndexEntry>;
    /// The main chain's block at `height`.
    fn main_hash(&self, height: u32) -> Option<BlockHash>;
    /// The main chain's tip.
    fn tip(&self) -> IndexEntry;
    /// The stored bytes of `entry`'s block (`None` when only its header is known).
    fn block_bytes(&self, entry: &IndexEntry) -> Result<Option<Vec<u8>>, ChainError>;

    /// True when `entry` is on the main chain.
    fn is_main(&self, entry: &IndexEntry) -> bool {
        self.main_hash(entry.height) == Some(entry.hash)
    }
}

/// The node's chain as it is now.
pub struct LiveChain<'a>(pub &'a dyn ChainView);

impl BlockLookup for LiveChain<'_> {
    fn network(&self) -> Network {
        self.0.params().network
    }

    fn entry(&self, hash: &BlockHash) -> Option<IndexEntry> {
        self.0.index().get(hash).copied()
    }

    fn main_hash(&self, height: u32) -> Option<BlockHash> {
        self.0.main_hash(height)
    }

    fn tip(&self) -> IndexEntry {
        *self.0.tip()
    }

    fn block_bytes(&self, entry: &IndexEntry) -> Result<Option<Vec<u8>>, ChainError> {
        self.0.block_bytes(&entry.hash)
    }
}

/// What the node publishes after each input that changed its chain, for readers beside it
/// ([`crate::node::Node::read_view`]): immutable, taken in O(1).
#[derive(Clone, Debug)]
pub struct ReadView {
    /// The block index.
    pub index: IndexView,
    /// The network.
    pub network: Network,
}

/// A [`ReadView`] with `read`, which reads a block's record from the block files (the
/// driver's, on its own thread: the files are append-only, so what the view points at stays).
pub struct ViewLookup<'a, R> {
    /// The view.
    pub view: &'a ReadView,
    /// Reads the block at a position.
    pub read: R,
}

impl<R: Fn(FilePos) -> Result<Vec<u8>, StoreError>> BlockLookup for ViewLookup<'_, R> {
    fn network(&self) -> Network {
        self.view.network
    }

    fn entry(&self, hash: &BlockHash) -> Option<IndexEntry> {
        self.view.index.get(hash).copied()
    }

    fn main_hash(&self, height: u32) -> Option<BlockHash> {
        self.view.index.main_at(height).copied()
    }

    fn tip(&self) -> IndexEntry {
        *self.view.index.tip()
    }

    fn block_bytes(&self, entry: &IndexEntry) -> Result<Option<Vec<u8>>, ChainError> {
        match entry.data {
            Some(pos) => Ok(Some((self.read)(pos)?)),
            None => Ok(None),
        }
    }
}

/// Largest body answered from a lookup: bigger ones (batches of thousands of lookups) go to
/// the node rather than be scanned and parsed twice.
const MAX_LOOKUP_BODY: usize = 64 * 1024;

/// The lookups' method names in quotes, as a request names them.
const LOOKUP_NAMES: [&[u8]; 3] = [b"\"getblock\"", b"\"getblockhash\"", b"\"getblockheader\""];

/// Whether `body` holds one of [`LOOKUP_NAMES`]: each starts with a quote, so only the
/// places of quotes are compared.
fn names_a_lookup(body: &[u8]) -> bool {
    (0..body.len())
        .filter(|&i| body[i] == b'"')
        .any(|i| LOOKUP_NAMES.iter().any(|name| body[i..].starts_with(name)))
}

/// A request body every request of which is a block lookup its caller may make, so it
/// can be answered from a [`BlockLookup`] alone ([`LookupBody::parse`]).
#[derive(Debug)]
pub struct LookupBody {
    batch: bool,
    calls: Vec<(&'static Method, Request)>,
    kind: LookupKind,
}

impl LookupBody {
    /// `body` from a caller with `rights` over `transport`, when it holds only block lookups
    /// the caller may make; `None` when any part of it needs the node (which then gets the
    /// body whole, so every error reply and batch rule stays the node's).
    pub fn parse(body: &[u8], rights: Rights, transport: Transport) -> Option<LookupBody> {
        // Most bodies name no lookup: a scan for the quoted names spares them a parse here
        // (the node parses them). A name written with escapes only sends its body to the node.
        if body.len() > MAX_LOOKUP_BODY || !names_a_lookup(body) {
            return None;
        }
        let (batch, requests) = match jsonrpc::parse_body(body) {
            Body::Single(Ok(request)) => (false, vec![request]),
            Body::Single(Err(_)) => return None,
            Body::Batch(entries) => (true, entries.into_iter().collect::<Result<_, _>>().ok()?),
        };
        let mut kind = LookupKind::Index;
        let mut calls = Vec::with_capacity(requests.len());
        for request in requests {
            let method = methods::authorize(&request.method, transport, rights).ok()?;
            if method.lookup_kind()? == LookupKind::Blocks {
                kind = LookupKind::Blocks;
            }
            calls.push((method, request));
        }
        Some(LookupBody { batch, calls, kind })
    }

    /// What answering it reads: only the index, or stored blocks too.
    pub fn kind(&self) -> LookupKind {
        self.kind
    }

    /// The reply body, answered from `chain` as the node would answer it (empty when no
    /// request had an id).
    pub fn answer(self, chain: &dyn BlockLookup) -> String {
        let parts = self
            .calls
            .into_iter()
            .filter_map(|(method, request)| {
                let result = method
                    .lookup(chain, &request.params)
                    .expect("only lookups are taken");
                let id = request.id?;
                Some(Part::Ready(jsonrpc::response(
                    request.version,
                    Some(id),
                    result,
                )))
            })
            .collect();
        ReplyJob {
            batch: self.batch,
            parts,
        }
        .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::methods::METHODS;

    #[test]
    fn the_names_scanned_for_are_the_method_tables_lookups() {
        let table: Vec<Vec<u8>> = METHODS
            .iter()
            .filter(|m| m.lookup_kind().is_some())
            .map(|m| format!("\"{}\"", m.name).into_bytes())
            .collect();
        let scanned: Vec<Vec<u8>> = LOOKUP_NAMES.iter().map(|n| n.to_vec()).collect();
        assert_eq!(scanned, table);
    }
}
