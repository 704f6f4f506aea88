//! The 24-byte frame around every message, and a streaming decoder that takes bytes in
//! whatever chunks the socket delivers.

use super::command::Command;
use super::error::WireError;
use super::message::Message;
use super::protocol::{COMMAND_SIZE, MAX_PROTOCOL_MESSAGE_LENGTH, MESSAGE_HEADER_SIZE};
use crate::primitives::hash::sha256d;
use crate::primitives::{Block, Decodable};
use std::collections::VecDeque;
use std::ops::Range;

/// Unknown commands with a payload above this are discarded as they arrive instead of being
/// buffered (btcd discards every unknown payload; small ones are decoded for tests and logs).
/// A framing rule, so it lives here rather than with the peer memory budget (`wire` below
/// `net`, without a cycle).
pub const MAX_UNKNOWN_PAYLOAD: u32 = 64 * 1024;

/// Frames `msg` for the network with `magic`: magic, NUL-padded command, payload length,
/// first four bytes of the payload's double SHA-256, payload.
pub fn encode_message(magic: [u8; 4], msg: &Message) -> Vec<u8> {
    frame(magic, msg.command(), 64, |out| msg.encode_payload(out))
}

/// One frame of `command` carrying `payload` as it is: a stored block is sent as the bytes it
/// was received as, never decoded and encoded again.
pub fn encode_frame(magic: [u8; 4], command: Command, payload: &[u8]) -> Vec<u8> {
    frame(magic, command.name(), payload.len(), |out| {
        out.extend_from_slice(payload)
    })
}

/// A frame for `name` whose payload `write` appends (about `size_hint` bytes).
fn frame(
    magic: [u8; 4],
    name: &str,
    size_hint: usize,
    write: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(MESSAGE_HEADER_SIZE + size_hint);
    out.extend_from_slice(&magic);
    let mut command = [0u8; COMMAND_SIZE];
    let name = name.as_bytes();
    let n = name.len().min(COMMAND_SIZE);
    command[..n].copy_from_slice(&name[..n]);
    out.extend_from_slice(&command);
    out.extend_from_slice(&[0; 8]);
    write(&mut out);
    let len = (out.len() - MESSAGE_HEADER_SIZE) as u32;
    let checksum = sha256d(&out[MESSAGE_HEADER_SIZE..]);
    out[16..20].copy_from_slice(&len.to_le_bytes());
    out[20..24].copy_from_slice(&checksum[..4]);
    out
}

/// A parsed frame header.
struct Header {
    magic: [u8; 4],
    command: [u8; COMMAND_SIZE],
    length: u32,
    checksum: [u8; 4],
}

impl Header {
    fn parse(b: &[u8]) -> Header {
        let field = |at: usize| -> [u8; 4] { b[at..at + 4].try_into().expect("4 bytes") };
        Header {
            magic: field(0),
            command: b[4..16].try_into().expect("12 bytes"),
            length: u32::from_le_bytes(field(16)),
            checksum: field(20),
        }
    }

    /// The command without NUL padding, or an error if it is not UTF-8 (btcd's only rule).
    fn command_name(&self) -> Result<&str, WireError> {
        let end = self
            .command
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |i| i + 1);
        std::str::from_utf8(&self.command[..end])
            .map_err(|_| WireError::InvalidCommand(self.command))
    }

    /// Checks what can be checked before the payload arrives, in btcd's order: overall size,
    /// network, command, the command's own limit; a large payload of an unknown command is
    /// refused here too, so it is discarded as it arrives rather than buffered.
    fn validate(&self, magic: [u8; 4]) -> Result<(), WireError> {
        let too_large = |max: u32| WireError::PayloadTooLarge {
            command: String::from_utf8_lossy(&self.command)
                .trim_end_matches('\0')
                .to_string(),
            length: self.length,
            max,
        };
        if self.length > MAX_PROTOCOL_MESSAGE_LENGTH {
            return Err(too_large(MAX_PROTOCOL_MESSAGE_LENGTH));
        }
        if self.magic != magic {
            return Err(WireError::BadMagic {
                expected: magic,
                got: self.magic,
            });
        }
        match Command::from_name(self.command_name()?) {
            Some(c) if self.length > c.max_payload() => Err(too_large(c.max_payload())),
            None if self.length > MAX_UNKNOWN_PAYLOAD => Err(WireError::UnknownDiscarded {
                command: self.command_name()?.to_string(),
                length: self.length,
            }),
            _ => Ok(()),
        }
    }

    /// Whether `payload` matches the header's checksum.
    fn checksum_error(&self, payload: &[u8]) -> Option<WireError> {
        let actual: [u8; 4] = sha256d(payload)[..4].try_into().expect("4 bytes");
        (actual != self.checksum).then(|| WireError::BadChecksum {
            command: self.command_name().unwrap_or_default().to_string(),
            expected: self.checksum,
            actual,
        })
    }
}

