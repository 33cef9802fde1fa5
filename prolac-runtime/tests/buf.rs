//! Model-based property test of `SegBuf`: random operation sequences against a plain model.

use prolac_runtime::{BufError, SegBuf};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    PushFront(usize, u8),
    PullFront(usize),
    Extend(Vec<u8>),
    Truncate(usize),
    Reset(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..48, any::<u8>()).prop_map(|(n, b)| Op::PushFront(n, b)),
        (0usize..48).prop_map(Op::PullFront),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Op::Extend),
        (0usize..64).prop_map(Op::Truncate),
        (0usize..48).prop_map(Op::Reset),
    ]
}

proptest! {
    #[test]
    fn behaves_like_the_model(
        headroom in 0usize..64,
        capacity in 0usize..64,
        ops in prop::collection::vec(op(), 0..40),
    ) {
        let mut buf = SegBuf::with_headroom(headroom, capacity).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // The model: the data bytes and the headroom count.
        let mut data: Vec<u8> = Vec::new();
        let mut head = headroom;
        for op in ops {
            match op {
                Op::PushFront(n, fill) => match buf.push_front(n) {
                    Ok(hdr) => {
                        prop_assert!(n <= head);
                        prop_assert!(hdr.iter().all(|&b| b == 0));
                        prop_assert_eq!(hdr.len(), n);
                        hdr.fill(fill);
                        head -= n;
                        data.splice(0..0, std::iter::repeat_n(fill, n));
                    }
                    Err(e) => {
                        prop_assert_eq!(e, BufError::NoHeadroom { requested: n, available: head });
                    }
                },
                Op::PullFront(n) => match buf.pull_front(n) {
                    Ok(stripped) => {
                        prop_assert_eq!(stripped, &data[..n]);
                        data.drain(..n);
                        head += n;
                    }
                    Err(e) => {
                        prop_assert_eq!(e, BufError::TooShort { requested: n, available: data.len() });
                    }
                },
                Op::Extend(bytes) => {
                    prop_assert_eq!(buf.extend_from_slice(&bytes), Ok(()));
                    data.extend_from_slice(&bytes);
                }
                Op::Truncate(n) => {
                    let room = buf.tailroom();
                    buf.truncate(n);
                    prop_assert_eq!(buf.tailroom(), room + data.len().saturating_sub(n));
                    data.truncate(n);
                }
                Op::Reset(n) => {
                    prop_assert_eq!(buf.reset(n), Ok(()));
                    data.clear();
                    head = n;
                }
            }
            prop_assert_eq!(buf.data(), &data[..]);
            prop_assert_eq!(buf.len(), data.len());
            prop_assert_eq!(buf.is_empty(), data.is_empty());
            prop_assert_eq!(buf.headroom(), head);
        }
    }
}
