//! Reading the user's files: regular files only (a FIFO or a device would
//! block or never end), of bounded size, decompressed within a bound, and
//! quoted back in messages at a readable length.
//!
//! Every file capsim reads on a user's behalf comes through here.

use std::io::Read;
use std::path::Path;

/// Largest scenario, sweep, task definition, manifest, catalog or shard
/// description (16 MiB). A shard's `jobs.jsonl` is read with the trace
/// bound instead (a million jobs' records are far larger).
pub const MAX_TEXT_BYTES: u64 = 16 << 20;

/// Largest trace file, and largest trace once decompressed (1 GiB: the
/// NASA-HTTP 1995 trace is 200 MB uncompressed; `$CAPSIM_MAX_TRACE_BYTES`
/// raises it).
pub const MAX_TRACE_BYTES: u64 = 1 << 30;

/// Largest `jobs.jsonl` of one shard (1 GiB).
pub const MAX_JOBS_BYTES: u64 = 1 << 30;

/// The trace bound in force: [`MAX_TRACE_BYTES`] unless
/// `$CAPSIM_MAX_TRACE_BYTES` gives another number of bytes.
pub fn max_trace_bytes() -> u64 {
    std::env::var("CAPSIM_MAX_TRACE_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(MAX_TRACE_BYTES)
}

/// The bytes of `path`, a regular file of at most `max` bytes.
pub fn read_bytes(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    // Opened without blocking (a FIFO would wait for a writer for ever),
    // then checked on the open file, so nothing can be swapped in between.
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let f = options
        .open(path)
        .map_err(|e| format!("cannot read it: {e}"))?;
    let meta = f.metadata().map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "not a regular file ({}); give a file",
            kind(&meta.file_type())
        ));
    }
    if meta.len() > max {
        return Err(format!(
            "{} bytes, more than the {} bytes capsim reads from such a file",
            meta.len(),
            max
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow between the check and the read: read one byte more
    // than allowed to notice.
    f.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "more than the {max} bytes capsim reads from such a file"
        ));
    }
    Ok(bytes)
}

/// The UTF-8 text of `path` (a leading byte-order mark dropped), a regular
/// file of at most `max` bytes.
pub fn read_text(path: &Path, max: u64) -> Result<String, String> {
    let bytes = read_bytes(path, max)?;
    let mut text = String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// Decompresses gzip `bytes` (several members allowed), refusing more than
/// `max` bytes of output (a small file can expand a thousandfold).
pub fn gunzip(bytes: &[u8], max: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot decompress it: {e}"))?;
    if out.len() as u64 > max {
        return Err(format!(
            "it decompresses to more than {max} bytes (set CAPSIM_MAX_TRACE_BYTES to allow more)"
        ));
    }
    Ok(out)
}

/// `s` cut to `max` characters with an ellipsis, for quoting input back.
pub fn excerpt(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}… ({} characters)", &s[..i], s.chars().count()),
    }
}

fn kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bounded_regular_files_are_read() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.txt");
        std::fs::write(&f, "\u{feff}hello").unwrap();
        assert_eq!(read_text(&f, 100).unwrap(), "hello");
        assert!(
            read_text(&f, 3)
                .unwrap_err()
                .contains("more than the 3 bytes")
        );
        assert!(
            read_text(d.path(), 100)
                .unwrap_err()
                .contains("a directory")
        );
        #[cfg(unix)]
        assert!(
            read_text(Path::new("/dev/zero"), 100)
                .unwrap_err()
                .contains("a device")
        );
    }

    #[test]
    fn a_gzip_bomb_is_cut_off() {
        use std::io::Write;
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![b'0'; 10 << 20]).unwrap();
        let small = z.finish().unwrap();
        assert!(small.len() < 100_000);
        assert!(
            gunzip(&small, 1 << 20)
                .unwrap_err()
                .contains("decompresses to more")
        );
        assert_eq!(gunzip(&small, 20 << 20).unwrap().len(), 10 << 20);
    }

    #[test]
    fn excerpts_are_short() {
        assert_eq!(excerpt("abc", 5), "abc");
        let long = "x".repeat(10_000);
        let e = excerpt(&long, 80);
        assert!(
            e.chars().count() < 110 && e.ends_with("(10000 characters)"),
            "{e}"
        );
    }
}