/// What the buffered bytes hold next.
enum Next {
    /// An incomplete frame: more bytes are needed.
    More,
    /// A frame whose header was refused (its payload is skipped).
    Refused(WireError),
    /// A complete frame with a valid header: it starts at stream offset `at`, its payload is
    /// `payload` of the buffer.
    Frame {
        at: u64,
        header: Header,
        payload: Range<usize>,
    },
}

/// A `block` payload decoded ahead of its frame's turn (see [`Decoder::next_block`]).
#[derive(Debug)]
struct Decoded {
    /// Stream offset of the frame.
    at: u64,
    /// Its payload's length.
    len: usize,
    block: Block,
}

/// Buffer capacity a partly decoded stream may keep beyond twice what it holds: compaction
/// after a large chunk gives back only what is above this.
const RETAINED_CAPACITY: usize = 64 * 1024;

/// A push decoder for one connection's inbound byte stream.
///
/// Feed bytes with [`Decoder::push`] in any chunking, then call [`Decoder::pull`] until it
/// returns `None`. A frame whose header is bad (wrong network, oversized, bad command) is
/// reported once and its claimed payload skipped without being buffered; a frame with a bad
/// checksum or payload is reported and consumed. Either way decoding continues with the next
/// frame, so the stream never stalls; whether to disconnect is the caller's decision.
pub struct Decoder {
    magic: [u8; 4],
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// Bytes of a rejected frame's payload still to be discarded as they arrive.
    skip: u64,
    /// A frame header was read: the stream is past its opening bytes.
    framed: bool,
    /// The payload of the last `block` message pulled, until taken.
    raw_block: Option<Vec<u8>>,
    /// Bytes pushed so far, skipped ones included: the stream offset just past `buf`.
    pushed: u64,
    /// Blocks the driver decoded ahead, in stream order, for [`Decoder::pull`] to take.
    decoded: VecDeque<Decoded>,
}

impl Decoder {
    /// A decoder for the network whose frames start with `magic`.
    pub fn new(magic: [u8; 4]) -> Self {
        Decoder {
            magic,
            buf: Vec::new(),
            pos: 0,
            skip: 0,
            framed: false,
            raw_block: None,
            pushed: 0,
            decoded: VecDeque::new(),
        }
    }

    /// Hands over the `block` message whose frame starts at stream offset `at` (counted from
    /// the first byte pushed), as [`Decoder::next_block`] of a decoder fed the same bytes
    /// decoded it: [`Decoder::pull`] returns it for that frame instead of checking and
    /// decoding the payload itself. Must come before the bytes that complete the frame.
    pub fn add_decoded(&mut self, at: u64, len: usize, block: Block) {
        self.decoded.push_back(Decoded { at, len, block });
    }

