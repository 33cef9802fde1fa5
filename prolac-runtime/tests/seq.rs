//! Property tests of circular sequence-number comparison and wrapping arithmetic.

use prolac_runtime::SeqInt;
use prolac_runtime::seq::{seq_ge, seq_gt, seq_in_window, seq_le, seq_lt, seq_max, seq_min};
use proptest::prelude::*;

const HALF: u32 = 1 << 31;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn exactly_one_relation_unless_half_apart(a in any::<u32>(), b in any::<u32>()) {
        let (x, y) = (SeqInt(a), SeqInt(b));
        let relations = [x.lt(y), x == y, x.gt(y)];
        let count = relations.iter().filter(|&&r| r).count();
        if b.wrapping_sub(a) == HALF {
            prop_assert_eq!(count, 0);
        } else {
            prop_assert_eq!(count, 1);
        }
        prop_assert_eq!(x.le(y), x.lt(y) || x == y);
        prop_assert_eq!(x.ge(y), x.gt(y) || x == y);
        prop_assert_eq!(x.lt(y), y.gt(x));
        prop_assert_eq!(x.lt(y), seq_lt(a, b));
        prop_assert_eq!(x.le(y), seq_le(a, b));
        prop_assert_eq!(x.gt(y), seq_gt(a, b));
        prop_assert_eq!(x.ge(y), seq_ge(a, b));
    }

    #[test]
    fn matches_signed_difference(a in any::<u32>(), b in any::<u32>()) {
        prop_assert_eq!(seq_lt(a, b), (b.wrapping_sub(a) as i32) > 0);
        prop_assert_eq!(SeqInt(b).signed_offset_from(SeqInt(a)), b.wrapping_sub(a) as i32);
    }

    #[test]
    fn adding_less_than_half_moves_forward(a in any::<u32>(), n in 1u32..HALF) {
        let x = SeqInt(a);
        prop_assert!(x.lt(x + n));
        prop_assert!((x + n).gt(x));
        prop_assert!(x.gt(x - n));
        prop_assert_eq!((x + n).offset_from(x), n);
        prop_assert_eq!((x + n) - n, x);
        prop_assert_eq!(x + SeqInt(n), x + n);
        prop_assert_eq!(x - SeqInt(n), x - n);
    }

    #[test]
    fn min_max_pick_an_argument(a in any::<u32>(), b in any::<u32>()) {
        let (x, y) = (SeqInt(a), SeqInt(b));
        let (lo, hi) = (x.min(y), x.max(y));
        prop_assert!(lo == x || lo == y);
        prop_assert!(hi == x || hi == y);
        prop_assert!(lo.le(x) || b.wrapping_sub(a) == HALF);
        prop_assert!(hi.ge(y) || b.wrapping_sub(a) == HALF);
        prop_assert_eq!(lo.get(), seq_min(a, b));
        prop_assert_eq!(hi.get(), seq_max(a, b));
        if b.wrapping_sub(a) != HALF && a != b {
            prop_assert_ne!(lo, hi);
        }
    }

    #[test]
    fn window_agrees_with_comparison(x in any::<u32>(), start in any::<u32>(), len in 0u32..=HALF) {
        let inside = seq_in_window(x, start, len);
        let end = start.wrapping_add(len);
        let by_comparison = (len > 0 && seq_le(start, x) && seq_lt(x, end)) || (len == HALF && x == start);
        prop_assert_eq!(inside, by_comparison);
        prop_assert_eq!(inside, SeqInt(x).in_window(SeqInt(start), len));
    }

    #[test]
    fn window_offsets(start in any::<u32>(), len in 1u32..=u32::MAX, k in any::<u32>()) {
        let x = start.wrapping_add(k);
        prop_assert_eq!(seq_in_window(x, start, len), k < len);
    }
}
