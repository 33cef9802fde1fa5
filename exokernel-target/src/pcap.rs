//! Recording frames as pcap files (Ethernet link type) and reading them back.
//!
//! [`PcapRecorder`] writes a classic pcap stream (microsecond timestamps, native byte order,
//! link type 1) to any [`Write`]; its timestamps are the virtual clock's microseconds, so a
//! recording of a simulated run is as reproducible as the run. [`PcapRecorder::tap`] wraps a
//! [`FrameDevice`] so that every frame sent through it or received from it is recorded: the
//! pcap of a wire endpoint. Wireshark and tshark read the result.
//!
//! [`parse_pcap`] and [`read_pcap`] read a capture back (for tests and replay). Hostile input
//! gives a [`PcapError`], never a panic; a record claiming to be longer than the capture's
//! snapshot length is refused before anything is allocated for it.

use core::fmt;
use std::borrow::Cow;
use std::io::{Read, Write};
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapParser, PcapWriter};
use pcap_file::{DataLink, TsResolution};

use crate::device::{DeviceError, FrameDevice};

/// The snapshot length written in recordings: tcpdump's default, more than any frame here.
pub const SNAPLEN: u32 = 262_144;

/// What can go wrong writing or reading a pcap.
#[derive(Debug)]
pub enum PcapError {
    /// The underlying writer or reader failed.
    Io(std::io::Error),
    /// The data ends in the middle of the file header or of a record.
    Truncated,
    /// A field has an impossible value (bad magic number, lengths, timestamps).
    Invalid(&'static str),
    /// The capture is not of Ethernet frames (link type 1).
    LinkType(u32),
    /// A frame longer than [`SNAPLEN`] cannot be recorded.
    FrameTooLong(usize),
    /// A timestamp beyond what pcap's 32-bit seconds can hold.
    TimestampOutOfRange(u64),
    /// Any other error the pcap library reports.
    Other(String),
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "pcap i/o failed: {e}"),
            Self::Truncated => write!(f, "pcap data is truncated"),
            Self::Invalid(what) => write!(f, "invalid pcap: {what}"),
            Self::LinkType(t) => write!(f, "pcap link type is {t}, not Ethernet (1)"),
            Self::FrameTooLong(n) => {
                write!(f, "a {n}-byte frame exceeds the snapshot length {SNAPLEN}")
            }
            Self::TimestampOutOfRange(us) => {
                write!(f, "timestamp {us} µs does not fit in a pcap record")
            }
            Self::Other(text) => write!(f, "pcap error: {text}"),
        }
    }
}

impl std::error::Error for PcapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<pcap_file::PcapError> for PcapError {
    fn from(e: pcap_file::PcapError) -> Self {
        match e {
            pcap_file::PcapError::IncompleteBuffer => Self::Truncated,
            pcap_file::PcapError::IoError(io) => Self::Io(io),
            pcap_file::PcapError::InvalidField(what) => Self::Invalid(what),
            other => Self::Other(other.to_string()),
        }
    }
}

/// Records frames into a pcap stream.
///
/// ```
/// use exokernel_target::pcap::{PcapRecorder, parse_pcap};
///
/// let mut rec = PcapRecorder::new(Vec::new())?;
/// rec.record(1_500_000, &[0xff; 60])?;
/// let bytes = rec.finish()?;
/// let frames = parse_pcap(&bytes)?;
/// assert_eq!(frames[0].time_us, 1_500_000);
/// assert_eq!(frames[0].data, vec![0xff; 60]);
/// # Ok::<(), exokernel_target::pcap::PcapError>(())
/// ```
#[derive(Debug)]
pub struct PcapRecorder<W: Write> {
    writer: PcapWriter<W>,
    frames: u64,
    /// The first error a [`Tap`] met (it cannot report errors through the device interface).
    deferred: Option<PcapError>,
}

impl<W: Write> PcapRecorder<W> {
    /// Writes the pcap file header to `writer`.
    ///
    /// # Errors
    ///
    /// [`PcapError::Io`] when the header cannot be written.
    pub fn new(writer: W) -> Result<Self, PcapError> {
        let header = PcapHeader {
            snaplen: SNAPLEN,
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::MicroSecond,
            endianness: pcap_file::Endianness::native(),
            ..PcapHeader::default()
        };
        Ok(Self {
            writer: PcapWriter::with_header(writer, header)?,
            frames: 0,
            deferred: None,
        })
    }

