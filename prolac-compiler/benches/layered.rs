//! A generator of large layered programs in the style of the TCP: a TCB refined by one layer
//! per protocol feature, each layer adding fields, hooks chained with `super`, a namespace of
//! constants, an input step refined with `inline super`, and a processing module with an
//! exception. Used by the `check` benchmark and by a test that the generated program is valid.

/// A program with `layers` feature layers over a base layer (about 45 lines per layer).
pub(crate) fn program(layers: usize) -> String {
    let mut out = String::from(BASE);
    let mut names = vec!["Base".to_string()];
    for k in 1..=layers {
        out.push_str(&layer(k));
        names.push(format!("L{k}"));
    }
    out.push_str(&format!("\ncompose TCP =\n  {};\n\n", names.join(",\n  ")));
    out.push_str("export TCP.Api.all;\n");
    for k in 1..=layers {
        out.push_str(&format!("export TCP.Api{k}.run;\n"));
    }
    out
}

fn layer(k: usize) -> String {
    let shift = k % 8;
    format!(
        r#"
// Feature {k}: counters, a sequence mark and a processing step.
layer L{k} requires Base {{
  module TCB :> super has .Segment, .Host using allstatic {{
    field c{k}-count :> uint;
    field c{k}-stamp :> ulong;
    field c{k}-mark :> seqint;
    C{k} {{
      static limit :> uint ::= {k} * 16 + 1;
      static shift :> uint ::= {shift};
      static window :> uint ::= limit << shift;
    }}
    new-ack-hook(ack :> seqint) ::=
      inline super.new-ack-hook(ack),
      c{k}-mark = ack,
      note{k};
    receive-hook(seg :> *Segment) ::=
      inline super.receive-hook(seg),
      c{k}-count += seg->len >> C{k}.shift;
    note{k} ::=
      c{k}-count < C{k}.limit ==> c{k}-count += 1
      ||| (c{k}-count = 0, c{k}-stamp = now);
    check{k}(s :> *Segment) :> bool ::=
      s->left >= c{k}-mark - C{k}.window && s->len <= C{k}.window;
  }} hide note{k};

  module Input :> super {{
    check-ack ::= inline super.check-ack, tcb->check{k}(seg) || ack-drop;
  }}

  module Step{k} has .TCB, .Segment {{
    field tcb :> *TCB using all;
    field seen :> uint;
    constructor(t :> *TCB) ::= tcb = t;
    exception overflow;
    exception stale;
    run(s :> *Segment) :> bool ::=
      accept(s)
        catch overflow ==> (seen = 0, false)
        catch stale ==> false;
    accept(s :> *Segment) :> bool ::=
      check{k}(s) || stale,
      seen += 1,
      seen < 1000 || overflow,
      let room = min(s->len, 4096) in room > 0 end;
  }}

  module Api{k} has .TCB, .Segment, .Step{k} {{
    static run(t :> *TCB, s :> *Segment) :> bool ::= Step{k}(t).run(s);
  }}
}}
"#
    )
}

const BASE: &str = r#"// Generated: a layered TCP-shaped program for the `check` benchmark.

module Segment {
  field seqno :> seqint;
  field ackno :> seqint;
  field len :> uint;
  field flags :> ushort;
  F {
    static syn :> ushort ::= 2;
    static rst :> ushort ::= 4;
    static ack :> ushort ::= 16;
  }
  syn :> bool ::= flags & F.syn;
  ack :> bool ::= flags & F.ack;
  rst :> bool ::= flags & F.rst;
  left :> seqint ::= seqno;
  right :> seqint ::= seqno + len;
}

module Host has Segment {
  static transmit(seg :> *Segment) ::= extern;
  static now :> ulong ::= extern;
  static deliver(seg :> *Segment, n :> uint) ::= extern;
}

layer Base {
  module TCB has .Segment, .Host using allstatic {
    field state :> uchar;
    field snd-una :> seqint;
    field snd-next :> seqint;
    field snd-max :> seqint;
    field rcv-next :> seqint;
    field rcv-wnd :> uint;
    S {
      static closed :> uchar ::= 0;
      static listen :> uchar ::= 1;
      static established :> uchar ::= 4;
    }
    constructor ::= state = S.listen, rcv-wnd = 4096;
    established :> bool ::= state == S.established;
    listen :> bool ::= state == S.listen;
    enter-established ::= state = S.established, established-hook;
    established-hook ::= true;
    new-ack-hook(ack :> seqint) ::= snd-una = ack;
    receive-hook(seg :> *Segment) ::= rcv-next += seg->len;
    window-right :> seqint ::= rcv-next + rcv-wnd;
    in-window(s :> *Segment) :> bool ::= s->left >= rcv-next && s->left < window-right;
  }

  module Input has .TCB, .Segment, .Host using allstatic {
    field tcb :> *TCB using all;
    field seg :> *Segment using all;
    constructor(s :> *Segment, t :> *TCB) ::= seg = s, tcb = t;
    exception drop;
    exception ack-drop;
    run ::= process catch drop catch ack-drop ==> send-ack;
    process ::=
      listen ==> do-listen
      ||| check-sequence, check-reset, check-ack, do-data;
    do-listen ::= syn ==> (tcb->rcv-next = seg->seqno + 1, enter-established) ||| drop;
    check-sequence ::= in-window(seg) || ack-drop;
    check-reset ::= rst ==> drop;
    check-ack ::= ack ==> (seg->ackno > tcb->snd-una ==> new-ack-hook(seg->ackno)) ||| drop;
    do-data ::= seg->len > 0 ==> (receive-hook(seg), deliver(seg, seg->len));
    send-ack ::= transmit(seg);
  }

  module Api has .TCB, .Input, .Segment {
    static input(t :> *TCB, s :> *Segment) ::= Input(s, t).run;
    static open(t :> *TCB) ::= t->constructor();
  }
}
"#;
