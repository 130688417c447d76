//! The worksheet document as GitHub-flavoured Markdown: headings, fact lists, pipe tables.
//! Every name is escaped, so a `|`, `*` or `<` in the desired state stays text.

use std::fmt::Write as _;

use super::{Block, Document, Inline, Text};

pub(super) fn render(doc: &Document) -> String {
    let mut out = format!("# {}\n", escape(&doc.title));
    blocks(&mut out, &doc.preamble);
    for section in &doc.sections {
        let _ = write!(out, "\n## {}\n", escape(&section.title));
        blocks(&mut out, &section.blocks);
        for part in &section.parts {
            let _ = write!(out, "\n### {}\n", escape(&part.title));
            blocks(&mut out, &part.blocks);
        }
    }
    out
}

fn blocks(out: &mut String, blocks: &[Block]) {
    for block in blocks {
        out.push('\n');
        match block {
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{}", inline(text, false));
            }
            Block::Facts(facts) => {
                for (label, text) in facts {
                    let _ = writeln!(out, "- **{label}**: {}", inline(text, false));
                }
            }
            Block::Table(table) => {
                if let Some(caption) = table.caption {
                    let _ = writeln!(out, "**{}**\n", escape(caption));
                }
                let _ = writeln!(out, "| {} |", table.headers.join(" | "));
                let _ = writeln!(out, "|{}", "---|".repeat(table.headers.len()));
                for row in &table.rows {
                    let cells: Vec<String> = row.iter().map(|cell| inline(cell, true)).collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
            }
            // The table that follows carries the same times; Markdown draws no chart.
            Block::Timeline(_) => {
                out.pop();
            }
            Block::Numbered(items) => {
                for (i, item) in items.iter().enumerate() {
                    let _ = writeln!(out, "{}. {}", i + 1, inline(item, false));
                }
            }
        }
    }
}

/// One line of Markdown; `in_table` because a `|` must be escaped even inside a code span
/// there (and only there).
fn inline(text: &Text, in_table: bool) -> String {
    text.0
        .iter()
        .map(|piece| match piece {
            Inline::Plain(s) | Inline::Time(s) => escape(s),
            // The document links only within itself; Markdown renderers make their own
            // heading anchors, so a link would not reliably resolve: the text stands alone.
            Inline::Link { text, .. } => escape(text),
            Inline::Code(s) => code(s, in_table),
            Inline::Missing(s) => format!("*{}*", escape(s)),
        })
        .collect()
}

/// Backslash-escapes what Markdown would read as markup. An underscore between two letters
/// or digits is left alone: GitHub never reads it as emphasis, and names are full of them.
fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\n' | '\r' => out.push(' '),
            '_' if i > 0
                && chars[i - 1].is_alphanumeric()
                && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric()) =>
            {
                out.push('_');
            }
            // A backslash escapes only ASCII punctuation (and breaks the line at the end).
            '\\' if chars.get(i + 1).is_some_and(|n| !n.is_ascii_punctuation()) => {
                out.push('\\');
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A code span that holds any text: a fence longer than any run of backticks inside.
fn code(text: &str, in_table: bool) -> String {
    let mut text = text.replace(['\n', '\r'], " ");
    if in_table {
        text = text.replace('|', "\\|");
    }
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_text() {
        assert_eq!(
            escape("sql_01 _x_ *y* a|b <b>&amp;"),
            "sql_01 \\_x\\_ \\*y\\* a\\|b \\<b\\>\\&amp;"
        );
        assert_eq!(escape("two\nlines"), "two lines");
        assert_eq!(escape(r"sql\RTC \* end\"), r"sql\RTC \\\* end\\");
        assert_eq!(code("a|b", true), "`a\\|b`");
        assert_eq!(code("a|b", false), "`a|b`");
        assert_eq!(code("x `y` ``z", false), "```x `y` ``z```");
        assert_eq!(code("`edge", false), "`` `edge ``");
    }
}
