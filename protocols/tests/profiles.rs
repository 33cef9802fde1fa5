//! Profiles (issue 6): the named sets of timing defaults — the RFCs', Linux's and FreeBSD's —
//! are options every layer of the full TCP knows, and they change what they say: the initial
//! window, the delayed ACK's delay and the RTO's lower bound.

mod common;

use common::*;
use protocols::tcp::{Config, Connection, Profile};

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
    assert!(c.set_option(protocols::tcp::TcpOption::NoDelay(true)));
    assert!(c.set_option(protocols::tcp::TcpOption::Timestamps(false)));
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
