//! Tables through polars: records (rows of named JSON values) become typed
//! DataFrames written as Parquet and CSV.
//!
//! Column types are inferred per column: booleans, integers (Int64) when
//! every value is a whole number, floats (Float64) when some are not,
//! strings otherwise; a missing value is a null.

use crate::error::Error;
use polars::prelude::*;
use serde_json::Value;
use std::path::Path;

/// A table: named columns and rows of JSON values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows; each has one value per column.
    pub rows: Vec<Vec<Value>>,
}

/// Flattens a JSON object into dotted paths (`latency_ms.p99`); arrays are
/// kept as JSON text.
pub fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        Value::Array(_) => out.push((prefix.to_string(), Value::String(v.to_string()))),
        other => out.push((prefix.to_string(), other.clone())),
    }
}

impl Table {
    /// Builds a table from records (their values moved, not copied: a
    /// month's minutes are a million cells); columns are the union, in
    /// first-seen order.
    pub fn from_records(records: Vec<Vec<(String, Value)>>) -> Table {
        let mut columns: Vec<String> = Vec::new();
        let mut index = std::collections::BTreeMap::new();
        for r in &records {
            for (j, (k, _)) in r.iter().enumerate() {
                // Known at its place (the common case), or by the index.
                if columns.get(j) != Some(k) && !index.contains_key(k) {
                    index.insert(k.clone(), columns.len());
                    columns.push(k.clone());
                }
            }
        }
        let rows = records
            .into_iter()
            .map(|r| {
                let mut row = vec![Value::Null; columns.len()];
                for (j, (k, v)) in r.into_iter().enumerate() {
                    // Records mostly hold the columns in order: the name at
                    // the same place is checked before the index is asked.
                    let at = match columns.get(j) {
                        Some(c) if *c == k => j,
                        _ => index[&k],
                    };
                    row[at] = v;
                }
                row
            })
            .collect();
        Table { columns, rows }
    }

    /// The values of column `i`.
    fn column(&self, i: usize) -> impl Iterator<Item = &Value> {
        self.rows.iter().map(move |r| &r[i])
    }

    /// As a typed polars DataFrame.
    pub fn to_frame(&self) -> PolarsResult<DataFrame> {
        let mut cols = Vec::with_capacity(self.columns.len());
        for (i, name) in self.columns.iter().enumerate() {
            let present: Vec<&Value> = self.column(i).filter(|v| !v.is_null()).collect();
            let name: PlSmallStr = name.as_str().into();
            let col = if !present.is_empty() && present.iter().all(|v| v.is_boolean()) {
                let v: Vec<Option<bool>> = self.column(i).map(Value::as_bool).collect();
                Column::new(name, v)
            } else if present.iter().all(|v| {
                v.is_i64() || (v.is_u64() && v.as_u64().is_some_and(|x| x <= i64::MAX as u64))
            }) && !present.is_empty()
            {
                let v: Vec<Option<i64>> = self
                    .column(i)
                    .map(|v| v.as_i64().or_else(|| v.as_u64().map(|x| x as i64)))
                    .collect();
                Column::new(name, v)
            } else if present.iter().all(|v| v.is_number()) {
                let v: Vec<Option<f64>> = self.column(i).map(Value::as_f64).collect();
                Column::new(name, v)
            } else {
                let v: Vec<Option<String>> = self
                    .column(i)
                    .map(|v| match v {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    })
                    .collect();
                Column::new(name, v)
            };
            cols.push(col);
        }
        DataFrame::new(self.rows.len(), cols)
    }

    /// Writes `<stem>.parquet` and `<stem>.csv` into `dir`.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<(), Error> {
        let df = self.to_frame().map_err(|e| polars_err(dir, e))?;
        write_frame(df, dir, stem)
    }
}

/// Typed columns built straight from rows, with the types
/// [`Table::to_frame`] infers from the same values as JSON: a month's
/// minutes skip a million JSON cells.
pub struct Columns {
    cols: Vec<Column>,
    rows: usize,
}

impl Columns {
    /// No column yet, for `rows` rows.
    pub fn new(rows: usize) -> Self {
        Columns {
            cols: Vec::new(),
            rows,
        }
    }

    /// Unsigned integers (Int64; a value beyond i64 makes it Float64, as
    /// JSON inference would).
    pub fn ints(mut self, name: &str, v: impl Iterator<Item = Option<u64>> + Clone) -> Self {
        let name: PlSmallStr = name.into();
        let any = v.clone().any(|x| x.is_some());
        let col = if !any {
            Column::new(name, v.map(|_| None::<f64>).collect::<Vec<_>>())
        } else if v.clone().flatten().all(|x| x <= i64::MAX as u64) {
            Column::new(name, v.map(|x| x.map(|x| x as i64)).collect::<Vec<_>>())
        } else {
            Column::new(name, v.map(|x| x.map(|x| x as f64)).collect::<Vec<_>>())
        };
        self.cols.push(col);
        self
    }

    /// Floats (Float64; non-finite values are nulls, as in JSON).
    pub fn floats(mut self, name: &str, v: impl Iterator<Item = Option<f64>>) -> Self {
        let v: Vec<Option<f64>> = v.map(|x| x.filter(|x| x.is_finite())).collect();
        self.cols.push(Column::new(name.into(), v));
        self
    }

    /// Booleans (Boolean; with no value at all, a Float64 column of nulls,
    /// as JSON inference would).
    pub fn bools(mut self, name: &str, v: impl Iterator<Item = Option<bool>>) -> Self {
        let v: Vec<Option<bool>> = v.collect();
        let col = if v.iter().any(Option::is_some) {
            Column::new(name.into(), v)
        } else {
            Column::new(
                name.into(),
                v.iter().map(|_| None::<f64>).collect::<Vec<_>>(),
            )
        };
        self.cols.push(col);
        self
    }

