//! Helpers shared by the integration tests: addresses from 192.0.2.0/24, stack
//! construction, a driver that runs two stacks over a wire until nothing is left to do,
//! and a TCP segment builder; `interop` has the TCP interop tests' helpers.

#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod interop;

use core::net::Ipv4Addr;

use exokernel_target::netstack::{NetConfig, NetStack, TcpHandler, fill_tcp_checksum};
use exokernel_target::wire::{EndId, Wire};
use smoltcp::wire::EthernetAddress;

/// Host `n`'s Ethernet address (locally administered).
pub fn mac(n: u8) -> EthernetAddress {
    EthernetAddress([0x02, 0, 0, 0, 0, n])
}

/// Host `n`'s address in the documentation range 192.0.2.0/24.
pub fn ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, n)
}

/// A stack for host `n` with default settings.
pub fn stack<H: TcpHandler>(n: u8) -> NetStack<H> {
    NetStack::new(NetConfig::new(mac(n), ip(n))).expect("valid config")
}

/// Runs stacks `a` (on end A) and `b` (on end B) from `now` until nothing is in flight and
/// no timer is due by `deadline`; returns the time reached.
pub fn settle<H: TcpHandler>(
    wire: &mut Wire,
    a: &mut NetStack<H>,
    b: &mut NetStack<H>,
    now: u64,
    deadline: u64,
) -> u64 {
    let mut now = now;
    for _ in 0..1_000_000 {
        a.drive(&mut wire.port(EndId::A).expect("end A"), now);
        b.drive(&mut wire.port(EndId::B).expect("end B"), now);
        let next = [wire.next_event_at(), a.poll_at(), b.poll_at()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) if t <= deadline => now = now.max(t),
            _ => return now,
        }
    }
    panic!("the simulation did not settle");
}

/// A TCP segment with a 20-byte header, `flags` (e.g. 0x02 = SYN, 0x10 = ACK), `payload`,
/// and a correct checksum for `src` → `dst`.
pub fn tcp_segment(
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    seq: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut s = vec![0; 20];
    s[0..2].copy_from_slice(&src.1.to_be_bytes());
    s[2..4].copy_from_slice(&dst.1.to_be_bytes());
    s[4..8].copy_from_slice(&seq.to_be_bytes());
    s[12] = 5 << 4;
    s[13] = flags;
    s[14..16].copy_from_slice(&8192u16.to_be_bytes());
    s.extend_from_slice(payload);
    fill_tcp_checksum(src.0, dst.0, &mut s).expect("segment fits");
    s
}

/// An Ethernet frame from `from` to `to` carrying an IPv4 packet (correct header checksum)
/// with protocol `proto` and `payload`.
pub fn ipv4_frame(
    from: (EthernetAddress, Ipv4Addr),
    to: (EthernetAddress, Ipv4Addr),
    proto: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::with_capacity(34 + payload.len());
    f.extend_from_slice(&to.0.0);
    f.extend_from_slice(&from.0.0);
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    let total = u16::try_from(20 + payload.len()).expect("fits");
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[6] = 0x40; // don't fragment
    h[8] = 64;
    h[9] = proto;
    h[12..16].copy_from_slice(&from.1.octets());
    h[16..20].copy_from_slice(&to.1.octets());
    let sum = prolac_runtime::checksum::checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&h);
    f.extend_from_slice(payload);
    f
}

/// Recomputes the IPv4 header checksum of an Ethernet frame built by [`ipv4_frame`] after a
/// test edited the header.
pub fn refill_ipv4_checksum(frame: &mut [u8]) {
    let ihl = usize::from(frame[14] & 0x0f) * 4;
    frame[24..26].fill(0);
    let sum = prolac_runtime::checksum::checksum(&frame[14..14 + ihl]);
    frame[24..26].copy_from_slice(&sum.to_be_bytes());
}
