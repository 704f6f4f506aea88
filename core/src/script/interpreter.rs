//! The script interpreter: runs one script on a stack (Bitcoin Core's `EvalScript`).

use super::checker::{InputChecker, TaprootExec};
use super::error::ScriptError;
use super::flags::Flags;
use super::hashes::{hash160, ripemd160, sha1, sha256, sha256d};
use super::instruction::instructions;
use super::num::{cast_to_bool, decode_num, encode_num, DEFAULT_MAX_NUM_LEN, LOCKTIME_MAX_NUM_LEN};
use super::opcodes::*;
use super::sighash::SigVersion;
use super::signature::{check_pubkey_encoding, check_signature_encoding};

/// Largest element a script may push or leave on the stack.
pub const MAX_ELEMENT_SIZE: usize = 520;
/// Most non-push opcodes in a legacy or segwit v0 script.
pub const MAX_OPS_PER_SCRIPT: usize = 201;
/// Most keys in a CHECKMULTISIG.
pub const MAX_PUBKEYS_PER_MULTISIG: i64 = 20;
/// Largest legacy or segwit v0 script.
pub const MAX_SCRIPT_SIZE: usize = 10_000;
/// Most elements on the stack and alt stack together.
pub const MAX_STACK_SIZE: usize = 1000;
/// BIP342: budget cost of one tapscript signature check.
pub const VALIDATION_WEIGHT_PER_SIGOP: i64 = 50;
/// Sentinel for "no OP_CODESEPARATOR executed yet" in tapscript signatures.
pub const NO_CODESEPARATOR: u32 = u32::MAX;

/// The stack of byte strings scripts operate on.
pub type Stack = Vec<Vec<u8>>;

/// The nesting of IF/ELSE branches, stored as a depth and the position of the first false
/// branch so every operation is O(1) (deep nesting cannot make execution quadratic).
#[derive(Default)]
struct Conditions {
    depth: usize,
    first_false: Option<usize>,
}

impl Conditions {
    fn all_true(&self) -> bool {
        self.first_false.is_none()
    }
    fn push(&mut self, v: bool) {
        if !v && self.first_false.is_none() {
            self.first_false = Some(self.depth);
        }
        self.depth += 1;
    }
    fn pop(&mut self) -> Result<(), ScriptError> {
        self.depth = self
            .depth
            .checked_sub(1)
            .ok_or(ScriptError::UnbalancedConditional)?;
        if self.first_false == Some(self.depth) {
            self.first_false = None;
        }
        Ok(())
    }
    fn toggle(&mut self) -> Result<(), ScriptError> {
        let top = self
            .depth
            .checked_sub(1)
            .ok_or(ScriptError::UnbalancedConditional)?;
        match self.first_false {
            None => self.first_false = Some(top),
            Some(f) if f == top => self.first_false = None,
            // An inner branch of a false branch stays false.
            Some(_) => {}
        }
        Ok(())
    }
}

fn is_disabled(op: u8) -> bool {
    matches!(
        op,
        OP_CAT
            | OP_SUBSTR
            | OP_LEFT
            | OP_RIGHT
            | OP_INVERT
            | OP_AND
            | OP_OR
            | OP_XOR
            | OP_2MUL
            | OP_2DIV
            | OP_MUL
            | OP_DIV
            | OP_MOD
            | OP_LSHIFT
            | OP_RSHIFT
    )
}

/// True when `data` is pushed with the smallest opcode that can push it.
fn is_minimal_push(opcode: u8, data: &[u8]) -> bool {
    match data.len() {
        0 => opcode == OP_0,
        1 if (1..=16).contains(&data[0]) => false,
        1 if data[0] == 0x81 => false,
        n @ 1..=75 => opcode as usize == n,
        76..=255 => opcode == OP_PUSHDATA1,
        256..=65535 => opcode == OP_PUSHDATA2,
        _ => true,
    }
}

