//! TCP segments through the library-OS stack: demultiplexing by four-tuple with a listener
//! fallback, what handlers can do from their context (send, accept, close), handler
//! timers, checksums, and the checks of the output path.

mod common;

use core::net::Ipv4Addr;
use std::cell::RefCell;
use std::rc::Rc;

use common::{ip, mac, settle, stack, tcp_segment};
use exokernel_target::netstack::{
    FourTuple, HandlerSlot, NetStack, SegmentError, SendError, TcpContext, TcpHandler, TcpSegment,
    verify_tcp_checksum,
};
use exokernel_target::wire::{EndId, LinkConfig, Wire, WireConfig};

/// What a handler saw.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    name: &'static str,
    slot: HandlerSlot,
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    payload: Vec<u8>,
    at_us: u64,
}

type Log = Rc<RefCell<Vec<Seen>>>;

/// What a test handler does with a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    /// Only records.
    Record,
    /// Records and sends the payload back.
    Echo,
    /// Records, registers an echoing connection handler for the segment's connection, and
    /// echoes this first segment.
    Accept,
    /// Records and removes itself.
    CloseAfterFirst,
}

#[derive(Debug)]
struct Probe {
    name: &'static str,
    log: Log,
    behaviour: Behaviour,
    /// When to send a keep-alive-like segment to `timer_peer`.
    timer: Option<u64>,
    timer_peer: Option<((Ipv4Addr, u16), (Ipv4Addr, u16))>,
}

impl Probe {
    fn new(name: &'static str, log: &Log, behaviour: Behaviour) -> Self {
        Self {
            name,
            log: Rc::clone(log),
            behaviour,
            timer: None,
            timer_peer: None,
        }
    }

    fn echo(segment: &TcpSegment<'_>, ctx: &mut TcpContext<Self>) {
        let reply = tcp_segment(
            (segment.dst(), segment.dst_port()),
            (segment.src(), segment.src_port()),
            1,
            0x18,
            segment.payload(),
        );
        ctx.send_tcp(segment.dst(), segment.src(), &reply)
            .expect("a valid reply");
    }
}

impl TcpHandler for Probe {
    fn segment(&mut self, segment: &TcpSegment<'_>, ctx: &mut TcpContext<Self>) {
        self.log.borrow_mut().push(Seen {
            name: self.name,
            slot: ctx.slot(),
            src: (segment.src(), segment.src_port()),
            dst: (segment.dst(), segment.dst_port()),
            payload: segment.payload().to_vec(),
            at_us: ctx.now_us(),
        });
        match self.behaviour {
            Behaviour::Record => {}
            Behaviour::Echo => Self::echo(segment, ctx),
            Behaviour::Accept => {
                ctx.register(
                    segment.key(),
                    Self::new("accepted", &self.log, Behaviour::Echo),
                );
                Self::echo(segment, ctx);
            }
            Behaviour::CloseAfterFirst => ctx.close(),
        }
    }

    fn poll(&mut self, ctx: &mut TcpContext<Self>) {
        self.timer = None;
        if let Some((from, to)) = self.timer_peer {
            assert_eq!(ctx.local_ip(), from.0);
            let seg = tcp_segment(from, to, 0, 0x10, b"tick");
            ctx.send_tcp(from.0, to.0, &seg).expect("valid");
        }
    }

    fn poll_at(&self) -> Option<u64> {
        self.timer
    }
}

fn key(local: (Ipv4Addr, u16), remote: (Ipv4Addr, u16)) -> FourTuple {
    FourTuple {
        local_ip: local.0,
        local_port: local.1,
        remote_ip: remote.0,
        remote_port: remote.1,
    }
}

fn wire() -> Wire {
    let link = LinkConfig {
        latency_us: 20,
        ..LinkConfig::PERFECT
    };
    Wire::new(WireConfig::new(21, 2).all_links(link)).expect("valid")
}

/// Sends a segment with payload `payload` from A's `src_port` to B's `dst_port`.
fn send(a: &mut NetStack<Probe>, src_port: u16, dst_port: u16, payload: &[u8], now: u64) {
    let seg = tcp_segment((ip(1), src_port), (ip(2), dst_port), 1, 0x18, payload);
    a.send_tcp(ip(1), ip(2), &seg, now).expect("valid segment");
}

