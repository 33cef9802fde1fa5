//! Layer Icmp (RFC 9293 §3.9.1.3, RFC 1122 §4.2.3.9, RFC 5927 §4.1): ICMP errors reach the
//! TCP (MUST-54); one whose quoted sequence number is not in flight is ignored; Source Quench
//! is discarded (MUST-55); Protocol and Port Unreachable end the connection (SHLD-26); every
//! other error is soft — never an abort (MUST-56), reported to the user (SHLD-25, MUST-47);
//! the policy option narrows or widens the hard errors as Linux and FreeBSD do.

mod common;

use common::*;
use protocols::tcp::{
    BaseOnly, Config, Connection, Event, IcmpError, IcmpPolicy, State, TcpOption,
};

/// Every error that is soft under RFC 9293's rules.
const SOFT: [IcmpError; 9] = [
    IcmpError::NetUnreachable,
    IcmpError::HostUnreachable,
    IcmpError::FragmentationNeeded,
    IcmpError::SourceRouteFailed,
    IcmpError::Prohibited,
    IcmpError::OtherUnreachable,
    IcmpError::TimeExceeded,
    IcmpError::ReassemblyTimeExceeded,
    IcmpError::ParameterProblem,
];

/// MUST-54, SHLD-26: a Port Unreachable quoting our SYN (SEQ=ISS) ends the connection in
/// SYN-SENT, and the user hears why; nothing is sent (the peer is unreachable, and the TCB is
/// gone, so no retransmission follows).
#[test]
fn port_unreachable_ends_a_connection_in_syn_sent() {
    for hard in [IcmpError::PortUnreachable, IcmpError::ProtocolUnreachable] {
        let mut c = syn_sent();
        c.icmp(hard, ISS, 100);
        assert_eq!(c.state(), State::Closed);
        assert_eq!(c.events(), [Event::Unreachable(hard), Event::Closed]);
        silent(&mut c);
        c.poll(10 * RTO);
        silent(&mut c);
    }
}

/// RFC 5927 §4.1: an error whose quoted sequence number is not in flight (below SND.UNA or
/// at or past the highest sent) is forged or stale: ignored, and the SYN is retransmitted as
/// usual.
#[test]
fn an_error_quoting_a_sequence_number_not_in_flight_is_ignored() {
    let mut c = syn_sent();
    for seq in [ISS.wrapping_sub(1), ISS + 1, ISS + 100_000] {
        c.icmp(IcmpError::PortUnreachable, seq, 100);
        assert_eq!(c.state(), State::SynSent, "seq {seq}");
        assert_eq!(c.events(), []);
        assert_eq!(c.info().soft_error, None);
    }
    c.poll(RTO);
    let again = only(&mut c);
    assert!(again.has(SYN) && again.seq == ISS);
}

/// MUST-56, SHLD-25, MUST-47: every other Destination Unreachable code, Time Exceeded and
/// Parameter Problem leave the connection as it was, in SYN-SENT and in ESTABLISHED, and are
/// reported to the user as soft errors (an event, and the last one in `info`).
#[test]
fn soft_errors_do_not_abort_and_are_reported() {
    for error in SOFT {
        let mut c = syn_sent();
        c.icmp(error, ISS, 100);
        assert_eq!(c.state(), State::SynSent, "{error:?}");
        assert_eq!(c.events(), [Event::SoftError(error)]);
        assert_eq!(c.info().soft_error, Some(error));
        silent(&mut c);

        let mut c = established();
        c.send(b"hello", 0);
        sent(&mut c);
        c.icmp(error, ISS + 1, 100);
        assert_eq!(c.state(), State::Established, "{error:?}");
        assert_eq!(c.events(), [Event::SoftError(error)]);
        // The connection goes on: the data is acknowledged and more can be sent.
        arrive(&mut c, peer_ack(IRS + 1, ISS + 6));
        assert_eq!(c.send(b"more", 200), 4);
        assert_eq!(only(&mut c).payload, b"more");
    }
}

/// MUST-55: Source Quench is discarded silently: no event, no change to the congestion
/// window (RFC 6633), nothing sent.
#[test]
fn source_quench_is_discarded_silently() {
    let mut c = established();
    c.send(&data(3000), 0);
    sent(&mut c);
    let before = c.info();
    c.icmp(IcmpError::SourceQuench, ISS + 1, 100);
    assert_eq!(c.events(), []);
    silent(&mut c);
    let after = c.info();
    assert_eq!((after.cwnd, after.ssthresh), (before.cwnd, before.ssthresh));
    assert_eq!(after.soft_error, None);
}

/// SHLD-26 in a synchronized state: with data in flight, a Port Unreachable quoting it ends
/// the connection under RFC 9293's policy; under Linux's and FreeBSD's (RFC 5461 §4) it is a
/// soft error once the connection is synchronized.
#[test]
fn hard_errors_when_synchronized_follow_the_policy() {
    for (policy, ends) in [
        (IcmpPolicy::Rfc, true),
        (IcmpPolicy::Linux, false),
        (IcmpPolicy::FreeBsd, false),
        (IcmpPolicy::None, false),
    ] {
        let mut c = established();
        assert!(c.set_option(TcpOption::IcmpPolicy(policy)));
        c.send(&data(2000), 0);
        sent(&mut c);
        c.icmp(IcmpError::PortUnreachable, ISS + 1001, 100);
        let e = IcmpError::PortUnreachable;
        if ends {
            assert_eq!(c.state(), State::Closed, "{policy:?}");
            assert_eq!(c.events(), [Event::Unreachable(e), Event::Closed]);
        } else {
            assert_eq!(c.state(), State::Established, "{policy:?}");
            assert_eq!(c.events(), [Event::SoftError(e)]);
        }
        silent(&mut c);
    }
}

