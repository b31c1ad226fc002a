//! The report as GitHub-flavoured Markdown, for READMEs and pull requests.
//! Spec text is escaped so that it reads as written: no stray emphasis,
//! HTML or table cells split by a `|` inside a pattern.

use super::document::{Block, Document, Table};
use super::text::{Span, Text};

pub(super) fn render(doc: &Document) -> String {
    let mut out = format!("# {}\n\n", doc.title);
    for p in &doc.intro {
        out.push_str(&text(p, false));
        out.push_str("\n\n");
    }
    // Level-2 titles are plain words, so these anchors are GitHub's own.
    for s in doc.sections.iter().filter(|s| s.level == 2) {
        out.push_str(&format!("- [{}](#{})\n", text(&s.title, false), s.id));
    }
    out.push('\n');
    for section in &doc.sections {
        out.push_str(&"#".repeat(usize::from(section.level)));
        out.push(' ');
        out.push_str(&text(&section.title, false));
        out.push_str("\n\n");
        for block in &section.blocks {
            match block {
                Block::Paragraph(p) => {
                    out.push_str(&text(p, false));
                    out.push_str("\n\n");
                }
                Block::Table(t) => {
                    out.push_str(&table(t));
                    out.push('\n');
                }
            }
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn table(t: &Table) -> String {
    let row = |cells: &[Text]| {
        let cells: Vec<String> = cells.iter().map(|c| text(c, true)).collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let mut out = row(&t.columns);
    out.push('|');
    out.push_str(&"---|".repeat(t.columns.len()));
    out.push('\n');
    for r in &t.rows {
        out.push_str(&row(r));
    }
    out
}

/// A text on one line: breaks become `<br>`, so a cell stays a cell.
fn text(t: &Text, in_table: bool) -> String {
    let mut out = String::new();
    for span in t.spans() {
        match span {
            Span::Plain(s) => out.push_str(&plain(s)),
            Span::Code(s) => out.push_str(&code(s, in_table)),
            Span::Break => out.push_str("<br>"),
        }
    }
    out
}

fn plain(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '*' | '`' | '~' | '|' => {
                out.push('\\');
                out.push(c);
            }
            // Inside a word an underscore is literal (GFM); at a word's
            // edge it could open emphasis.
            '_' => {
                let word = |j: Option<usize>| {
                    j.and_then(|j| chars.get(j))
                        .is_some_and(|c| c.is_alphanumeric())
                };
                if !(word(i.checked_sub(1)) && word(Some(i + 1))) {
                    out.push('\\');
                }
                out.push('_');
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A code span; a fence longer than any run of backticks inside. In a
/// table GFM splits cells at `|` even inside code, unless escaped.
fn code(s: &str, in_table: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut body = s.replace('\n', " ");
    if in_table {
        body = body.replace('|', "\\|");
    }
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if body.starts_with('`') || body.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_in_a_pattern_does_not_split_a_table_cell() {
        assert_eq!(code("^vd([b-z]|a[a-z])$", true), "`^vd([b-z]\\|a[a-z])$`");
        assert_eq!(code("a|b", false), "`a|b`");
    }

    #[test]
    fn masked_ids_and_tags_read_as_written() {
        assert_eq!(plain("tsk-bp67****"), "tsk-bp67\\*\\*\\*\\*");
        assert_eq!(plain("<ExportTaskId>"), "&lt;ExportTaskId&gt;");
        assert_eq!(plain("image_not_found (_)"), "image_not_found (\\_)");
    }

    #[test]
    fn code_with_backticks_gets_a_longer_fence() {
        assert_eq!(code("a`b", false), "``a`b``");
        assert_eq!(code("`x", false), "`` `x ``");
    }
}
