//! Splitting a script into instructions.

use super::opcodes::*;

/// One script instruction: an opcode and, for pushes, the pushed bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Instruction<'a> {
    /// The opcode byte (for pushes, the push opcode itself).
    pub opcode: u8,
    /// The data a push opcode pushes; `None` for other opcodes.
    pub data: Option<&'a [u8]>,
}

/// A push opcode claims more bytes than the script has.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TruncatedPush;

/// Iterates over a script's instructions; yields `Err(TruncatedPush)` once and then stops when a
/// push runs past the end.
#[derive(Clone)]
pub struct Instructions<'a> {
    script: &'a [u8],
    pos: usize,
}

/// The instructions of `script`.
pub fn instructions(script: &[u8]) -> Instructions<'_> {
    Instructions { script, pos: 0 }
}

impl<'a> Instructions<'a> {
    /// Byte offset of the next instruction.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn read_len(&mut self, width: usize) -> Option<usize> {
        let b = self.script.get(self.pos..self.pos + width)?;
        self.pos += width;
        Some(
            b.iter()
                .rev()
                .fold(0usize, |acc, x| (acc << 8) | *x as usize),
        )
    }
}

impl<'a> Iterator for Instructions<'a> {
    type Item = Result<Instruction<'a>, TruncatedPush>;

    fn next(&mut self) -> Option<Self::Item> {
        let opcode = *self.script.get(self.pos)?;
        self.pos += 1;
        let len = match opcode {
            0x01..=0x4b => Some(opcode as usize),
            OP_PUSHDATA1 => self.read_len(1),
            OP_PUSHDATA2 => self.read_len(2),
            OP_PUSHDATA4 => self.read_len(4),
            _ => return Some(Ok(Instruction { opcode, data: None })),
        };
        let data = len.and_then(|n| self.script.get(self.pos..self.pos.checked_add(n)?));
        match data {
            Some(d) => {
                self.pos += d.len();
                Some(Ok(Instruction {
                    opcode,
                    data: Some(d),
                }))
            }
            None => {
                self.pos = self.script.len();
                Some(Err(TruncatedPush))
            }
        }
    }
}

/// True when every instruction is a push (OP_0..OP_16, OP_1NEGATE and data pushes) and the
/// script parses. OP_RESERVED counts as a push, as in Bitcoin Core and btcd: it fails when
/// executed anyway.
pub fn is_push_only(script: &[u8]) -> bool {
    instructions(script).all(|i| matches!(i, Ok(i) if i.opcode <= OP_16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pushes_and_opcodes() {
        let s = [OP_DUP, 2, 0xaa, 0xbb, OP_PUSHDATA1, 1, 0xcc, OP_CHECKSIG];
        let v: Vec<_> = instructions(&s).map(|i| i.unwrap()).collect();
        assert_eq!(v.len(), 4);
        assert_eq!(v[1].data, Some(&[0xaa, 0xbb][..]));
        assert_eq!(v[2].data, Some(&[0xcc][..]));
        assert_eq!(v[3].opcode, OP_CHECKSIG);
    }

    #[test]
    fn truncated_push_is_an_error_then_ends() {
        let mut it = instructions(&[OP_PUSHDATA2, 0xff]);
        assert_eq!(it.next(), Some(Err(TruncatedPush)));
        assert_eq!(it.next(), None);
        assert!(!is_push_only(&[5, 1]));
        assert!(is_push_only(&[OP_0, OP_16, 1, 7]));
    }
}
