//! Why a script failed to verify.

use std::fmt;

/// One variant per reason a script can fail, named after Bitcoin Core's `ScriptError`.
/// [`ScriptError::vector_name`] gives the name Core's test vectors expect.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ScriptError {
    /// The script ran but left an empty stack or a false value on top.
    EvalFalse,
    /// OP_RETURN was executed.
    OpReturn,
    /// A legacy or segwit v0 script is longer than 10,000 bytes.
    ScriptSize,
    /// A pushed element is longer than 520 bytes.
    PushSize,
    /// More than 201 non-push opcodes in a legacy or segwit v0 script.
    OpCount,
    /// The stack and alt stack together hold more than 1,000 elements.
    StackSize,
    /// CHECKMULTISIG's signature count is negative or above its key count.
    SigCount,
    /// CHECKMULTISIG's key count is negative or above 20.
    PubkeyCount,
    /// OP_VERIFY found a false value.
    Verify,
    /// OP_EQUALVERIFY found unequal values.
    EqualVerify,
    /// OP_CHECKMULTISIGVERIFY's signatures did not verify.
    CheckMultisigVerify,
    /// OP_CHECKSIGVERIFY's signature did not verify.
    CheckSigVerify,
    /// OP_NUMEQUALVERIFY found unequal numbers.
    NumEqualVerify,
    /// An opcode that is invalid was executed (or OP_VERIF/OP_VERNOTIF appeared anywhere).
    BadOpcode,
    /// A push opcode claims more bytes than the script has left.
    TruncatedPush,
    /// A disabled opcode (OP_CAT, OP_MUL, ...) appears in the script.
    DisabledOpcode,
    /// An opcode needed more stack elements than there were, or an index was out of range.
    InvalidStackOperation,
    /// OP_FROMALTSTACK with an empty alt stack.
    InvalidAltstackOperation,
    /// OP_ELSE/OP_ENDIF without OP_IF, OP_IF without a value, or an OP_IF left open.
    UnbalancedConditional,
    /// The lock time operand of CLTV/CSV is negative.
    NegativeLocktime,
    /// The transaction's lock time or sequence does not satisfy CLTV/CSV.
    UnsatisfiedLocktime,
    /// A signature's hash type is not one of the defined ones (STRICTENC).
    SigHashType,
    /// A signature is not strict DER (DERSIG / STRICTENC / LOW_S).
    SigDer,
    /// A push does not use the smallest possible push opcode (MINIMALDATA).
    NonMinimalPush,
    /// A number operand is longer than allowed.
    NumberTooBig,
    /// A number operand is not minimally encoded (MINIMALDATA).
    NonMinimalNumber,
    /// The signature script contains non-push opcodes (SIGPUSHONLY, or a P2SH spend).
    SigPushOnly,
    /// A signature's S value is above half the curve order (LOW_S).
    SigHighS,
    /// CHECKMULTISIG's dummy element is not empty (NULLDUMMY).
    SigNullDummy,
    /// A public key is neither compressed nor uncompressed SEC encoding (STRICTENC).
    PubkeyType,
    /// More than one element is left on the stack (CLEANSTACK, always for witness scripts).
    CleanStack,
    /// OP_IF/OP_NOTIF's argument is not empty or exactly 0x01 (MINIMALIF in segwit v0).
    MinimalIf,
    /// A failing signature check had a non-empty signature (NULLFAIL).
    NullFail,
    /// An upgradable NOP was executed (DISCOURAGE_UPGRADABLE_NOPS).
    DiscourageUpgradableNops,
    /// A witness program of an unknown version was spent (policy).
    DiscourageUpgradableWitnessProgram,
    /// A taproot leaf of an unknown version was spent (policy).
    DiscourageUpgradableTaprootVersion,
    /// A tapscript contains an OP_SUCCESSx opcode (policy).
    DiscourageOpSuccess,
    /// A tapscript signature check used an unknown public key type (policy).
    DiscourageUpgradablePubkeyType,
    /// A segwit v0 program is neither 20 nor 32 bytes.
    WitnessProgramWrongLength,
    /// A witness program was spent with an empty witness.
    WitnessProgramWitnessEmpty,
    /// The witness does not match the program (script hash, item count or taproot commitment).
    WitnessProgramMismatch,
    /// A native witness spend has a non-empty signature script.
    WitnessMalleated,
    /// A P2SH-wrapped witness spend's signature script is not exactly the program push.
    WitnessMalleatedP2sh,
    /// An input that is not a witness spend carries witness data.
    WitnessUnexpected,
    /// A segwit v0 signature check used an uncompressed public key (WITNESS_PUBKEYTYPE).
    WitnessPubkeyType,
    /// A Schnorr signature is neither 64 nor 65 bytes.
    SchnorrSigSize,
    /// A Schnorr signature's hash type is invalid.
    SchnorrSigHashType,
    /// A Schnorr signature does not verify.
    SchnorrSig,
    /// A taproot control block has an invalid size.
    TaprootWrongControlSize,
    /// A tapscript did more signature checks than its witness size pays for.
    TapscriptValidationWeight,
    /// OP_CHECKMULTISIG(VERIFY) in a tapscript.
    TapscriptCheckMultisig,
    /// OP_IF/OP_NOTIF's argument in a tapscript is not empty or exactly 0x01.
    TapscriptMinimalIf,
    /// A tapscript signature check with an empty public key.
    TapscriptEmptyPubkey,
    /// OP_CODESEPARATOR in a legacy script (CONST_SCRIPTCODE).
    OpCodeSeparator,
    /// A legacy signature check found its signature in the script code (CONST_SCRIPTCODE).
    SigFindAndDelete,
    /// The input index is not an input of the transaction.
    InputIndexOutOfRange,
    /// The spent outputs given do not pair one-to-one with the transaction's inputs.
    SpentOutputsMismatch,
}

