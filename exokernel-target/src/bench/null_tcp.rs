//! The do-nothing TCP endpoint: the ceiling for any user-space TCP over a TAP device at a
//! given MTU. It speaks just enough TCP to one kernel peer to move bulk data, with one read or
//! one write system call per frame and nothing else: the handshake, one ACK for each batch of
//! data frames read (every 16 frames within a long batch — its best: the kernel's TCP
//! sending to it went 1.075 times as fast as with one every 64 frames, and no faster with one
//! every 8; the window never closes), data
//! segments built from one template (the payload's checksum computed once, each header's
//! added to it), at most 128 of them between two reads (the kernel's ACKs wait in the
//! device's queue meanwhile, and would be lost beyond it), a FIN at the end. It keeps no
//! buffers and retransmits only by going back to the oldest unacknowledged byte (on a third
//! duplicate ACK, or when the peer has acknowledged nothing for 200 ms), and takes no options
//! but MSS and window scaling. What a real TCP does beyond this is what it costs over the
//! ceiling.

use std::io;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::device::FrameDevice;
use crate::tap::TapDevice;

/// Ethernet + IPv4 + TCP headers (no options).
const HEADERS: usize = 14 + 20 + 20;
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const PSH: u8 = 0x08;
/// Data frames sent at most between two reads of the device.
const BURST: usize = 128;
/// Data frames of a long batch read per ACK (see the module's documentation).
const ACK_EVERY: u64 = 16;
/// The window shift offered: 65,535 << 7 bytes, never closed.
const SHIFT: u8 = 7;

/// The addresses of the endpoint and its kernel peer.
#[derive(Clone, Copy, Debug)]
pub struct Addresses {
    /// The endpoint's MAC and IPv4 address.
    pub mac: [u8; 6],
    /// Its IPv4 address.
    pub ip: Ipv4Addr,
    /// The port it listens on.
    pub port: u16,
}

fn sum16(data: &[u8], mut sum: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        sum += u32::from(*b) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The peer as learnt from its SYN.
struct Peer {
    mac: [u8; 6],
    ip: Ipv4Addr,
    port: u16,
    shift: u8,
}

/// One connection's frame builder and sequence state.
struct Conn {
    me: Addresses,
    peer: Peer,
    snd_nxt: u32,
    snd_una: u32,
    rcv_nxt: u32,
    peer_window: u64,
    frame: Vec<u8>,
}

impl Conn {
    /// Writes the headers of a segment with `len` bytes of payload already in place.
    fn headers(&mut self, seq: u32, flags: u8, len: usize, payload_sum: u32, options: &[u8]) {
        let f = &mut self.frame;
        let tcp_len = 20 + options.len() + len;
        f[0..6].copy_from_slice(&self.peer.mac);
        f[6..12].copy_from_slice(&self.me.mac);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip = &mut f[14..34];
        ip.copy_from_slice(&[
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        ip[2..4].copy_from_slice(&u16::try_from(20 + tcp_len).unwrap_or(0).to_be_bytes());
        ip[12..16].copy_from_slice(&self.me.ip.octets());
        ip[16..20].copy_from_slice(&self.peer.ip.octets());
        let c = fold(sum16(ip, 0));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let t = &mut f[34..54];
        t[0..2].copy_from_slice(&self.me.port.to_be_bytes());
        t[2..4].copy_from_slice(&self.peer.port.to_be_bytes());
        t[4..8].copy_from_slice(&seq.to_be_bytes());
        t[8..12].copy_from_slice(&self.rcv_nxt.to_be_bytes());
        t[12] = u8::try_from((20 + options.len()) / 4 * 16).unwrap_or(0x50);
        t[13] = flags;
        t[14..16].copy_from_slice(&0xffffu16.to_be_bytes());
        t[16..20].fill(0);
        f[54..54 + options.len()].copy_from_slice(options);
        let mut sum = payload_sum;
        sum = sum16(&self.me.ip.octets(), sum);
        sum = sum16(&self.peer.ip.octets(), sum);
        sum += 6 + u32::try_from(tcp_len).unwrap_or(0);
        sum = sum16(&f[34..54 + options.len()], sum);
        let c = fold(sum);
        f[50..52].copy_from_slice(&c.to_be_bytes());
    }

    fn send_control(&mut self, dev: &mut TapDevice, seq: u32, flags: u8, options: &[u8]) {
        self.headers(seq, flags, 0, 0, options);
        let n = HEADERS + options.len();
        let _ = dev.send_frame(&self.frame[..n], 0);
    }
}

/// A TCP segment from the peer.
struct Seg {
    flags: u8,
    seq: u32,
    ack: u32,
    window: u16,
    len: usize,
    options: Vec<u8>,
    mac: [u8; 6],
    ip: Ipv4Addr,
    port: u16,
}

fn parse(frame: &[u8], me: &Addresses) -> Option<Seg> {
    if frame.len() < HEADERS || frame[12..14] != [0x08, 0x00] {
        return None;
    }
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    if ip[9] != 6 || ip[16..20] != me.ip.octets() {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]])).min(ip.len());
    let tcp = ip.get(ihl..total)?;
    if tcp.len() < 20 || u16::from_be_bytes([tcp[2], tcp[3]]) != me.port {
        return None;
    }
    let off = usize::from(tcp[12] >> 4) * 4;
    let u32_at = |i: usize| u32::from_be_bytes([tcp[i], tcp[i + 1], tcp[i + 2], tcp[i + 3]]);
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&frame[6..12]);
    Some(Seg {
        flags: tcp[13],
        seq: u32_at(4),
        ack: u32_at(8),
        window: u16::from_be_bytes([tcp[14], tcp[15]]),
        len: tcp.len().saturating_sub(off),
        options: tcp.get(20..off).unwrap_or_default().to_vec(),
        mac,
        ip: Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
        port: u16::from_be_bytes([tcp[0], tcp[1]]),
    })
}

