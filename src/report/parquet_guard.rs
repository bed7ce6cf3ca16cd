//! Checks the structure of an untrusted Parquet file before polars decodes
//! it. polars sizes its buffers from what the file claims — the footer's
//! list lengths, each page's value count — and a damaged claim (2³² row
//! groups in a 40-byte footer, 2⁶⁴ values in a 50-byte page) aborts the
//! process on allocation, which no error handling can catch. So the footer
//! and every page header are walked here first (Thrift compact protocol,
//! as the Parquet format specifies them) and each claim is held to the
//! bytes that carry it: a list of n elements needs at least n bytes, a
//! string its length, a page its compressed size; no page unpacks to more
//! than [`MAX_PAGE_BYTES`]; a data page holds at most its row group's rows
//! (trace columns are flat) and a dictionary at most the caller's row bound.
//!
//! Source: Apache Parquet format, `parquet.thrift` (FileMetaData, RowGroup,
//! ColumnChunk, ColumnMetaData, PageHeader) and the Thrift compact
//! protocol specification.

/// Largest page capsim lets polars unpack (compressed or not).
pub const MAX_PAGE_BYTES: i64 = 256 << 20;

/// Most columns (schema elements, column chunks per row group, key-value
/// pairs) and row groups read: far above a trace file's, low enough that
/// polars' vectors sized from them stay small.
const MAX_COLUMNS: usize = 10_000;
const MAX_ROW_GROUPS: usize = 1_000_000;

/// Nesting depth of Thrift structs and lists accepted (Parquet's own
/// structures are a few levels deep).
const MAX_DEPTH: u32 = 32;

/// A decoded Thrift value: integers and the nested structures the checks
/// read; strings and doubles are only skipped.
#[derive(Debug)]
enum V {
    Int(i64),
    Skipped,
    /// Fields: id, wire type, value.
    Struct(Vec<(i16, u8, V)>),
    /// Element wire type, elements.
    List(u8, Vec<V>),
}

impl V {
    fn field(&self, id: i16) -> Option<&V> {
        match self {
            V::Struct(fields) => fields.iter().find(|(f, _, _)| *f == id).map(|(_, _, v)| v),
            _ => None,
        }
    }

    fn int(&self, id: i16) -> Option<i64> {
        match self.field(id) {
            Some(V::Int(i)) => Some(*i),
            _ => None,
        }
    }

    fn list(&self, id: i16) -> &[V] {
        match self.field(id) {
            Some(V::List(_, l)) => l,
            _ => &[],
        }
    }

    /// Field `id`, where polars reads a list of at most `max` elements (of
    /// structs when `of_structs`): polars trusts the wire and sizes its
    /// vector from the list header, whatever the field's type says.
    fn expect_list(&self, id: i16, max: usize, of_structs: bool, what: &str) -> R<()> {
        let V::Struct(fields) = self else {
            return Ok(());
        };
        for (_, ty, v) in fields.iter().filter(|(f, _, _)| *f == id) {
            match v {
                V::List(et, items)
                    if (*ty == 9 || *ty == 10)
                        && items.len() <= max
                        && (!of_structs || *et == 12 || items.is_empty()) => {}
                V::List(_, items) if items.len() > max => {
                    return Err(format!(
                        "{what} has {} entries; at most {max} are read",
                        items.len()
                    ));
                }
                _ => return Err(format!("{what} is not a list of the expected kind")),
            }
        }
        Ok(())
    }

    /// Field `id`, where polars reads a struct.
    fn expect_struct(&self, id: i16, what: &str) -> R<()> {
        let V::Struct(fields) = self else {
            return Ok(());
        };
        match fields.iter().find(|(f, _, _)| *f == id) {
            Some((_, ty, _)) if *ty != 12 => Err(format!("{what} is not a structure")),
            _ => Ok(()),
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
}

type R<T> = Result<T, String>;

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn byte(&mut self) -> R<u8> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or("it ends in the middle of a value")?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> R<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number is longer than ten bytes".into())
    }

    fn zigzag(&mut self) -> R<i64> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// A count the following bytes must carry: at least one byte each.
    fn count(&mut self, n: u64, per: usize) -> R<usize> {
        let n = usize::try_from(n).map_err(|_| "a length does not fit in memory")?;
        if n.saturating_mul(per) > self.remaining() {
            return Err(format!(
                "it claims {n} elements where {} bytes remain",
                self.remaining()
            ));
        }
        Ok(n)
    }

