//! Script disassembly in btcd's one-line form (`DisasmString`), as RPC results show it.

use super::instruction::instructions;
use super::opcodes::*;
use crate::primitives::hash::hex_encode;

/// Disassembles `script`: pushes as hex, small integers as numbers, other opcodes by name;
/// a truncated push ends the text with `[error]`, as btcd does.
pub fn disasm(script: &[u8]) -> String {
    let mut parts = Vec::new();
    for ins in instructions(script) {
        let Ok(ins) = ins else {
            parts.push("[error]".to_string());
            break;
        };
        parts.push(match (ins.opcode, ins.data) {
            (OP_0, _) => "0".to_string(),
            (OP_1NEGATE, _) => "-1".to_string(),
            (op @ OP_1..=OP_16, _) => (op - OP_1 + 1).to_string(),
            (_, Some(data)) => hex_encode(data),
            (op, None) => opcode_name(op),
        });
    }
    parts.join(" ")
}

/// btcd's name for a non-push opcode.
fn opcode_name(op: u8) -> String {
    let name = match op {
        OP_RESERVED => "OP_RESERVED",
        OP_NOP => "OP_NOP",
        OP_VER => "OP_VER",
        OP_IF => "OP_IF",
        OP_NOTIF => "OP_NOTIF",
        OP_VERIF => "OP_VERIF",
        OP_VERNOTIF => "OP_VERNOTIF",
        OP_ELSE => "OP_ELSE",
        OP_ENDIF => "OP_ENDIF",
        OP_VERIFY => "OP_VERIFY",
        OP_RETURN => "OP_RETURN",
        OP_TOALTSTACK => "OP_TOALTSTACK",
        OP_FROMALTSTACK => "OP_FROMALTSTACK",
        OP_2DROP => "OP_2DROP",
        OP_2DUP => "OP_2DUP",
        OP_3DUP => "OP_3DUP",
        OP_2OVER => "OP_2OVER",
        OP_2ROT => "OP_2ROT",
        OP_2SWAP => "OP_2SWAP",
        OP_IFDUP => "OP_IFDUP",
        OP_DEPTH => "OP_DEPTH",
        OP_DROP => "OP_DROP",
        OP_DUP => "OP_DUP",
        OP_NIP => "OP_NIP",
        OP_OVER => "OP_OVER",
        OP_PICK => "OP_PICK",
        OP_ROLL => "OP_ROLL",
        OP_ROT => "OP_ROT",
        OP_SWAP => "OP_SWAP",
        OP_TUCK => "OP_TUCK",
        OP_CAT => "OP_CAT",
        OP_SUBSTR => "OP_SUBSTR",
        OP_LEFT => "OP_LEFT",
        OP_RIGHT => "OP_RIGHT",
        OP_SIZE => "OP_SIZE",
        OP_INVERT => "OP_INVERT",
        OP_AND => "OP_AND",
        OP_OR => "OP_OR",
        OP_XOR => "OP_XOR",
        OP_EQUAL => "OP_EQUAL",
        OP_EQUALVERIFY => "OP_EQUALVERIFY",
        OP_RESERVED1 => "OP_RESERVED1",
        OP_RESERVED2 => "OP_RESERVED2",
        OP_1ADD => "OP_1ADD",
        OP_1SUB => "OP_1SUB",
        OP_2MUL => "OP_2MUL",
        OP_2DIV => "OP_2DIV",
        OP_NEGATE => "OP_NEGATE",
        OP_ABS => "OP_ABS",
        OP_NOT => "OP_NOT",
        OP_0NOTEQUAL => "OP_0NOTEQUAL",
        OP_ADD => "OP_ADD",
        OP_SUB => "OP_SUB",
        OP_MUL => "OP_MUL",
        OP_DIV => "OP_DIV",
        OP_MOD => "OP_MOD",
        OP_LSHIFT => "OP_LSHIFT",
        OP_RSHIFT => "OP_RSHIFT",
        OP_BOOLAND => "OP_BOOLAND",
        OP_BOOLOR => "OP_BOOLOR",
        OP_NUMEQUAL => "OP_NUMEQUAL",
        OP_NUMEQUALVERIFY => "OP_NUMEQUALVERIFY",
        OP_NUMNOTEQUAL => "OP_NUMNOTEQUAL",
        OP_LESSTHAN => "OP_LESSTHAN",
        OP_GREATERTHAN => "OP_GREATERTHAN",
        OP_LESSTHANOREQUAL => "OP_LESSTHANOREQUAL",
        OP_GREATERTHANOREQUAL => "OP_GREATERTHANOREQUAL",
        OP_MIN => "OP_MIN",
        OP_MAX => "OP_MAX",
        OP_WITHIN => "OP_WITHIN",
        OP_RIPEMD160 => "OP_RIPEMD160",
        OP_SHA1 => "OP_SHA1",
        OP_SHA256 => "OP_SHA256",
        OP_HASH160 => "OP_HASH160",
        OP_HASH256 => "OP_HASH256",
        OP_CODESEPARATOR => "OP_CODESEPARATOR",
        OP_CHECKSIG => "OP_CHECKSIG",
        OP_CHECKSIGVERIFY => "OP_CHECKSIGVERIFY",
        OP_CHECKMULTISIG => "OP_CHECKMULTISIG",
        OP_CHECKMULTISIGVERIFY => "OP_CHECKMULTISIGVERIFY",
        OP_NOP1 => "OP_NOP1",
        OP_CHECKLOCKTIMEVERIFY => "OP_CHECKLOCKTIMEVERIFY",
        OP_CHECKSEQUENCEVERIFY => "OP_CHECKSEQUENCEVERIFY",
        OP_NOP4 => "OP_NOP4",
        OP_NOP5 => "OP_NOP5",
        OP_NOP6 => "OP_NOP6",
        OP_NOP7 => "OP_NOP7",
        OP_NOP8 => "OP_NOP8",
        OP_NOP9 => "OP_NOP9",
        OP_NOP10 => "OP_NOP10",
        OP_CHECKSIGADD => "OP_CHECKSIGADD",
        OP_INVALIDOPCODE => "OP_INVALIDOPCODE",
        0xfa => "OP_SMALLINTEGER",
        0xfb => "OP_PUBKEYS",
        0xfd => "OP_PUBKEYHASH",
        0xfe => "OP_PUBKEY",
        _ => return format!("OP_UNKNOWN{op}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::disasm;
    use crate::primitives::hash::hex_decode;

    #[test]
    fn p2pkh_and_special_cases_read_as_btcd() {
        let s = hex_decode("76a914000102030405060708090a0b0c0d0e0f1011121388ac").unwrap();
        assert_eq!(
            disasm(&s),
            "OP_DUP OP_HASH160 000102030405060708090a0b0c0d0e0f10111213 OP_EQUALVERIFY OP_CHECKSIG"
        );
        assert_eq!(
            disasm(&[0x00, 0x4f, 0x51, 0x60, 0xb1, 0xbb]),
            "0 -1 1 16 OP_CHECKLOCKTIMEVERIFY OP_UNKNOWN187"
        );
        assert_eq!(disasm(&[0x6a, 0x02, 0xaa]), "OP_RETURN [error]");
    }
}