    /// As a DataFrame.
    pub fn frame(self) -> PolarsResult<DataFrame> {
        DataFrame::new(self.rows, self.cols)
    }

    /// Writes `<stem>.parquet` and `<stem>.csv` into `dir`.
    pub fn write(self, dir: &Path, stem: &str) -> Result<(), Error> {
        let df = self.frame().map_err(|e| polars_err(dir, e))?;
        write_frame(df, dir, stem)
    }
}

/// Writes a frame as `<stem>.parquet` and `<stem>.csv` into `dir`.
fn write_frame(mut df: DataFrame, dir: &Path, stem: &str) -> Result<(), Error> {
    let pq = dir.join(format!("{stem}.parquet"));
    let f = crate::report::fsio::create(&pq).map_err(|error| Error::Output {
        path: pq.clone(),
        error,
    })?;
    ParquetWriter::new(f)
        .finish(&mut df)
        .map_err(|e| polars_err(&pq, e))?;
    let csv = dir.join(format!("{stem}.csv"));
    let mut f = crate::report::fsio::create(&csv).map_err(|error| Error::Output {
        path: csv.clone(),
        error,
    })?;
    CsvWriter::new(&mut f)
        .finish(&mut df)
        .map_err(|e| polars_err(&csv, e))?;
    Ok(())
}

fn polars_err(path: &Path, e: PolarsError) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        error: std::io::Error::other(e.to_string()),
    }
}

/// Reads a Parquet file into a DataFrame.
pub fn read_parquet(path: &Path, max_rows: usize) -> Result<DataFrame, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let max = crate::input::max_trace_bytes();
    if !meta.is_file() || meta.len() > max {
        return Err(format!(
            "{}: not a regular file of at most {max} bytes",
            path.display()
        ));
    }
    let read = || -> Result<DataFrame, String> {
        check_pages(path, max, max_rows)?;
        let f = std::fs::File::open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let mut reader = ParquetReader::new(f).read_parallel(ParallelStrategy::None);
        // The footer's own sizes first: a small file may claim billions of
        // rows or gigabytes once decompressed.
        let (rows, bytes) = {
            let m = reader
                .get_metadata()
                .map_err(|e| format!("cannot read Parquet {}: {e}", path.display()))?;
            let bytes: u64 = m
                .row_groups
                .iter()
                .map(|g| g.total_byte_size() as u64)
                .fold(0, u64::saturating_add);
            (m.num_rows, bytes)
        };
        if rows > max_rows || bytes > max {
            return Err(format!(
                "{}: the Parquet file holds {rows} rows and {bytes} bytes uncompressed; at most {max_rows} rows and {max} bytes are read",
                path.display()
            ));
        }
        reader
            .finish()
            .map_err(|e| format!("cannot read Parquet {}: {e}", path.display()))
    };
    // polars asserts rather than errs on some damaged files: such a panic
    // is contained here and reported as an error naming the file.
    CONTAINED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    CONTAINED.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    out.unwrap_or_else(|_| {
        Err(format!(
            "cannot read Parquet {}: the file is damaged (the Parquet reader stopped on an inconsistency)",
            path.display()
        ))
    })
}

/// Reads the file and checks its structure (`parquet_guard`) before
/// polars is given it.
fn check_pages(path: &Path, max: u64, max_rows: usize) -> Result<(), String> {
    let bytes = crate::input::read_bytes(path, max)?;
    super::parquet_guard::check(&bytes, max_rows)
        .map_err(|e| format!("cannot read Parquet {}: {e}", path.display()))
}

/// Parquet reads in progress whose panics are contained (see [`read_parquet`]).
static CONTAINED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether a panic now would be one [`read_parquet`] contains and reports
/// as an error: a panic hook uses it to stay quiet (the binary) or not
/// to abort (the fuzz targets).
pub fn parquet_panic_contained() -> bool {
    CONTAINED.load(std::sync::atomic::Ordering::SeqCst) > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_are_inferred_per_column() {
        let recs = vec![
            vec![
                ("a".into(), json!(1)),
                ("b".into(), json!(1.5)),
                ("c".into(), json!("x")),
                ("d".into(), json!(true)),
            ],
            vec![
                ("a".into(), json!(2)),
                ("b".into(), json!(2)),
                ("c".into(), Value::Null),
                ("e".into(), json!(3)),
            ],
        ];
        let t = Table::from_records(recs.clone());
        assert_eq!(t.columns, vec!["a", "b", "c", "d", "e"]);
        let df = t.to_frame().unwrap();
        let dtypes: Vec<DataType> = df.dtypes();
        assert_eq!(
            dtypes,
            vec![
                DataType::Int64,
                DataType::Float64,
                DataType::String,
                DataType::Boolean,
                DataType::Int64
            ]
        );
        let dir = tempfile::tempdir().unwrap();
        t.write(dir.path(), "t").unwrap();
        let back = read_parquet(&dir.path().join("t.parquet"), 1_000).unwrap();
        assert_eq!(back.shape(), (2, 5));
        let csv = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
        assert!(csv.starts_with("a,b,c,d,e\n1,1.5,x,true,\n"), "{csv}");
    }

    #[test]
    fn flattening() {
        let mut out = Vec::new();
        flatten(
            "",
            &json!({"x": {"y": 1, "z": [1, 2]}, "w": null}),
            &mut out,
        );
        // Object order is kept (serde_json's preserve_order).
        assert_eq!(out[0], ("x.y".into(), json!(1)));
        assert_eq!(out[1].0, "x.z");
        assert_eq!(out[2], ("w".into(), Value::Null));
    }
}
