//! Property tests of the network byte order helpers.

use prolac_runtime::order::{
    read_u16_be, read_u32_be, read_u64_be, write_u16_be, write_u32_be, write_u64_be,
};
use prolac_runtime::{NetU16, NetU32, OutOfBounds};
use proptest::prelude::*;

proptest! {
    #[test]
    fn write_then_read(
        len in 0usize..32,
        offset in 0usize..40,
        a in any::<u16>(),
        b in any::<u32>(),
        c in any::<u64>(),
    ) {
        let mut buf = vec![0u8; len];
        let r16 = write_u16_be(&mut buf, offset, a);
        prop_assert_eq!(r16.is_ok(), offset + 2 <= len);
        if r16.is_ok() {
            prop_assert_eq!(read_u16_be(&buf, offset), Some(a));
            prop_assert_eq!(&buf[offset..offset + 2], &a.to_be_bytes()[..]);
        } else {
            prop_assert_eq!(r16, Err(OutOfBounds { offset, width: 2, len }));
            prop_assert_eq!(read_u16_be(&buf, offset), None);
        }
        let r32 = write_u32_be(&mut buf, offset, b);
        prop_assert_eq!(r32.is_ok(), offset + 4 <= len);
        prop_assert_eq!(read_u32_be(&buf, offset), r32.ok().map(|()| b));
        let r64 = write_u64_be(&mut buf, offset, c);
        prop_assert_eq!(r64.is_ok(), offset + 8 <= len);
        prop_assert_eq!(read_u64_be(&buf, offset), r64.ok().map(|()| c));
    }

    #[test]
    fn failed_writes_change_nothing(bytes in prop::collection::vec(any::<u8>(), 0..8), offset in 0usize..16) {
        let mut buf = bytes.clone();
        let _ = write_u64_be(&mut buf, offset, u64::MAX);
        prop_assert_eq!(buf, bytes);
    }

    #[test]
    fn wrappers_round_trip(a in any::<u16>(), b in any::<u32>()) {
        let (x, y) = (NetU16::new(a), NetU32::new(b));
        prop_assert_eq!(x.get(), a);
        prop_assert_eq!(y.get(), b);
        prop_assert_eq!(x.to_bytes(), a.to_be_bytes());
        prop_assert_eq!(y.to_bytes(), b.to_be_bytes());
        prop_assert_eq!(read_u16_be(&x.to_bytes(), 0), Some(a));
        prop_assert_eq!(read_u32_be(&y.to_bytes(), 0), Some(b));
        let (mut x2, mut y2) = (NetU16::default(), NetU32::default());
        x2.set(a);
        y2.set(b);
        prop_assert_eq!((x2, y2), (x, y));
    }
}
