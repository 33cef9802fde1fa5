//! A TCP connection: the TCB generated from `tcp/*.pc` and the host side its extern methods
//! call (send and receive buffers, the outgoing segment queue, events).
//!
//! Segments are TCP headers plus data, without IP: the caller wraps them (and fills in the
//! checksum, which needs the IP pseudo-header) on the way out, and verifies the checksum and
//! strips IP on the way in. Each connection is one [`Connection`]; a listening connection takes
//! one SYN (the caller gives each SYN for a listening port a fresh listening connection).

// The generated code dereferences raw pointers inside documented `unsafe` blocks, and the host
// functions below receive the raw TCB pointer the protocol passes them.
#![allow(unsafe_code)]

use std::collections::VecDeque;

/// The generated TCP and the host functions its extern methods name.
#[allow(missing_docs, unreachable_pub, clippy::all)]
mod generated {
    use super::Host;

    /// The host side of the connection whose TCB is `tcb` (its cookie is the address of the
    /// connection's boxed [`Host`], which outlives every call into the protocol).
    fn host<'a>(tcb: *mut TcbRef) -> &'a mut Host {
        // SAFETY: the protocol only passes TCBs of live `Connection`s, whose cookie was set to
        // the address of their `Host` box; nothing else borrows that box during the call.
        unsafe { &mut *((*tcb).cookie as usize as *mut Host) }
    }

    fn tcp_segment_buffer(tcb: *mut TcbRef, len: u32) -> *mut u8 {
        let h = host(tcb);
        h.scratch.clear();
        h.scratch.resize(len as usize, 0);
        h.scratch.as_mut_ptr()
    }
    fn tcp_transmit(tcb: *mut TcbRef, seg: *mut u8, len: u32) {
        let h = host(tcb);
        debug_assert_eq!(seg, h.scratch.as_mut_ptr());
        let n = (len as usize).min(h.scratch.len());
        h.outgoing.push_back(h.scratch[..n].to_vec());
    }
    fn tcp_send_queued(tcb: *mut TcbRef) -> u32 {
        u32::try_from(host(tcb).send_buffer.len()).unwrap_or(u32::MAX)
    }
    fn tcp_send_copy(tcb: *mut TcbRef, offset: u32, dst: *mut u8, n: u32) {
        let h = host(tcb);
        let (offset, n) = (offset as usize, n as usize);
        // SAFETY: `dst` is the data part of the scratch segment buffer, sized for `n` bytes.
        let dst = unsafe { core::slice::from_raw_parts_mut(dst, n) };
        // The queue is at most two slices: copy ranges, not bytes.
        let (front, back) = h.send_buffer.as_slices();
        let from_front = front.len().saturating_sub(offset).min(n);
        dst[..from_front].copy_from_slice(&front[offset.min(front.len())..][..from_front]);
        let rest = n - from_front;
        let back_at = offset.saturating_sub(front.len());
        dst[from_front..].copy_from_slice(&back[back_at..back_at + rest]);
    }
    fn tcp_send_acked(tcb: *mut TcbRef, n: u32) {
        let h = host(tcb);
        let n = (n as usize).min(h.send_buffer.len());
        h.send_buffer.drain(..n);
    }
    fn tcp_receive_space(tcb: *mut TcbRef) -> u32 {
        let h = host(tcb);
        u32::try_from(h.receive_capacity.saturating_sub(h.receive_buffer.len())).unwrap_or(u32::MAX)
    }
    fn tcp_deliver(tcb: *mut TcbRef, data: *mut u8, n: u32) {
        // SAFETY: `data` points into the arriving segment, which holds `n` more bytes.
        let bytes = unsafe { core::slice::from_raw_parts(data, n as usize) };
        let h = host(tcb);
        h.receive_buffer.extend(bytes);
        h.received += u64::from(n);
    }
    fn tcp_store_early(tcb: *mut TcbRef, offset: u32, data: *mut u8, n: u32) {
        // SAFETY: `data` points into the arriving segment, which holds `n` more bytes.
        let bytes = unsafe { core::slice::from_raw_parts(data, n as usize) };
        let h = host(tcb);
        let at = h.received + u64::from(offset);
        // Keep the longest run seen at each position; overlaps are resolved on reassembly.
        let keep = h.early.get(&at).is_none_or(|old| old.len() < bytes.len());
        if keep {
            h.early.insert(at, bytes.to_vec());
        }
    }
    fn tcp_reassemble(tcb: *mut TcbRef) -> u32 {
        let h = host(tcb);
        let start = h.received;
        while let Some((&at, _)) = h.early.first_key_value() {
            if at > h.received {
                break;
            }
            let Some(bytes) = h.early.remove(&at) else {
                break;
            };
            let skip = (h.received - at) as usize;
            if skip < bytes.len() {
                let room = h.receive_capacity.saturating_sub(h.receive_buffer.len());
                let new = &bytes[skip..(bytes.len()).min(skip + room)];
                h.receive_buffer.extend(new);
                h.received += new.len() as u64;
            }
        }
        u32::try_from(h.received - start).unwrap_or(u32::MAX)
    }
    fn tcp_event(tcb: *mut TcbRef, kind: u32) {
        host(tcb).events.push(kind);
    }
    fn tcp_initial_seq(tcb: *mut TcbRef) -> u32 {
        host(tcb).initial_seq
    }

