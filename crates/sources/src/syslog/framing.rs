//! Stream framing (RFC 6587): octet counting (`MSG-LEN SP MSG`, also RFC 5425 for TLS) and non-transparent
//! framing (messages end with LF). A [`Deframer`] is fed whatever each read returned, so a frame may arrive
//! in any number of pieces.
//!
//! A message longer than the maximum is cut there and the number of dropped bytes reported with it (the
//! frame boundary is still known, so the stream stays in step). An octet count that is not a number, or
//! a stream that ends inside a frame, is invalid: the bytes go to the quarantine and, for a bad count, the
//! connection is closed because the next frame boundary is unknown.

use super::config::Framing;

/// Longest `MSG-LEN` accepted: 10 digits (just under 10 GB); anything longer is not a count.
const MAX_LEN_DIGITS: usize = 10;

/// What the deframer cut out of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// One message (at most the maximum length) and how many bytes were cut off its end.
    Message {
        /// The message bytes.
        bytes: Vec<u8>,
        /// Bytes dropped beyond the maximum (0 when whole).
        truncated: usize,
    },
    /// Input that is not a frame: what was read of it, and why.
    Invalid {
        /// The offending bytes (at most the maximum length).
        raw: Vec<u8>,
        /// Why.
        reason: String,
    },
}

#[derive(Debug)]
enum State {
    /// At a frame boundary.
    Start,
    /// Reading the digits of `MSG-LEN`.
    Len(Vec<u8>),
    /// Reading an octet-counted body: bytes still to come.
    Body { left: usize },
    /// Reading a line.
    Line,
    /// After a bad count: nothing more is framed.
    Broken,
}

/// Cuts frames out of a byte stream.
#[derive(Debug)]
pub struct Deframer {
    framing: Framing,
    max: usize,
    state: State,
    buf: Vec<u8>,
    truncated: usize,
}

impl Deframer {
    /// A deframer for one connection; `Auto` is decided by the first byte (a digit: octet counting).
    pub fn new(framing: Framing, max: usize) -> Deframer {
        Deframer {
            framing,
            max,
            state: State::Start,
            buf: Vec::new(),
            truncated: 0,
        }
    }

    /// Whether a bad octet count ended framing (the caller closes the connection).
    pub const fn is_broken(&self) -> bool {
        matches!(self.state, State::Broken)
    }

    /// Feeds the bytes of one read; complete frames are appended to `out`.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<Frame>) {
        while !data.is_empty() {
            match &mut self.state {
                State::Broken => return,
                State::Start => {
                    if self.framing == Framing::Auto {
                        self.framing = if data[0].is_ascii_digit() {
                            Framing::OctetCounting
                        } else {
                            Framing::Newline
                        };
                    }
                    match self.framing {
                        Framing::OctetCounting => {
                            // Stray line ends between frames are tolerated.
                            if matches!(data[0], b'\n' | b'\r' | b' ' | 0) {
                                data = &data[1..];
                                continue;
                            }
                            self.state = State::Len(Vec::new());
                        }
                        _ => self.state = State::Line,
                    }
                }
                State::Len(digits) => {
                    let c = data[0];
                    data = &data[1..];
                    if c.is_ascii_digit() && digits.len() < MAX_LEN_DIGITS {
                        digits.push(c);
                        continue;
                    }
                    let text = String::from_utf8_lossy(digits).into_owned();
                    let len = if c == b' ' && !text.starts_with('0') {
                        text.parse::<usize>().ok()
                    } else {
                        None
                    };
                    match len {
                        Some(left) => {
                            self.buf.clear();
                            self.truncated = 0;
                            self.state = State::Body { left };
                        }
                        None => {
                            let mut raw = digits.clone();
                            raw.push(c);
                            let take = data.len().min(self.max.saturating_sub(raw.len()));
                            raw.extend_from_slice(&data[..take]);
                            out.push(Frame::Invalid {
                                raw,
                                reason: format!(
                                    "invalid octet count {:?} (expected MSG-LEN SP MSG, RFC 6587 3.4.1)",
                                    format!("{text}{}", char::from(c))
                                ),
                            });
                            self.state = State::Broken;
                            return;
                        }
                    }
                }
                State::Body { left } => {
                    let n = (*left).min(data.len());
                    let room = self.max.saturating_sub(self.buf.len());
                    let keep = n.min(room);
                    self.buf.extend_from_slice(&data[..keep]);
                    self.truncated += n - keep;
                    *left -= n;
                    data = &data[n..];
                    if *left == 0 {
                        out.push(Frame::Message {
                            bytes: std::mem::take(&mut self.buf),
                            truncated: std::mem::take(&mut self.truncated),
                        });
                        self.state = State::Start;
                    }
                }
                State::Line => match data.iter().position(|b| *b == b'\n') {
                    Some(i) => {
                        self.keep_line(&data[..i]);
                        data = &data[i + 1..];
                        self.end_line(out);
                    }
                    None => {
                        self.keep_line(data);
                        data = &[];
                    }
                },
            }
        }
    }

    /// The stream ended: a last unterminated line is a message; a partial octet-counted frame is invalid.
    pub fn finish(&mut self, out: &mut Vec<Frame>) {
        match std::mem::replace(&mut self.state, State::Start) {
            State::Line => self.end_line(out),
            State::Body { left } => out.push(Frame::Invalid {
                raw: std::mem::take(&mut self.buf),
                reason: format!(
                    "connection closed inside an octet-counted frame, {left} bytes missing"
                ),
            }),
            State::Len(digits) if !digits.is_empty() => out.push(Frame::Invalid {
                raw: digits,
                reason: "connection closed inside an octet count".to_owned(),
            }),
            _ => {}
        }
    }

    fn keep_line(&mut self, part: &[u8]) {
        let room = self.max.saturating_sub(self.buf.len());
        let keep = part.len().min(room);
        self.buf.extend_from_slice(&part[..keep]);
        self.truncated += part.len() - keep;
    }

    fn end_line(&mut self, out: &mut Vec<Frame>) {
        while matches!(self.buf.last(), Some(b'\r' | 0)) {
            self.buf.pop();
        }
        let bytes = std::mem::take(&mut self.buf);
        let truncated = std::mem::take(&mut self.truncated);
        self.state = State::Start;
        // Empty lines (keep-alives, CR LF pairs) are no messages.
        if !bytes.is_empty() || truncated > 0 {
            out.push(Frame::Message { bytes, truncated });
        }
    }
}