/// With nothing in flight, no segment of ours can have drawn the error: ignored even when hard.
#[test]
fn an_idle_connection_ignores_errors() {
    let mut c = established();
    c.icmp(IcmpError::PortUnreachable, ISS + 1, 100);
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.events(), []);
}

/// The policies before synchronization: Linux's and FreeBSD's also take administrative
/// prohibition as hard, FreeBSD's Time Exceeded too (its `icmp_may_rst=1`); `None` makes every
/// error soft (`icmp_may_rst=0`). RFC 9293's takes neither as hard.
#[test]
fn hard_errors_before_synchronization_follow_the_policy() {
    let cases = [
        (IcmpPolicy::Rfc, IcmpError::Prohibited, false),
        (IcmpPolicy::Rfc, IcmpError::TimeExceeded, false),
        (IcmpPolicy::Linux, IcmpError::Prohibited, true),
        (IcmpPolicy::Linux, IcmpError::TimeExceeded, false),
        (IcmpPolicy::FreeBsd, IcmpError::Prohibited, true),
        (IcmpPolicy::FreeBsd, IcmpError::TimeExceeded, true),
        (
            IcmpPolicy::FreeBsd,
            IcmpError::ReassemblyTimeExceeded,
            false,
        ),
        (IcmpPolicy::FreeBsd, IcmpError::HostUnreachable, false),
        (IcmpPolicy::None, IcmpError::PortUnreachable, false),
    ];
    for (policy, error, ends) in cases {
        let mut c = syn_sent();
        assert!(c.set_option(TcpOption::IcmpPolicy(policy)));
        c.icmp(error, ISS, 100);
        let expected = if ends {
            vec![Event::Unreachable(error), Event::Closed]
        } else {
            vec![Event::SoftError(error)]
        };
        assert_eq!(c.events(), expected, "{policy:?} {error:?}");
        let state = if ends { State::Closed } else { State::SynSent };
        assert_eq!(c.state(), state, "{policy:?} {error:?}");
    }
}

/// A passive connection's SYN,ACK is in flight in SYN-RECEIVED: a hard error quoting it ends
/// the connection (the listener is the host's, untouched); a listening TCB ignores ICMP.
#[test]
fn syn_received_and_listen() {
    let mut c = syn_received();
    c.icmp(IcmpError::PortUnreachable, ISS, 100);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(
        c.events(),
        [
            Event::Unreachable(IcmpError::PortUnreachable),
            Event::Closed
        ]
    );
    let mut l = listen();
    l.icmp(IcmpError::PortUnreachable, 0, 100);
    assert_eq!(l.state(), State::Listen);
    assert_eq!(l.events(), []);
}

/// ICMPv4 types and codes map to errors as RFC 1122 §4.2.3.9 sorts them.
#[test]
fn icmpv4_types_and_codes() {
    assert_eq!(
        IcmpError::from_icmpv4(3, 3),
        Some(IcmpError::PortUnreachable)
    );
    assert_eq!(
        IcmpError::from_icmpv4(3, 2),
        Some(IcmpError::ProtocolUnreachable)
    );
    assert_eq!(
        IcmpError::from_icmpv4(3, 4),
        Some(IcmpError::FragmentationNeeded)
    );
    for code in [9, 10, 13] {
        assert_eq!(IcmpError::from_icmpv4(3, code), Some(IcmpError::Prohibited));
    }
    assert_eq!(
        IcmpError::from_icmpv4(3, 7),
        Some(IcmpError::OtherUnreachable)
    );
    assert_eq!(IcmpError::from_icmpv4(4, 0), Some(IcmpError::SourceQuench));
    assert_eq!(IcmpError::from_icmpv4(11, 0), Some(IcmpError::TimeExceeded));
    assert_eq!(
        IcmpError::from_icmpv4(11, 1),
        Some(IcmpError::ReassemblyTimeExceeded)
    );
    assert_eq!(
        IcmpError::from_icmpv4(12, 0),
        Some(IcmpError::ParameterProblem)
    );
    assert_eq!(
        IcmpError::from_icmpv4(0, 0),
        None,
        "an echo reply is no error"
    );
    assert_eq!(IcmpError::from_icmpv4(8, 0), None, "nor is an echo request");
}

/// Without the layer (`BaseOnly`) ICMP errors are ignored, and the option is unknown.
#[test]
fn without_the_layer_errors_are_ignored() {
    let mut c = Connection::<BaseOnly>::with_variant(Config {
        initial_seq: ISS,
        ..Config::default()
    });
    assert!(!c.set_option(TcpOption::IcmpPolicy(IcmpPolicy::Rfc)));
    c.connect(LOCAL, REMOTE, 0);
    while c.poll_transmit().is_some() {}
    c.events();
    c.icmp(IcmpError::PortUnreachable, ISS, 100);
    assert_eq!(c.state(), State::SynSent);
    assert_eq!(c.events(), []);
}
