# 0 "tcp99/tcp.pc"
# 0 "<built-in>"
# 0 "<command-line>"
# 1 "/usr/include/stdc-predef.h" 1 3 4
# 0 "<command-line>" 2
# 1 "tcp99/tcp.pc"



%{

extern int tcp_checksum_ok(const void *seg, unsigned len);
extern void tcp_send_ack(void *tcb), tcp_send_rst(const void *seg), tcp_abort(void *tcb);
extern void deliver_data(const void *seg, unsigned len), trace_state(void *tcb, const char *s);
static const char *const state_names[] = { "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED" };
%}

# 1 "tcp99/segment.pc" 1




module Segment {
  field sport :> ushort @ 0;
  field dport :> ushort @ 2;
  field th-seq :> seqint @ 4;
  field th-ack :> seqint @ 8;
  field off-flags :> ushort @ 12;
  field win :> ushort @ 14;
  field csum :> ushort @ 16;
  field urp :> ushort @ 18;
  field len :> uint @ 20;

  static (ntohs)(x :> ushort) :> ushort ::= { x = ntohs(x); } x;

  F {
    static fin :> ushort ::= 0x01;
    static syn :> ushort ::= 0x02;
    static rst :> ushort ::= 0x04;
    static ack :> ushort ::= 0x10;
  }

  seqno :> seqint ::= th-seq;
  ackno :> seqint ::= th-ack;
  flags :> ushort ::= (ntohs)(off-flags) & 0x3F;
  syn :> bool ::= flags & F.syn;
  fin :> bool ::= flags & F.fin;
  rst :> bool ::= flags & F.rst;
  ack :> bool ::= flags & F.ack;
  seqlen :> uint ::= len + (syn ? 1 : 0) + (fin ? 1 : 0);
  left :> seqint ::= seqno;
  right :> seqint ::= seqno + seqlen;

  header-ok :> bool ::=
    len >= 0 && { tcp_checksum_ok(self, len + 20) };
} inline all;
# 13 "tcp99/tcp.pc" 2
# 1 "tcp99/tcb.pc" 1




module State {
  static closed :> uchar ::= 0;
  static listen :> uchar ::= 1;
  static syn-sent :> uchar ::= 2;
  static syn-received :> uchar ::= 3;
  static established :> uchar ::= 4;
}

module Base.TCB has State, .Segment {
  field state :> uchar @ 40;
  field snd-una :> seqint;
  field snd-next :> seqint;
  field snd-max :> seqint;
  field rcv-next :> seqint;
  field rcv-wnd :> uint;
  field iss :> seqint;
  field irs :> seqint;
  field flags :> ushort;
  static field tcb-count :> uint;

  constructor ::= state = State.closed, rcv-wnd = 4 * 536, tcb-count += 1;

  established :> bool ::= state == State.established;
  listen :> bool ::= state == State.listen;
  enter-established ::= state = State.established { trace_state(self, "ESTABLISHED"); };

  new-ack-hook(ack :> seqint) ::= ;
  total-ack-hook ::= ;

  ack-acceptable(ack :> seqint) :> bool ::= ack > snd-una && ack <= snd-max;
  window-right :> seqint ::= rcv-next + rcv-wnd;
  in-window(s :> *Segment) :> bool ::=
    s->left >= rcv-next && s->left < window-right
    || s->seqlen == 0 && s->left == rcv-next;
} hide (flags);
# 14 "tcp99/tcp.pc" 2
# 1 "tcp99/input.pc" 1



module Base.Input has .Segment, .TCB, .Output, .Input {
  field tcb :> *TCB using all;
  field seg :> *Segment using all;

  constructor(s :> *Segment, t :> *TCB) ::= seg = s, tcb = t;

  exception drop;
  exception ack-drop;
  exception reset-drop;

  static run(s :> *Segment, t :> *TCB) ::=
    pathinline Input(s, t).do-input catch all;

  do-input ::=
    process
      catch ack-drop ==> Output.send-ack(tcb), drop
      catch reset-drop ==> Output.send-reset(seg);

  process ::=
    header-ok || drop,
    listen ==> do-listen
    ||| check-sequence, check-reset, check-ack, do-data;

  do-listen ::= syn ==> (tcb->irs = seqno, tcb->rcv-next = seqno + 1) ||| drop;
  check-sequence ::= in-window(seg) || (rst ==> drop ||| ack-drop);
  check-reset ::= rst ==> { tcp_abort(tcb); } drop;
  check-ack ::=
    !ack ==> drop
    ||| ack-acceptable(ackno) ==> (tcb->snd-una = ackno, new-ack-hook(ackno))
    ||| ackno > tcb->snd-max ==> ack-drop;
  do-data ::=
    seqlen > 0 && left == tcb->rcv-next ==>
      (tcb->rcv-next += seqlen, { deliver_data(seg, len); } true)
    ||| seqlen > 0 ==> ack-drop;
} inline (do-listen, check-sequence, check-reset, check-ack, do-data);

module Output has .Segment, .TCB {
  static send-ack(t :> *TCB) ::= { tcp_send_ack(t); };
  static send-reset(s :> *Segment) ::= { if (!(s->off_flags & htons(4))) tcp_send_rst(s); };
}
# 15 "tcp99/tcp.pc" 2
# 1 "tcp99/delayack.pc" 1





module Delay-Ack.TCB :> Base.TCB {
  field delack-timer :> uint;
  field pending-ack :> bool;
  new-ack-hook(ack :> seqint) ::=
    super.new-ack-hook(ack), pending-ack = true, delack-timer = 2;
  tick ::= delack-timer > 0 && --delack-timer == 0 ==> { tcp_send_ack(self); } (pending-ack = false);
} hide (delack-timer);

module Delay-Ack.Input :> Base.Input {
  do-data ::= inline super.do-data, tcb->pending-ack ==> tick;
}
# 16 "tcp99/tcp.pc" 2

module TCB ::= Delay-Ack.TCB;
module Input ::= Delay-Ack.Input;

export Input.run, TCB.all;