/// The minimal push of `data` (Core's `CScript() << data`), used to find a signature in the
/// script code.
pub fn push_data(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 5);
    match data.len() {
        n @ 0..=75 => out.push(n as u8),
        n @ 76..=255 => out.extend([OP_PUSHDATA1, n as u8]),
        n @ 256..=65535 => {
            out.push(OP_PUSHDATA2);
            out.extend((n as u16).to_le_bytes());
        }
        n => {
            out.push(OP_PUSHDATA4);
            out.extend((n as u32).to_le_bytes());
        }
    }
    out.extend_from_slice(data);
    out
}

/// Removes every occurrence of `pattern` that starts at an instruction boundary (Core's
/// `FindAndDelete`); returns how many were removed.
fn find_and_delete(script: &mut Vec<u8>, pattern: &[u8]) -> usize {
    let mut found = 0;
    let mut result = Vec::with_capacity(script.len());
    let (mut pos, mut kept_from) = (0, 0);
    loop {
        result.extend_from_slice(&script[kept_from..pos]);
        while script[pos..].starts_with(pattern) {
            pos += pattern.len();
            found += 1;
        }
        kept_from = pos;
        let mut it = instructions(&script[pos..]);
        match it.next() {
            Some(Ok(_)) => pos += it.position(),
            _ => break,
        }
    }
    if found > 0 {
        result.extend_from_slice(&script[kept_from..]);
        *script = result;
    }
    found
}

/// Stack access with Core's error for a too-short stack.
trait StackExt {
    fn top(&self, depth: usize) -> Result<&Vec<u8>, ScriptError>;
    fn pop_item(&mut self) -> Result<Vec<u8>, ScriptError>;
    fn need(&self, n: usize) -> Result<(), ScriptError>;
}

impl StackExt for Stack {
    /// The element `depth` from the top (1 is the top).
    fn top(&self, depth: usize) -> Result<&Vec<u8>, ScriptError> {
        self.len()
            .checked_sub(depth)
            .map(|i| &self[i])
            .ok_or(ScriptError::InvalidStackOperation)
    }
    fn pop_item(&mut self) -> Result<Vec<u8>, ScriptError> {
        self.pop().ok_or(ScriptError::InvalidStackOperation)
    }
    fn need(&self, n: usize) -> Result<(), ScriptError> {
        if self.len() < n {
            Err(ScriptError::InvalidStackOperation)
        } else {
            Ok(())
        }
    }
}

fn push_bool(stack: &mut Stack, v: bool) {
    stack.push(if v { vec![1] } else { vec![] });
}

/// Everything one script run needs besides the stack.
struct Run<'a, 'b> {
    script: &'a [u8],
    flags: Flags,
    checker: &'a InputChecker<'b>,
    version: SigVersion,
    exec: &'a mut TaprootExec,
    /// Start of the script code signatures commit to (after the last OP_CODESEPARATOR).
    code_start: usize,
}

impl Run<'_, '_> {
    fn minimal(&self) -> bool {
        self.flags.contains(Flags::MINIMALDATA)
    }

    fn num(&self, bytes: &[u8]) -> Result<i64, ScriptError> {
        decode_num(bytes, self.minimal(), DEFAULT_MAX_NUM_LEN)
    }

    /// A legacy or segwit v0 CHECKSIG on one signature and key.
    fn checksig_ecdsa(&self, sig: &[u8], pubkey: &[u8]) -> Result<bool, ScriptError> {
        let mut code = self.script[self.code_start..].to_vec();
        if self.version == SigVersion::Base {
            // Legacy signatures cannot sign themselves, so they are removed from the code.
            let found = find_and_delete(&mut code, &push_data(sig));
            if found > 0 && self.flags.contains(Flags::CONST_SCRIPTCODE) {
                return Err(ScriptError::SigFindAndDelete);
            }
        }
        check_signature_encoding(sig, self.flags)?;
        check_pubkey_encoding(pubkey, self.flags, self.version)?;
        let ok = self.checker.check_ecdsa(sig, pubkey, &code, self.version);
        if !ok && self.flags.contains(Flags::NULLFAIL) && !sig.is_empty() {
            return Err(ScriptError::NullFail);
        }
        Ok(ok)
    }

