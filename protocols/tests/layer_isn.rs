//! Layer Isn (`tcp/isn.pc`; RFC 6528, RFC 9293 §3.4.1 MUST-8, SHLD-1, MUST-9): an initial
//! sequence number is the host's keyed hash of the four-tuple plus a clock ticking every 4 µs.
//! A lone [`Connection`] takes its configured `initial_seq` as the host's part; the [`Stack`]
//! computes it from the four-tuple and its secret.

mod common;

use core::net::{Ipv4Addr, SocketAddrV4};

use common::*;
use protocols::tcp::{BaseOnly, Connection, Stack, StackConfig};

/// MUST-8: the clock part advances by 250 a millisecond (one every 4 µs): an active open at
/// 8 ms starts 2000 above the host's number.
#[test]
fn the_iss_follows_a_4_microsecond_clock() {
    let mut c = plain(config());
    c.connect(LOCAL, REMOTE, 0);
    assert_eq!(only(&mut c).seq, ISS);
    let mut c = plain(config());
    c.connect(LOCAL, REMOTE, 8);
    assert_eq!(only(&mut c).seq, ISS + 2000);
}

/// A passive open takes the clock at the SYN's arrival.
#[test]
fn a_passive_open_takes_the_clock_when_the_syn_arrives() {
    let mut c = plain(config());
    c.listen(LOCAL);
    arrive_at(&mut c, peer_syn(), 2);
    let syn_ack = only(&mut c);
    assert_eq!(syn_ack.seq, ISS + 500);
    assert_eq!(syn_ack.ack, IRS + 1);
}

/// Without the layer the host's number is used as it is.
#[test]
fn without_the_layer_the_hosts_number_is_the_iss() {
    let mut c = Connection::<BaseOnly>::with_variant(config());
    c.connect(LOCAL, REMOTE, 8);
    assert_eq!(sent_by(&mut c)[0].seq, ISS);
}

/// The sequence number of the SYN `stack` sends from `local_port` to 192.0.2.2:80 at `now`.
fn syn_seq(stack: &mut Stack, local_port: u16, now: u64) -> u32 {
    let server = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 2), 80);
    let key = stack.connect(local_port, server, now).expect("free");
    let (k, s) = stack.poll_transmit().expect("a SYN");
    assert_eq!(k, key);
    let seq = u32::from_be_bytes([s[4], s[5], s[6], s[7]]);
    stack.abort(&key).expect("the connection");
    stack.remove(&key);
    seq
}

/// RFC 6528 through the stack: for one four-tuple the ISN grows with the clock only (F is a
/// function of the four-tuple and the key, MUST-9); another key gives another ISN (SHLD-1).
#[test]
fn the_stack_hashes_the_four_tuple_with_its_secret() {
    let config = |secret: u64| {
        let mut c = StackConfig::new(Ipv4Addr::new(192, 0, 2, 1));
        c.isn_secret = secret;
        c
    };
    let mut a = Stack::new(config(1));
    let first = syn_seq(&mut a, 40_000, 0);
    let later = syn_seq(&mut a, 40_000, 40);
    assert_eq!(later.wrapping_sub(first), 40 * 250);
    assert_ne!(syn_seq(&mut a, 40_001, 0), first, "another four-tuple");
    let mut b = Stack::new(config(2));
    assert_ne!(syn_seq(&mut b, 40_000, 0), first, "another key");
}
