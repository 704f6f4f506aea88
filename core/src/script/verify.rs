//! Verifying a transaction input: scriptSig, scriptPubKey, P2SH, segwit v0 and taproot
//! (Bitcoin Core's `VerifyScript`), and the per-transaction [`TxVerifier`].

use super::checker::{InputChecker, TaprootExec};
use super::error::ScriptError;
use super::flags::Flags;
use super::hashes::sha256;
use super::instruction::instructions;
use super::instruction::is_push_only;
use super::interpreter::{
    eval_script, push_data, Stack, MAX_ELEMENT_SIZE, MAX_STACK_SIZE, NO_CODESEPARATOR,
};
use super::num::cast_to_bool;
use super::opcodes::*;
use super::sigcache::SigCache;
use super::sighash::{SigVersion, SighashCache, TapscriptCommit};
use super::sigops::{is_p2sh, witness_program};
use super::taproot::{
    control_size_ok, is_op_success, tapleaf_hash, verify_commitment, ANNEX_TAG, LEAF_VERSION_MASK,
    TAPSCRIPT_LEAF_VERSION,
};
use crate::primitives::encode::compact_size_len;
use crate::primitives::{Transaction, TxOut};

/// BIP342: the signature-check budget every tapscript gets on top of its witness size.
const VALIDATION_WEIGHT_OFFSET: i64 = 50;

/// Verifies the inputs of one transaction. Signature-hash midstates are computed once and
/// shared by all inputs, so verifying every input costs time linear in the transaction size.
pub struct TxVerifier<'a> {
    tx: &'a Transaction,
    spent: &'a [TxOut],
    sighash: SighashCache<'a>,
    sig_cache: Option<&'a SigCache>,
    cache_new: bool,
}

impl<'a> TxVerifier<'a> {
    /// A verifier for `tx`; `spent[i]` is the output input `i` spends.
    pub fn new(tx: &'a Transaction, spent: &'a [TxOut]) -> Self {
        TxVerifier {
            tx,
            spent,
            sighash: SighashCache::new(tx, spent),
            sig_cache: None,
            cache_new: false,
        }
    }

    /// Consults `cache` for every signature check and, when `fill`, adds the ones that pass.
    pub fn with_sig_cache(mut self, cache: &'a SigCache, fill: bool) -> Self {
        self.sig_cache = Some(cache);
        self.cache_new = fill;
        self
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.tx.inputs.len()
    }

    /// Verifies input `index` under `flags`.
    pub fn verify_input(&self, index: usize, flags: Flags) -> Result<(), ScriptError> {
        if self.spent.len() != self.tx.inputs.len() {
            return Err(ScriptError::SpentOutputsMismatch);
        }
        let input = self
            .tx
            .inputs
            .get(index)
            .ok_or(ScriptError::InputIndexOutOfRange)?;
        let spent = &self.spent[index];
        let checker = InputChecker {
            tx: self.tx,
            index,
            amount: spent.value,
            sighash: &self.sighash,
            sig_cache: self.sig_cache,
            cache_new: self.cache_new,
        };
        verify_script(
            &input.script_sig,
            &spent.script_pubkey,
            &input.witness,
            flags,
            &checker,
        )
    }

    /// Verifies every input, returning the first failure with its index.
    pub fn verify_all(&self, flags: Flags) -> Result<(), (usize, ScriptError)> {
        (0..self.tx.inputs.len()).try_for_each(|i| self.verify_input(i, flags).map_err(|e| (i, e)))
    }
}

fn top_is_true(stack: &Stack) -> Result<(), ScriptError> {
    match stack.last() {
        Some(v) if cast_to_bool(v) => Ok(()),
        _ => Err(ScriptError::EvalFalse),
    }
}

