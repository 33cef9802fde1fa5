//! Segments between the script's numbers and the wire's: inbound lines become TCP bytes
//! (sequence numbers moved by the remote ISN the runner picked, acknowledgments and SACK
//! blocks by the TCP's ISN, echoed timestamps by the TCP's timestamp offset), outbound bytes
//! are parsed back into the script's terms for comparison and messages.

use super::ast::{SeqSpec, TcpOption, TcpOptions, TcpSegment};

/// What the runner has learned of the two sequence spaces.
#[derive(Clone, Copy, Debug, Default)]
pub struct Translation {
    /// The remote side's ISN: script sequence numbers of inbound segments are relative to it.
    pub remote_isn: u32,
    /// The TCP's ISN, once its SYN (or SYN,ACK) has been seen; 0 before.
    pub local_isn: u32,
    /// TSval the TCP sends less the script's, once seen.
    pub ts_offset: Option<u32>,
}

/// A parsed outbound segment, in wire terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wire {
    /// Flag bits.
    pub flags: u8,
    /// SEQ.
    pub seq: u32,
    /// ACK.
    pub ack: u32,
    /// The window field.
    pub win: u16,
    /// The urgent pointer.
    pub urg: u16,
    /// The options, as a script writes them (wire numbers).
    pub options: Vec<TcpOption>,
    /// The payload length.
    pub len: u32,
}

const FLAG_LETTERS: [(char, u8); 8] = [
    ('F', 0x01),
    ('S', 0x02),
    ('R', 0x04),
    ('P', 0x08),
    ('.', 0x10),
    ('U', 0x20),
    ('E', 0x40),
    ('W', 0x80),
];

/// The flag bits a script's flags name (`.` and `A` are ACK).
#[must_use]
pub fn flag_bits(flags: &str) -> u8 {
    flags.chars().fold(0, |bits, c| {
        let c = if c == 'A' { '.' } else { c };
        bits | FLAG_LETTERS
            .iter()
            .find(|(l, _)| *l == c)
            .map_or(0, |(_, b)| *b)
    })
}

/// The flags as a script writes them (`S.`, `P.`, `.`).
#[must_use]
pub fn flag_letters(bits: u8) -> String {
    let mut s: String = FLAG_LETTERS
        .iter()
        .filter(|(l, b)| *l != '.' && bits & b != 0)
        .map(|(l, _)| *l)
        .collect();
    if bits & 0x10 != 0 {
        s.push('.');
    }
    s
}

