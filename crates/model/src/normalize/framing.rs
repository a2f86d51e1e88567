//! Framing: splits a byte stream into items (one record, one Event Hubs body, one Graph page, one CSV row),
//! each with its position and raw bytes. Streaming over `BufRead` with bounded memory: no item is buffered
//! beyond [`MAX_RECORD_BYTES`]; longer ones are skipped to their end and reported.
//!
//! - [`Format::JsonLines`]: one JSON value a line (blank lines skipped; `\r\n` accepted). Position `line 12`.
//! - [`Format::JsonArray`] and [`Format::JsonDocument`]: see [`super::scan`]. Positions `element 5`, or
//!   `line 40 record 7` inside a `{"records":[…]}`/`{"value":[…]}` document.
//! - [`Format::Csv`]: a Log Analytics / portal export with a header row (` [UTC]` suffixes dropped from
//!   names). A row may span lines inside quotes. Empty cells are null. Position `row 9` counts data rows
//!   from 1, header excluded.
//!
//! An I/O error ends the stream after one final failure item.

use super::scan::Scanner;
use super::tree::{Node, Obj};
use crate::limits::MAX_RECORD_BYTES;
use std::borrow::Cow;
use std::io::BufRead;

/// How the input is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON value per line (Storage blobs, Event Hubs bodies, `.jsonl` exports).
    JsonLines,
    /// A top-level JSON array of records, streamed element by element.
    JsonArray,
    /// One or more JSON documents spanning lines, such as a pretty-printed `{"records":[…]}` flow-log blob or
    /// a saved Graph page `{"value":[…]}`; their arrays are streamed record by record.
    JsonDocument,
    /// CSV with a header row (Log Analytics / portal exports).
    Csv,
}

/// Guesses the format from the first bytes of the input (a few KiB suffice): `[` → array; `{` whose first
/// value closes on its first line → JSON Lines, otherwise a document; anything else → CSV.
pub fn detect_format(first_bytes: &[u8]) -> Format {
    let b = first_bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(first_bytes);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let b = &b[start..];
    match b.first() {
        Some(b'[') => Format::JsonArray,
        Some(b'{') => {
            let (mut depth, mut in_str, mut esc) = (0i64, false, false);
            for &c in b {
                if in_str {
                    match (esc, c) {
                        (true, _) => esc = false,
                        (false, b'\\') => esc = true,
                        (false, b'"') => in_str = false,
                        _ => {}
                    }
                    continue;
                }
                match c {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Format::JsonLines;
                        }
                    }
                    b'\n' => return Format::JsonDocument,
                    _ => {}
                }
            }
            Format::JsonLines
        }
        _ => Format::Csv,
    }
}

/// One framed item.
pub(crate) struct Item {
    /// Position (`line 12`, `element 5`, `row 9`).
    pub at: String,
    /// Its content.
    pub body: Body,
    /// The `@odata.context` of the Graph page it came from.
    pub context: Option<String>,
}

/// An item's content.
pub(crate) enum Body {
    /// JSON text (one record or a wrapper of records).
    Json(String),
    /// A CSV row as a column → cell object (empty cells left out), with its raw text.
    Row(Obj<'static>, String),
}

/// An item that could not be framed.
pub(crate) struct Failed {
    /// Position.
    pub at: String,
    /// The bytes read (capped).
    pub raw: Vec<u8>,
    /// Why.
    pub reason: String,
}

/// The framer of one input.
pub(crate) enum Framer<R> {
    /// JSON Lines.
    Lines(LineReader<R>),
    /// JSON arrays and documents.
    Json(Box<Scanner<R>>),
    /// CSV.
    Csv(CsvRows<R>),
}

impl<R: BufRead> Framer<R> {
    /// A framer for `format`.
    pub(crate) fn new(reader: R, format: Format) -> Framer<R> {
        match format {
            Format::JsonLines => Framer::Lines(LineReader::new(reader)),
            Format::JsonArray | Format::JsonDocument => {
                Framer::Json(Box::new(Scanner::new(reader)))
            }
            Format::Csv => Framer::Csv(CsvRows {
                lines: LineReader::new(reader).counting_quotes(),
                header: None,
                row: 0,
            }),
        }
    }
}

impl<R: BufRead> Iterator for Framer<R> {
    type Item = Result<Item, Failed>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Framer::Lines(l) => l.next_json(),
            Framer::Json(s) => s.next(),
            Framer::Csv(c) => c.next(),
        }
    }
}

/// Text of a capped byte buffer, or the failure for invalid UTF-8.
pub(crate) fn utf8(at: String, bytes: Vec<u8>) -> Result<(String, String), Failed> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok((at, s)),
        Err(e) => {
            let pos = e.utf8_error().valid_up_to();
            Err(Failed {
                at,
                raw: e.into_bytes(),
                reason: format!("invalid UTF-8 at byte {pos}"),
            })
        }
    }
}

