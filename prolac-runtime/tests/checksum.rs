//! Property tests of the fast Internet checksum against a plain byte-pair reference.

use prolac_runtime::checksum::{
    Checksum, MAX_PIECES, PieceSums, Span, SummedBytes, checksum, copy_pieces, copy_spans,
    pseudo_header_ipv4, update_u16, update_u32,
};
use proptest::prelude::*;

/// The textbook RFC 1071 checksum: big-endian byte pairs, end-around carry after each add.
fn reference_sum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut pairs = data.chunks(2);
    for pair in &mut pairs {
        let word = match *pair {
            [hi, lo] => u16::from_be_bytes([hi, lo]),
            [hi] => u16::from_be_bytes([hi, 0]),
            _ => 0,
        };
        sum += u32::from(word);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

fn reference(data: &[u8]) -> u16 {
    !reference_sum(data)
}

/// Bytes biased towards 0x00 and 0xff, to provoke long carry chains and zero sums.
fn bytes(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![3 => any::<u8>(), 1 => Just(0xffu8), 1 => Just(0u8)],
        0..max_len,
    )
}

/// Equal as one's-complement numbers (0x0000 and 0xffff are both zero).
fn ones_eq(a: u16, b: u16) -> bool {
    a == b || (a == 0 || a == 0xffff) && (b == 0 || b == 0xffff)
}

#[test]
fn rfc1071_vector() {
    let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(reference_sum(&data), 0xddf2);
    assert_eq!(reference(&data), 0x220d);
    assert_eq!(checksum(&data), 0x220d);
}

#[test]
fn ipv4_header_vector() {
    // A well-known IPv4 header whose checksum field holds 0xb861.
    let mut header = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];
    assert_eq!(checksum(&header), 0xb861);
    header[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
    assert_eq!(checksum(&header), 0);
}