    /// A tapscript CHECKSIG / CHECKSIGADD on one signature and key (BIP342).
    fn checksig_tapscript(&mut self, sig: &[u8], pubkey: &[u8]) -> Result<bool, ScriptError> {
        let success = !sig.is_empty();
        if success {
            self.exec.weight_left -= VALIDATION_WEIGHT_PER_SIGOP;
            if self.exec.weight_left < 0 {
                return Err(ScriptError::TapscriptValidationWeight);
            }
        }
        if pubkey.is_empty() {
            return Err(ScriptError::TapscriptEmptyPubkey);
        }
        if pubkey.len() == 32 {
            if success {
                self.checker.check_schnorr(sig, pubkey, &*self.exec)?;
            }
        } else if self.flags.contains(Flags::DISCOURAGE_UPGRADABLE_PUBKEYTYPE) {
            return Err(ScriptError::DiscourageUpgradablePubkeyType);
        }
        Ok(success)
    }

    fn checksig(&mut self, sig: &[u8], pubkey: &[u8]) -> Result<bool, ScriptError> {
        match self.version {
            SigVersion::Base | SigVersion::WitnessV0 => self.checksig_ecdsa(sig, pubkey),
            SigVersion::Tapscript => self.checksig_tapscript(sig, pubkey),
            SigVersion::Taproot => unreachable!("key-path spends run no script"),
        }
    }

    /// OP_CHECKMULTISIG: pops its operands and returns whether enough signatures matched.
    fn checkmultisig(&self, stack: &mut Stack, op_count: &mut usize) -> Result<bool, ScriptError> {
        let mut i = 1;
        stack.need(i)?;
        let mut keys = self.num(stack.top(i)?)?;
        if !(0..=MAX_PUBKEYS_PER_MULTISIG).contains(&keys) {
            return Err(ScriptError::PubkeyCount);
        }
        *op_count += keys as usize;
        if *op_count > MAX_OPS_PER_SCRIPT {
            return Err(ScriptError::OpCount);
        }
        i += 1;
        let mut key_i = i;
        // How many key slots may still be checked for NULLFAIL (keys plus the key count).
        let mut keys_left_for_nullfail = keys as usize + 2;
        i += keys as usize;
        stack.need(i)?;
        let mut sigs = self.num(stack.top(i)?)?;
        if sigs < 0 || sigs > keys {
            return Err(ScriptError::SigCount);
        }
        i += 1;
        let mut sig_i = i;
        i += sigs as usize;
        stack.need(i)?;

        let mut code = self.script[self.code_start..].to_vec();
        for k in 0..sigs as usize {
            let sig = stack.top(sig_i + k)?;
            if self.version == SigVersion::Base {
                let found = find_and_delete(&mut code, &push_data(sig));
                if found > 0 && self.flags.contains(Flags::CONST_SCRIPTCODE) {
                    return Err(ScriptError::SigFindAndDelete);
                }
            }
        }

        let mut success = true;
        while success && sigs > 0 {
            let sig = stack.top(sig_i)?;
            let key = stack.top(key_i)?;
            // Encodings are checked lazily: a key that is never reached may be anything.
            check_signature_encoding(sig, self.flags)?;
            check_pubkey_encoding(key, self.flags, self.version)?;
            if self.checker.check_ecdsa(sig, key, &code, self.version) {
                sig_i += 1;
                sigs -= 1;
            }
            key_i += 1;
            keys -= 1;
            if sigs > keys {
                success = false;
            }
        }

        // Pop everything but the dummy, checking NULLFAIL on the signatures.
        for _ in 1..i {
            if !success
                && self.flags.contains(Flags::NULLFAIL)
                && keys_left_for_nullfail == 0
                && !stack.top(1)?.is_empty()
            {
                return Err(ScriptError::NullFail);
            }
            keys_left_for_nullfail = keys_left_for_nullfail.saturating_sub(1);
            stack.pop_item()?;
        }
        // The extra element CHECKMULTISIG has always consumed (an off-by-one in the original).
        let dummy = stack.pop_item()?;
        if self.flags.contains(Flags::NULLDUMMY) && !dummy.is_empty() {
            return Err(ScriptError::SigNullDummy);
        }
        Ok(success)
    }