/// One physical line.
pub(crate) struct Line {
    /// 1-based line number.
    pub no: u64,
    /// Its bytes without the line end, at most [`MAX_RECORD_BYTES`].
    pub bytes: Vec<u8>,
    /// Its full length (may exceed the bytes kept).
    pub len: u64,
    /// Number of `"` in the full line (counted only by a reader made [`LineReader::counting_quotes`]).
    pub quotes: u64,
}

/// Reads lines with a cap, counting quotes (for CSV) as it goes.
pub(crate) struct LineReader<R> {
    r: R,
    no: u64,
    done: bool,
    /// Whether to count quotes (CSV needs them; JSON Lines does not).
    quotes: bool,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(r: R) -> LineReader<R> {
        LineReader {
            r,
            no: 0,
            done: false,
            quotes: false,
        }
    }

    /// The same reader counting the quotes of every line.
    pub(crate) fn counting_quotes(mut self) -> LineReader<R> {
        self.quotes = true;
        self
    }

    /// The next line, `None` at the end; an I/O error is returned once, then the end.
    pub(crate) fn next_line(&mut self) -> Option<Result<Line, Failed>> {
        if self.done {
            return None;
        }
        self.no += 1;
        let mut line = Line {
            no: self.no,
            bytes: Vec::new(),
            len: 0,
            quotes: 0,
        };
        loop {
            let chunk = match self.r.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    let reason = format!("read failed: {e}");
                    return Some(Err(Failed {
                        at: format!("line {}", self.no),
                        raw: line.bytes,
                        reason,
                    }));
                }
            };
            if chunk.is_empty() {
                self.done = true;
                return (line.len > 0).then(|| Ok(finish_line(line)));
            }
            let (seg, used, end) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (&chunk[..i], i + 1, true),
                None => (chunk, chunk.len(), false),
            };
            line.len += seg.len() as u64;
            if self.quotes {
                line.quotes += memchr::memchr_iter(b'"', seg).count() as u64;
            }
            let room = usize::try_from(MAX_RECORD_BYTES)
                .unwrap_or(usize::MAX)
                .saturating_sub(line.bytes.len());
            line.bytes.extend_from_slice(&seg[..seg.len().min(room)]);
            self.r.consume(used);
            if end {
                return Some(Ok(finish_line(line)));
            }
        }
    }

    /// The next JSON Lines item.
    fn next_json(&mut self) -> Option<Result<Item, Failed>> {
        loop {
            let line = match self.next_line()? {
                Ok(l) => l,
                Err(f) => return Some(Err(f)),
            };
            if line.bytes.iter().all(u8::is_ascii_whitespace) && line.len == line.bytes.len() as u64
            {
                continue;
            }
            let at = format!("line {}", line.no);
            if line.len > MAX_RECORD_BYTES {
                let reason = format!(
                    "line longer than {MAX_RECORD_BYTES} bytes ({} bytes)",
                    line.len
                );
                return Some(Err(Failed {
                    at,
                    raw: line.bytes,
                    reason,
                }));
            }
            return Some(utf8(at, line.bytes).map(|(at, s)| Item {
                at,
                body: Body::Json(s),
                context: None,
            }));
        }
    }
}

fn finish_line(mut line: Line) -> Line {
    if line.bytes.last() == Some(&b'\r') {
        line.bytes.pop();
        line.len -= 1;
    }
    if line.no == 1 && line.bytes.starts_with(b"\xEF\xBB\xBF") {
        line.bytes.drain(..3);
        line.len -= 3;
    }
    line
}

/// One logical CSV record: its first line number, its bytes (capped) and its full length.
struct CsvRecord {
    no: u64,
    bytes: Vec<u8>,
    len: u64,
}

/// CSV rows as column → cell objects.
pub(crate) struct CsvRows<R> {
    lines: LineReader<R>,
    header: Option<Vec<String>>,
    row: u64,
}

impl<R: BufRead> CsvRows<R> {
    /// The next logical CSV record (lines joined while a quote is open).
    fn record(&mut self) -> Option<Result<CsvRecord, Failed>> {
        let first = loop {
            match self.lines.next_line()? {
                Ok(l) if l.len == 0 => continue,
                other => break other,
            }
        };
        let first = match first {
            Ok(l) => l,
            Err(f) => return Some(Err(f)),
        };
        let (no, mut bytes, mut len, mut quotes) = (first.no, first.bytes, first.len, first.quotes);
        while quotes % 2 == 1 {
            match self.lines.next_line() {
                Some(Ok(l)) => {
                    len += l.len + 1;
                    quotes += l.quotes;
                    let room = usize::try_from(MAX_RECORD_BYTES)
                        .unwrap_or(usize::MAX)
                        .saturating_sub(bytes.len());
                    bytes.push(b'\n');
                    bytes.extend_from_slice(&l.bytes[..l.bytes.len().min(room)]);
                    bytes.truncate(usize::try_from(MAX_RECORD_BYTES).unwrap_or(usize::MAX));
                }
                Some(Err(f)) => return Some(Err(f)),
                None => break,
            }
        }
        Some(Ok(CsvRecord { no, bytes, len }))
    }

