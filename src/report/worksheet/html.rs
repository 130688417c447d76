//! The worksheet document as one self-contained HTML file to read on screen and print: inline
//! CSS, no scripts and nothing loaded from elsewhere, a table of contents linking to every
//! section, and print rules (landscape pages, a page per section, table headers repeated and
//! rows kept whole). Every text is escaped; anchors are made of `[a-z0-9-]` only.

use std::fmt::Write as _;

use super::{Block, Document, Inline, Text, Timeline};

const STYLE: &str = r#"
:root { color-scheme: light; }
body {
  font: 10.5pt/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1b1f24; background: #fff; margin: 2rem auto; max-width: 78rem; padding: 0 1.5rem;
}
h1 { font-size: 1.7rem; margin: 0 0 .4rem; }
h2 { font-size: 1.35rem; color: #1f4e79; border-bottom: 2px solid #1f4e79; padding-bottom: .2rem; margin: 2.6rem 0 .8rem; }
h3 { font-size: 1.1rem; margin: 1.8rem 0 .4rem; }
header p { margin: .3rem 0; color: #3a4350; }
nav.contents { border: 1px solid #c9d2de; background: #f5f7fa; padding: .5rem 1.4rem .8rem; margin: 1.2rem 0; }
nav.contents h2 { border: 0; margin: .4rem 0; font-size: 1.1rem; }
nav.contents ol { margin: .2rem 0; padding-left: 1.4rem; }
nav.contents ol ol { columns: 2; column-gap: 2rem; font-size: .92em; }
nav.contents a { color: #1f4e79; text-decoration: none; }
nav.contents a:hover { text-decoration: underline; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1.1rem; font-size: .9em; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #c9d0d9; padding: .28rem .45rem; text-align: left; vertical-align: top; }
thead th { background: #e6edf5; }
tbody tr:nth-child(even) { background: #f7f9fb; }
code { font-family: ui-monospace, "Cascadia Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: .92em; overflow-wrap: break-word; }
em.missing { color: #a12622; }
.time { white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1.2rem; margin: .4rem 0 .8rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
a { color: #1f4e79; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { margin: 0; max-width: none; padding: 0; font-size: 8.5pt; }
  nav.contents { break-after: page; background: none; }
  main > section { break-before: page; }
  main > section > h2 { margin-top: 0; }
  h2, h3, caption { break-after: avoid; }
  dl.facts, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
"#;

pub(super) fn render(doc: &Document) -> String {
    let mut out = String::new();
    let title = escape(&doc.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{title}</h1>\n"
    );
    blocks(&mut out, &doc.preamble);
    out.push_str(
        "</header>\n<nav class=\"contents\" aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n",
    );
    for section in &doc.sections {
        let _ = write!(out, "<li>{}", link(&section.id, &section.title));
        if !section.parts.is_empty() {
            out.push_str("\n<ol>\n");
            for part in &section.parts {
                let _ = writeln!(out, "<li>{}</li>", link(&part.id, &part.title));
            }
            out.push_str("</ol>\n");
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n</nav>\n<main>\n");
    for section in &doc.sections {
        let _ = writeln!(
            out,
            "<section id=\"{}\">\n<h2>{}</h2>",
            escape(&section.id),
            escape(&section.title)
        );
        blocks(&mut out, &section.blocks);
        for part in &section.parts {
            let _ = writeln!(
                out,
                "<div class=\"part\" id=\"{}\">\n<h3>{}</h3>",
                escape(&part.id),
                escape(&part.title)
            );
            blocks(&mut out, &part.blocks);
            out.push_str("</div>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn link(id: &str, text: &str) -> String {
    format!("<a href=\"#{}\">{}</a>", escape(id), escape(text))
}

fn blocks(out: &mut String, blocks: &[Block]) {
    for block in blocks {
        match block {
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", inline(text));
            }
            Block::Facts(facts) => {
                out.push_str("<dl class=\"facts\">\n");
                for (label, text) in facts {
                    let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(label), inline(text));
                }
                out.push_str("</dl>\n");
            }
            Block::Table(table) => {
                out.push_str("<table>\n");
                if let Some(caption) = table.caption {
                    let _ = writeln!(out, "<caption>{}</caption>", escape(caption));
                }
                out.push_str("<thead><tr>");
                for header in &table.headers {
                    let _ = write!(out, "<th scope=\"col\">{}</th>", escape(header));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in &table.rows {
                    out.push_str("<tr>");
                    for cell in row {
                        let _ = write!(out, "<td>{}</td>", inline(cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
            Block::Timeline(timeline) => chart(out, timeline),
            Block::Numbered(items) => {
                out.push_str("<ol>\n");
                for item in items {
                    let _ = writeln!(out, "<li>{}</li>", inline(item));
                }
                out.push_str("</ol>\n");
            }
        }
    }
}

/// A timeline as inline SVG: one bar per row from its start to its end (or to the right edge
/// while open), coloured by severity, with the row's label and the axis's two dates.
fn chart(out: &mut String, timeline: &Timeline) {
    const WIDTH: f64 = 900.0;
    const LABEL: f64 = 340.0;
    const ROW: f64 = 16.0;
    let from = timeline.from.as_second();
    let span = (timeline.to.as_second() - from).max(1);
    #[allow(clippy::cast_precision_loss, reason = "pixels")]
    let x = |t: jiff::Timestamp| {
        let offset = (t.as_second() - from).clamp(0, span);
        LABEL + (WIDTH - LABEL) * offset as f64 / span as f64
    };
    #[allow(clippy::cast_precision_loss, reason = "a handful of rows")]
    let height = ROW * (timeline.rows.len() as f64 + 1.5);
    let _ = writeln!(
        out,
        "<svg class=\"timeline\" role=\"img\" aria-label=\"When each finding was open\" \
         viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\" \
         font-size=\"10\" font-family=\"sans-serif\">"
    );
    for (i, row) in timeline.rows.iter().enumerate() {
        #[allow(clippy::cast_precision_loss, reason = "a handful of rows")]
        let y = ROW * i as f64;
        let (start, end) = (x(row.start), x(row.end.unwrap_or(timeline.to)));
        let colour = match row.severity.as_str() {
            "critical" => "#a12622",
            "warning" => "#c77c02",
            _ => "#5b6b7f",
        };
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"{:.1}\">{}</text><rect x=\"{start:.1}\" y=\"{:.1}\" \
             width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"{}><title>{}</title></rect>",
            y + ROW * 0.75,
            escape(&row.label),
            y + ROW * 0.2,
            (end - start).max(2.0),
            ROW * 0.6,
            if row.end.is_none() {
                ""
            } else {
                " fill-opacity=\"0.55\""
            },
            escape(&row.label),
        );
    }
    #[allow(clippy::cast_precision_loss, reason = "a handful of rows")]
    let axis = ROW * timeline.rows.len() as f64 + ROW;
    let _ = writeln!(
        out,
        "<text x=\"{LABEL}\" y=\"{axis:.1}\">{}</text>\
         <text x=\"{WIDTH}\" y=\"{axis:.1}\" text-anchor=\"end\">{}</text>\n</svg>",
        escape(&timeline.from.strftime("%Y-%m-%d").to_string()),
        escape(&timeline.to.strftime("%Y-%m-%d %H:%M").to_string()),
    );
}

fn inline(text: &Text) -> String {
    text.0
        .iter()
        .map(|piece| match piece {
            Inline::Plain(s) => escape(s),
            Inline::Code(s) => format!("<code>{}</code>", breakable(s)),
            Inline::Time(s) => format!("<span class=\"time\">{}</span>", escape(s)),
            Inline::Missing(s) => format!("<em class=\"missing\">{}</em>", escape(s)),
            Inline::Link { text, id } => link(id, text),
        })
        .collect()
}

/// Escaped, and allowed to break before a `/` that does not start it: addresses and paths
/// wrap at their separators (and elsewhere only when one part alone is wider than its
/// column).
fn breakable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in text.split('/').enumerate() {
        if i > 0 {
            out.push_str(if i == 1 && out.is_empty() {
                "/"
            } else {
                "<wbr>/"
            });
        }
        out.push_str(&escape(part));
    }
    out
}

/// Text and attribute values alike: the five characters HTML gives a meaning.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_characters_html_gives_a_meaning() {
        assert_eq!(
            escape(r#"<img src="x" onerror='y'> & co"#),
            "&lt;img src=&quot;x&quot; onerror=&#39;y&#39;&gt; &amp; co"
        );
        assert_eq!(breakable("/srv/a&b/c"), "/srv<wbr>/a&amp;b<wbr>/c");
        assert_eq!(breakable("redmond/database"), "redmond<wbr>/database");
    }
}
