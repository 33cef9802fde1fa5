//! Arithmetic on constants, exactly as the generated code computes it (§11.3, §11.4): wrapping
//! two's complement, truncating division, shift counts modulo the width, circular comparison
//! for `seqint`. Constant folding in the analysis and the optimiser both use this, so folding
//! never changes behaviour.

use super::{BinOp, Const, TypeKind, UnOp};

/// Why an operation has no result.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EvalError {
    /// Division or remainder by zero.
    DivisionByZero,
    /// Not an operation on constants of this type.
    NotConstant,
}

/// Normalises raw bits to the representation of a type: truncated to the width, then sign- or
/// zero-extended to 64 bits (bools are 0 or 1).
pub fn normalize(bits: u64, ty: TypeKind) -> u64 {
    match ty {
        TypeKind::Bool => u64::from(bits != 0),
        TypeKind::Int { width, signed } => {
            let w = width.bits();
            if w == 64 {
                return bits;
            }
            let mask = (1u64 << w) - 1;
            let v = bits & mask;
            if signed && v >> (w - 1) & 1 == 1 {
                v | !mask
            } else {
                v
            }
        }
        TypeKind::SeqInt => bits & 0xFFFF_FFFF,
        _ => bits,
    }
}

fn width_of(ty: TypeKind) -> Option<(u32, bool)> {
    match ty {
        TypeKind::Int { width, signed } => Some((width.bits(), signed)),
        TypeKind::SeqInt => Some((32, false)),
        TypeKind::Bool => Some((8, false)),
        TypeKind::Ptr(_) => Some((64, false)),
        _ => None,
    }
}

/// `a op b` for two constants of type `ty`; comparisons yield 0 or 1.
pub fn binary(op: BinOp, a: Const, b: Const, ty: TypeKind) -> Result<Const, EvalError> {
    let (w, signed) = width_of(ty).ok_or(EvalError::NotConstant)?;
    let (x, y) = (a.0, b.0);
    let seq = ty == TypeKind::SeqInt;
    let lt = |x: u64, y: u64| -> bool {
        if seq {
            (x.wrapping_sub(y) as u32 as i32) < 0
        } else if signed {
            (x as i64) < (y as i64)
        } else {
            x < y
        }
    };
    let r = match op {
        BinOp::Add => x.wrapping_add(y),
        BinOp::Sub => x.wrapping_sub(y),
        BinOp::Mul => x.wrapping_mul(y),
        BinOp::Div | BinOp::Rem => {
            if normalize(y, ty) == 0 {
                return Err(EvalError::DivisionByZero);
            }
            if signed {
                let (xs, ys) = (x as i64, y as i64);
                (if op == BinOp::Div {
                    xs.wrapping_div(ys)
                } else {
                    xs.wrapping_rem(ys)
                }) as u64
            } else {
                let (xm, ym) = (normalize(x, ty), normalize(y, ty));
                if op == BinOp::Div { xm / ym } else { xm % ym }
            }
        }
        BinOp::Shl => x.wrapping_shl((y % u64::from(w)) as u32),
        BinOp::Shr => {
            let count = (y % u64::from(w)) as u32;
            if signed {
                ((x as i64) >> count) as u64
            } else {
                normalize(x, ty) >> count
            }
        }
        BinOp::BitAnd => x & y,
        BinOp::BitOr => x | y,
        BinOp::BitXor => x ^ y,
        BinOp::Eq => return Ok(Const(u64::from(normalize(x, ty) == normalize(y, ty)))),
        BinOp::Ne => return Ok(Const(u64::from(normalize(x, ty) != normalize(y, ty)))),
        BinOp::Lt => return Ok(Const(u64::from(lt(x, y)))),
        BinOp::Le => return Ok(Const(u64::from(!lt(y, x)))),
        BinOp::Gt => return Ok(Const(u64::from(lt(y, x)))),
        BinOp::Ge => return Ok(Const(u64::from(!lt(x, y)))),
        BinOp::Min => {
            if lt(y, x) {
                y
            } else {
                x
            }
        }
        BinOp::Max => {
            if lt(x, y) {
                y
            } else {
                x
            }
        }
        BinOp::PtrAdd | BinOp::PtrDiff => return Err(EvalError::NotConstant),
    };
    Ok(Const(normalize(r, ty)))
}