/// Core's `VerifyScript` for one input.
fn verify_script(
    script_sig: &[u8],
    script_pubkey: &[u8],
    witness: &[Vec<u8>],
    flags: Flags,
    checker: &InputChecker<'_>,
) -> Result<(), ScriptError> {
    if flags.contains(Flags::SIGPUSHONLY) && !is_push_only(script_sig) {
        return Err(ScriptError::SigPushOnly);
    }
    let mut no_exec = TaprootExec::default();
    let mut stack = Stack::new();
    eval_script(
        &mut stack,
        script_sig,
        flags,
        checker,
        SigVersion::Base,
        &mut no_exec,
    )?;
    let p2sh_stack = flags.contains(Flags::P2SH).then(|| stack.clone());
    eval_script(
        &mut stack,
        script_pubkey,
        flags,
        checker,
        SigVersion::Base,
        &mut no_exec,
    )?;
    top_is_true(&stack)?;

    let mut had_witness = false;
    if flags.contains(Flags::WITNESS) {
        if let Some((version, program)) = witness_program(script_pubkey) {
            had_witness = true;
            if !script_sig.is_empty() {
                return Err(ScriptError::WitnessMalleated);
            }
            verify_witness_program(witness, version, program, flags, checker, false)?;
            // The witness program leaves one true element, so CLEANSTACK passes.
            stack.truncate(1);
        }
    }

    if let Some(mut p2sh) = p2sh_stack.filter(|_| is_p2sh(script_pubkey)) {
        if !is_push_only(script_sig) {
            return Err(ScriptError::SigPushOnly);
        }
        // The scriptPubKey's HASH160 consumed an element, so the stack cannot be empty here.
        let redeem = p2sh.pop().ok_or(ScriptError::InvalidStackOperation)?;
        eval_script(
            &mut p2sh,
            &redeem,
            flags,
            checker,
            SigVersion::Base,
            &mut no_exec,
        )?;
        top_is_true(&p2sh)?;
        if flags.contains(Flags::WITNESS) {
            if let Some((version, program)) = witness_program(&redeem) {
                had_witness = true;
                if script_sig != push_data(&redeem) {
                    return Err(ScriptError::WitnessMalleatedP2sh);
                }
                verify_witness_program(witness, version, program, flags, checker, true)?;
                p2sh.truncate(1);
            }
        }
        stack = p2sh;
    }

    if flags.contains(Flags::CLEANSTACK) && stack.len() != 1 {
        return Err(ScriptError::CleanStack);
    }
    if flags.contains(Flags::WITNESS) && !had_witness && !witness.is_empty() {
        return Err(ScriptError::WitnessUnexpected);
    }
    Ok(())
}

/// Core's `VerifyWitnessProgram`: segwit v0 (P2WPKH, P2WSH), taproot and future versions.
fn verify_witness_program(
    witness: &[Vec<u8>],
    version: u8,
    program: &[u8],
    flags: Flags,
    checker: &InputChecker<'_>,
    is_p2sh: bool,
) -> Result<(), ScriptError> {
    let mut exec = TaprootExec::default();
    match (version, program.len()) {
        (0, 32) => {
            let (script, stack) = witness
                .split_last()
                .ok_or(ScriptError::WitnessProgramWitnessEmpty)?;
            if sha256(script) != program {
                return Err(ScriptError::WitnessProgramMismatch);
            }
            execute_witness_script(
                stack.to_vec(),
                script,
                flags,
                checker,
                SigVersion::WitnessV0,
                &mut exec,
            )
        }
        (0, 20) => {
            if witness.len() != 2 {
                return Err(ScriptError::WitnessProgramMismatch);
            }
            let mut script = vec![OP_DUP, OP_HASH160, 20];
            script.extend_from_slice(program);
            script.extend([OP_EQUALVERIFY, OP_CHECKSIG]);
            execute_witness_script(
                witness.to_vec(),
                &script,
                flags,
                checker,
                SigVersion::WitnessV0,
                &mut exec,
            )
        }
        (0, _) => Err(ScriptError::WitnessProgramWrongLength),
        (1, 32) if !is_p2sh => {
            if !flags.contains(Flags::TAPROOT) {
                return Ok(());
            }
            verify_taproot(witness, program, flags, checker)
        }
        _ if flags.contains(Flags::DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM) => {
            Err(ScriptError::DiscourageUpgradableWitnessProgram)
        }
        // Unknown versions stay anyone-can-spend for future soft forks.
        _ => Ok(()),
    }
}

