//! MLLP framing: each message travels as `0x0B message 0x1C 0x0D`.
//!
//! The [`Deframer`] is fed bytes as they arrive and hands out whole frames only, so a message
//! cut off by a dropped connection is never seen, let alone applied. Anything else is a framing
//! error that ends the connection: bytes outside a frame other than line breaks and spaces
//! (which some senders put between frames), a start byte inside a frame, an end byte not
//! followed by a carriage return, or a frame longer than the configured limit.

const START: u8 = 0x0B;
const END: u8 = 0x1C;
const CR: u8 = 0x0D;

/// Why a connection's byte stream is not MLLP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("bytes outside a frame: the stream is not MLLP (each message must start with 0x0B)")]
    OutsideFrame,
    #[error("a frame started inside another (0x0B before the 0x1C 0x0D that ends a message)")]
    NestedStart,
    #[error("a frame's end byte 0x1C was not followed by 0x0D")]
    BadEnd,
    #[error("a frame is longer than the {0}-byte limit ([mllp] max_message_bytes)")]
    TooLarge(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Between,
    Inside,
    SawEnd,
    Broken,
}

/// Cuts a byte stream into frames.
pub struct Deframer {
    state: State,
    frame: Vec<u8>,
    max: usize,
}

impl Deframer {
    pub fn new(max: usize) -> Self {
        Self {
            state: State::Between,
            frame: Vec::new(),
            max,
        }
    }

    /// Feeds the bytes read; returns the frames they completed, in order, then the framing
    /// error if the stream broke (after which nothing more is read).
    pub fn feed(&mut self, bytes: &[u8]) -> (Vec<Vec<u8>>, Option<FrameError>) {
        let mut frames = Vec::new();
        let mut rest = bytes;
        while let Some((&b, tail)) = rest.split_first() {
            match self.state {
                State::Broken => break,
                State::Between => match b {
                    START => self.state = State::Inside,
                    b'\r' | b'\n' | b' ' | b'\t' => {}
                    _ => return self.broken(frames, FrameError::OutsideFrame),
                },
                State::Inside => {
                    // Copy the run of message bytes at once.
                    let run = rest
                        .iter()
                        .position(|&c| c == END || c == START)
                        .unwrap_or(rest.len());
                    if self.frame.len() + run > self.max {
                        return self.broken(frames, FrameError::TooLarge(self.max));
                    }
                    self.frame
                        .extend_from_slice(rest.get(..run).unwrap_or_default());
                    rest = rest.get(run..).unwrap_or_default();
                    match rest.first() {
                        Some(&START) => return self.broken(frames, FrameError::NestedStart),
                        Some(&END) => {
                            self.state = State::SawEnd;
                            rest = rest.get(1..).unwrap_or_default();
                        }
                        _ => {}
                    }
                    continue;
                }
                State::SawEnd => {
                    if b != CR {
                        return self.broken(frames, FrameError::BadEnd);
                    }
                    frames.push(std::mem::take(&mut self.frame));
                    self.state = State::Between;
                }
            }
            rest = tail;
        }
        (frames, None)
    }

    /// Whether a frame is begun and not finished: what a connection closed now would cut off.
    pub fn mid_frame(&self) -> bool {
        matches!(self.state, State::Inside | State::SawEnd)
    }

    fn broken(
        &mut self,
        frames: Vec<Vec<u8>>,
        error: FrameError,
    ) -> (Vec<Vec<u8>>, Option<FrameError>) {
        self.state = State::Broken;
        self.frame = Vec::new();
        (frames, Some(error))
    }
}

/// `message` in its MLLP frame.
pub fn framed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 3);
    out.push(START);
    out.extend_from_slice(message);
    out.extend_from_slice(&[END, CR]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_out_whole_however_the_bytes_arrive() {
        let stream = b"\x0bMSH|1\x1c\r\r\n\x0bMSH|2\rPID|x\x1c\r";
        for chunk in 1..stream.len() {
            let mut d = Deframer::new(100);
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                let (frames, err) = d.feed(piece);
                assert_eq!(err, None);
                got.extend(frames);
            }
            assert_eq!(got, vec![b"MSH|1".to_vec(), b"MSH|2\rPID|x".to_vec()]);
            assert!(!d.mid_frame());
        }
    }

    #[test]
    fn a_half_frame_is_never_handed_out() {
        let mut d = Deframer::new(100);
        let (frames, err) = d.feed(b"\x0bMSH|1\x1c\r\x0bMSH|2\rPID");
        assert_eq!((frames.len(), err), (1, None));
        assert!(d.mid_frame());
        let (frames, _) = d.feed(b"|x\x1c");
        assert!(
            frames.is_empty(),
            "the end byte without its CR ends nothing"
        );
    }

    #[test]
    fn framing_errors_are_named() {
        let cases: [(&[u8], FrameError); 4] = [
            (b"GET / HTTP/1.1\r\n", FrameError::OutsideFrame),
            (b"\x0bMSH|1\x0bMSH", FrameError::NestedStart),
            (b"\x0bMSH|1\x1cX", FrameError::BadEnd),
            (b"\x0bMSH|123456789", FrameError::TooLarge(8)),
        ];
        for (bytes, want) in cases {
            let (frames, err) = Deframer::new(8).feed(bytes);
            assert!(frames.is_empty());
            assert_eq!(err, Some(want));
        }
    }

    #[test]
    fn frames_before_a_framing_error_are_kept() {
        let (frames, err) = Deframer::new(100).feed(b"\x0bMSH|1\x1c\rjunk");
        assert_eq!(frames, vec![b"MSH|1".to_vec()]);
        assert_eq!(err, Some(FrameError::OutsideFrame));
    }
}