    /// Moves past the next frame, decoding it only if it is a `block` message with a good
    /// checksum: `None` when more bytes are needed, `Some(None)` for any other frame, else the
    /// frame's stream offset, payload length and block. A driver runs this over a copy of a
    /// peer's bytes off the node's thread and hands what it finds to the node's decoder with
    /// [`Decoder::add_decoded`], so the node does not decode blocks itself.
    pub fn next_block(&mut self) -> Option<Option<(u64, usize, Block)>> {
        let (at, header, payload) = match self.next() {
            Next::More => return None,
            Next::Refused(_) => return Some(None),
            Next::Frame {
                at,
                header,
                payload,
            } => (at, header, payload),
        };
        let bytes = &self.buf[payload.clone()];
        let block = (header.command_name() == Ok(Command::Block.name())
            && header.checksum_error(bytes).is_none())
        .then(|| Block::decode(bytes).ok())
        .flatten();
        let found = block.map(|b| (at, payload.len(), b));
        self.consume(payload.end);
        Some(found)
    }

    /// The exact payload bytes of the `block` message [`Decoder::pull`] returned last (so the
    /// block can be stored as received), once.
    pub fn take_raw_block(&mut self) -> Option<Vec<u8>> {
        self.raw_block.take()
    }

    /// True when the stream's opening bytes already differ from the network magic, so it is
    /// not this protocol at all: a BIP324 v2 handshake (whose initiator falls back to v1 when
    /// the connection is closed before it hears anything), another network's node, TLS, HTTP.
    /// Decided on as few bytes as have arrived, so the caller can close before answering.
    pub fn foreign_start(&self) -> bool {
        let head = &self.buf[self.pos..];
        let n = head.len().min(self.magic.len());
        !self.framed && head[..n] != self.magic[..n]
    }

