//! Lays the people's tables out for the terminal they are printed on: the columns that carry
//! prose (a message, a preview, a parity note) wrap to fit its width; the columns an operator
//! copies (an address, a code, an id) never do. Widths are measured as the terminal shows
//! them, colour escapes not counted. Where nothing says how wide the output is (a pipe, a
//! file), nothing wraps. Deciding the width (terminal, `STANDBY_COLUMNS`) is the commands'.

use tabled::builder::Builder;
use tabled::settings::Style;

/// How the output will be shown: coloured or not, and how wide (`None`: never wrap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Terminal {
    pub color: bool,
    pub width: Option<usize>,
    /// Show every row instead of folding alike ones (`-v`).
    pub verbose: bool,
}

/// Side by side, a wrapped column keeps at least this width; where there is less room the
/// wrapped columns go under their row instead, as wide as the terminal.
const MIN_WRAPPED: usize = 24;

/// Text under its row is indented by this much.
const INDENT: &str = "    ";

/// One table column: its header and whether its cells may wrap.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    pub wraps: bool,
}

impl Column {
    pub const fn fixed(header: &'static str) -> Self {
        Self {
            header,
            wraps: false,
        }
    }

    pub const fn wrapping(header: &'static str) -> Self {
        Self {
            header,
            wraps: true,
        }
    }
}

/// The table with a header row and blank borders, each line without trailing blanks. Given a
/// width, the wrapping columns are narrowed (widest first) until a line fits; when even that
/// leaves them too narrow to read, they go under their row, indented.
pub fn table(columns: &[Column], rows: Vec<Vec<String>>, width: Option<usize>) -> String {
    let natural: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |cell| display_width(cell)))
                .chain([c.header.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    match width.map(|w| wrap_widths(columns, &natural, w)) {
        None => render(columns, rows),
        Some(Some(limits)) => {
            let rows = rows
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .zip(&limits)
                        .map(|(cell, limit)| match limit {
                            Some(limit) => fill(&cell, *limit),
                            None => cell,
                        })
                        .collect()
                })
                .collect();
            render(columns, rows)
        }
        Some(None) => stacked(columns, rows, width.unwrap_or_default()),
    }
}