/// `op a` for a constant of type `ty`.
pub fn unary(op: UnOp, a: Const, ty: TypeKind) -> Result<Const, EvalError> {
    let r = match op {
        UnOp::Neg => a.0.wrapping_neg(),
        UnOp::BitNot => !a.0,
        UnOp::Not => u64::from(a.0 == 0),
    };
    Ok(Const(normalize(r, ty)))
}

/// Converts a constant between integral types (and to and from bool).
pub fn convert(a: Const, from: TypeKind, to: TypeKind) -> Result<Const, EvalError> {
    match (from, to) {
        (TypeKind::Int { .. } | TypeKind::SeqInt | TypeKind::Bool, TypeKind::Bool) => {
            Ok(Const(u64::from(normalize(a.0, from) != 0)))
        }
        (
            TypeKind::Int { .. } | TypeKind::SeqInt | TypeKind::Bool,
            TypeKind::Int { .. } | TypeKind::SeqInt,
        ) => Ok(Const(normalize(normalize(a.0, from), to))),
        _ => Err(EvalError::NotConstant),
    }
}

/// The value of a constant as a signed number of its type (for messages).
pub fn signed_value(a: Const, ty: TypeKind) -> i128 {
    match ty {
        TypeKind::Int { signed: true, .. } => i128::from(a.0 as i64),
        _ => i128::from(a.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::IntWidth;

    const INT: TypeKind = TypeKind::Int {
        width: IntWidth::W32,
        signed: true,
    };
    const UINT: TypeKind = TypeKind::Int {
        width: IntWidth::W32,
        signed: false,
    };
    const UCHAR: TypeKind = TypeKind::Int {
        width: IntWidth::W8,
        signed: false,
    };

    fn c(v: i64, t: TypeKind) -> Const {
        Const(normalize(v as u64, t))
    }

    #[test]
    fn arithmetic_wraps_in_its_type() {
        assert_eq!(
            binary(BinOp::Add, c(i32::MAX.into(), INT), c(1, INT), INT),
            Ok(c(i32::MIN.into(), INT))
        );
        assert_eq!(
            binary(BinOp::Add, c(255, UCHAR), c(1, UCHAR), UCHAR),
            Ok(Const(0))
        );
        assert_eq!(
            binary(BinOp::Div, c(-7, INT), c(2, INT), INT),
            Ok(c(-3, INT))
        );
        assert_eq!(
            binary(BinOp::Rem, c(-7, INT), c(2, INT), INT),
            Ok(c(-1, INT))
        );
        assert_eq!(
            binary(BinOp::Div, c(7, INT), c(0, INT), INT),
            Err(EvalError::DivisionByZero)
        );
    }

    #[test]
    fn shifts_take_counts_modulo_the_width_and_respect_signedness() {
        assert_eq!(
            binary(BinOp::Shl, c(1, INT), c(33, INT), INT),
            Ok(c(2, INT))
        );
        assert_eq!(
            binary(BinOp::Shr, c(-8, INT), c(1, INT), INT),
            Ok(c(-4, INT))
        );
        assert_eq!(
            binary(BinOp::Shr, c(-8, UINT), c(1, UINT), UINT),
            Ok(Const(0x7FFF_FFFC))
        );
    }

    #[test]
    fn seqint_compares_circularly() {
        let s = TypeKind::SeqInt;
        assert_eq!(
            binary(BinOp::Lt, Const(0xFFFF_FFF0), Const(5), s),
            Ok(Const(1))
        );
        assert_eq!(
            binary(BinOp::Gt, Const(5), Const(0xFFFF_FFF0), s),
            Ok(Const(1))
        );
        assert_eq!(
            binary(BinOp::Max, Const(0xFFFF_FFF0), Const(5), s),
            Ok(Const(5))
        );
        assert_eq!(
            binary(BinOp::Add, Const(0xFFFF_FFFF), Const(1), s),
            Ok(Const(0))
        );
    }

    #[test]
    fn mixed_sign_comparison_uses_the_common_type() {
        // -1 < 1u is false in uint.
        let minus_one_as_uint = convert(c(-1, INT), INT, UINT).unwrap_or(Const(0));
        assert_eq!(
            binary(BinOp::Lt, minus_one_as_uint, c(1, UINT), UINT),
            Ok(Const(0))
        );
    }
}
