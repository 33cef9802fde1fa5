//! Profiles (issue 6): the named sets of timing defaults — the RFCs', Linux's and FreeBSD's —
//! are options every layer of the full TCP knows, and they change what they say: the initial
//! window, the delayed ACK's delay and the RTO's lower bound — and the SYN's option layout and
//! window shift, byte for byte as those systems send them.

mod common;

use common::*;
use protocols::tcp::{Config, Connection, Profile, SynLayout, TcpOption};

/// An established passive connection with `profile`'s options (and Nagle off, no scaling or
/// timestamps, so that segments are plain).
fn established_with_profile(profile: Profile) -> Connection {
    let mut c = Connection::new(Config {
        initial_seq: ISS,
        receive_capacity: RCV_BUF,
        ..Config::default()
    });
    for o in profile.options() {
        assert!(c.set_option(*o), "{profile:?}: {o:?}");
    }
    assert!(c.set_option(TcpOption::NoDelay(true)));
    assert!(c.set_option(TcpOption::Timestamps(false)));
    c.listen(LOCAL);
    arrive(&mut c, peer_syn());
    sent(&mut c);
    arrive(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 1));
    sent(&mut c);
    c
}

/// The initial congestion window: RFC 3390's min(4·MSS, max(2·MSS, 4380)) = 4000 for an MSS
/// of 1000, against 10 segments for Linux and FreeBSD (RFC 6928).
#[test]
fn the_initial_window_follows_the_profile() {
    for (profile, cwnd) in [
        (Profile::Rfc, 4000),
        (Profile::Linux, 10_000),
        (Profile::Bsd, 10_000),
    ] {
        let mut c = established_with_profile(profile);
        assert_eq!(c.info().cwnd, cwnd, "{profile:?}");
    }
}

/// One segment of data is acknowledged after the profile's delay: 200, 40 or 100 ms.
#[test]
fn the_delayed_ack_follows_the_profile() {
    for (profile, delay) in [
        (Profile::Rfc, 200),
        (Profile::Linux, 40),
        (Profile::Bsd, 100),
    ] {
        let mut c = established_with_profile(profile);
        arrive_at(
            &mut c,
            seg(ACK).seq(IRS + 1).ack(ISS + 1).payload(b"x"),
            1000,
        );
        silent(&mut c);
        assert_eq!(c.poll_at(), Some(1000 + delay), "{profile:?}");
    }
}

/// After short round trips (0 ms for the handshake, 10 ms for the data) the measured RTO is a
/// few milliseconds, so the profile's lower bound decides it: 1 s, 200 ms, 30 ms.
#[test]
fn the_rto_lower_bound_follows_the_profile() {
    for (profile, rto) in [
        (Profile::Rfc, 1000),
        (Profile::Linux, 200),
        (Profile::Bsd, 30),
    ] {
        let mut c = established_with_profile(profile);
        c.send(b"x", 1000);
        sent(&mut c);
        arrive_at(&mut c, seg(ACK).seq(IRS + 1).ack(ISS + 2), 1010);
        assert_eq!(c.info().rto_ms, rto, "{profile:?}");
    }
}

/// Our SYN under `options` (at time 5, with a 1 MiB receive buffer unless `small`).
fn our_syn(options: &[TcpOption], small: bool) -> Out {
    let mut c = Connection::new(Config {
        initial_seq: ISS,
        receive_capacity: if small { RCV_BUF } else { 1 << 20 },
        ..Config::default()
    });
    for o in options {
        assert!(c.set_option(*o), "{o:?}");
    }
    c.connect(LOCAL, REMOTE, 5);
    only(&mut c)
}

/// Linux's SYN (tcp_options_write): `mss, sackOK, TS, nop, wscale` — 20 bytes, the shape
/// packetdrill scripts written on Linux expect (`<mss 1460,sackOK,TS val … ecr 0,nop,wscale 7>`).
#[test]
fn the_linux_profile_lays_out_the_syn_as_linux_does() {
    let syn = our_syn(Profile::Linux.options(), false);
    assert_eq!(syn.option_kinds(), [2, 4, 8, 1, 3]);
    assert_eq!(syn.header_len, 40);
    assert_eq!(syn.option(3), Some(&[7][..]), "wscale 7");
    assert_eq!(syn.option(8).map(<[u8]>::len), Some(8));
    assert_eq!(syn.window, 65_535, "a SYN's window is not scaled");
}

