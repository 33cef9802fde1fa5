//! The library-OS stack's configuration and its counters.

use core::fmt;
use core::net::Ipv4Addr;

use smoltcp::wire::EthernetAddress;

/// The smallest IPv4 MTU every host must accept (RFC 791).
pub const MIN_MTU: usize = 68;

/// The largest IP MTU an Ethernet frame of 65,535 bytes can carry.
pub const MAX_MTU: usize = 65_535 - 14;

/// How a [`NetStack`](super::NetStack) is set up. All on-link: the stack has one address
/// and no routes; every destination is resolved with ARP on the attached segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetConfig {
    /// The stack's Ethernet address (unicast).
    pub mac: EthernetAddress,
    /// The stack's IPv4 address (unicast).
    pub ip: Ipv4Addr,
    /// The IP MTU: the longest IPv4 packet sent or accepted for answering.
    pub mtu: usize,
    /// Time to live of the packets sent.
    pub ttl: u8,
    /// How many neighbours the ARP cache holds.
    pub arp_cache_capacity: usize,
    /// How long a resolved neighbour stays valid, in microseconds.
    pub arp_lifetime_us: u64,
    /// How long to wait for an ARP reply before asking again, in microseconds.
    pub arp_retry_us: u64,
    /// How many ARP requests to send for one address before giving up on it.
    pub arp_max_requests: u32,
    /// How many outgoing packets may wait for ARP resolution, in total.
    pub pending_limit: usize,
    /// How many frames may wait to be transmitted.
    pub tx_queue_limit: usize,
    /// How many received echo replies are kept for [`take_echo_replies`](super::NetStack::take_echo_replies).
    pub echo_reply_limit: usize,
    /// Whether a TCP segment that no connection or listener takes is answered with a reset
    /// (RFC 9293 §3.10.7.1, the CLOSED state), so that a peer whose connection this host has
    /// forgotten stops sending; on by default.
    pub reset_unclaimed: bool,
}

impl NetConfig {
    /// A stack at `mac` and `ip` with an MTU of 1500 and ordinary ARP timers (entries live a
    /// minute; up to 3 requests, 1 s apart).
    #[must_use]
    pub const fn new(mac: EthernetAddress, ip: Ipv4Addr) -> Self {
        Self {
            mac,
            ip,
            mtu: 1500,
            ttl: 64,
            arp_cache_capacity: 16,
            arp_lifetime_us: 60_000_000,
            arp_retry_us: 1_000_000,
            arp_max_requests: 3,
            pending_limit: 64,
            tx_queue_limit: 1024,
            echo_reply_limit: 1024,
            reset_unclaimed: true,
        }
    }

    /// Checks the addresses and limits.
    ///
    /// # Errors
    ///
    /// The first problem found, as a [`NetConfigError`].
    pub fn validate(&self) -> Result<(), NetConfigError> {
        if !self.mac.is_unicast() {
            return Err(NetConfigError::Mac(self.mac));
        }
        if !super::is_unicast(self.ip) {
            return Err(NetConfigError::Ip(self.ip));
        }
        if !(MIN_MTU..=MAX_MTU).contains(&self.mtu) {
            return Err(NetConfigError::Mtu(self.mtu));
        }
        if self.arp_cache_capacity == 0
            || self.arp_max_requests == 0
            || self.tx_queue_limit == 0
            || self.ttl == 0
        {
            return Err(NetConfigError::ZeroLimit);
        }
        Ok(())
    }
}

/// A stack configuration that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetConfigError {
    /// The Ethernet address is not unicast.
    Mac(EthernetAddress),
    /// The IPv4 address is not a unicast host address.
    Ip(Ipv4Addr),
    /// The MTU is outside [`MIN_MTU`]..=[`MAX_MTU`].
    Mtu(usize),
    /// The ARP cache capacity, ARP request count, transmit queue limit or TTL is zero.
    ZeroLimit,
}

impl fmt::Display for NetConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mac(mac) => write!(f, "{mac} is not a unicast Ethernet address"),
            Self::Ip(ip) => write!(f, "{ip} is not a unicast IPv4 address"),
            Self::Mtu(mtu) => write!(f, "MTU {mtu} is outside {MIN_MTU}..={MAX_MTU}"),
            Self::ZeroLimit => write!(f, "a limit or the TTL is zero"),
        }
    }
}

impl std::error::Error for NetConfigError {}

/// What the stack did with the frames it received and sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Frames received.
    pub rx_frames: u64,
    /// Frames addressed to another Ethernet address.
    pub rx_not_for_us: u64,
    /// Frames or packets too short, or with inconsistent lengths or version.
    pub rx_malformed: u64,
    /// Frames of another EtherType, ARP of another kind, IPv4 of another protocol.
    pub rx_unsupported: u64,
    /// IPv4 packets with a bad header checksum.
    pub rx_bad_ipv4_checksum: u64,
    /// ICMP messages with a bad checksum.
    pub rx_bad_icmp_checksum: u64,
    /// TCP segments with a bad checksum.
    pub rx_bad_tcp_checksum: u64,
    /// Frames received whose TCP checksum the device vouched for (not checked again).
    pub rx_checksum_trusted: u64,
    /// IPv4 packets addressed to another host.
    pub rx_ip_not_for_us: u64,
    /// IPv4 fragments (not reassembled).
    pub rx_fragments: u64,
    /// Packets from an impossible source (broadcast, multicast, unspecified, ourselves).
    pub rx_bad_source: u64,
    /// ARP requests for our address (each answered).
    pub arp_requests_received: u64,
    /// ARP replies received.
    pub arp_replies_received: u64,
    /// ARP requests sent.
    pub arp_requests_sent: u64,
    /// Resolutions given up after the last request went unanswered.
    pub arp_failures: u64,
    /// ICMP echo requests received (each answered).
    pub icmp_echo_requests: u64,
    /// ICMP echo replies received.
    pub icmp_echo_replies: u64,
    /// ICMP errors handed to the connection whose segment they quote.
    pub icmp_errors_delivered: u64,
    /// Other ICMP messages (ignored).
    pub icmp_other: u64,
    /// TCP segments handed to a handler.
    pub tcp_delivered: u64,
    /// TCP segments no handler or listener claimed.
    pub tcp_unclaimed: u64,
    /// Frames handed to the device.
    pub tx_frames: u64,
    /// Outgoing packets dropped waiting for ARP (pending limit or resolution failure).
    pub tx_pending_drops: u64,
    /// Frames dropped because the transmit queue was full.
    pub tx_queue_drops: u64,
    /// Frames the device refused.
    pub tx_device_errors: u64,
    /// Resets sent for TCP segments that no handler took.
    pub tcp_resets_sent: u64,
}

impl NetStats {
    /// Received frames dropped for any reason (not for us, malformed, unsupported, bad
    /// checksum, bad source, fragments, unclaimed TCP).
    #[must_use]
    pub const fn rx_dropped(&self) -> u64 {
        self.rx_not_for_us
            + self.rx_malformed
            + self.rx_unsupported
            + self.rx_bad_ipv4_checksum
            + self.rx_bad_icmp_checksum
            + self.rx_bad_tcp_checksum
            + self.rx_ip_not_for_us
            + self.rx_fragments
            + self.rx_bad_source
            + self.tcp_unclaimed
    }

    /// Received frames dropped because a checksum was wrong.
    #[must_use]
    pub const fn rx_bad_checksums(&self) -> u64 {
        self.rx_bad_ipv4_checksum + self.rx_bad_icmp_checksum + self.rx_bad_tcp_checksum
    }
}