    fn upgradable_nop(&self) -> Result<(), ScriptError> {
        if self.flags.contains(Flags::DISCOURAGE_UPGRADABLE_NOPS) {
            Err(ScriptError::DiscourageUpgradableNops)
        } else {
            Ok(())
        }
    }

    fn run(&mut self, stack: &mut Stack) -> Result<(), ScriptError> {
        let legacy_limits = matches!(self.version, SigVersion::Base | SigVersion::WitnessV0);
        if legacy_limits && self.script.len() > MAX_SCRIPT_SIZE {
            return Err(ScriptError::ScriptSize);
        }
        let mut conds = Conditions::default();
        let mut alt: Stack = Vec::new();
        let mut op_count = 0usize;
        let mut it = instructions(self.script);
        let mut opcode_pos: u32 = 0;
        while let Some(ins) = it.next() {
            let exec = conds.all_true();
            let ins = ins.map_err(|_| ScriptError::TruncatedPush)?;
            let op = ins.opcode;
            if ins.data.is_some_and(|d| d.len() > MAX_ELEMENT_SIZE) {
                return Err(ScriptError::PushSize);
            }
            if legacy_limits && op > OP_16 {
                op_count += 1;
                if op_count > MAX_OPS_PER_SCRIPT {
                    return Err(ScriptError::OpCount);
                }
            }
            if is_disabled(op) {
                return Err(ScriptError::DisabledOpcode);
            }
            if op == OP_CODESEPARATOR
                && self.version == SigVersion::Base
                && self.flags.contains(Flags::CONST_SCRIPTCODE)
            {
                return Err(ScriptError::OpCodeSeparator);
            }
            if exec && op <= OP_PUSHDATA4 {
                let data = ins.data.unwrap_or(&[]);
                if self.minimal() && !is_minimal_push(op, data) {
                    return Err(ScriptError::NonMinimalPush);
                }
                stack.push(data.to_vec());
            } else if exec || (OP_IF..=OP_ENDIF).contains(&op) {
                self.step(
                    op,
                    exec,
                    stack,
                    &mut alt,
                    &mut conds,
                    &mut op_count,
                    it.position(),
                    opcode_pos,
                )?;
            }
            if stack.len() + alt.len() > MAX_STACK_SIZE {
                return Err(ScriptError::StackSize);
            }
            opcode_pos += 1;
        }
        if conds.depth != 0 {
            return Err(ScriptError::UnbalancedConditional);
        }
        Ok(())
    }