/// Serialized size of a witness stack (its validation-weight budget, BIP342).
fn witness_size(witness: &[Vec<u8>]) -> usize {
    compact_size_len(witness.len() as u64)
        + witness
            .iter()
            .map(|w| compact_size_len(w.len() as u64) + w.len())
            .sum::<usize>()
}

/// BIP341: key-path and script-path spends of a segwit v1 output.
fn verify_taproot(
    witness: &[Vec<u8>],
    program: &[u8],
    flags: Flags,
    checker: &InputChecker<'_>,
) -> Result<(), ScriptError> {
    let mut stack: &[Vec<u8>] = witness;
    if stack.is_empty() {
        return Err(ScriptError::WitnessProgramWitnessEmpty);
    }
    let mut exec = TaprootExec::default();
    if stack.len() >= 2 {
        if let Some((annex, rest)) = stack
            .split_last()
            .filter(|(a, _)| a.first() == Some(&ANNEX_TAG))
        {
            let mut prefixed = Vec::with_capacity(annex.len() + 9);
            crate::primitives::encode::write_compact_size(&mut prefixed, annex.len() as u64);
            prefixed.extend_from_slice(annex);
            exec.annex_hash = Some(sha256(&prefixed));
            stack = rest;
        }
    }
    if let [sig] = stack {
        return checker.check_schnorr(sig, program, &exec);
    }
    let (control, rest) = stack.split_last().expect("two or more elements");
    let (script, stack) = rest.split_last().expect("two or more elements");
    if !control_size_ok(control) {
        return Err(ScriptError::TaprootWrongControlSize);
    }
    let leaf_version = control[0] & LEAF_VERSION_MASK;
    let leaf_hash = tapleaf_hash(leaf_version, script);
    if !verify_commitment(control, program, &leaf_hash) {
        return Err(ScriptError::WitnessProgramMismatch);
    }
    if leaf_version == TAPSCRIPT_LEAF_VERSION {
        exec.tapscript = Some(TapscriptCommit {
            leaf_hash,
            codesep_pos: NO_CODESEPARATOR,
        });
        exec.weight_left = witness_size(witness) as i64 + VALIDATION_WEIGHT_OFFSET;
        return execute_witness_script(
            stack.to_vec(),
            script,
            flags,
            checker,
            SigVersion::Tapscript,
            &mut exec,
        );
    }
    if flags.contains(Flags::DISCOURAGE_UPGRADABLE_TAPROOT_VERSION) {
        return Err(ScriptError::DiscourageUpgradableTaprootVersion);
    }
    // Unknown leaf versions stay anyone-can-spend for future soft forks.
    Ok(())
}

/// Core's `ExecuteWitnessScript`: runs a witness script that must leave exactly one true
/// element.
fn execute_witness_script(
    mut stack: Stack,
    script: &[u8],
    flags: Flags,
    checker: &InputChecker<'_>,
    version: SigVersion,
    exec: &mut TaprootExec,
) -> Result<(), ScriptError> {
    if version == SigVersion::Tapscript {
        // An OP_SUCCESSx anywhere makes the script succeed before anything else is checked;
        // a truncated push before it fails the script.
        for ins in instructions(script) {
            let ins = ins.map_err(|_| ScriptError::TruncatedPush)?;
            if is_op_success(ins.opcode) {
                if flags.contains(Flags::DISCOURAGE_OP_SUCCESS) {
                    return Err(ScriptError::DiscourageOpSuccess);
                }
                return Ok(());
            }
        }
        if stack.len() > MAX_STACK_SIZE {
            return Err(ScriptError::StackSize);
        }
    }
    if stack.iter().any(|e| e.len() > MAX_ELEMENT_SIZE) {
        return Err(ScriptError::PushSize);
    }
    eval_script(&mut stack, script, flags, checker, version, exec)?;
    if stack.len() != 1 {
        return Err(ScriptError::CleanStack);
    }
    top_is_true(&stack)
}