    /// Appends one frame, seen at virtual time `now_us`.
    ///
    /// # Errors
    ///
    /// [`PcapError::FrameTooLong`], [`PcapError::TimestampOutOfRange`], or the writer's
    /// error.
    pub fn record(&mut self, now_us: u64, frame: &[u8]) -> Result<(), PcapError> {
        let len = u32::try_from(frame.len())
            .ok()
            .filter(|&len| len <= SNAPLEN)
            .ok_or(PcapError::FrameTooLong(frame.len()))?;
        if now_us / 1_000_000 > u64::from(u32::MAX) {
            return Err(PcapError::TimestampOutOfRange(now_us));
        }
        let packet = PcapPacket {
            timestamp: Duration::from_micros(now_us),
            orig_len: len,
            data: Cow::Borrowed(frame),
        };
        self.writer.write_packet(&packet)?;
        self.frames += 1;
        Ok(())
    }

    /// How many frames have been recorded.
    #[must_use]
    pub const fn frames(&self) -> u64 {
        self.frames
    }

    /// The first error met while recording through a [`Tap`], if any.
    #[must_use]
    pub const fn error(&self) -> Option<&PcapError> {
        self.deferred.as_ref()
    }

    /// Wraps `device` so that every frame crossing it is recorded here.
    pub const fn tap<D: FrameDevice>(&mut self, device: D) -> Tap<'_, D, W> {
        Tap {
            device,
            recorder: self,
        }
    }

    /// Flushes and returns the writer.
    ///
    /// # Errors
    ///
    /// The first error a [`Tap`] met while recording, or the flush's error.
    pub fn finish(self) -> Result<W, PcapError> {
        if let Some(e) = self.deferred {
            return Err(e);
        }
        let mut writer = self.writer.into_writer();
        writer.flush().map_err(PcapError::Io)?;
        Ok(writer)
    }

    /// Records for a tap: keeps the first error for [`finish`](Self::finish).
    fn record_deferred(&mut self, now_us: u64, frame: &[u8]) {
        if let Err(e) = self.record(now_us, frame)
            && self.deferred.is_none()
        {
            self.deferred = Some(e);
        }
    }
}

/// A [`FrameDevice`] that records every frame crossing it (see [`PcapRecorder::tap`]).
///
/// Frames are recorded when the inner device accepts them for sending and when they are
/// received from it, with the time of that call. Recording errors are kept in the recorder
/// (see [`PcapRecorder::error`]); the frames still pass.
#[derive(Debug)]
pub struct Tap<'r, D, W: Write> {
    device: D,
    recorder: &'r mut PcapRecorder<W>,
}

impl<D, W: Write> Tap<'_, D, W> {
    /// Unwraps the device.
    pub fn into_inner(self) -> D {
        self.device
    }

    /// The device.
    pub const fn inner(&self) -> &D {
        &self.device
    }

    /// The device, mutably.
    pub const fn inner_mut(&mut self) -> &mut D {
        &mut self.device
    }
}

impl<D: FrameDevice, W: Write> FrameDevice for Tap<'_, D, W> {
    fn send_frame(&mut self, frame: &[u8], now_us: u64) -> Result<(), DeviceError> {
        self.device.send_frame(frame, now_us)?;
        self.recorder.record_deferred(now_us, frame);
        Ok(())
    }

    fn recv_frame(&mut self, now_us: u64) -> Option<Vec<u8>> {
        let frame = self.device.recv_frame(now_us)?;
        self.recorder.record_deferred(now_us, &frame);
        Some(frame)
    }

    fn recv_into(&mut self, buf: &mut [u8], now_us: u64) -> Option<usize> {
        let n = self.device.recv_into(buf, now_us)?;
        self.recorder.record_deferred(now_us, &buf[..n]);
        Some(n)
    }

    fn max_recv_len(&self) -> usize {
        self.device.max_recv_len()
    }

    fn rx_checksum_trusted(&self) -> bool {
        self.device.rx_checksum_trusted()
    }

    fn flush(&mut self, now_us: u64) {
        self.device.flush(now_us);
    }

    fn max_frame_len(&self) -> usize {
        self.device.max_frame_len()
    }
}