    /// Executes one non-push opcode. `next_pos` is the byte offset after it, `opcode_pos` its
    /// index (both for OP_CODESEPARATOR).
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        op: u8,
        exec: bool,
        stack: &mut Stack,
        alt: &mut Stack,
        conds: &mut Conditions,
        op_count: &mut usize,
        next_pos: usize,
        opcode_pos: u32,
    ) -> Result<(), ScriptError> {
        use ScriptError as E;
        match op {
            OP_1NEGATE | OP_1..=OP_16 => {
                stack.push(encode_num(i64::from(op) - i64::from(OP_1 - 1)))
            }
            OP_NOP => {}
            OP_CHECKLOCKTIMEVERIFY if self.flags.contains(Flags::CHECKLOCKTIMEVERIFY) => {
                let n = decode_num(stack.top(1)?, self.minimal(), LOCKTIME_MAX_NUM_LEN)?;
                if n < 0 {
                    return Err(E::NegativeLocktime);
                }
                if !self.checker.check_locktime(n) {
                    return Err(E::UnsatisfiedLocktime);
                }
            }
            OP_CHECKSEQUENCEVERIFY if self.flags.contains(Flags::CHECKSEQUENCEVERIFY) => {
                let n = decode_num(stack.top(1)?, self.minimal(), LOCKTIME_MAX_NUM_LEN)?;
                if n < 0 {
                    return Err(E::NegativeLocktime);
                }
                // With the disable bit set the operand is reserved for future soft forks.
                if n & (1 << 31) == 0 && !self.checker.check_sequence(n) {
                    return Err(E::UnsatisfiedLocktime);
                }
            }
            // Before their soft forks CLTV and CSV are plain NOPs, not discouraged ones (Core).
            OP_CHECKLOCKTIMEVERIFY | OP_CHECKSEQUENCEVERIFY => {}
            OP_NOP1 | OP_NOP4..=OP_NOP10 => self.upgradable_nop()?,
            OP_IF | OP_NOTIF => {
                let mut value = false;
                if exec {
                    let top = stack.top(1)?;
                    let minimal_if = top.len() > 1 || (top.len() == 1 && top[0] != 1);
                    if self.version == SigVersion::Tapscript && minimal_if {
                        return Err(E::TapscriptMinimalIf);
                    }
                    if self.version == SigVersion::WitnessV0
                        && self.flags.contains(Flags::MINIMALIF)
                        && minimal_if
                    {
                        return Err(E::MinimalIf);
                    }
                    value = cast_to_bool(top) == (op == OP_IF);
                    stack.pop();
                }
                conds.push(value);
            }
            OP_ELSE => conds.toggle()?,
            OP_ENDIF => conds.pop()?,
            OP_VERIFY => {
                if !cast_to_bool(stack.top(1)?) {
                    return Err(E::Verify);
                }
                stack.pop();
            }
            OP_RETURN => return Err(E::OpReturn),
            OP_TOALTSTACK => alt.push(stack.pop_item()?),
            OP_FROMALTSTACK => stack.push(alt.pop().ok_or(E::InvalidAltstackOperation)?),
            OP_2DROP => {
                stack.need(2)?;
                stack.truncate(stack.len() - 2);
            }
            OP_2DUP => {
                let (a, b) = (stack.top(2)?.clone(), stack.top(1)?.clone());
                stack.extend([a, b]);
            }
            OP_3DUP => {
                let (a, b, c) = (
                    stack.top(3)?.clone(),
                    stack.top(2)?.clone(),
                    stack.top(1)?.clone(),
                );
                stack.extend([a, b, c]);
            }
            OP_2OVER => {
                let (a, b) = (stack.top(4)?.clone(), stack.top(3)?.clone());
                stack.extend([a, b]);
            }
            OP_2ROT => {
                stack.need(6)?;
                let n = stack.len();
                let moved: Vec<_> = stack.drain(n - 6..n - 4).collect();
                stack.extend(moved);
            }
            OP_2SWAP => {
                stack.need(4)?;
                let n = stack.len();
                stack.swap(n - 4, n - 2);
                stack.swap(n - 3, n - 1);
            }
            OP_IFDUP => {
                let top = stack.top(1)?;
                if cast_to_bool(top) {
                    stack.push(top.clone());
                }
            }
            OP_DEPTH => stack.push(encode_num(stack.len() as i64)),
            OP_DROP => {
                stack.pop_item()?;
            }
            OP_DUP => stack.push(stack.top(1)?.clone()),
            OP_NIP => {
                stack.need(2)?;
                stack.remove(stack.len() - 2);
            }
            OP_OVER => stack.push(stack.top(2)?.clone()),
            OP_PICK | OP_ROLL => {
                stack.need(2)?;
                let n = self.num(stack.top(1)?)?;
                stack.pop();
                if n < 0 || n as usize >= stack.len() {
                    return Err(E::InvalidStackOperation);
                }
                let idx = stack.len() - 1 - n as usize;
                let v = if op == OP_ROLL {
                    stack.remove(idx)
                } else {
                    stack[idx].clone()
                };
                stack.push(v);
            }
            OP_ROT => {
                stack.need(3)?;
                let n = stack.len();
                stack[n - 3..].rotate_left(1);
            }
            OP_SWAP => {
                stack.need(2)?;
                let n = stack.len();
                stack.swap(n - 2, n - 1);
            }
            OP_TUCK => {
                stack.need(2)?;
                let top = stack.top(1)?.clone();
                stack.insert(stack.len() - 2, top);
            }
            OP_SIZE => stack.push(encode_num(stack.top(1)?.len() as i64)),
            OP_EQUAL | OP_EQUALVERIFY => {
                stack.need(2)?;
                let equal = stack.pop_item()? == stack.pop_item()?;
                push_bool(stack, equal);
                if op == OP_EQUALVERIFY {
                    if !equal {
                        return Err(E::EqualVerify);
                    }
                    stack.pop();
                }
            }
            OP_1ADD | OP_1SUB | OP_NEGATE | OP_ABS | OP_NOT | OP_0NOTEQUAL => {
                let n = self.num(stack.top(1)?)?;
                let r = match op {
                    OP_1ADD => n + 1,
                    OP_1SUB => n - 1,
                    OP_NEGATE => -n,
                    OP_ABS => n.abs(),
                    OP_NOT => i64::from(n == 0),
                    _ => i64::from(n != 0),
                };
                stack.pop();
                stack.push(encode_num(r));
            }
            OP_ADD
            | OP_SUB
            | OP_BOOLAND
            | OP_BOOLOR
            | OP_NUMEQUAL
            | OP_NUMEQUALVERIFY
            | OP_NUMNOTEQUAL
            | OP_LESSTHAN
            | OP_GREATERTHAN
            | OP_LESSTHANOREQUAL
            | OP_GREATERTHANOREQUAL
            | OP_MIN
            | OP_MAX => {
                stack.need(2)?;
                let a = self.num(stack.top(2)?)?;
                let b = self.num(stack.top(1)?)?;
                let r = match op {
                    OP_ADD => a + b,
                    OP_SUB => a - b,
                    OP_BOOLAND => i64::from(a != 0 && b != 0),
                    OP_BOOLOR => i64::from(a != 0 || b != 0),
                    OP_NUMEQUAL | OP_NUMEQUALVERIFY => i64::from(a == b),
                    OP_NUMNOTEQUAL => i64::from(a != b),
                    OP_LESSTHAN => i64::from(a < b),
                    OP_GREATERTHAN => i64::from(a > b),
                    OP_LESSTHANOREQUAL => i64::from(a <= b),
                    OP_GREATERTHANOREQUAL => i64::from(a >= b),
                    OP_MIN => a.min(b),
                    _ => a.max(b),
                };
                stack.truncate(stack.len() - 2);
                stack.push(encode_num(r));
                if op == OP_NUMEQUALVERIFY {
                    if r == 0 {
                        return Err(E::NumEqualVerify);
                    }
                    stack.pop();
                }
            }
            OP_WITHIN => {
                stack.need(3)?;
                let x = self.num(stack.top(3)?)?;
                let lo = self.num(stack.top(2)?)?;
                let hi = self.num(stack.top(1)?)?;
                stack.truncate(stack.len() - 3);
                push_bool(stack, lo <= x && x < hi);
            }
            OP_RIPEMD160 | OP_SHA1 | OP_SHA256 | OP_HASH160 | OP_HASH256 => {
                let v = stack.pop_item()?;
                stack.push(match op {
                    OP_RIPEMD160 => ripemd160(&v).to_vec(),
                    OP_SHA1 => sha1(&v).to_vec(),
                    OP_SHA256 => sha256(&v).to_vec(),
                    OP_HASH160 => hash160(&v).to_vec(),
                    _ => sha256d(&v).to_vec(),
                });
            }
            OP_CODESEPARATOR => {
                self.code_start = next_pos;
                if let Some(t) = self.exec.tapscript.as_mut() {
                    t.codesep_pos = opcode_pos;
                }
            }
            OP_CHECKSIG | OP_CHECKSIGVERIFY => {
                stack.need(2)?;
                let (sig, key) = (stack.top(2)?.clone(), stack.top(1)?.clone());
                let ok = self.checksig(&sig, &key)?;
                stack.truncate(stack.len() - 2);
                push_bool(stack, ok);
                if op == OP_CHECKSIGVERIFY {
                    if !ok {
                        return Err(E::CheckSigVerify);
                    }
                    stack.pop();
                }
            }
            OP_CHECKSIGADD => {
                if self.version != SigVersion::Tapscript {
                    return Err(E::BadOpcode);
                }
                stack.need(3)?;
                let sig = stack.top(3)?.clone();
                let n = self.num(stack.top(2)?)?;
                let key = stack.top(1)?.clone();
                let ok = self.checksig(&sig, &key)?;
                stack.truncate(stack.len() - 3);
                stack.push(encode_num(n + i64::from(ok)));
            }
            OP_CHECKMULTISIG | OP_CHECKMULTISIGVERIFY => {
                if self.version == SigVersion::Tapscript {
                    return Err(E::TapscriptCheckMultisig);
                }
                let ok = self.checkmultisig(stack, op_count)?;
                push_bool(stack, ok);
                if op == OP_CHECKMULTISIGVERIFY {
                    if !ok {
                        return Err(E::CheckMultisigVerify);
                    }
                    stack.pop();
                }
            }
            _ => return Err(E::BadOpcode),
        }
        Ok(())
    }
}