/// The TCP bytes of inbound line `t` from `remote_port` to `local_port`, or why not.
///
/// # Errors
///
/// An inbound line without sequence numbers, or with an option the runner cannot build.
pub fn build_inbound(
    t: &TcpSegment,
    tr: &Translation,
    remote_port: u16,
    local_port: u16,
) -> Result<Vec<u8>, String> {
    let seq = t
        .seq
        .filter(|s| !s.any)
        .ok_or("an inbound segment needs its sequence numbers")?;
    let mut options = Vec::new();
    if let Some(TcpOptions::List(list)) = &t.options {
        for o in list {
            match o {
                TcpOption::Nop => options.push(1),
                TcpOption::Eol => options.push(0),
                TcpOption::Mss(v) => {
                    options.extend([2, 4]);
                    options.extend(v.to_be_bytes());
                }
                TcpOption::WindowScale(v) => options.extend([3, 3, *v]),
                TcpOption::SackPermitted => options.extend([4, 2]),
                TcpOption::Sack(blocks) => {
                    options.extend([
                        5,
                        u8::try_from(2 + 8 * blocks.len()).map_err(|_| "too many SACK blocks")?,
                    ]);
                    for (l, r) in blocks {
                        options.extend(tr.local_isn.wrapping_add(*l).to_be_bytes());
                        options.extend(tr.local_isn.wrapping_add(*r).to_be_bytes());
                    }
                }
                TcpOption::Timestamps { val, ecr } => {
                    options.extend([8, 10]);
                    options.extend(val.to_be_bytes());
                    let ecr = ecr.wrapping_add(tr.ts_offset.unwrap_or(0));
                    options.extend(ecr.to_be_bytes());
                }
                TcpOption::FastOpen(_) | TcpOption::Other(_) => {
                    return Err(format!("the option {o:?} is not built by the runner"));
                }
            }
        }
    } else if t.options == Some(TcpOptions::Any) {
        return Err("`<...>` on an inbound segment".into());
    }
    while options.len() % 4 != 0 {
        options.push(0);
    }
    if options.len() > 40 {
        return Err("more than 40 bytes of options".into());
    }
    let hlen = 20 + options.len();
    let mut b = Vec::with_capacity(hlen + seq.len as usize);
    b.extend(remote_port.to_be_bytes());
    b.extend(local_port.to_be_bytes());
    b.extend(tr.remote_isn.wrapping_add(seq.start).to_be_bytes());
    let ack = t.ack.map_or(0, |a| tr.local_isn.wrapping_add(a));
    b.extend(ack.to_be_bytes());
    b.push(u8::try_from((hlen / 4) << 4).unwrap_or(0xf0));
    b.push(flag_bits(&t.flags));
    b.extend(
        u16::try_from(t.win.unwrap_or(65535))
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    b.extend([0, 0]);
    b.extend(
        u16::try_from(t.urg.unwrap_or(0))
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    b.extend(options);
    b.resize(b.len() + seq.len as usize, b'a');
    Ok(b)
}

/// Parses the TCP bytes the TCP sent.
#[must_use]
pub fn parse_outbound(b: &[u8]) -> Option<Wire> {
    if b.len() < 20 {
        return None;
    }
    let be16 = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
    let be32 = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let hlen = usize::from(b[12] >> 4) * 4;
    if hlen < 20 || hlen > b.len() {
        return None;
    }
    let o = &b[20..hlen];
    let mut options = Vec::new();
    let mut at = 0;
    while at < o.len() {
        match o[at] {
            0 => {
                options.push(TcpOption::Eol);
                at += 1;
            }
            1 => {
                options.push(TcpOption::Nop);
                at += 1;
            }
            kind => {
                let len = usize::from(*o.get(at + 1)?);
                if len < 2 || at + len > o.len() {
                    return None;
                }
                let v = &o[at + 2..at + len];
                let w = |i: usize| u32::from_be_bytes([v[i], v[i + 1], v[i + 2], v[i + 3]]);
                options.push(match (kind, len) {
                    (2, 4) => TcpOption::Mss(u16::from_be_bytes([v[0], v[1]])),
                    (3, 3) => TcpOption::WindowScale(v[0]),
                    (4, 2) => TcpOption::SackPermitted,
                    (5, _) => TcpOption::Sack(
                        (0..v.len() / 8).map(|i| (w(8 * i), w(8 * i + 4))).collect(),
                    ),
                    (8, 10) => TcpOption::Timestamps {
                        val: w(0),
                        ecr: w(4),
                    },
                    _ => TcpOption::Other(format!("kind {kind} length {len}")),
                });
                at += len;
            }
        }
    }
    Some(Wire {
        flags: b[13],
        seq: be32(4),
        ack: be32(8),
        win: be16(14),
        urg: be16(18),
        options,
        len: u32::try_from(b.len() - hlen).ok()?,
    })
}

/// `w` in the script's terms (relative numbers) as a packet line would write it.
#[must_use]
pub fn describe(w: &Wire, tr: &Translation) -> String {
    let seq = w.seq.wrapping_sub(tr.local_isn);
    let mut s = format!(
        "{} {seq}:{}({})",
        flag_letters(w.flags),
        seq.wrapping_add(w.len),
        w.len
    );
    if w.flags & 0x10 != 0 {
        s.push_str(&format!(" ack {}", w.ack.wrapping_sub(tr.remote_isn)));
    }
    s.push_str(&format!(" win {}", w.win));
    if w.flags & 0x20 != 0 {
        s.push_str(&format!(" urg {}", w.urg));
    }
    if !w.options.is_empty() {
        let list: Vec<String> = w
            .options
            .iter()
            .map(|o| match o {
                TcpOption::Nop => "nop".into(),
                TcpOption::Eol => "eol".into(),
                TcpOption::Mss(v) => format!("mss {v}"),
                TcpOption::WindowScale(v) => format!("wscale {v}"),
                TcpOption::SackPermitted => "sackOK".into(),
                TcpOption::Sack(blocks) => {
                    let b: Vec<String> = blocks
                        .iter()
                        .map(|(l, r)| {
                            format!(
                                "{}:{}",
                                l.wrapping_sub(tr.remote_isn),
                                r.wrapping_sub(tr.remote_isn)
                            )
                        })
                        .collect();
                    format!("sack {}", b.join(" "))
                }
                TcpOption::Timestamps { val, ecr } => format!(
                    "TS val {} ecr {ecr}",
                    val.wrapping_sub(tr.ts_offset.unwrap_or(0))
                ),
                TcpOption::FastOpen(_) => "FO".into(),
                TcpOption::Other(s) => s.clone(),
            })
            .collect();
        s.push_str(&format!(" <{}>", list.join(",")));
    }
    s
}

/// Why outbound `w` does not match line `t` (`None` if it does), learning the TCP's ISN from
/// a SYN and its timestamp offset from the first TSval. `ts_slack` is how far (in timestamp
/// ticks, ms) a TSval may be from the script's.
pub fn match_outbound(
    t: &TcpSegment,
    w: &Wire,
    tr: &mut Translation,
    ts_slack: u32,
) -> Option<String> {
    if flag_bits(&t.flags) != w.flags {
        return Some(format!(
            "flags {} instead of {}",
            flag_letters(w.flags),
            t.flags
        ));
    }
    if let Some(SeqSpec {
        any, start, len, ..
    }) = t.seq
    {
        if w.flags & 0x02 != 0 && !any {
            tr.local_isn = w.seq.wrapping_sub(start);
        }
        if !any && w.seq.wrapping_sub(tr.local_isn) != start {
            return Some(format!(
                "sequence number {} instead of {start}",
                w.seq.wrapping_sub(tr.local_isn)
            ));
        }
        if w.len != len {
            return Some(format!("{} bytes of data instead of {len}", w.len));
        }
    }
    if let Some(ack) = t.ack
        && w.ack.wrapping_sub(tr.remote_isn) != ack
    {
        return Some(format!(
            "ack {} instead of {ack}",
            w.ack.wrapping_sub(tr.remote_isn)
        ));
    }
    if let Some(win) = t.win
        && u32::from(w.win) != win
    {
        return Some(format!("window {} instead of {win}", w.win));
    }
    if let Some(urg) = t.urg
        && u32::from(w.urg) != urg
    {
        return Some(format!("urgent pointer {} instead of {urg}", w.urg));
    }
    match &t.options {
        Some(TcpOptions::Any) => None,
        None if w.options.is_empty() => None,
        None => Some("options where the script has none".into()),
        Some(TcpOptions::List(want)) => {
            if want.len() != w.options.len() {
                return Some("other options".into());
            }
            for (want, got) in want.iter().zip(&w.options) {
                let same = match (want, got) {
                    (
                        TcpOption::Timestamps { val, ecr },
                        TcpOption::Timestamps {
                            val: gval,
                            ecr: gecr,
                        },
                    ) => {
                        let offset = *tr.ts_offset.get_or_insert(gval.wrapping_sub(*val));
                        let drift = gval.wrapping_sub(offset).wrapping_sub(*val) as i32;
                        drift.unsigned_abs() <= ts_slack && gecr == ecr
                    }
                    (TcpOption::Sack(a), TcpOption::Sack(b)) => {
                        a.len() == b.len()
                            && a.iter().zip(b).all(|((l, r), (gl, gr))| {
                                gl.wrapping_sub(tr.remote_isn) == *l
                                    && gr.wrapping_sub(tr.remote_isn) == *r
                            })
                    }
                    (a, b) => a == b,
                };
                if !same {
                    return Some("other options".into());
                }
            }
            None
        }
    }
}
