//! A DNS server for a test's namespace (127.0.0.1:53): answers every A question with one
//! address, every other question with no records, and records the names asked. Only the
//! message layout the system resolver sends is handled (one question, no compression in it).

use std::net::{Ipv4Addr, UdpSocket};
use std::sync::{Arc, Mutex};

/// The names asked so far (A and AAAA alike), in order.
pub type Asked = Arc<Mutex<Vec<String>>>;

/// Serves on 127.0.0.1:53 until the test process ends.
pub fn serve(answer: Ipv4Addr) -> Asked {
    let socket = UdpSocket::bind("127.0.0.1:53").expect("port 53 in the test's namespace");
    let asked: Asked = Arc::default();
    let log = Arc::clone(&asked);
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            if let Some((name, reply)) = reply(&buf[..n], answer) {
                log.lock().unwrap().push(name);
                let _ = socket.send_to(&reply, from);
            }
        }
    });
    asked
}

/// The question's name and the reply to `query`.
fn reply(query: &[u8], answer: Ipv4Addr) -> Option<(String, Vec<u8>)> {
    let mut labels = Vec::new();
    let mut at = 12;
    loop {
        let len = usize::from(*query.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).into_owned());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    let question_end = at + 4;
    let is_a = qtype == 1;
    let mut out = query.get(..question_end)?.to_vec();
    // Response, recursion available, no error; one question; one answer for A questions.
    out[2] = 0x81;
    out[3] = 0x80;
    out[4..6].copy_from_slice(&1u16.to_be_bytes());
    out[6..8].copy_from_slice(&u16::from(is_a).to_be_bytes());
    out[8..12].fill(0);
    if is_a {
        // The name as a pointer to the question, type A, class IN, TTL 60, 4 bytes.
        out.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        out.extend_from_slice(&answer.octets());
    }
    Some((labels.join("."), out))
}