/// Runs `script` on `stack` under `flags` with the rules of `version` (never
/// `SigVersion::Taproot`: key-path spends run no script). `exec` carries the taproot data
/// tapscript signatures commit to (unused by legacy and segwit v0 scripts).
pub(crate) fn eval_script(
    stack: &mut Stack,
    script: &[u8],
    flags: Flags,
    checker: &InputChecker<'_>,
    version: SigVersion,
    exec: &mut TaprootExec,
) -> Result<(), ScriptError> {
    Run {
        script,
        flags,
        checker,
        version,
        exec,
        code_start: 0,
    }
    .run(stack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_and_delete_matches_only_at_instruction_boundaries() {
        // The pattern 0x01 0x02 appears inside a push and as its own instruction.
        let mut s = vec![2, 1, 2, 1, 2, OP_DUP];
        assert_eq!(find_and_delete(&mut s, &[1, 2]), 1);
        assert_eq!(s, vec![2, 1, 2, OP_DUP]);
        let mut none = vec![OP_DUP];
        assert_eq!(find_and_delete(&mut none, &[1, 2]), 0);
    }

    #[test]
    fn minimal_pushes() {
        assert!(is_minimal_push(OP_0, &[]));
        assert!(!is_minimal_push(1, &[5]));
        assert!(!is_minimal_push(OP_PUSHDATA1, &[0; 10]));
        assert!(is_minimal_push(OP_PUSHDATA1, &[0; 76]));
        assert_eq!(push_data(&[7; 80])[..2], [OP_PUSHDATA1, 80]);
    }

    #[test]
    fn nested_false_branches_stay_false_through_else() {
        let mut c = Conditions::default();
        c.push(false);
        c.push(true);
        c.toggle().unwrap();
        assert!(!c.all_true());
        c.pop().unwrap();
        c.toggle().unwrap();
        assert!(c.all_true());
        c.pop().unwrap();
        assert_eq!(c.pop(), Err(ScriptError::UnbalancedConditional));
    }
}