#[test]
fn segments_go_to_their_connection_else_the_listener_on_their_port() {
    let log = Log::default();
    let mut wire = wire();
    let (mut a, mut b) = (stack::<Probe>(1), stack::<Probe>(2));
    b.register(
        key((ip(2), 80), (ip(1), 1234)),
        Probe::new("conn", &log, Behaviour::Record),
    );
    b.listen(80, Probe::new("listen80", &log, Behaviour::Record));
    b.listen(81, Probe::new("listen81", &log, Behaviour::Record));

    send(&mut a, 1234, 80, b"to conn", 0);
    send(&mut a, 1235, 80, b"other remote port", 0);
    send(&mut a, 1234, 81, b"other local port", 0);
    send(&mut a, 1234, 82, b"nobody", 0);
    settle(&mut wire, &mut a, &mut b, 0, 1_000_000);

    let seen = log.borrow();
    let summary: Vec<(&str, HandlerSlot, &[u8])> = seen
        .iter()
        .map(|s| (s.name, s.slot, s.payload.as_slice()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "conn",
                HandlerSlot::Connection(key((ip(2), 80), (ip(1), 1234))),
                &b"to conn"[..]
            ),
            ("listen80", HandlerSlot::Listener(80), b"other remote port"),
            ("listen81", HandlerSlot::Listener(81), b"other local port"),
        ]
    );
    assert_eq!(seen[0].src, (ip(1), 1234));
    assert_eq!(seen[0].dst, (ip(2), 80));
    assert_eq!(
        seen[0].at_us, 60,
        "after ARP (two crossings) and the segment's own"
    );
    assert_eq!(b.stats().tcp_delivered, 3);
    assert_eq!(b.stats().tcp_unclaimed, 1);
}

#[test]
fn a_listener_accepts_and_the_connection_takes_over() {
    let log = Log::default();
    let mut wire = wire();
    let (mut a, mut b) = (stack::<Probe>(1), stack::<Probe>(2));
    b.listen(7, Probe::new("listener", &log, Behaviour::Accept));
    a.register(
        key((ip(1), 5000), (ip(2), 7)),
        Probe::new("client", &log, Behaviour::Record),
    );

    send(&mut a, 5000, 7, b"first", 0);
    let now = settle(&mut wire, &mut a, &mut b, 0, 1_000_000);
    send(&mut a, 5000, 7, b"second", now);
    settle(&mut wire, &mut a, &mut b, now, 1_000_000);

    let names: Vec<(&str, Vec<u8>)> = log
        .borrow()
        .iter()
        .map(|s| (s.name, s.payload.clone()))
        .collect();
    assert_eq!(
        names,
        [
            ("listener", b"first".to_vec()),
            ("client", b"first".to_vec()),
            ("accepted", b"second".to_vec()),
            ("client", b"second".to_vec()),
        ]
    );
    let accepted = key((ip(2), 7), (ip(1), 5000));
    assert!(b.handler(&accepted).is_some());
    assert_eq!(b.connections().count(), 1);
    assert!(b.listener(7).is_some());
}

#[test]
fn a_handler_can_close_itself() {
    let log = Log::default();
    let mut wire = wire();
    let (mut a, mut b) = (stack::<Probe>(1), stack::<Probe>(2));
    let k = key((ip(2), 80), (ip(1), 1234));
    b.register(k, Probe::new("once", &log, Behaviour::CloseAfterFirst));
    b.listen(80, Probe::new("listener", &log, Behaviour::Record));
    send(&mut a, 1234, 80, b"1", 0);
    let now = settle(&mut wire, &mut a, &mut b, 0, 1_000_000);
    assert!(b.handler(&k).is_none());
    send(&mut a, 1234, 80, b"2", now);
    settle(&mut wire, &mut a, &mut b, now, 1_000_000);
    let names: Vec<&str> = log.borrow().iter().map(|s| s.name).collect();
    assert_eq!(names, ["once", "listener"]);

    // Listeners close the same way.
    b.listen(81, Probe::new("l81", &log, Behaviour::CloseAfterFirst));
    send(&mut a, 1, 81, b"3", 0);
    send(&mut a, 1, 81, b"4", 0);
    settle(&mut wire, &mut a, &mut b, now, 2_000_000);
    assert!(b.listener(81).is_none());
    assert_eq!(b.stats().tcp_unclaimed, 1);
}

