//! Rich text for report cells: plain runs, code runs and line breaks, so that
//! the Markdown and HTML renderers each escape spec text their own way.

use serde::{Serialize, Serializer};

/// One run of a [`Text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    /// Running text.
    Plain(String),
    /// An identifier, value or pattern, shown verbatim.
    Code(String),
    /// A line break.
    Break,
}

/// A cell or paragraph. JSON shows it as a string with code in backticks
/// and breaks as newlines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(Vec<Span>);

impl Text {
    /// An empty text.
    pub fn new() -> Text {
        Text::default()
    }

    /// Plain text; newlines in it become breaks.
    pub fn plain(s: impl Into<String>) -> Text {
        let mut t = Text::new();
        t.push(s);
        t
    }

    /// One code span, shown verbatim.
    pub fn code(s: impl Into<String>) -> Text {
        let mut t = Text::new();
        t.push_code(s);
        t
    }

    /// Prose from a spec: its authors mark identifiers with backticks, so a
    /// balanced pair becomes a code run; newlines become breaks.
    pub fn prose(s: &str) -> Text {
        let mut t = Text::new();
        let mut parts = s.split('`').peekable();
        let mut in_code = false;
        while let Some(part) = parts.next() {
            // An unbalanced last backtick stays a backtick.
            if in_code && parts.peek().is_none() {
                t.push(format!("`{part}"));
            } else if in_code {
                t.push_code(part);
            } else {
                t.push(part);
            }
            in_code = !in_code;
        }
        t
    }

    /// The spans, in order.
    pub fn spans(&self) -> &[Span] {
        &self.0
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends plain text; newlines in it become breaks.
    pub fn push(&mut self, s: impl Into<String>) -> &mut Text {
        let s = s.into();
        for (i, line) in s.split('\n').enumerate() {
            if i > 0 {
                self.0.push(Span::Break);
            }
            if line.is_empty() {
                continue;
            }
            match self.0.last_mut() {
                Some(Span::Plain(last)) => last.push_str(line),
                _ => self.0.push(Span::Plain(line.to_string())),
            }
        }
        self
    }

    /// Appends a code span.
    pub fn push_code(&mut self, s: impl Into<String>) -> &mut Text {
        self.0.push(Span::Code(s.into()));
        self
    }

    /// Appends a line break.
    pub fn push_break(&mut self) -> &mut Text {
        self.0.push(Span::Break);
        self
    }

    /// Appends another text.
    pub fn append(&mut self, other: Text) -> &mut Text {
        for span in other.0 {
            match span {
                Span::Plain(s) => {
                    self.push(s);
                }
                other => self.0.push(other),
            }
        }
        self
    }

    /// `texts` one after another, `separator` between them.
    pub fn join(texts: impl IntoIterator<Item = Text>, separator: &str) -> Text {
        let mut out = Text::new();
        for (i, t) in texts.into_iter().enumerate() {
            if i > 0 {
                out.push(separator);
            }
            out.append(t);
        }
        out
    }

    /// `texts` on lines of their own.
    pub fn lines(texts: impl IntoIterator<Item = Text>) -> Text {
        let mut out = Text::new();
        for (i, t) in texts.into_iter().enumerate() {
            if i > 0 {
                out.push_break();
            }
            out.append(t);
        }
        out
    }

    /// The text as a string: code in backticks, breaks as newlines.
    pub fn to_flat_string(&self) -> String {
        let mut out = String::new();
        for span in &self.0 {
            match span {
                Span::Plain(s) => out.push_str(s),
                Span::Code(s) => {
                    out.push('`');
                    out.push_str(s);
                    out.push('`');
                }
                Span::Break => out.push('\n'),
            }
        }
        out
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_flat_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_turns_balanced_backticks_into_code_and_keeps_an_unbalanced_one() {
        let t = Text::prose("the `taskId` field, a ` stray");
        assert_eq!(
            t.spans(),
            &[
                Span::Plain("the ".into()),
                Span::Code("taskId".into()),
                Span::Plain(" field, a ` stray".into()),
            ]
        );
    }

    #[test]
    fn newlines_in_plain_text_become_breaks() {
        let t = Text::plain("a\nb");
        assert_eq!(
            t.spans(),
            &[
                Span::Plain("a".into()),
                Span::Break,
                Span::Plain("b".into())
            ]
        );
        assert_eq!(t.to_flat_string(), "a\nb");
    }
}
