//! CompactSize-counted lists, the shape of most message payloads.

use crate::primitives::encode::write_compact_size;
use crate::primitives::{Decodable, DecodeError, Encodable, Reader};

/// Reads a counted list of at most `max` items of at least `min_item_bytes` each. The count is
/// checked against both before anything is allocated.
pub(super) fn read_list<T: Decodable>(
    r: &mut Reader<'_>,
    min_item_bytes: usize,
    max: usize,
) -> Result<Vec<T>, DecodeError> {
    let n = r.count(min_item_bytes, max as u64)?;
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        items.push(T::decode_from(r)?);
    }
    Ok(items)
}

/// Writes a counted list.
pub(super) fn write_list<T: Encodable>(out: &mut Vec<u8>, items: &[T]) {
    write_compact_size(out, items.len() as u64);
    for item in items {
        item.encode_to(out);
    }
}