    include!(concat!(env!("OUT_DIR"), "/tcp.rs"));
}

// The final TCB of the `Tcp` composition (named after the last layer that refines it).
use generated::TcpTcb as Tcb;

/// Connection states (RFC 9293 §3.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl State {
    fn from_code(code: u8) -> State {
        match code {
            1 => State::Listen,
            2 => State::SynSent,
            3 => State::SynReceived,
            4 => State::Established,
            5 => State::FinWait1,
            6 => State::FinWait2,
            7 => State::CloseWait,
            8 => State::Closing,
            9 => State::LastAck,
            10 => State::TimeWait,
            _ => State::Closed,
        }
    }
}

/// Something the connection reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed.
    Established,
    /// The peer sent FIN: no more data will arrive.
    PeerClosed,
    /// The connection is gone.
    Closed,
    /// The peer reset the connection.
    Reset,
}

/// Per-connection settings.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// The initial send sequence number (a host chooses it per RFC 9293 §3.4.1).
    pub initial_seq: u32,
    /// Bytes the send buffer holds.
    pub send_capacity: usize,
    /// Bytes the receive buffer holds (the largest window offered).
    pub receive_capacity: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            initial_seq: 1,
            send_capacity: 64 * 1024,
            receive_capacity: 64 * 1024,
        }
    }
}

/// The host side of one connection.
struct Host {
    initial_seq: u32,
    send_capacity: usize,
    send_buffer: VecDeque<u8>,
    receive_capacity: usize,
    receive_buffer: VecDeque<u8>,
    /// Bytes delivered in order since the connection began.
    received: u64,
    /// Data that arrived early, by stream position.
    early: std::collections::BTreeMap<u64, Vec<u8>>,
    scratch: Vec<u8>,
    outgoing: VecDeque<Vec<u8>>,
    events: Vec<u32>,
}

/// One TCP connection.
pub struct Connection {
    tcb: Box<Tcb>,
    host: Box<Host>,
    /// CLOSE was called: no more data may be queued.
    closing: bool,
    /// The arriving segment, copied for the protocol.
    rx: Vec<u8>,
}

impl Connection {
    /// A closed connection.
    pub fn new(config: Config) -> Connection {
        let mut host = Box::new(Host {
            initial_seq: config.initial_seq,
            send_capacity: config.send_capacity,
            send_buffer: VecDeque::new(),
            receive_capacity: config.receive_capacity,
            receive_buffer: VecDeque::new(),
            received: 0,
            early: std::collections::BTreeMap::new(),
            scratch: Vec::new(),
            outgoing: VecDeque::new(),
            events: Vec::new(),
        });
        let mut tcb = Box::new(Tcb::ZERO);
        tcb.cookie = &mut *host as *mut Host as usize as u64;
        generated::constructor__Tcp_Timers_Tcb(&mut tcb);
        Connection {
            tcb,
            host,
            closing: false,
            rx: Vec::new(),
        }
    }

    /// OPEN, passive: wait for a SYN to `port`.
    pub fn listen(&mut self, port: u16) {
        generated::listen__Tcp_Base_Api(&mut self.tcb, port);
    }