impl ScriptError {
    /// The error name Bitcoin Core's script and transaction test vectors use.
    pub fn vector_name(&self) -> &'static str {
        use ScriptError::*;
        match self {
            EvalFalse => "EVAL_FALSE",
            OpReturn => "OP_RETURN",
            ScriptSize => "SCRIPT_SIZE",
            PushSize => "PUSH_SIZE",
            OpCount => "OP_COUNT",
            StackSize => "STACK_SIZE",
            SigCount => "SIG_COUNT",
            PubkeyCount => "PUBKEY_COUNT",
            Verify => "VERIFY",
            EqualVerify => "EQUALVERIFY",
            CheckMultisigVerify => "CHECKMULTISIGVERIFY",
            CheckSigVerify => "CHECKSIGVERIFY",
            NumEqualVerify => "NUMEQUALVERIFY",
            BadOpcode | TruncatedPush => "BAD_OPCODE",
            DisabledOpcode => "DISABLED_OPCODE",
            InvalidStackOperation => "INVALID_STACK_OPERATION",
            InvalidAltstackOperation => "INVALID_ALTSTACK_OPERATION",
            UnbalancedConditional => "UNBALANCED_CONDITIONAL",
            NegativeLocktime => "NEGATIVE_LOCKTIME",
            UnsatisfiedLocktime => "UNSATISFIED_LOCKTIME",
            SigHashType => "SIG_HASHTYPE",
            SigDer => "SIG_DER",
            NonMinimalPush => "MINIMALDATA",
            NumberTooBig | NonMinimalNumber => "SCRIPTNUM",
            SigPushOnly => "SIG_PUSHONLY",
            SigHighS => "SIG_HIGH_S",
            SigNullDummy => "SIG_NULLDUMMY",
            PubkeyType => "PUBKEYTYPE",
            CleanStack => "CLEANSTACK",
            MinimalIf => "MINIMALIF",
            NullFail => "NULLFAIL",
            DiscourageUpgradableNops => "DISCOURAGE_UPGRADABLE_NOPS",
            DiscourageUpgradableWitnessProgram => "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM",
            DiscourageUpgradableTaprootVersion => "DISCOURAGE_UPGRADABLE_TAPROOT_VERSION",
            DiscourageOpSuccess => "DISCOURAGE_OP_SUCCESS",
            DiscourageUpgradablePubkeyType => "DISCOURAGE_UPGRADABLE_PUBKEYTYPE",
            WitnessProgramWrongLength => "WITNESS_PROGRAM_WRONG_LENGTH",
            WitnessProgramWitnessEmpty => "WITNESS_PROGRAM_WITNESS_EMPTY",
            WitnessProgramMismatch => "WITNESS_PROGRAM_MISMATCH",
            WitnessMalleated => "WITNESS_MALLEATED",
            WitnessMalleatedP2sh => "WITNESS_MALLEATED_P2SH",
            WitnessUnexpected => "WITNESS_UNEXPECTED",
            WitnessPubkeyType => "WITNESS_PUBKEYTYPE",
            SchnorrSigSize => "SCHNORR_SIG_SIZE",
            SchnorrSigHashType => "SCHNORR_SIG_HASHTYPE",
            SchnorrSig => "SCHNORR_SIG",
            TaprootWrongControlSize => "TAPROOT_WRONG_CONTROL_SIZE",
            TapscriptValidationWeight => "TAPSCRIPT_VALIDATION_WEIGHT",
            TapscriptCheckMultisig => "TAPSCRIPT_CHECKMULTISIG",
            TapscriptMinimalIf => "TAPSCRIPT_MINIMALIF",
            TapscriptEmptyPubkey => "TAPSCRIPT_EMPTY_PUBKEY",
            OpCodeSeparator => "OP_CODESEPARATOR",
            SigFindAndDelete => "SIG_FINDANDDELETE",
            InputIndexOutOfRange | SpentOutputsMismatch => "UNKNOWN_ERROR",
        }
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ScriptError::*;
        let reason = match self {
            EvalFalse => "the script ran but left an empty stack or a false value on top",
            OpReturn => "OP_RETURN was executed",
            ScriptSize => "a legacy or segwit v0 script is longer than 10,000 bytes",
            PushSize => "a pushed element is longer than 520 bytes",
            OpCount => "more than 201 non-push opcodes in a legacy or segwit v0 script",
            StackSize => "the stack and alt stack together hold more than 1,000 elements",
            SigCount => "CHECKMULTISIG's signature count is negative or above its key count",
            PubkeyCount => "CHECKMULTISIG's key count is negative or above 20",
            Verify => "OP_VERIFY found a false value",
            EqualVerify => "OP_EQUALVERIFY found unequal values",
            CheckMultisigVerify => "OP_CHECKMULTISIGVERIFY's signatures did not verify",
            CheckSigVerify => "OP_CHECKSIGVERIFY's signature did not verify",
            NumEqualVerify => "OP_NUMEQUALVERIFY found unequal numbers",
            BadOpcode => "an opcode that is invalid was executed (or OP_VERIF/OP_VERNOTIF appeared anywhere)",
            TruncatedPush => "a push opcode claims more bytes than the script has left",
            DisabledOpcode => "a disabled opcode (OP_CAT, OP_MUL, ...) appears in the script",
            InvalidStackOperation => "an opcode needed more stack elements than there were, or an index was out of range",
            InvalidAltstackOperation => "OP_FROMALTSTACK with an empty alt stack",
            UnbalancedConditional => "OP_ELSE/OP_ENDIF without OP_IF, OP_IF without a value, or an OP_IF left open",
            NegativeLocktime => "the lock time operand of CLTV/CSV is negative",
            UnsatisfiedLocktime => "the transaction's lock time or sequence does not satisfy CLTV/CSV",
            SigHashType => "a signature's hash type is not one of the defined ones (STRICTENC)",
            SigDer => "a signature is not strict DER (DERSIG / STRICTENC / LOW_S)",
            NonMinimalPush => "a push does not use the smallest possible push opcode (MINIMALDATA)",
            NumberTooBig => "a number operand is longer than allowed",
            NonMinimalNumber => "a number operand is not minimally encoded (MINIMALDATA)",
            SigPushOnly => "the signature script contains non-push opcodes (SIGPUSHONLY, or a P2SH spend)",
            SigHighS => "a signature's S value is above half the curve order (LOW_S)",
            SigNullDummy => "CHECKMULTISIG's dummy element is not empty (NULLDUMMY)",
            PubkeyType => "a public key is neither compressed nor uncompressed SEC encoding (STRICTENC)",
            CleanStack => "more than one element is left on the stack (CLEANSTACK, always for witness scripts)",
            MinimalIf => "OP_IF/OP_NOTIF's argument is not empty or exactly 0x01 (MINIMALIF in segwit v0)",
            NullFail => "a failing signature check had a non-empty signature (NULLFAIL)",
            DiscourageUpgradableNops => "an upgradable NOP was executed (DISCOURAGE_UPGRADABLE_NOPS)",
            DiscourageUpgradableWitnessProgram => "a witness program of an unknown version was spent (policy)",
            DiscourageUpgradableTaprootVersion => "a taproot leaf of an unknown version was spent (policy)",
            DiscourageOpSuccess => "a tapscript contains an OP_SUCCESSx opcode (policy)",
            DiscourageUpgradablePubkeyType => "a tapscript signature check used an unknown public key type (policy)",
            WitnessProgramWrongLength => "a segwit v0 program is neither 20 nor 32 bytes",
            WitnessProgramWitnessEmpty => "a witness program was spent with an empty witness",
            WitnessProgramMismatch => "the witness does not match the program (script hash, item count or taproot commitment)",
            WitnessMalleated => "a native witness spend has a non-empty signature script",
            WitnessMalleatedP2sh => "a P2SH-wrapped witness spend's signature script is not exactly the program push",
            WitnessUnexpected => "an input that is not a witness spend carries witness data",
            WitnessPubkeyType => "a segwit v0 signature check used an uncompressed public key (WITNESS_PUBKEYTYPE)",
            SchnorrSigSize => "a Schnorr signature is neither 64 nor 65 bytes",
            SchnorrSigHashType => "a Schnorr signature's hash type is invalid",
            SchnorrSig => "a Schnorr signature does not verify",
            TaprootWrongControlSize => "a taproot control block has an invalid size",
            TapscriptValidationWeight => "a tapscript did more signature checks than its witness size pays for",
            TapscriptCheckMultisig => "OP_CHECKMULTISIG(VERIFY) in a tapscript",
            TapscriptMinimalIf => "OP_IF/OP_NOTIF's argument in a tapscript is not empty or exactly 0x01",
            TapscriptEmptyPubkey => "a tapscript signature check with an empty public key",
            OpCodeSeparator => "OP_CODESEPARATOR in a legacy script (CONST_SCRIPTCODE)",
            SigFindAndDelete => "a legacy signature check found its signature in the script code (CONST_SCRIPTCODE)",
            InputIndexOutOfRange => "the input index is not an input of the transaction",
            SpentOutputsMismatch => "the spent outputs given do not pair one-to-one with the transaction's inputs",
        };
        write!(f, "{reason} ({})", self.vector_name())
    }
}

impl std::error::Error for ScriptError {}