#[test]
fn handler_timers_are_reported_and_run() {
    let log = Log::default();
    let mut wire = wire();
    let (mut a, mut b) = (stack::<Probe>(1), stack::<Probe>(2));
    let mut ticker = Probe::new("ticker", &log, Behaviour::Record);
    ticker.timer = Some(5_000);
    ticker.timer_peer = Some(((ip(1), 40), (ip(2), 41)));
    a.register(key((ip(1), 40), (ip(2), 41)), ticker);
    b.listen(41, Probe::new("b", &log, Behaviour::Record));
    assert_eq!(a.poll_at(), Some(5_000));
    a.poll(4_999);
    assert_eq!(a.tx_queue_len(), 0, "not due yet");
    settle(&mut wire, &mut a, &mut b, 0, 1_000_000);
    assert_eq!(a.poll_at(), None);
    let seen = log.borrow();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].payload, b"tick");
    assert_eq!(seen[0].at_us, 5_060);
    let ticker = a
        .handler_mut(&key((ip(1), 40), (ip(2), 41)))
        .expect("registered");
    ticker.timer = Some(1);
    assert!(a.unregister(&key((ip(1), 40), (ip(2), 41))).is_some());
    assert!(a.listener_mut(41).is_none());
    assert!(b.unlisten(41).is_some());
}

/// MUST-3: the receiving stack verifies the TCP checksum, pseudo header included: a damaged
/// segment, and one whose checksum was computed for another destination, are counted and
/// dropped before any handler sees them.
#[test]
fn a_segment_with_a_bad_checksum_never_reaches_a_handler() {
    let log = Log::default();
    let mut b = stack::<Probe>(2);
    b.listen(80, Probe::new("listener", &log, Behaviour::Record));
    let mut seg = tcp_segment((ip(1), 1), (ip(2), 80), 0, 0x02, b"payload");
    assert!(verify_tcp_checksum(ip(1), ip(2), &seg));
    seg[22] ^= 0x01;
    let frame = common::ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), 6, &seg);
    b.receive_frame(&frame, 0);
    assert_eq!(b.stats().rx_bad_tcp_checksum, 1);
    // A segment whose checksum is right for another destination is wrong here too.
    let seg = tcp_segment((ip(1), 1), (ip(3), 80), 0, 0x02, b"payload");
    let frame = common::ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), 6, &seg);
    b.receive_frame(&frame, 0);
    assert_eq!(b.stats().rx_bad_tcp_checksum, 2);
    assert!(log.borrow().is_empty());
}

/// A segment whose device vouches for its checksum (a TAP device with offloads: the kernel
/// left it undone) is taken without the check; the same bytes not vouched for are dropped.
#[test]
fn a_checksum_the_device_vouches_for_is_not_checked_again() {
    let log = Log::default();
    let mut b = stack::<Probe>(2);
    b.listen(80, Probe::new("listener", &log, Behaviour::Record));
    let mut seg = tcp_segment((ip(1), 1), (ip(2), 80), 0, 0x02, b"payload");
    // What the kernel leaves in the field: not the checksum.
    seg[16..18].copy_from_slice(&[0x12, 0x34]);
    assert!(!verify_tcp_checksum(ip(1), ip(2), &seg));
    let frame = common::ipv4_frame((mac(1), ip(1)), (mac(2), ip(2)), 6, &seg);
    b.receive_frame_trusted(&frame, 0, false);
    assert_eq!(b.stats().rx_bad_tcp_checksum, 1);
    assert!(log.borrow().is_empty());
    b.receive_frame_trusted(&frame, 0, true);
    assert_eq!(b.stats().rx_bad_tcp_checksum, 1);
    assert_eq!(b.stats().rx_checksum_trusted, 1);
    assert_eq!(log.borrow().len(), 1);
    // The next frame is checked again.
    b.receive_frame(&frame, 0);
    assert_eq!(b.stats().rx_bad_tcp_checksum, 2);
}