    /// OPEN, active: send a SYN from `local` to `remote`.
    pub fn connect(&mut self, local: u16, remote: u16, now: u64) {
        generated::connect__Tcp_Base_Api(&mut self.tcb, local, remote, now);
    }

    /// A segment arrived (TCP header and data; its checksum already verified).
    pub fn input(&mut self, segment: &[u8], now: u64) {
        // The protocol takes a mutable pointer: copy into a buffer reused across segments (it
        // is the connection's, not the host side's, so host functions never alias it).
        self.rx.clear();
        self.rx.extend_from_slice(segment);
        let n = u32::try_from(self.rx.len()).unwrap_or(u32::MAX);
        // SAFETY: `rx` is a live buffer of `n` bytes for the whole call.
        unsafe { generated::input__Tcp_Base_Api(&mut self.tcb, self.rx.as_mut_ptr(), n, now) };
    }

    /// SEND: queues as much of `data` as the send buffer takes; returns how much.
    pub fn send(&mut self, data: &[u8], now: u64) -> usize {
        // §3.10.2: data is accepted only until the user closes (queued before the handshake
        // completes); afterwards SEND is "connection closing" or "does not exist".
        let open = matches!(
            self.state(),
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        );
        if !open || self.closing {
            return 0;
        }
        let room = self
            .host
            .send_capacity
            .saturating_sub(self.host.send_buffer.len());
        let n = room.min(data.len());
        self.host.send_buffer.extend(&data[..n]);
        generated::send__Tcp_Base_Api(&mut self.tcb, now);
        n
    }

    /// RECEIVE: takes up to `buf.len()` received bytes.
    pub fn recv(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.host.receive_buffer.len());
        for (d, s) in buf.iter_mut().zip(self.host.receive_buffer.drain(..n)) {
            *d = s;
        }
        n
    }

    /// CLOSE: a FIN follows the queued data.
    pub fn close(&mut self, now: u64) {
        self.closing = true;
        generated::close__Tcp_Base_Api(&mut self.tcb, now);
    }

    /// ABORT.
    pub fn abort(&mut self) {
        generated::abort__Tcp_Base_Api(&mut self.tcb);
    }

    /// The host's clock reached `now`: runs due timers (retransmission) and sends what is due.
    pub fn poll(&mut self, now: u64) {
        generated::poll__Tcp_Timers_Api(&mut self.tcb, now);
    }

    /// When [`Connection::poll`] should next be called, if a timer is running.
    pub fn poll_at(&mut self) -> Option<u64> {
        match generated::poll_at__Tcp_Timers_Api(&mut self.tcb) {
            0 => None,
            t => Some(t),
        }
    }

    /// The next segment to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.host.outgoing.pop_front()
    }

    /// The events reported since the last call.
    pub fn events(&mut self) -> Vec<Event> {
        self.host
            .events
            .drain(..)
            .filter_map(|k| match k {
                1 => Some(Event::Established),
                2 => Some(Event::PeerClosed),
                3 => Some(Event::Closed),
                4 => Some(Event::Reset),
                _ => None,
            })
            .collect()
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        State::from_code(self.tcb.state)
    }

    /// Bytes received and not yet read.
    pub fn readable(&self) -> usize {
        self.host.receive_buffer.len()
    }

    /// Bytes sent and not yet acknowledged, plus bytes not yet sent.
    pub fn send_queued(&self) -> usize {
        self.host.send_buffer.len()
    }

    /// SND.UNA: the oldest sequence number not yet acknowledged.
    pub fn snd_una(&self) -> u32 {
        self.tcb.snd_una
    }

    /// SND.NXT: the next sequence number to send.
    pub fn snd_nxt(&self) -> u32 {
        self.tcb.snd_nxt
    }

    /// SND.WND: the window the peer last offered.
    pub fn snd_wnd(&self) -> u32 {
        self.tcb.snd_wnd
    }

    /// RCV.NXT: the next sequence number expected from the peer.
    pub fn rcv_nxt(&self) -> u32 {
        self.tcb.rcv_nxt
    }

    /// The effective send MSS (RFC 9293 §3.7.1).
    pub fn snd_mss(&self) -> u32 {
        self.tcb.snd_mss
    }
}
