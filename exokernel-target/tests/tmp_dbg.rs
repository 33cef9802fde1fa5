mod common;
use common::interop::{MIB, faulty_link};
use exokernel_target::sim::{End, StackKind, Transfer, run_transfer};
use protocols::tcp::TcpOption;
#[test]
fn dbg() {
    let mut t = Transfer::new(
        "dbg",
        1,
        [StackKind::Prolac, StackKind::Prolac],
        End::A,
        [2 * MIB, 0],
    );
    t.link = faulty_link(0.05);
    t.record = true;
    t.max_us = 600_000_000;
    for h in &mut t.hosts {
        h.prolac.receive_capacity = MIB;
        h.prolac.send_capacity = MIB;
        h.prolac.options = &[TcpOption::NoDelay(true)];
    }
    let out = run_transfer(&t).unwrap();
    println!("{}", out.summary());
    std::fs::write("/tmp/dbg.pcap", out.pcap.as_ref().unwrap()).unwrap();
}