    /// Appends received bytes handed over whole: when nothing is buffered they become the
    /// buffer as they are, without a copy (a connection's bytes mostly arrive as whole frames).
    pub fn push_owned(&mut self, bytes: Vec<u8>) {
        if self.skip == 0 && self.pos == self.buf.len() {
            self.pushed += bytes.len() as u64;
            self.buf = bytes;
            self.pos = 0;
        } else {
            self.push(&bytes);
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, mut bytes: &[u8]) {
        self.pushed += bytes.len() as u64;
        if self.skip > 0 {
            let n = self.skip.min(bytes.len() as u64) as usize;
            self.skip -= n as u64;
            bytes = &bytes[n..];
        }
        if bytes.is_empty() {
            return;
        }
        // Reclaim consumed space once it is at least half the buffer, so that copying is
        // amortised over the bytes consumed.
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes the decoder holds allocated (what a peer costs in memory on the receiving side),
    /// blocks decoded ahead counted at their payload's size.
    pub fn held(&self) -> usize {
        self.buf.capacity() + self.decoded.iter().map(|d| d.len).sum::<usize>()
    }

    /// Drops consumed bytes and gives back capacity beyond twice what is still buffered, so a
    /// huge chunk handed over at once does not stay allocated after its frames are decoded.
    /// Call when [`Decoder::pull`] returned `None`.
    pub fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let keep = self.buf.len().max(RETAINED_CAPACITY);
        if self.buf.capacity() > 2 * keep {
            self.buf.shrink_to(keep);
        }
    }

    /// True when [`Decoder::pull`] would return something now: a complete frame, or a bad
    /// frame's header, is buffered.
    pub fn has_frame(&self) -> bool {
        let avail = &self.buf[self.pos..];
        if avail.len() < MESSAGE_HEADER_SIZE {
            return false;
        }
        let header = Header::parse(&avail[..MESSAGE_HEADER_SIZE]);
        header.validate(self.magic).is_err()
            || avail.len() >= MESSAGE_HEADER_SIZE + header.length as usize
    }

    /// The next complete message, an error for the next bad frame, or `None` when more bytes
    /// are needed.
    pub fn pull(&mut self) -> Option<Result<Message, WireError>> {
        let (at, header, payload) = match self.next() {
            Next::More => return None,
            Next::Refused(e) => return Some(Err(e)),
            Next::Frame {
                at,
                header,
                payload,
            } => (at, header, payload),
        };
        let command = header.command_name().expect("validated");
        let decoded = self.take_decoded(at);
        let bytes = &self.buf[payload.clone()];
        let result = match decoded {
            // Decoded from these very bytes, checksum included.
            Some(block) if command == Command::Block.name() => Ok(Message::Block(block)),
            _ => match header.checksum_error(bytes) {
                Some(e) => Err(e),
                None => Message::decode_payload(command, bytes),
            },
        };
        self.raw_block = matches!(result, Ok(Message::Block(_))).then(|| bytes.to_vec());
        self.consume(payload.end);
        Some(result)
    }

    /// The block decoded ahead for the frame at stream offset `at`, dropping any for earlier
    /// frames.
    fn take_decoded(&mut self, at: u64) -> Option<Block> {
        while self.decoded.front().is_some_and(|d| d.at < at) {
            self.decoded.pop_front();
        }
        match self.decoded.front() {
            Some(d) if d.at == at => self.decoded.pop_front().map(|d| d.block),
            _ => None,
        }
    }

    /// Parses the next frame's header, skipping a refused frame's payload.
    fn next(&mut self) -> Next {
        let avail = &self.buf[self.pos..];
        if avail.len() < MESSAGE_HEADER_SIZE {
            return Next::More;
        }
        let header = Header::parse(&avail[..MESSAGE_HEADER_SIZE]);
        self.framed = true;
        if let Err(e) = header.validate(self.magic) {
            self.pos += MESSAGE_HEADER_SIZE;
            let n = (self.buf.len() - self.pos).min(header.length as usize);
            self.pos += n;
            self.skip = header.length as u64 - n as u64;
            return Next::Refused(e);
        }
        let end = MESSAGE_HEADER_SIZE + header.length as usize;
        if avail.len() < end {
            return Next::More;
        }
        // The stream offset of `buf[pos]`: everything pushed but what is still buffered.
        let at = self.pushed - (self.buf.len() - self.pos) as u64;
        let start = self.pos + MESSAGE_HEADER_SIZE;
        Next::Frame {
            at,
            header,
            payload: start..self.pos + end,
        }
    }

    /// Marks the buffer consumed up to `end`, releasing it when nothing is left.
    fn consume(&mut self, end: usize) {
        self.pos = end;
        if self.pos == self.buf.len() {
            // Everything decoded: an idle connection holds no buffer (the next bytes handed
            // over whole become one, [`Decoder::push_owned`]). A thousand simulated nodes kept
            // a frame's worth per connection.
            self.buf = Vec::new();
            self.pos = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{DecodeError, Encodable};
    use crate::wire::error::PayloadError;

    const MAGIC: [u8; 4] = [0xf9, 0xbe, 0xb4, 0xd9];

    fn frame(command: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        let mut c = [0u8; 12];
        c[..command.len()].copy_from_slice(command);
        out.extend_from_slice(&c);
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&sha256d(payload)[..4]);
        out.extend_from_slice(payload);
        out
    }

    fn decode_all(bytes: &[u8]) -> Vec<Result<Message, WireError>> {
        let mut d = Decoder::new(MAGIC);
        d.push(bytes);
        std::iter::from_fn(|| d.pull()).collect()
    }

    #[test]
    fn blocks_decoded_ahead_are_taken_at_their_own_frames_only() {
        use crate::chain::builder::branch;
        use crate::params::{Network, Params};
        let params = Params::new(Network::Regtest);
        let blocks = branch(&params, &params.genesis, 1, 3, b"ahead");
        let block_frame = |b: &Block| encode_message(MAGIC, &Message::Block(b.clone()));
        // A stream of a ping, a refused frame (another network's), two blocks and a pong.
        let mut stream = encode_message(MAGIC, &Message::Ping(1));
        stream.extend(
            frame(b"ping", &[0; 8])
                .iter()
                .enumerate()
                .map(|(i, b)| match i {
                    0 => b ^ 0xff,
                    _ => *b,
                }),
        );
        stream.extend(block_frame(&blocks[0]));
        stream.extend(block_frame(&blocks[1]));
        stream.extend(encode_message(MAGIC, &Message::Pong(2)));
        // The driver's copy, fed in odd chunks, finds both blocks.
        let mut ahead = Decoder::new(MAGIC);
        let mut found = Vec::new();
        for chunk in stream.chunks(97) {
            ahead.push(chunk);
            while let Some(frame) = ahead.next_block() {
                found.extend(frame);
            }
        }
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].2, blocks[0]);
        assert_eq!(found[1].2, blocks[1]);
        // Handed to the node's decoder, each is taken for its own frame: a stand-in given for
        // the second frame comes out there, and one for an offset where no block frame starts
        // is never used.
        let mut node = Decoder::new(MAGIC);
        node.add_decoded(found[0].0, found[0].1, found[0].2.clone());
        node.add_decoded(found[0].0 + 1, 0, blocks[2].clone());
        node.add_decoded(found[1].0, found[1].1, blocks[2].clone());
        node.push(&stream);
        let mut pulled = Vec::new();
        while let Some(m) = node.pull() {
            if let Ok(Message::Block(b)) = m {
                let raw = node.take_raw_block().expect("a block's bytes");
                pulled.push((b, raw));
            }
        }
        assert_eq!(pulled.len(), 2);
        assert_eq!(pulled[0].0, blocks[0]);
        assert_eq!(
            pulled[1].0, blocks[2],
            "the block handed over for the frame"
        );
        // The bytes kept are the frame's own.
        assert_eq!(pulled[1].1, blocks[1].encode());
        assert_eq!(node.held(), node.buf.capacity(), "nothing left over");
    }