/// Linux without timestamps: `mss, nop, nop, sackOK, nop, wscale`.
#[test]
fn linux_without_timestamps_puts_sack_before_wscale() {
    let mut o = Profile::Linux.options().to_vec();
    o.push(TcpOption::Timestamps(false));
    assert_eq!(our_syn(&o, false).option_kinds(), [2, 1, 1, 4, 1, 3]);
    o.push(TcpOption::Sack(false));
    assert_eq!(our_syn(&o, false).option_kinds(), [2, 1, 3]);
}

/// FreeBSD's SYN (tcp_addoptions): `mss, nop, wscale, sackOK, TS` — 20 bytes, window scale 6
/// (FreeBSD offers it whatever the socket buffer: 6 covers its `sb_max`).
#[test]
fn the_bsd_profile_lays_out_the_syn_as_freebsd_does() {
    let syn = our_syn(Profile::Bsd.options(), true);
    assert_eq!(syn.option_kinds(), [2, 1, 3, 4, 8]);
    assert_eq!(syn.header_len, 40);
    assert_eq!(syn.option(3), Some(&[6][..]), "wscale 6");
    assert_eq!(
        syn.option(8).map(|v| &v[4..]),
        Some(&[0, 0, 0, 0][..]),
        "TSecr 0"
    );
}

/// FreeBSD's alignment rules: NOPs put the timestamps two bytes past a word, EOLs end the
/// list on a word.
#[test]
fn bsd_alignment_without_some_options() {
    let mut o = Profile::Bsd.options().to_vec();
    o.push(TcpOption::Sack(false));
    let syn = our_syn(&o, true);
    assert_eq!(syn.option_kinds(), [2, 1, 3, 1, 1, 8], "{:?}", syn.options);
    o.push(TcpOption::WindowScale(false));
    let syn = our_syn(&o, true);
    assert_eq!(syn.option_kinds(), [2, 1, 1, 8]);
    let mut o = Profile::Bsd.options().to_vec();
    o.push(TcpOption::Timestamps(false));
    o.push(TcpOption::WindowScale(false));
    let syn = our_syn(&o, true);
    assert_eq!(
        syn.options,
        [2, 4, 0x05, 0xb4, 4, 2, 0, 0],
        "sackOK, then EOLs"
    );
}

/// The SYN,ACK answers in the profile's layout too, with only what the peer offered.
#[test]
fn the_syn_ack_follows_the_layout() {
    let mut c = Connection::new(Config {
        initial_seq: ISS,
        receive_capacity: 1 << 20,
        ..Config::default()
    });
    for o in Profile::Bsd.options() {
        assert!(c.set_option(*o));
    }
    c.listen(LOCAL);
    let mut ts = vec![8, 10];
    ts.extend_from_slice(&77u32.to_be_bytes());
    ts.extend_from_slice(&[0; 4]);
    // Linux's order from the peer.
    arrive(
        &mut c,
        peer_syn()
            .options(&[4, 2])
            .options(&ts)
            .options(&[1, 3, 3, 7]),
    );
    let syn_ack = only(&mut c);
    assert_eq!(syn_ack.option_kinds(), [2, 1, 3, 4, 8]);
    assert_eq!(
        syn_ack.option(8).map(|v| &v[4..]),
        Some(&77u32.to_be_bytes()[..]),
        "TSecr echoes the peer's TSval"
    );
}

/// The layout option takes only the layouts there are.
#[test]
fn the_layout_is_an_option_like_the_others() {
    let mut c = Connection::new(config());
    assert!(c.set_option(TcpOption::SynLayout(SynLayout::Bsd)));
    assert!(c.set_option(TcpOption::SynLayout(SynLayout::Linux)));
    assert!(c.set_option(TcpOption::WindowShift(14)));
}
