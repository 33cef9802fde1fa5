//! The exokernel target's library-OS side: the devices a generated protocol runs on and the
//! stack beneath its TCP.
//!
//! - [`wire`]: an in-memory Ethernet segment between endpoints, with seeded fault injection
//!   (loss, duplication, reordering, corruption, latency, rate limit, queue limit), driven
//!   by a virtual clock.
//! - [`device`]: the [`FrameDevice`](device::FrameDevice) interface the stacks run on, and
//!   an adapter that lets a smoltcp `Interface` run on any such device.
//! - [`pcap`]: recording what crosses a device as a pcap file, and reading captures back.
//! - [`netstack`]: Ethernet, ARP, IPv4 and ICMP echo, handing TCP segments to handlers
//!   keyed by connection or listening port.
//! - [`prolac_tcp`]: the Prolac TCP (`protocols::tcp`) as the stack's TCP handler.
//! - [`rng`]: the small seeded generator behind every random decision.
//! - [`sim`]: a harness that runs smoltcp's TCP or the Prolac TCP on either end of a wire,
//!   runs whole transfers and checks them (the interop tests and the `tcp-demo` binary).
//! - [`tap`]: a Linux TAP device as a frame device, facing the kernel's own TCP;
//!   [`netns`]: private network namespaces for the kernel's end; [`realtime`]: the stack
//!   driven by the wall clock over such a device; [`uring`]: the device's writes of a
//!   segment's pieces batched into one system call.
//!
//! Apart from [`tap`], [`netns`], [`realtime`] and [`uring`], nothing here reads a clock or does IO of its own: time
//! is passed in as virtual microseconds, and pcap output goes to any `Write` the caller
//! provides. A scenario on the wire is a function of its seed.

mod alarm;
pub mod bench;
pub mod device;
pub mod netns;
pub mod netstack;
pub mod offload;
pub mod pcap;
pub mod prolac_tcp;
pub mod realtime;
pub mod rng;
pub mod sim;
pub mod tap;
pub mod uring;
pub mod wire;