    #[test]
    fn verack_frame_matches_known_bytes() {
        let b = encode_message(MAGIC, &Message::Verack);
        assert_eq!(
            crate::primitives::hash::hex_encode(&b),
            "f9beb4d976657261636b000000000000000000005df6e0e2"
        );
        assert_eq!(decode_all(&b), vec![Ok(Message::Verack)]);
    }

    #[test]
    fn bad_magic_is_reported_and_the_next_frame_still_decodes() {
        let mut b = frame(b"ping", &7u64.to_le_bytes());
        b[0] = 0x0b;
        b.extend(encode_message(MAGIC, &Message::Pong(9)));
        let got = decode_all(&b);
        assert!(matches!(
            got[0],
            Err(WireError::BadMagic {
                got: [0x0b, ..],
                ..
            })
        ));
        assert_eq!(got[1], Ok(Message::Pong(9)));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn a_stream_not_opening_with_the_magic_is_foreign_from_its_first_byte() {
        let mut d = Decoder::new(MAGIC);
        assert!(!d.foreign_start(), "nothing received yet");
        d.push(&MAGIC[..2]);
        assert!(
            !d.foreign_start(),
            "a prefix of the magic may still be a frame"
        );
        let mut v2 = Decoder::new(MAGIC);
        // A BIP324 initiator opens with a 64-byte ElligatorSwift key: random-looking bytes.
        v2.push(&[0x5a]);
        assert!(v2.foreign_start());
        let mut d = Decoder::new(MAGIC);
        let mut b = encode_message(MAGIC, &Message::Verack);
        b.extend([0x5a; 30]);
        d.push(&b);
        assert!(!d.foreign_start());
        assert_eq!(d.pull(), Some(Ok(Message::Verack)));
        // Later garbage is a framing error for the caller, not a foreign protocol.
        assert!(!d.foreign_start());
    }

    #[test]
    fn has_frame_says_whether_pull_would_return_something() {
        let mut d = Decoder::new(MAGIC);
        let ping = frame(b"ping", &7u64.to_le_bytes());
        d.push(&ping[..ping.len() - 1]);
        assert!(!d.has_frame(), "one byte of the payload missing");
        assert_eq!(d.pull(), None);
        d.push(&ping[ping.len() - 1..]);
        d.push(&ping[..10]);
        assert!(d.has_frame());
        assert_eq!(d.pull(), Some(Ok(Message::Ping(7))));
        assert!(!d.has_frame(), "only part of the next header");
        let mut bad = Decoder::new(MAGIC);
        let mut h = frame(b"ping", &[]);
        h[0] = 0x0b;
        bad.push(&h);
        assert!(
            bad.has_frame(),
            "a bad header is reported without its payload"
        );
        assert!(matches!(bad.pull(), Some(Err(WireError::BadMagic { .. }))));
    }

    #[test]
    fn oversized_payload_is_rejected_from_the_header_alone() {
        let mut d = Decoder::new(MAGIC);
        let mut h = frame(b"ping", &[]);
        h[16..20].copy_from_slice(&9u32.to_le_bytes());
        d.push(&h);
        assert_eq!(
            d.pull(),
            Some(Err(WireError::PayloadTooLarge {
                command: "ping".into(),
                length: 9,
                max: 8
            }))
        );
        // The claimed 9 bytes are skipped as they arrive, then framing resumes.
        d.push(&[0xaa; 5]);
        d.push(&[0xaa; 4]);
        d.push(&encode_message(MAGIC, &Message::GetAddr));
        assert_eq!(d.pull(), Some(Ok(Message::GetAddr)));
        assert_eq!(d.buffered(), 0);

        for (cmd, len) in [(&b"block"[..], 4_000_001u32), (b"whatever", 32 << 20 | 1)] {
            let mut h = frame(cmd, &[]);
            h[16..20].copy_from_slice(&len.to_le_bytes());
            assert!(matches!(
                decode_all(&h)[..],
                [Err(WireError::PayloadTooLarge { max: 4_000_000, .. })]
            ));
        }
    }

    #[test]
    fn buffer_shrinks_after_a_large_message() {
        let mut d = Decoder::new(MAGIC);
        let big = frame(b"cfcheckpt", &[0; 1_000_000]);
        d.push(&big);
        assert!(matches!(d.pull(), Some(Err(WireError::Malformed { .. }))));
        assert_eq!(d.buffered(), 0);
        assert_eq!(d.held(), 0, "nothing is held once everything is decoded");
    }

    #[test]
    fn bytes_handed_over_whole_become_the_buffer_unless_a_frame_is_partly_buffered() {
        let mut d = Decoder::new(MAGIC);
        let ping = encode_message(MAGIC, &Message::Ping(3));
        let whole = ping.clone();
        let at = whole.as_ptr();
        d.push_owned(whole);
        assert_eq!(d.buf.as_ptr(), at, "adopted, not copied");
        assert_eq!(d.pull(), Some(Ok(Message::Ping(3))));
        assert_eq!(d.held(), 0);
        // Split: the second part is appended to the first.
        d.push_owned(ping[..10].to_vec());
        assert_eq!(d.pull(), None);
        d.push_owned(ping[10..].to_vec());
        assert_eq!(d.pull(), Some(Ok(Message::Ping(3))));
        assert_eq!(d.pull(), None);
    }

    #[test]
    fn large_unknown_payloads_are_discarded_as_they_arrive() {
        let mut d = Decoder::new(MAGIC);
        let big = frame(b"cmpctblock", &vec![7; 3_000_000]);
        d.push(&big[..1000]);
        assert_eq!(
            d.pull(),
            Some(Err(WireError::UnknownDiscarded {
                command: "cmpctblock".into(),
                length: 3_000_000
            }))
        );
        for chunk in big[1000..].chunks(64 * 1024) {
            d.push(chunk);
            assert_eq!(d.pull(), None);
            assert_eq!(d.buffered(), 0, "nothing of the payload is kept");
        }
        d.push(&encode_message(MAGIC, &Message::Verack));
        assert_eq!(d.pull(), Some(Ok(Message::Verack)));
        assert!(d.held() <= RETAINED_CAPACITY);
    }

    #[test]
    fn compaction_gives_back_a_huge_chunks_capacity() {
        let mut d = Decoder::new(MAGIC);
        let mut bytes = Vec::new();
        for _ in 0..10_000 {
            bytes.extend(encode_message(MAGIC, &Message::Ping(1)));
        }
        let partial = frame(b"ping", &5u64.to_le_bytes());
        bytes.extend_from_slice(&partial[..30]);
        d.push(&bytes);
        while let Some(m) = d.pull() {
            assert_eq!(m, Ok(Message::Ping(1)));
        }
        assert!(d.held() >= bytes.len());
        d.compact();
        assert_eq!(d.buffered(), 30);
        assert!(d.held() <= 2 * RETAINED_CAPACITY, "{}", d.held());
        d.push(&partial[30..]);
        assert_eq!(d.pull(), Some(Ok(Message::Ping(5))));
    }

    #[test]
    fn bad_checksum_is_typed() {
        let mut b = frame(b"ping", &1u64.to_le_bytes());
        b[20] ^= 1;
        assert!(matches!(
            decode_all(&b)[..],
            [Err(WireError::BadChecksum { ref command, .. })] if command == "ping"
        ));
    }

    #[test]
    fn unknown_commands_are_messages_and_bad_commands_errors() {
        let b = frame(b"filterload", &[1, 2, 3]);
        assert_eq!(
            decode_all(&b),
            vec![Ok(Message::Unknown {
                command: "filterload".into(),
                payload: vec![1, 2, 3]
            })]
        );
        let b = frame(&[0xff, 0xfe], &[]);
        assert!(matches!(
            decode_all(&b)[..],
            [Err(WireError::InvalidCommand(_))]
        ));
    }

    #[test]
    fn payload_errors_name_their_reason() {
        let malformed = |cmd: &'static str, payload: &[u8]| match &decode_all(&frame(
            cmd.as_bytes(),
            payload,
        ))[..]
        {
            [Err(WireError::Malformed { command, reason })] if *command == cmd => reason.clone(),
            other => panic!("{cmd}: {other:?}"),
        };
        let mut headers = vec![1u8];
        headers.extend_from_slice(&[0; 80]);
        headers.push(1);
        assert_eq!(
            malformed("headers", &headers),
            PayloadError::HeaderWithTransactions(1)
        );
        assert_eq!(
            malformed("inv", &[0xfd, 0x51, 0xc3]),
            PayloadError::Decode(DecodeError::CountTooLarge {
                count: 50_001,
                max: 50_000
            })
        );
        assert_eq!(
            malformed("getheaders", &[1, 0, 0, 0, 0xfd, 0xf5, 0x01]),
            PayloadError::Decode(DecodeError::CountTooLarge {
                count: 501,
                max: 500
            })
        );
        assert_eq!(
            malformed("addr", &[0xfd, 0xe9, 0x03]),
            PayloadError::Decode(DecodeError::CountTooLarge {
                count: 1001,
                max: 1000
            })
        );
        assert_eq!(
            malformed("inv", &[2, 0, 0, 0]),
            PayloadError::Decode(DecodeError::CountExceedsInput {
                count: 2,
                remaining: 3
            })
        );
        assert_eq!(
            malformed("ping", &[0; 7]),
            PayloadError::Decode(DecodeError::UnexpectedEnd { needed: 1 })
        );
        assert_eq!(
            malformed("headers", &[0, 0]),
            PayloadError::Decode(DecodeError::TrailingBytes(1))
        );
        let mut version = vec![0u8; 4 + 8 + 8 + 26 + 26 + 8];
        version.extend_from_slice(&[0xfd, 0x01, 0x01]);
        version.extend_from_slice(&[b'a'; 257]);
        assert_eq!(
            malformed("version", &version),
            PayloadError::UserAgentTooLong(257)
        );
    }

    #[test]
    fn short_version_messages_take_btcd_defaults() {
        let mut payload = 70001i32.to_le_bytes().to_vec();
        payload.extend_from_slice(&[0; 8 + 8 + 26]);
        match &decode_all(&frame(b"version", &payload))[..] {
            [Ok(Message::Version(v))] => {
                assert_eq!(v.version, 70001);
                assert!(v.relay);
                assert_eq!(v.user_agent, "");
            }
            other => panic!("{other:?}"),
        }
    }
}