    fn next(&mut self) -> Option<Result<Item, Failed>> {
        loop {
            let CsvRecord { no, bytes, len } = match self.record()? {
                Ok(r) => r,
                Err(f) => return Some(Err(f)),
            };
            let Some(header) = &self.header else {
                match parse_cells(&bytes) {
                    Ok(cells) => {
                        let names = cells
                            .iter()
                            .map(|c| clean_header(&String::from_utf8_lossy(c)))
                            .collect();
                        self.header = Some(names);
                        continue;
                    }
                    Err(e) => {
                        let reason = format!("unreadable CSV header: {e}");
                        return Some(Err(Failed {
                            at: format!("line {no}"),
                            raw: bytes,
                            reason,
                        }));
                    }
                }
            };
            self.row += 1;
            let at = format!("row {}", self.row);
            if len > MAX_RECORD_BYTES {
                let reason = format!("row longer than {MAX_RECORD_BYTES} bytes ({len} bytes)");
                return Some(Err(Failed {
                    at,
                    raw: bytes,
                    reason,
                }));
            }
            let cells = match parse_cells(&bytes) {
                Ok(c) => c,
                Err(e) => {
                    return Some(Err(Failed {
                        at,
                        raw: bytes,
                        reason: format!("unreadable CSV row: {e}"),
                    }));
                }
            };
            if cells.len() != header.len() {
                let reason = format!(
                    "row has {} cells, the header has {}",
                    cells.len(),
                    header.len()
                );
                return Some(Err(Failed {
                    at,
                    raw: bytes,
                    reason,
                }));
            }
            let mut map: Obj<'static> = Vec::with_capacity(header.len());
            for (name, cell) in header.iter().zip(cells) {
                if cell.is_empty() {
                    continue;
                }
                match String::from_utf8(cell) {
                    Ok(s) => map.push((Cow::Owned(name.clone()), Node::Str(Cow::Owned(s)))),
                    Err(_) => {
                        let reason = format!("field {name}: invalid UTF-8");
                        return Some(Err(Failed {
                            at,
                            raw: bytes,
                            reason,
                        }));
                    }
                }
            }
            return Some(match String::from_utf8(bytes) {
                Ok(raw) => Ok(Item {
                    at,
                    body: Body::Row(map, raw),
                    context: None,
                }),
                Err(e) => Err(Failed {
                    at,
                    raw: e.into_bytes(),
                    reason: "invalid UTF-8".to_owned(),
                }),
            });
        }
    }
}

/// Splits one CSV record into its cells.
fn parse_cells(bytes: &[u8]) -> Result<Vec<Vec<u8>>, csv::Error> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rec = csv::ByteRecord::new();
    rdr.read_byte_record(&mut rec)?;
    Ok(rec.iter().map(<[u8]>::to_vec).collect())
}

/// `TimeGenerated [UTC]` → `TimeGenerated`.
fn clean_header(name: &str) -> String {
    let n = name.trim().trim_start_matches('\u{feff}');
    n.strip_suffix("[UTC]").map_or(n, str::trim_end).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_first_bytes() {
        assert_eq!(detect_format(b"  [{\"a\":1}]"), Format::JsonArray);
        assert_eq!(
            detect_format(b"{\"a\":{\"b\":\"}\"}}\n{\"a\":2}"),
            Format::JsonLines
        );
        assert_eq!(
            detect_format(b"\xEF\xBB\xBF{\"records\": [\n  {"),
            Format::JsonDocument
        );
        assert_eq!(
            detect_format(b"{\n  \"value\": []\n}"),
            Format::JsonDocument
        );
        assert_eq!(
            detect_format(b"{\"truncated\": \"long first line"),
            Format::JsonLines
        );
        assert_eq!(detect_format(b"TimeGenerated [UTC],Id\n"), Format::Csv);
    }

    #[test]
    fn csv_rows_span_lines_inside_quotes() {
        let input = "TimeGenerated [UTC],Id,Status\n2024-01-01T00:00:00Z,a,\"{\"\"x\"\":\n1}\"\n\n2024-01-01T00:00:01Z,b,\n";
        let mut f = Framer::new(input.as_bytes(), Format::Csv);
        let Some(Ok(Item {
            at,
            body: Body::Row(row, _),
            ..
        })) = f.next()
        else {
            panic!("row 1")
        };
        assert_eq!(at, "row 1");
        let cell = |row: &Obj<'_>, k: &str| {
            super::super::tree::get_ci(row, k)
                .and_then(Node::as_str)
                .map(str::to_owned)
        };
        assert_eq!(cell(&row, "Status").as_deref(), Some("{\"x\":\n1}"));
        assert_eq!(
            cell(&row, "TimeGenerated").as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        let Some(Ok(Item {
            body: Body::Row(row, _),
            ..
        })) = f.next()
        else {
            panic!("row 2")
        };
        assert_eq!(cell(&row, "Status"), None);
        assert!(f.next().is_none());
    }
}