fn render(columns: &[Column], rows: Vec<Vec<String>>) -> String {
    let mut builder = Builder::default();
    builder.push_record(columns.iter().map(|c| c.header.to_owned()));
    for row in rows {
        builder.push_record(row);
    }
    let mut table = builder.build();
    table.with(Style::blank());
    let mut out = String::new();
    for line in table.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The fixed columns as a table, each row followed by its wrapping cells, indented and
/// wrapped to the whole width (each named by its header when there are several).
fn stacked(columns: &[Column], rows: Vec<Vec<String>>, width: usize) -> String {
    let fixed: Vec<Column> = columns.iter().copied().filter(|c| !c.wraps).collect();
    let wrapping = columns.iter().filter(|c| c.wraps).count();
    let mut under: Vec<String> = Vec::new();
    let mut kept = Vec::new();
    for row in rows {
        let mut text = String::new();
        let mut cells = Vec::new();
        for (column, cell) in columns.iter().zip(row) {
            if !column.wraps {
                cells.push(cell);
                continue;
            }
            let cell = if wrapping > 1 {
                format!("{}: {cell}", column.header.to_lowercase())
            } else {
                cell
            };
            let wrapped = fill(&cell, width.saturating_sub(INDENT.len()).max(MIN_WRAPPED));
            for line in wrapped.lines() {
                text.push_str(INDENT);
                text.push_str(line);
                text.push('\n');
            }
        }
        kept.push(cells);
        under.push(text);
    }
    let table = render(&fixed, kept);
    let mut lines = table.lines();
    let mut out = String::new();
    if let Some(header) = lines.next() {
        out.push_str(header);
        out.push('\n');
    }
    for (line, text) in lines.zip(under) {
        out.push_str(line);
        out.push('\n');
        out.push_str(&text);
    }
    out
}

/// A line of prose (a summary) wrapped to the width, its continuation lines indented; as it
/// is without a width.
pub fn paragraph(text: &str, width: Option<usize>) -> String {
    let mut out = match width {
        Some(width) => textwrap::fill(
            text,
            textwrap::Options::new(width.max(MIN_WRAPPED))
                .subsequent_indent(INDENT)
                .word_separator(textwrap::WordSeparator::AsciiSpace),
        ),
        None => text.to_owned(),
    };
    out.push('\n');
    out
}

/// Wraps text at word boundaries (and inside a word longer than the width), colour escapes
/// not counted.
fn fill(text: &str, width: usize) -> String {
    // Only at blanks: a break after the hyphen of `copy-backup` or a path's slash would read
    // as two words.
    textwrap::fill(
        text,
        textwrap::Options::new(width.max(1))
            .break_words(true)
            .word_separator(textwrap::WordSeparator::AsciiSpace),
    )
}

/// Per column, the width a wrapping column must keep to (`None` in it: as wide as it is);
/// `None` when the wrapping columns cannot have [`MIN_WRAPPED`] each beside the others. The
/// blank style gives each column a blank either side and one between.
fn wrap_widths(columns: &[Column], natural: &[usize], width: usize) -> Option<Vec<Option<usize>>> {
    let overhead = 3 * columns.len();
    let fixed: usize = columns
        .iter()
        .zip(natural)
        .filter(|(c, _)| !c.wraps)
        .map(|(_, w)| w)
        .sum();
    let mut room = width.saturating_sub(overhead + fixed);
    let mut wrapping: Vec<usize> = (0..columns.len()).filter(|&i| columns[i].wraps).collect();
    let mut limits = vec![None; columns.len()];
    // The narrow ones keep their width; the rest share what is left evenly.
    wrapping.sort_by_key(|&i| natural[i]);
    let mut left = wrapping.len();
    for i in wrapping {
        let share = room / left;
        let given = natural[i].min(share);
        if given < natural[i] {
            if given < MIN_WRAPPED {
                return None;
            }
            limits[i] = Some(given);
        }
        room = room.saturating_sub(given);
        left -= 1;
    }
    Some(limits)
}

/// The display width of text as a terminal shows it: colour escapes take no room.
pub fn display_width(text: &str) -> usize {
    text.lines()
        .map(textwrap::core::display_width)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 3] = [
        Column::fixed("ADDRESS"),
        Column::fixed("CODE"),
        Column::wrapping("MESSAGE"),
    ];

    fn rows() -> Vec<Vec<String>> {
        vec![vec![
            "redmond/database/rtc/full".to_owned(),
            "backup-stale".to_owned(),
            "the newest backup of rtc is two days old, which is more than its critical threshold allows"
                .to_owned(),
        ]]
    }

    #[test]
    fn without_a_width_nothing_wraps() {
        let text = table(&COLUMNS, rows(), None);
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.lines().all(|l| !l.ends_with(' ')), "{text:?}");
    }

    #[test]
    fn the_message_wraps_to_the_width_and_the_address_stays_whole() {
        let text = table(&COLUMNS, rows(), Some(80));
        assert!(text.lines().all(|l| display_width(l) <= 80), "{text}");
        assert!(text.lines().count() > 2, "{text}");
        assert!(text.contains("redmond/database/rtc/full"), "{text}");
        assert_eq!(
            text.matches("backup-stale").count(),
            1,
            "codes never wrap: {text}"
        );
    }

    #[test]
    fn colour_takes_no_width() {
        let painted = vec![vec![
            "\u{1b}[31mcritical\u{1b}[0m".to_owned(),
            "x".to_owned(),
            "y".to_owned(),
        ]];
        let plain = vec![vec!["critical".to_owned(), "x".to_owned(), "y".to_owned()]];
        let strip = |t: String| t.replace("\u{1b}[31m", "").replace("\u{1b}[0m", "");
        assert_eq!(
            strip(table(&COLUMNS, painted, Some(80))),
            table(&COLUMNS, plain, Some(80))
        );
    }

    #[test]
    fn a_narrow_column_keeps_its_width_and_the_wide_one_takes_the_rest() {
        let columns = [Column::wrapping("A"), Column::wrapping("B")];
        let limits = wrap_widths(&columns, &[10, 200], 100);
        assert_eq!(limits, Some(vec![None, Some(100 - 6 - 10)]));
    }

    #[test]
    fn on_a_narrow_terminal_the_message_goes_under_its_row() {
        assert_eq!(wrap_widths(&COLUMNS, &[30, 20, 90], 80), None);
        let text = table(&COLUMNS, rows(), Some(50));
        assert!(text.lines().all(|l| display_width(l) <= 50), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], " ADDRESS                     CODE", "{text}");
        assert!(lines[2].starts_with("    the newest backup"), "{text}");
    }
}