/// Answers ARP requests for `me` (the kernel asks before its SYN).
fn answer_arp(dev: &mut TapDevice, frame: &[u8], me: &Addresses) -> bool {
    if frame.len() < 42 || frame[12..14] != [0x08, 0x06] || frame[20..22] != [0, 1] {
        return false;
    }
    if frame[38..42] != me.ip.octets() {
        return true;
    }
    let mut r = frame[..42].to_vec();
    r[0..6].copy_from_slice(&frame[6..12]);
    r[6..12].copy_from_slice(&me.mac);
    r[21] = 2;
    r[22..28].copy_from_slice(&me.mac);
    r[28..32].copy_from_slice(&me.ip.octets());
    r[32..42].copy_from_slice(&frame[22..32]);
    let _ = dev.send_frame(&r, 0);
    true
}

/// What to do once connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Read what the peer sends until its FIN, acknowledging every second data frame.
    Sink,
    /// Send `bytes` (MSS-sized segments), then FIN.
    Source(u64),
}

/// Serves one connection from the kernel on `dev` in `role`, until it is closed or
/// `limit` passes. Returns when the `expect`-th byte arrived (as sink).
///
/// # Errors
///
/// The device failed, or the connection did not finish in time.
pub fn serve(
    dev: &mut TapDevice,
    me: Addresses,
    role: Role,
    expect: u64,
    limit: Duration,
) -> io::Result<Option<Instant>> {
    let mut last = None;
    let start = Instant::now();
    let mss = dev.max_frame_len() - HEADERS;
    let mut conn: Option<Conn> = None;
    let (mut moved, mut data_frames, mut fin_sent, mut fin_received) = (0u64, 0u64, false, false);
    let mut payload = vec![0u8; mss];
    for (i, b) in payload.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let payload_sum = sum16(&payload, 0);
    let mut last_progress = Instant::now();
    let mut acked_to = 0u32;
    let mut dupacks = 0u32;
    loop {
        if start.elapsed() > limit {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the connection did not finish",
            ));
        }
        let mut got_any = false;
        while let Some(frame) = dev.recv_frame(0) {
            got_any = true;
            if answer_arp(dev, &frame, &me) {
                continue;
            }
            let Some(Seg {
                flags,
                seq,
                ack,
                window,
                len,
                options,
                mac,
                ip,
                port,
            }) = parse(&frame, &me)
            else {
                continue;
            };
            if flags & SYN != 0 {
                let shift = options
                    .windows(3)
                    .find(|w| w[0] == 3 && w[1] == 3)
                    .map_or(0, |w| w[2].min(14));
                let mut c = Conn {
                    me,
                    peer: Peer {
                        mac,
                        ip,
                        port,
                        shift,
                    },
                    snd_nxt: 0x1000_0000,
                    snd_una: 0x1000_0000,
                    rcv_nxt: seq.wrapping_add(1),
                    peer_window: u64::from(window),
                    frame: vec![0; dev.max_frame_len()],
                };
                let mss16 = u16::try_from(mss).unwrap_or(1460).to_be_bytes();
                let opts = [2, 4, mss16[0], mss16[1], 1, 3, 3, SHIFT];
                let iss = c.snd_nxt;
                c.send_control(dev, iss, SYN | ACK, &opts);
                c.snd_nxt = iss.wrapping_add(1);
                c.snd_una = iss;
                conn = Some(c);
                continue;
            }
            let Some(c) = conn.as_mut() else { continue };
            // Only the connected peer's segments (a late one of an earlier connection on the
            // same port must not move this one), and only ACKs of what was sent.
            if port != c.peer.port || ip != c.peer.ip {
                continue;
            }
            if flags & ACK != 0
                && ack.wrapping_sub(c.snd_una) as i32 > 0
                && c.snd_nxt.wrapping_sub(ack) as i32 >= 0
            {
                c.snd_una = ack;
                last_progress = Instant::now();
                dupacks = 0;
            } else if flags & ACK != 0
                && len == 0
                && ack == c.snd_una
                && c.snd_nxt != c.snd_una
                && u64::from(window) << c.peer.shift == c.peer_window
            {
                // A frame was lost (the kernel's backlog overflowed): on the third duplicate
                // ACK (the same window too: a window update is not one), go back to it.
                dupacks += 1;
                if dupacks == 3 && !fin_sent {
                    c.snd_nxt = c.snd_una;
                }
            }
            c.peer_window = u64::from(window) << c.peer.shift;
            if len > 0 && seq == c.rcv_nxt {
                c.rcv_nxt = c.rcv_nxt.wrapping_add(u32::try_from(len).unwrap_or(0));
                moved += len as u64;
                if moved >= expect && last.is_none() {
                    last = Some(Instant::now());
                }
                data_frames += 1;
                // Within a long batch, an ACK every 16 frames keeps the window moving; the
                // rest wait for the batch's end.
                if data_frames % ACK_EVERY == 0 {
                    let nxt = c.snd_nxt;
                    c.send_control(dev, nxt, ACK, &[]);
                    acked_to = c.rcv_nxt;
                }
            } else if len > 0 {
                let nxt = c.snd_nxt;
                c.send_control(dev, nxt, ACK, &[]);
            }
            if flags & FIN != 0 && seq.wrapping_add(u32::try_from(len).unwrap_or(0)) == c.rcv_nxt {
                c.rcv_nxt = c.rcv_nxt.wrapping_add(1);
                fin_received = true;
                let nxt = c.snd_nxt;
                if role == Role::Sink && !fin_sent {
                    c.send_control(dev, nxt, FIN | ACK, &[]);
                    c.snd_nxt = nxt.wrapping_add(1);
                    fin_sent = true;
                } else {
                    c.send_control(dev, nxt, ACK, &[]);
                }
            }
        }
        // The batch is read: one ACK for what it brought, as the kernel does with GRO.
        if let Some(c) = conn.as_mut()
            && c.rcv_nxt != acked_to
            && !fin_received
        {
            let nxt = c.snd_nxt;
            c.send_control(dev, nxt, ACK, &[]);
            acked_to = c.rcv_nxt;
        }
        if let (Some(c), Role::Source(total)) = (conn.as_mut(), role) {
            let acked = u64::from(c.snd_una.wrapping_sub(0x1000_0001)).min(total);
            let mut sent = u64::from(c.snd_nxt.wrapping_sub(0x1000_0001)).min(total);
            // No ACK for 200 ms with data out: go back to the oldest byte not acknowledged.
            if last_progress.elapsed() > Duration::from_millis(200) && sent > acked && !fin_sent {
                c.snd_nxt = c.snd_una;
                sent = acked;
                last_progress = Instant::now();
            }
            // At most a burst of frames between reads: the kernel's answers wait in the
            // device's queue (1,000 frames), and the ones that do not fit are lost.
            let mut burst = 0;
            while sent < total
                && burst < BURST
                && u64::from(c.snd_nxt.wrapping_sub(c.snd_una)) + mss as u64 <= c.peer_window
            {
                burst += 1;
                let n = (total - sent).min(mss as u64) as usize;
                let sum = if n == mss {
                    payload_sum
                } else {
                    sum16(&payload[..n], 0)
                };
                c.frame[HEADERS..HEADERS + n].copy_from_slice(&payload[..n]);
                let seq = c.snd_nxt;
                c.headers(seq, ACK | PSH, n, sum, &[]);
                let _ = dev.send_frame(&c.frame[..HEADERS + n], 0);
                c.snd_nxt = seq.wrapping_add(u32::try_from(n).unwrap_or(0));
                sent += n as u64;
            }
            moved = acked;
            if acked == total && !fin_sent {
                let seq = c.snd_nxt;
                c.send_control(dev, seq, FIN | ACK, &[]);
                c.snd_nxt = seq.wrapping_add(1);
                fin_sent = true;
            }
        }
        if fin_sent && fin_received {
            return Ok(last);
        }
        if !got_any {
            dev.wait(Some(Duration::from_millis(1)))?;
        }
    }
}
