//! Maps a JSON pointer (`/parameters/3/pattern`) back to the line and
//! column where that value starts, so that problems found after parsing can
//! still name `file:line:column`.

use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions};

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Position of byte offset `offset` in `text`.
pub fn position_of_offset(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    Position { line, column }
}

/// Where the value at `pointer` starts in `text`. When the pointer leads
/// nowhere (the value is absent), the deepest value that exists is named,
/// which is where a missing key would have to go.
pub fn locate(text: &str, pointer: &str) -> Position {
    Locator::new(text).locate(pointer)
}

/// A text parsed once, for locating many pointers in it (a case file names
/// one place per case).
pub struct Locator<'t> {
    text: &'t str,
    ast: Option<jsonc_parser::ParseResult<'t>>,
}

impl<'t> Locator<'t> {
    pub fn new(text: &'t str) -> Self {
        Locator {
            text,
            ast: jsonc_parser::parse_to_ast(
                text,
                &CollectOptions::default(),
                &ParseOptions::default(),
            )
            .ok(),
        }
    }

    /// As [`locate`].
    pub fn locate(&self, pointer: &str) -> Position {
        let Some(mut value) = self.ast.as_ref().and_then(|p| p.value.as_ref()) else {
            return Position { line: 1, column: 1 };
        };
        let mut offset = value.start();
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            let next = match value {
                Value::Object(object) => object.properties.iter().find_map(|prop| {
                    let name = match &prop.name {
                        ObjectPropName::String(s) => s.value.as_ref(),
                        ObjectPropName::Word(w) => w.value,
                    };
                    (name == token).then_some((&prop.value, prop.range.start))
                }),
                Value::Array(array) => token
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| array.elements.get(i))
                    .map(|v| (v, v.start())),
                _ => None,
            };
            match next {
                Some((v, key_start)) => {
                    value = v;
                    // Point at the key for object members: that is what an
                    // editor jumps to and what a reader looks for.
                    offset = key_start;
                }
                None => break,
            }
        }
        position_of_offset(self.text, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_keys_and_array_elements() {
        let text = "{\n  \"a\": [\n    {\"b\": 1},\n    {\"c\": \"x\"}\n  ]\n}";
        assert_eq!(locate(text, "/a/1/c"), Position { line: 4, column: 6 });
        assert_eq!(locate(text, "/a/0"), Position { line: 3, column: 5 });
        assert_eq!(locate(text, ""), Position { line: 1, column: 1 });
    }

    #[test]
    fn missing_pointer_names_deepest_existing_value() {
        let text = "{\n  \"a\": {\"b\": 1}\n}";
        assert_eq!(locate(text, "/a/zzz"), Position { line: 2, column: 3 });
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "{\"名称\": 1, \"x\": 2}";
        assert_eq!(
            locate(text, "/x"),
            Position {
                line: 1,
                column: 11
            }
        );
    }
}