#[test]
fn corrupted_tcp_segments_are_dropped() {
    let log = Log::default();
    let mut wire = wire();
    let (mut a, mut b) = (stack::<Probe>(1), stack::<Probe>(2));
    b.listen(80, Probe::new("listener", &log, Behaviour::Record));
    send(&mut a, 1, 80, b"clean", 0);
    let now = settle(&mut wire, &mut a, &mut b, 0, 1_000_000);
    assert_eq!(log.borrow().len(), 1);
    wire.set_link(
        EndId::A,
        EndId::B,
        LinkConfig {
            corrupt: 1.0,
            ..LinkConfig::PERFECT
        },
    )
    .expect("valid");
    let n = 300u64;
    for i in 0..n {
        let payload = vec![i as u8; (i % 100) as usize];
        send(&mut a, 1, 80, &payload, now);
    }
    settle(&mut wire, &mut a, &mut b, now, 2_000_000);
    assert_eq!(log.borrow().len(), 1, "no corrupted segment delivered");
    let s = b.stats();
    assert_eq!(s.rx_bad_checksums() + s.rx_malformed, n);
    assert!(s.rx_bad_tcp_checksum > 0 && s.rx_bad_ipv4_checksum > 0);
}

#[test]
fn the_output_path_checks_what_it_is_given() {
    let mut a = stack::<Probe>(1);
    let seg = tcp_segment((ip(1), 1), (ip(2), 2), 0, 0x02, b"");
    assert_eq!(
        a.send_tcp(ip(3), ip(2), &seg, 0),
        Err(SendError::WrongSource {
            src: ip(3),
            local: ip(1)
        })
    );
    for bad in [
        ip(1),
        Ipv4Addr::BROADCAST,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::LOCALHOST,
    ] {
        assert_eq!(
            a.send_tcp(ip(1), bad, &seg, 0),
            Err(SendError::BadDestination(bad))
        );
    }
    assert_eq!(
        a.send_tcp(ip(1), ip(2), &seg[..19], 0),
        Err(SendError::Segment(SegmentError::TooShort(19)))
    );
    let big = tcp_segment((ip(1), 1), (ip(2), 2), 0, 0x10, &[0; 1_461]);
    assert_eq!(
        a.send_tcp(ip(1), ip(2), &big, 0),
        Err(SendError::TooLong {
            len: 1_501,
            mtu: 1_500
        })
    );
    let fits = tcp_segment((ip(1), 1), (ip(2), 2), 0, 0x10, &[0; 1_460]);
    assert_eq!(a.send_tcp(ip(1), ip(2), &fits, 0), Ok(()));
    assert!(
        SendError::BadDestination(ip(1))
            .to_string()
            .contains("192.0.2.1")
    );
}

#[test]
fn sent_segments_are_wrapped_in_correct_ipv4_and_ethernet() {
    use smoltcp::wire::{EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet};
    let mut a = stack::<Probe>(1);
    a.add_arp_entry(ip(2), mac(2), 0);
    let seg = tcp_segment((ip(1), 1000), (ip(2), 2000), 77, 0x12, b"abc");
    a.send_tcp(ip(1), ip(2), &seg, 0).expect("valid");
    a.send_tcp(ip(1), ip(2), &seg, 0).expect("valid");
    let frame = a.pop_frame().expect("one frame");
    let eth = EthernetFrame::new_checked(&frame[..]).expect("frame");
    assert_eq!(eth.src_addr(), mac(1));
    assert_eq!(eth.dst_addr(), mac(2));
    assert_eq!(eth.ethertype(), EthernetProtocol::Ipv4);
    let packet = Ipv4Packet::new_checked(eth.payload()).expect("packet");
    assert!(packet.verify_checksum());
    assert_eq!(packet.next_header(), IpProtocol::Tcp);
    assert_eq!((packet.src_addr(), packet.dst_addr()), (ip(1), ip(2)));
    assert_eq!(packet.hop_limit(), 64);
    assert!(packet.dont_frag());
    assert_eq!(packet.payload(), &seg[..]);
    let second = a.pop_frame().expect("two frames");
    let ident = |f: &[u8]| Ipv4Packet::new_checked(&f[14..]).expect("packet").ident();
    assert_ne!(ident(&frame), ident(&second), "each packet its own ident");
    assert_eq!(a.stats().tx_frames, 2);
}