    fn value(&mut self, ty: u8) -> R<V> {
        match ty {
            1 | 2 => Ok(V::Int(i64::from(ty == 1))),
            3 => Ok(V::Int(i64::from(self.byte()? as i8))),
            4..=6 => Ok(V::Int(self.zigzag()?)),
            7 => {
                self.count(8, 1)?;
                self.pos += 8;
                Ok(V::Skipped)
            }
            8 => {
                let raw = self.varint()?;
                let n = self.count(raw, 1)?;
                self.pos += n;
                Ok(V::Skipped)
            }
            9 | 10 => {
                let header = self.byte()?;
                let et = header & 0x0f;
                let raw = match header >> 4 {
                    15 => self.varint()?,
                    n => u64::from(n),
                };
                let n = self.count(raw, 1)?;
                self.nest(|r| {
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        // A boolean element is a byte of its own.
                        items.push(if et == 1 || et == 2 {
                            V::Int(i64::from(r.byte()? == 1))
                        } else {
                            r.value(et)?
                        });
                    }
                    Ok(V::List(et, items))
                })
            }
            11 => {
                let raw = self.varint()?;
                let n = self.count(raw, 2)?;
                if n == 0 {
                    return Ok(V::Skipped);
                }
                let kv = self.byte()?;
                self.nest(|r| {
                    for _ in 0..n {
                        r.value(kv >> 4)?;
                        r.value(kv & 0x0f)?;
                    }
                    Ok(V::Skipped)
                })
            }
            12 => self.nest(|r| r.fields().map(V::Struct)),
            other => Err(format!("unknown Thrift type {other}")),
        }
    }

    fn nest(&mut self, f: impl FnOnce(&mut Self) -> R<V>) -> R<V> {
        if self.depth >= MAX_DEPTH {
            return Err("its structures nest too deep".into());
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn fields(&mut self) -> R<Vec<(i16, u8, V)>> {
        let mut fields = Vec::new();
        let mut last: i16 = 0;
        loop {
            let header = self.byte()?;
            if header == 0 {
                return Ok(fields);
            }
            let ty = header & 0x0f;
            let id = match header >> 4 {
                0 => i16::try_from(self.zigzag()?).map_err(|_| "a field id is out of range")?,
                delta => last
                    .checked_add(i16::from(delta))
                    .ok_or("a field id is out of range")?,
            };
            last = id;
            let v = self.value(ty)?;
            fields.push((id, ty, v));
        }
    }

    fn strukt(&mut self) -> R<V> {
        self.value(12)
    }
}

/// Checks `bytes`, a whole Parquet file, for claims its bytes cannot back
/// or that would make polars allocate without bound.
pub fn check(bytes: &[u8], max_rows: usize) -> Result<(), String> {
    let len = bytes.len();
    if len < 12 || &bytes[..4] != b"PAR1" || &bytes[len - 4..] != b"PAR1" {
        return Err("not a Parquet file (no PAR1 marks at both ends)".into());
    }
    let footer_len =
        u32::from_le_bytes(bytes[len - 8..len - 4].try_into().expect("4 bytes")) as usize;
    if footer_len > len - 12 {
        return Err(format!(
            "its footer claims {footer_len} bytes of a {len}-byte file"
        ));
    }
    let start = len - 8 - footer_len;
    let footer = Reader {
        bytes: &bytes[start..len - 8],
        pos: 0,
        depth: 0,
    }
    .strukt()
    .map_err(|e| format!("its footer is damaged: {e}"))?;
    let limit = |what: &str, v: i64, max: i64| -> R<()> {
        if (0..=max).contains(&v) {
            Ok(())
        } else {
            Err(format!("{what} is {v}, expected 0 to {max}"))
        }
    };
    let max_rows = max_rows as i64;
    let bad = |e: String| format!("its footer is damaged: {e}");
    footer
        .expect_list(2, MAX_COLUMNS, true, "the schema")
        .map_err(bad)?;
    footer
        .expect_list(4, MAX_ROW_GROUPS, true, "the row-group list")
        .map_err(bad)?;
    footer
        .expect_list(5, MAX_COLUMNS, true, "the key-value metadata")
        .map_err(bad)?;
    footer
        .expect_list(7, MAX_COLUMNS, true, "the column orders")
        .map_err(bad)?;
    limit("its row count", footer.int(3).unwrap_or(0), max_rows)?;
    for group in footer.list(4) {
        group
            .expect_list(1, MAX_COLUMNS, true, "a row group's columns")
            .map_err(bad)?;
        group
            .expect_list(4, MAX_COLUMNS, true, "a row group's sorting columns")
            .map_err(bad)?;
        let rows = group.int(3).unwrap_or(0);
        limit("a row group's row count", rows, max_rows)?;
        for chunk in group.list(1) {
            chunk.expect_struct(3, "a column's metadata").map_err(bad)?;
            chunk
                .expect_struct(8, "a column's encryption metadata")
                .map_err(bad)?;
            let meta = chunk
                .field(3)
                .ok_or("a column chunk has no metadata (columns in other files are not read)")?;
            meta.expect_struct(12, "a column's statistics")
                .map_err(bad)?;
            limit("a column's value count", meta.int(5).unwrap_or(0), rows)?;
            let compressed = meta.int(7).unwrap_or(0);
            limit("a column's size", compressed, len as i64)?;
            let data = meta.int(9).unwrap_or(0);
            let first = match meta.int(11) {
                Some(d) if d > 0 => d.min(data),
                _ => data,
            };
            limit("a column's offset", first, len as i64)?;
            let end = (first as usize).saturating_add(compressed as usize);
            if end > len {
                return Err(format!(
                    "a column runs past the end of the file ({end} > {len})"
                ));
            }
            check_pages(&bytes[first as usize..end], rows, max_rows)?;
        }
    }
    Ok(())
}

/// Walks the page headers of one column chunk.
fn check_pages(chunk: &[u8], rows: i64, max_rows: i64) -> Result<(), String> {
    let mut pos = 0;
    while pos < chunk.len() {
        let mut r = Reader {
            bytes: &chunk[pos..],
            pos: 0,
            depth: 0,
        };
        let header = r
            .strukt()
            .map_err(|e| format!("a page header is damaged: {e}"))?;
        let uncompressed = header.int(2).unwrap_or(0);
        let compressed = header.int(3).unwrap_or(0);
        if !(0..=MAX_PAGE_BYTES).contains(&uncompressed)
            || !(0..=MAX_PAGE_BYTES).contains(&compressed)
        {
            return Err(format!(
                "a page claims {uncompressed} bytes ({compressed} compressed); at most {MAX_PAGE_BYTES} are read"
            ));
        }
        let values = |field: i16| header.field(field).and_then(|h| h.int(1));
        for (field, max, what) in [
            (5, rows, "a data page"),
            (8, rows, "a data page"),
            (7, max_rows, "a dictionary page"),
        ] {
            if let Some(n) = values(field)
                && !(0..=max).contains(&n)
            {
                return Err(format!(
                    "{what} claims {n} values; its row group has {rows} rows"
                ));
            }
        }
        pos = pos
            .saturating_add(r.pos)
            .saturating_add(compressed as usize);
    }
    if pos > chunk.len() {
        return Err("a page runs past the end of its column".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_protocol_claims_are_held_to_their_bytes() {
        // A struct with field 1 = i32 5 (zigzag 10), then stop.
        let mut r = Reader {
            bytes: &[0x15, 0x0a, 0x00],
            pos: 0,
            depth: 0,
        };
        assert_eq!(r.strukt().unwrap().int(1), Some(5));
        // A list claiming 2³² elements in three bytes.
        let mut r = Reader {
            bytes: &[0x19, 0xf5, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00],
            pos: 0,
            depth: 0,
        };
        assert!(r.strukt().unwrap_err().contains("claims"));
        // A string longer than what follows.
        let mut r = Reader {
            bytes: &[0x18, 0x40, b'a', 0x00],
            pos: 0,
            depth: 0,
        };
        assert!(r.strukt().is_err());
        // Structs nested without end.
        let deep = vec![0x1c; 100];
        let mut r = Reader {
            bytes: &deep,
            pos: 0,
            depth: 0,
        };
        assert!(r.strukt().unwrap_err().contains("nest"));
        // Not Parquet at all.
        assert!(check(b"hello", 10).is_err());
        assert!(check(b"PAR1\xff\xff\xff\x7fPAR1", 10).is_err());
    }
}