/// One record of a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcapFrame {
    /// When it was captured, in microseconds (nanosecond captures are truncated).
    pub time_us: u64,
    /// The captured bytes.
    pub data: Vec<u8>,
    /// The frame's length on the wire (more than `data.len()` if the capture cut it).
    pub orig_len: u32,
}

/// Parses a whole pcap capture of Ethernet frames held in memory.
///
/// # Errors
///
/// [`PcapError::Truncated`] if the data ends inside a header or a record,
/// [`PcapError::Invalid`] for impossible fields, [`PcapError::LinkType`] for a capture of
/// something other than Ethernet.
pub fn parse_pcap(bytes: &[u8]) -> Result<Vec<PcapFrame>, PcapError> {
    let (mut rest, parser) = PcapParser::new(bytes)?;
    let header = parser.header();
    if header.datalink != DataLink::ETHERNET {
        return Err(PcapError::LinkType(header.datalink.into()));
    }
    let mut frames = Vec::new();
    while !rest.is_empty() {
        // The parser checks each record's length against what is left before slicing, and
        // borrows the record's bytes, so a hostile length costs nothing.
        let (next, packet) = parser.next_packet(rest)?;
        let time_us = u64::try_from(packet.timestamp.as_micros()).unwrap_or(u64::MAX);
        frames.push(PcapFrame {
            time_us,
            orig_len: packet.orig_len,
            data: packet.data.into_owned(),
        });
        rest = next;
    }
    Ok(frames)
}

/// Reads a whole pcap capture of Ethernet frames from `reader` (see [`parse_pcap`]).
///
/// # Errors
///
/// [`PcapError::Io`] when reading fails, otherwise as [`parse_pcap`].
pub fn read_pcap<R: Read>(mut reader: R) -> Result<Vec<PcapFrame>, PcapError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(PcapError::Io)?;
    parse_pcap(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_with_times() {
        let mut rec = PcapRecorder::new(Vec::new()).expect("header");
        rec.record(0, &[1; 14]).expect("frame");
        rec.record(3_000_001, &[2; 100]).expect("frame");
        assert_eq!(rec.frames(), 2);
        assert!(rec.error().is_none());
        let bytes = rec.finish().expect("flushed");
        assert_eq!(bytes.len(), 24 + 16 + 14 + 16 + 100);
        let frames = parse_pcap(&bytes).expect("parses");
        assert_eq!(
            frames,
            vec![
                PcapFrame {
                    time_us: 0,
                    data: vec![1; 14],
                    orig_len: 14
                },
                PcapFrame {
                    time_us: 3_000_001,
                    data: vec![2; 100],
                    orig_len: 100
                },
            ]
        );
        assert_eq!(
            read_pcap(std::io::Cursor::new(bytes)).expect("reads"),
            frames
        );
    }

    #[test]
    fn refuses_what_pcap_cannot_hold() {
        let mut rec = PcapRecorder::new(Vec::new()).expect("header");
        assert!(matches!(
            rec.record(0, &vec![0; SNAPLEN as usize + 1]),
            Err(PcapError::FrameTooLong(_))
        ));
        assert!(matches!(
            rec.record(u64::MAX, &[0; 60]),
            Err(PcapError::TimestampOutOfRange(_))
        ));
        assert_eq!(rec.frames(), 0);
    }

    #[test]
    fn other_link_types_are_refused() {
        let header = PcapHeader {
            datalink: DataLink::RAW,
            ..PcapHeader::default()
        };
        let writer = PcapWriter::with_header(Vec::new(), header).expect("header");
        let bytes = writer.into_writer();
        assert!(matches!(parse_pcap(&bytes), Err(PcapError::LinkType(101))));
    }

    #[test]
    fn errors_display() {
        assert_eq!(PcapError::Truncated.to_string(), "pcap data is truncated");
        assert!(PcapError::LinkType(101).to_string().contains("101"));
        let io = PcapError::Io(std::io::Error::other("disk full"));
        assert!(std::error::Error::source(&io).is_some());
        let converted: PcapError = pcap_file::PcapError::InvalidInterfaceId(3).into();
        assert!(matches!(converted, PcapError::Other(_)));
    }
}
