//! Self-contained HTML reports: one page with inline CSS and inline SVG
//! charts, no script and nothing fetched from the network. Every piece of
//! text that comes from a scenario is escaped.

use std::fmt::Write as _;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An inline chart: an id, a heading, the SVG text, and the PNG file name.
#[derive(Debug, Clone)]
pub struct InlineChart {
    /// Element id (stable, for tests and links).
    pub id: String,
    /// Heading.
    pub title: String,
    /// SVG text (produced by capsim, not user text).
    pub svg: String,
    /// PNG file beside the page.
    pub png: String,
}

/// One row of the assumptions table.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumption {
    /// What.
    pub item: String,
    /// Value used.
    pub value: String,
    /// Where it comes from (or "assumption").
    pub source: String,
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1100px;color:#1a1a1a;line-height:1.45}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}\
.sub{color:#555;margin-top:0}table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}\
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}th{background:#f4f6f8}\
td.num{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1rem 0}figure svg{max-width:100%;height:auto}\
figcaption{font-size:.85rem;color:#555}.front{background:#eef6ff}.bad{color:#a40000}ul.files li{margin:.1rem 0}";

/// A whole page.
pub fn page(title: &str, subtitle: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{t}</h1>\n<p class=\"sub\">{s}</p>\n{body}\n</body>\n</html>\n",
        t = esc(title),
        s = esc(subtitle)
    )
}

/// A table; cells are escaped; cells that parse as numbers are right-aligned.
/// `highlight` marks rows with the `front` class.
pub fn table(headers: &[&str], rows: &[Vec<String>], highlight: &[bool]) -> String {
    let mut t = String::from("<table>\n<thead><tr>");
    for h in headers {
        let _ = write!(t, "<th>{}</th>", esc(h));
    }
    t.push_str("</tr></thead>\n<tbody>\n");
    for (i, r) in rows.iter().enumerate() {
        let class = if highlight.get(i).copied().unwrap_or(false) {
            " class=\"front\""
        } else {
            ""
        };
        let _ = write!(t, "<tr{class}>");
        for c in r {
            let num = c
                .trim_start_matches(['$', '-'])
                .chars()
                .next()
                .is_some_and(|ch| ch.is_ascii_digit());
            let _ = write!(
                t,
                "<td{}>{}</td>",
                if num { " class=\"num\"" } else { "" },
                esc(c)
            );
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</tbody>\n</table>\n");
    t
}

/// A section of inline charts.
pub fn charts(charts: &[InlineChart]) -> String {
    let mut s = String::new();
    for c in charts {
        let _ = write!(
            s,
            "<figure id=\"{id}\">\n{svg}\n<figcaption>{title} — <a href=\"{png}\">PNG</a></figcaption>\n</figure>\n",
            id = esc(&c.id),
            svg = c.svg,
            title = esc(&c.title),
            png = esc(&c.png)
        );
    }
    s
}

/// The assumptions table.
pub fn assumptions(rows: &[Assumption]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|a| vec![a.item.clone(), a.value.clone(), a.source.clone()])
        .collect();
    table(&["item", "value used", "source"], &rows, &[])
}

/// A list of links to files beside the page.
pub fn files(names: &[&str]) -> String {
    let mut s = String::from("<ul class=\"files\">\n");
    for n in names {
        let _ = writeln!(s, "<li><a href=\"{0}\">{0}</a></li>", esc(n));
    }
    s.push_str("</ul>\n");
    s
}

/// A list of notes.
pub fn notes(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut s = String::from("<ul>\n");
    for n in items {
        let _ = writeln!(s, "<li>{}</li>", esc(n));
    }
    s.push_str("</ul>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_scenario_text() {
        let p = page(
            "<script>alert(1)</script>",
            "a & b",
            &table(&["x"], &[vec!["<b>\"q\"</b>".into()]], &[]),
        );
        assert!(!p.contains("<script>alert"));
        assert!(p.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(p.contains("a &amp; b"));
        assert!(p.contains("&lt;b&gt;&quot;q&quot;&lt;/b&gt;"));
    }
}