#[test]
fn large_buffers_match() {
    // Past every unrolled path, with maximal carries, at every alignment.
    let data: Vec<u8> = (0..70_001u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let ones = vec![0xffu8; 70_001];
    for off in 0..8 {
        assert_eq!(checksum(&data[off..]), reference(&data[off..]));
        assert_eq!(checksum(&ones[off..]), reference(&ones[off..]));
    }
}

#[test]
fn copied_pieces_of_a_large_segment_match() {
    // A 64 KiB segment from a ring's two halves, the wrap in the middle of a piece, at an
    // odd offset: every piece's sum is its own, and the copy is exact.
    let data: Vec<u8> = (0..65_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let (front, back) = data.split_at(20_001);
    let mut dst = vec![7u8; 54];
    let sums = copy_pieces(&[front, back], 1448, &mut dst);
    assert_eq!(&dst[..54], &[7u8; 54]);
    assert_eq!(&dst[54..], &data[..]);
    for (i, piece) in data.chunks(1448).enumerate() {
        assert_eq!(
            sums.piece(1448, data.len(), i),
            Some(reference_sum(piece)),
            "piece {i}"
        );
    }
    // Asked about another cut or length: nothing.
    assert_eq!(sums.piece(1460, data.len(), 0), None);
    assert_eq!(sums.piece(1448, data.len() - 1, 0), None);
    assert_eq!(PieceSums::default().piece(0, 0, 0), None);
    // Too many pieces: the data is copied, no sums.
    let mut dst = Vec::new();
    let sums = copy_pieces(&[&data], 100, &mut dst);
    assert_eq!(dst, data);
    assert!(data.len().div_ceil(100) > MAX_PIECES);
    assert_eq!(sums.piece(100, data.len(), 0), None);
}

#[test]
fn every_short_length_at_every_alignment_matches() {
    // Headers, ACKs and the edges of summed ranges are short: every length across the
    // switch between the word loop and the vector blocks, with carries.
    let data: Vec<u8> = (0..200u32).map(|i| (i * 151 + 7) as u8).collect();
    let ones = [0xffu8; 200];
    for off in 0..8 {
        for len in 0..=130 {
            for d in [&data[off..off + len], &ones[off..off + len]] {
                assert_eq!(checksum(d), reference(d), "{off}+{len}");
            }
        }
    }
}

#[test]
fn summed_ranges_of_a_large_buffer_match() {
    // Every alignment of both ends against the 32-byte table (every end up to 100 bytes on
    // from every start in the first 200), ranges up to the buffer's end (its length no
    // multiple of the table's blocks), long ranges (many blocks), all-0xff data (carries,
    // negative zero) and all-zero data (zero sums).
    let data: Vec<u8> = (0..70_001u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for data in [data, vec![0xff; 9_000], vec![0; 9_000]] {
        let summed = SummedBytes::new(data.clone());
        assert_eq!(&summed[..], &data[..]);
        let n = data.len();
        let near_start = (0..200).flat_map(|start| (start..=start + 100).map(move |e| (start, e)));
        let long = (0..200)
            .chain([4_095, 4_096, 4_097])
            .flat_map(|start| [8_191, 8_999].map(move |e| (start, e)));
        let near_end = (n - 100..=n).flat_map(|start| (start..=n).map(move |e| (start, e)));
        for (start, end) in near_start.chain(long).chain(near_end) {
            let mut c = Checksum::new();
            summed.add_range(&mut c, start..end);
            let want = reference_sum(&data[start..end]);
            assert!(
                ones_eq(c.sum(), want),
                "{start}..{end}: {:#x} {want:#x}",
                c.sum()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn summed_ranges_add_like_bytes(
        prefix in bytes(9),
        data in bytes(3000),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        let summed = SummedBytes::new(data.clone());
        let (mut start, mut end) = (a.index(data.len() + 1), b.index(data.len() + 1));
        if start > end {
            std::mem::swap(&mut start, &mut end);
        }
        // After bytes of either parity: the range's own pairing is kept.
        let mut c = Checksum::new();
        c.add_bytes(&prefix);
        summed.add_range(&mut c, start..end);
        let mut all = prefix.clone();
        all.extend_from_slice(&data[start..end]);
        prop_assert!(ones_eq(c.finish(), reference(&all)));
        // Past the end: up to it.
        let mut c = Checksum::new();
        summed.add_range(&mut c, start..data.len() + 5);
        prop_assert!(ones_eq(c.sum(), reference_sum(&data[start..])));
    }

    #[test]
    fn copied_spans_match_copied_pieces(
        data in bytes(5000),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        summed in prop::collection::vec(any::<bool>(), 7),
        size in 0usize..1500,
    ) {
        // The data split into spans, some of them ranges of a summed buffer that holds more
        // than the span (the span starts anywhere in it).
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(data.len());
        let mut buffers = Vec::new();
        let mut start = 0;
        for (i, &cut) in cuts.iter().enumerate() {
            let part = &data[start..cut];
            let lead = (i * 37) % 101;
            let mut held = vec![0xa5u8; lead];
            held.extend_from_slice(part);
            held.extend_from_slice(&[0x5a; 7]);
            buffers.push((summed[i], SummedBytes::new(held), lead, part));
            start = cut;
        }
        let spans: Vec<Span<'_>> = buffers
            .iter()
            .map(|(s, b, lead, part)| if *s {
                Span::Summed(b, *lead..lead + part.len())
            } else {
                Span::Bytes(part)
            })
            .collect();
        let mut got = vec![9u8];
        let sums = copy_spans(&spans, size, &mut got);
        let mut want = vec![9u8];
        let want_sums = copy_pieces(&[&data], size, &mut want);
        prop_assert_eq!(&got, &want);
        let pieces = if size == 0 { 1 } else { data.len().div_ceil(size).max(1) };
        for i in 0..=pieces {
            match (sums.piece(size, data.len(), i), want_sums.piece(size, data.len(), i)) {
                (Some(x), Some(y)) => prop_assert!(ones_eq(x, y), "piece {}: {:#x} {:#x}", i, x, y),
                (x, y) => prop_assert_eq!(x, y),
            }
        }
    }

    #[test]
    fn copied_pieces_match_reference(
        data in bytes(3000),
        wrap in any::<prop::sample::Index>(),
        size in 0usize..700,
    ) {
        let (front, back) = data.split_at(wrap.index(data.len() + 1));
        let mut dst = vec![1, 2, 3];
        let sums = copy_pieces(&[front, back], size, &mut dst);
        prop_assert_eq!(&dst[3..], &data[..]);
        let step = if size == 0 { data.len().max(1) } else { size };
        let pieces: Vec<&[u8]> = if data.is_empty() { vec![&data[..]] } else { data.chunks(step).collect() };
        for (i, piece) in pieces.iter().enumerate() {
            if pieces.len() <= MAX_PIECES {
                prop_assert_eq!(sums.piece(size, data.len(), i), Some(reference_sum(piece)));
            } else {
                prop_assert_eq!(sums.piece(size, data.len(), i), None);
            }
        }
        prop_assert_eq!(sums.piece(size, data.len(), pieces.len()), None);
    }

    #[test]
    fn copied_bytes_and_sums_add_like_bytes(prefix in bytes(9), data in bytes(600), tail in bytes(9)) {
        let mut c = Checksum::new();
        c.add_bytes(&prefix);
        let mut dst = Vec::new();
        c.add_copied(&data, &mut dst);
        prop_assert_eq!(&dst, &data);
        c.add_bytes(&tail);
        let mut all = prefix.clone();
        all.extend_from_slice(&data);
        all.extend_from_slice(&tail);
        prop_assert_eq!(c.finish(), reference(&all));
        // A piece's own sum added back stands for its bytes.
        let mut own = Checksum::new();
        own.add_bytes(&data);
        let mut d = Checksum::new();
        d.add_bytes(&prefix);
        d.add_sum(own.sum(), data.len());
        d.add_bytes(&tail);
        prop_assert_eq!(d.finish(), reference(&all));
    }

    #[test]
    fn matches_reference(data in bytes(2000), offset in 0usize..8) {
        let offset = offset.min(data.len());
        let data = &data[offset..]; // any alignment
        prop_assert_eq!(checksum(data), reference(data));
        let mut c = Checksum::new();
        c.add_bytes(data);
        prop_assert_eq!(c.sum(), reference_sum(data));
        prop_assert_eq!(c.finish(), reference(data));
    }

    #[test]
    fn pieces_match_reference(
        data in bytes(2000),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        cuts.sort_unstable();
        let mut c = Checksum::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([data.len()]) {
            c.add_bytes(&data[start..cut]);
            start = cut;
        }
        prop_assert_eq!(c.finish(), reference(&data));
    }

    #[test]
    fn words_match_bytes(prefix in bytes(9), a in any::<u16>(), b in any::<u32>(), tail in bytes(9)) {
        let mut c = Checksum::new();
        c.add_bytes(&prefix);
        c.add_u16(a);
        c.add_u32(b);
        c.add_bytes(&tail);
        let mut all = prefix.clone();
        all.extend_from_slice(&a.to_be_bytes());
        all.extend_from_slice(&b.to_be_bytes());
        all.extend_from_slice(&tail);
        prop_assert_eq!(c.finish(), reference(&all));
    }

    #[test]
    fn pseudo_header_matches_bytes(
        src in any::<[u8; 4]>(),
        dst in any::<[u8; 4]>(),
        proto in any::<u8>(),
        segment in bytes(200),
    ) {
        let len = segment.len() as u16;
        let mut c = pseudo_header_ipv4(src, dst, proto, len);
        c.add_bytes(&segment);
        let mut all = Vec::new();
        all.extend_from_slice(&src);
        all.extend_from_slice(&dst);
        all.extend_from_slice(&[0, proto]);
        all.extend_from_slice(&len.to_be_bytes());
        all.extend_from_slice(&segment);
        prop_assert_eq!(c.finish(), reference(&all));
    }

    #[test]
    fn update_u16_matches_recomputation(
        mut data in bytes(200),
        at in any::<prop::sample::Index>(),
        new in any::<u16>(),
    ) {
        prop_assume!(data.len() >= 2);
        let at = at.index(data.len() / 2) * 2;
        let old_sum = checksum(&data);
        let old = u16::from_be_bytes([data[at], data[at + 1]]);
        data[at..at + 2].copy_from_slice(&new.to_be_bytes());
        let updated = update_u16(old_sum, old, new);
        let recomputed = checksum(&data);
        if data.iter().all(|&b| b == 0) {
            prop_assert!(ones_eq(updated, recomputed));
        } else {
            prop_assert_eq!(updated, recomputed);
        }
    }

    #[test]
    fn update_u32_matches_recomputation(
        mut data in bytes(200),
        at in any::<prop::sample::Index>(),
        new in any::<u32>(),
    ) {
        prop_assume!(data.len() >= 4);
        let at = at.index((data.len() - 2) / 2) * 2;
        let old_sum = checksum(&data);
        let old = u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        data[at..at + 4].copy_from_slice(&new.to_be_bytes());
        let updated = update_u32(old_sum, old, new);
        let recomputed = checksum(&data);
        if data.iter().all(|&b| b == 0) {
            prop_assert!(ones_eq(updated, recomputed));
        } else {
            prop_assert_eq!(updated, recomputed);
        }
    }

    #[test]
    fn repeated_updates_stay_exact(
        mut data in bytes(64),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u16>()), 1..20),
    ) {
        prop_assume!(data.len() >= 2 && data.iter().any(|&b| b != 0));
        let mut sum = checksum(&data);
        for (at, new) in edits {
            let at = at.index(data.len() / 2) * 2;
            let old = u16::from_be_bytes([data[at], data[at + 1]]);
            data[at..at + 2].copy_from_slice(&new.to_be_bytes());
            sum = update_u16(sum, old, new);
        }
        prop_assert!(ones_eq(sum, checksum(&data)));
    }
}

/// Inputs longer than a run of the vector kernels (256 KiB for AVX2, 256 KiB of 16-byte
/// blocks for SSE2), all ones (the longest carry chains) and pseudo-random, at odd starts.
#[test]
fn long_inputs_match_the_reference() {
    let ones = vec![0xffu8; 700_001];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..700_003)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    for data in [&ones, &random] {
        for start in [0, 1, 3] {
            assert!(ones_eq(checksum(&data[start..]), reference(&data[start..])));
        }
    }
}
