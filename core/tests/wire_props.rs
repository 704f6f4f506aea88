//! Property tests for the wire protocol: round trips, robustness on arbitrary bytes, and
//! independence from how the stream is chunked.

mod wire_strategies;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::wire::{encode_message, Command, Decoder, Message, WireError};
use wire_strategies::message;

fn magic() -> [u8; 4] {
    Params::new(Network::Mainnet).magic
}

fn decode_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<Result<Message, WireError>> {
    let mut d = Decoder::new(magic());
    let mut out = Vec::new();
    for c in chunks {
        d.push(c);
        while let Some(m) = d.pull() {
            out.push(m);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_message_round_trips(msg in message()) {
        let framed = encode_message(magic(), &msg);
        prop_assert_eq!(decode_chunks([&framed[..]]), vec![Ok(msg.clone())]);
        let mut payload = Vec::new();
        msg.encode_payload(&mut payload);
        prop_assert_eq!(&framed[24..], &payload[..]);
        prop_assert_eq!(Message::decode_payload(msg.command(), &payload), Ok(msg));
    }

    #[test]
    fn random_chunking_yields_the_same_messages(
        msgs in vec(message(), 1..6),
        cuts in vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let stream: Vec<u8> = msgs.iter().flat_map(|m| encode_message(magic(), m)).collect();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        let chunks = points.windows(2).map(|w| &stream[w[0]..w[1]]);
        let expected: Vec<_> = msgs.into_iter().map(Ok).collect();
        prop_assert_eq!(decode_chunks(chunks), expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in vec(any::<u8>(), 0..600), chunk in 1usize..64) {
        // Pure noise, with and without our magic in front.
        decode_chunks(data.chunks(chunk));
        let mut framed = magic().to_vec();
        framed.extend_from_slice(&data);
        decode_chunks(framed.chunks(chunk));
    }

    #[test]
    fn arbitrary_payloads_of_every_command_never_panic(
        data in vec(any::<u8>(), 0..400),
        which in 0..Command::ALL.len(),
    ) {
        let command = Command::ALL[which].name();
        let framed = encode_message(magic(), &Message::Unknown {
            command: command.to_string(),
            payload: data.clone(),
        });
        // Whatever the result, a well-framed payload yields exactly one result and no panic.
        let got = decode_chunks([&framed[..]]);
        let oversized = data.len() as u32 > Command::ALL[which].max_payload();
        prop_assert_eq!(got.len(), 1);
        prop_assert_eq!(oversized, matches!(got[0], Err(WireError::PayloadTooLarge { .. })));
        if let Ok(m) = &got[0] {
            // Whatever decodes re-encodes to a payload that decodes to the same message.
            let mut again = Vec::new();
            m.encode_payload(&mut again);
            prop_assert_eq!(Message::decode_payload(command, &again), Ok(m.clone()));
        }
    }

    #[test]
    fn mutated_frames_never_panic(msg in message(), flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut framed = encode_message(magic(), &msg);
        for (i, x) in flips {
            let at = i.index(framed.len());
            framed[at] ^= x;
        }
        decode_chunks(framed.chunks(7));
    }
}

#[test]
fn a_stream_split_at_every_boundary_yields_the_same_messages() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let msgs: Vec<Message> = (0..8)
        .map(|_| message().new_tree(&mut runner).unwrap().current())
        .collect();
    let stream: Vec<u8> = msgs
        .iter()
        .flat_map(|m| encode_message(magic(), m))
        .collect();
    let expected: Vec<_> = msgs.into_iter().map(Ok).collect();
    assert_eq!(decode_chunks([&stream[..]]), expected);
    for i in 0..=stream.len() {
        assert_eq!(
            decode_chunks([&stream[..i], &stream[i..]]),
            expected,
            "split at {i}"
        );
    }
    assert_eq!(decode_chunks(stream.chunks(1)), expected, "byte by byte");
}
