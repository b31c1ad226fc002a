//! Strategies for one parameter's values, read off its spec: strings from
//! their enum, pattern, format and length; integers from their bounds and
//! step; arrays up to their maximum; objects field by field, each optional
//! one sent or not. Every strategy shrinks toward the simplest value: an
//! optional parameter unsent, the shortest string, the smallest integer.

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use regex::Regex;
use serde_json::{Map, Value};

use crate::spec::model::{IntegerRules, StringRules};
use crate::spec::raw::StringFormat;
use crate::spec::{ApiSpec, Param, ParamKind, RuleCheck};

use super::context::GenerationContext;
use super::draft::{join, Draft, Slot};
use super::oracle::{own_problems, violations};
use super::repair::{repair, Freeze};
use super::run::simplest;

/// Items a valid request puts in an array without `max_items`.
pub(crate) const UNBOUNDED_ARRAY_CAP: usize = 4;
/// Items a valid request puts, at most, in an array with `max_items`.
pub(crate) const BOUNDED_ARRAY_CAP: usize = 10;
/// Spare values drawn for fields a repair may have to change.
const SPARES: usize = 3;

pub(crate) const ALNUM: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const PUNCTUATION: &str = "_-.~:@+=, /";
pub(crate) const CJK: &str = "镜像导出测试中文名称云盘快照数据";
const LATIN: &str = "éüßñ";

/// The Chinese characters a valid value may hold: the CJK Unified
/// Ideographs of Unicode 1.1 (U+4E00 to U+9FA5), which every Chinese
/// encoding and font covers (GBK included). The other Han characters a
/// `\p{Han}` class admits (compatibility ideographs such as U+F900, the
/// extension blocks such as U+3400 and U+31350, ideographic symbols such
/// as U+16FE2 or 々) are not Chinese characters under every reading: they
/// are [`fringe_strings`], never valid values.
pub(crate) const COMMON_HAN: std::ops::RangeInclusive<u32> = 0x4E00..=0x9FA5;

/// A regex class of what a valid value's "any character" may be: printable
/// ASCII other than the space, and the common Chinese characters.
const PLAIN_CLASS: &str = r"!-~\x{4E00}-\x{9FA5}";

/// The characters free text and character classes draw from, simplest
/// first; about one in six is CJK.
pub(crate) fn alphabet() -> Vec<char> {
    [ALNUM, PUNCTUATION, CJK, LATIN].concat().chars().collect()
}

/// The `k`-th common Chinese character, wrapping around.
fn common_han(k: u32) -> char {
    let span = COMMON_HAN.end() - COMMON_HAN.start() + 1;
    char::from_u32(COMMON_HAN.start() + k % span).unwrap_or('中')
}

/// What the strategies of one API share: the spec, the fixture, and which
/// fields need spare values.
#[derive(Debug)]
pub(crate) struct Gen {
    pub api: ApiSpec,
    pub ctx: GenerationContext,
    spare_paths: BTreeSet<String>,
}

impl Gen {
    pub fn new(api: &ApiSpec, ctx: &GenerationContext) -> Arc<Gen> {
        let mut spare_paths = BTreeSet::new();
        for rule in &api.rules {
            match &rule.check {
                RuleCheck::Unique { array, field } => {
                    spare_paths.insert(format!("{}[].{field}", join(&rule.scope, array)));
                }
                RuleCheck::CaptureEquals { field, .. } => {
                    spare_paths.insert(join(&rule.scope, field));
                }
                _ => {}
            }
        }
        Arc::new(Gen {
            api: api.clone(),
            ctx: ctx.clone(),
            spare_paths,
        })
    }

    fn capture_regex(&self, path: &str) -> Option<&Regex> {
        self.api.rules.iter().find_map(|r| match &r.check {
            RuleCheck::CaptureEquals { field, regex, .. } if join(&r.scope, field) == path => {
                Some(regex)
            }
            _ => None,
        })
    }

    /// The regex text of the part of a URL (or other field) that a
    /// `capture_equals` rule compares with the parameter at `path`: the
    /// parameter is drawn from it, so that the two can agree.
    fn compared_part(&self, path: &str) -> Option<String> {
        self.api.rules.iter().find_map(|r| match &r.check {
            RuleCheck::CaptureEquals {
                regex,
                group,
                equals,
                ..
            } if join(&r.scope, equals) == path || equals == path => {
                group_source(regex.as_str(), *group)
            }
            _ => None,
        })
    }

    /// Whether the parameter at `path` is the value a `capture_equals`
    /// rule splices into an https URL (the region in a bucket's host).
    fn compared_into_url(&self, path: &str) -> bool {
        self.api.rules.iter().any(|r| match &r.check {
            RuleCheck::CaptureEquals { field, equals, .. }
                if join(&r.scope, equals) == path || equals == path =>
            {
                self.api.param(&join(&r.scope, field)).is_some_and(|p| {
                    matches!(&p.kind, ParamKind::String(s) if s.format == Some(StringFormat::HttpsUrl))
                })
            }
            _ => false,
        })
    }

    fn shape_paths(&self, path: &str) -> Option<Vec<String>> {
        self.api.rules.iter().find_map(|r| match &r.check {
            RuleCheck::Base64JsonShape {
                field,
                required_paths,
            } if join(&r.scope, field) == path => Some(required_paths.clone()),
            _ => None,
        })
    }

    /// How many items a valid request gives the array `param`.
    pub fn len_range(&self, param: &Param) -> (usize, usize) {
        let ParamKind::Array(a) = &param.kind else {
            return (0, 0);
        };
        let lo = a.min_items.unwrap_or(0) as usize;
        let cap = match (self.ctx.array_caps.get(&param.path), a.max_items) {
            (Some(cap), Some(max)) => (*cap).min(max as usize),
            (Some(cap), None) => *cap,
            (None, Some(max)) => (max as usize).min(BOUNDED_ARRAY_CAP),
            (None, None) => UNBOUNDED_ARRAY_CAP,
        };
        (lo, cap.max(lo))
    }
}

/// Valid requests as drafts: every value drawn from its parameter's own
/// constraints, then repaired so the cross-field rules hold. The filter
/// only guards against a rare repair that cannot succeed.
pub(crate) fn drafts(gen: &Arc<Gen>) -> BoxedStrategy<Draft> {
    let checking = Arc::clone(gen);
    // Remembered: the filter's predicate and the case ask for the same
    // draft, which is mapped and repaired once.
    super::remember::Remembered(repaired_drafts(gen))
        .prop_filter(UNREPAIRABLE, move |d| {
            violations(&checking.api, &[], &d.to_value()).is_empty()
        })
        .boxed()
}

/// [`drafts`] as the requests they stand for: the same draws, the same
/// repairs and the same filter, each draft turned into its request once
/// (the filter's predicate and the case read the same remembered value).
pub(crate) fn valid_values(gen: &Arc<Gen>) -> BoxedStrategy<Value> {
    let checking = Arc::clone(gen);
    super::remember::Remembered(repaired_drafts(gen).prop_map(|d| d.to_value()))
        .prop_filter(UNREPAIRABLE, move |v| {
            violations(&checking.api, &[], v).is_empty()
        })
        .boxed()
}

/// Why [`drafts`] and [`valid_values`] reject a draw.
const UNREPAIRABLE: &str = "a request the rules' repairs could not make valid";

/// A draft of every parameter, repaired to the spec's rules.
fn repaired_drafts(gen: &Arc<Gen>) -> impl Strategy<Value = Draft> {
    let slots: Vec<BoxedStrategy<Slot>> = gen.api.params.iter().map(|p| slot(gen, p)).collect();
    let repairing = Arc::clone(gen);
    slots.prop_map(move |slots| {
        let mut d = Draft::Object(slots);
        repair(&repairing.api, &mut d, &Freeze::default());
        d
    })
}

fn slot(gen: &Arc<Gen>, param: &Param) -> BoxedStrategy<Slot> {
    let name: Arc<str> = param.name.as_str().into();
    let value = draft(gen, param);
    if param.required {
        value
            .prop_map(move |value| Slot {
                name: Arc::clone(&name),
                present: true,
                value,
            })
            .boxed()
    } else {
        (any::<bool>(), value)
            .prop_map(move |(present, value)| Slot {
                name: Arc::clone(&name),
                present,
                value,
            })
            .boxed()
    }
}

pub(crate) fn draft(gen: &Arc<Gen>, param: &Param) -> BoxedStrategy<Draft> {
    match &param.kind {
        ParamKind::Object(o) => {
            let slots: Vec<BoxedStrategy<Slot>> = o.fields.iter().map(|f| slot(gen, f)).collect();
            slots.prop_map(Draft::Object).boxed()
        }
        ParamKind::Array(a) => array(gen, param, &a.items),
        _ => {
            let values = value(gen, param);
            if gen.spare_paths.contains(&param.path) {
                (values.clone(), vec(values, SPARES))
                    .prop_map(|(value, spares)| Draft::Scalar { value, spares })
                    .boxed()
            } else {
                values.prop_map(Draft::scalar).boxed()
            }
        }
    }
}

fn array(gen: &Arc<Gen>, param: &Param, items: &Param) -> BoxedStrategy<Draft> {
    let (lo, hi) = gen.len_range(param);
    if let Some(known) = gen.ctx.known_for(items) {
        // Distinct known values first, repeated only when min_items asks
        // for more than there are.
        let hi = hi.min(known.len()).max(lo);
        let mut pool = known.clone();
        while pool.len() < hi.max(1) {
            pool.push(known[pool.len() % known.len()].clone());
        }
        return (Just(pool).prop_shuffle(), lo..=hi)
            .prop_map(|(pool, len)| Draft::Array {
                items: pool.into_iter().map(Draft::scalar).collect(),
                len,
            })
            .boxed();
    }
    // The visible items, then one in reserve for a rule or a mutation
    // that needs the array non-empty. Proptest shrinks a vector by
    // dropping items first, so a failure shrinks to few items quickly.
    // Short arrays three times in four: each item of an array of objects
    // costs a whole object, and the longest arrays are the boundaries'
    // business (`property::boundaries` sends max_items exactly).
    let lengths = if hi > lo + 3 {
        prop_oneof![3 => lo..=lo + 3, 1 => lo..=hi].boxed()
    } else {
        (lo..=hi).boxed()
    };
    (
        lengths.prop_flat_map({
            let items = draft(gen, items);
            move |n| vec(items.clone(), n)
        }),
        draft(gen, items),
    )
        .prop_map(|(mut items, reserve)| {
            let len = items.len();
            items.push(reserve);
            Draft::Array { items, len }
        })
        .boxed()
}

/// The simplest valid item of the array at `path`, to pad it with.
pub(crate) fn item_filler(gen: &Arc<Gen>, path: &str) -> Option<Draft> {
    let items = match &gen.api.param(path)?.kind {
        ParamKind::Array(a) => (*a.items).clone(),
        _ => return None,
    };
    simplest(&draft(gen, &items))
}

/// Valid values of a string, integer or boolean parameter.
pub(crate) fn value(gen: &Arc<Gen>, param: &Param) -> BoxedStrategy<Value> {
    if let Some(known) = gen.ctx.known_for(param) {
        return select(known).boxed();
    }
    match &param.kind {
        ParamKind::String(rules) => strings(gen, param, rules).prop_map(Value::String).boxed(),
        ParamKind::Integer(rules) => integers(rules).prop_map(Value::from).boxed(),
        ParamKind::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        ParamKind::Array(_) | ParamKind::Object(_) => {
            draft(gen, param).prop_map(|d| d.to_value()).boxed()
        }
    }
}

fn strings(gen: &Arc<Gen>, param: &Param, rules: &StringRules) -> BoxedStrategy<String> {
    // Never the empty string: some read it as the parameter missing
    // (Alibaba's RPC does, for a required one), some as a value to refuse.
    let min_length = rules.min_length.unwrap_or(0).max(1);
    let own = param.clone();
    let https = rules.format == Some(StringFormat::HttpsUrl);
    let fits = move |s: &String| {
        !s.is_empty()
            && own_problems(&own, &Value::String(s.clone())).is_empty()
            && (!https || well_formed_https_url(s))
    };
    if let Some(members) = &rules.enum_values {
        let good: Vec<String> = members.iter().filter(|m| fits(m)).cloned().collect();
        return select(if good.is_empty() {
            members.clone()
        } else {
            good
        })
        .boxed();
    }
    let base = if let Some(strategy) = gen
        .capture_regex(&param.path)
        .filter(|_| https)
        .and_then(|r| regex_urls(r, example_has_path(param)))
    {
        // A URL whose host must carry the region: its host drawn from the
        // rule's own regex, the region spliced in by the repair.
        strategy
    } else if let Some(strategy) = gen
        .capture_regex(&param.path)
        .and_then(|r| regex_strings(r.as_str()))
    {
        strategy
    } else if let Some(pattern) = &rules.pattern {
        pattern_strings(&pattern.source, Some(min_length), rules.max_length)
    } else if let Some(part) = gen
        .compared_part(&param.path)
        .filter(|_| rules.format.is_none())
    {
        let strategy = pattern_strings(&format!("^{part}$"), Some(min_length), rules.max_length);
        if gen.compared_into_url(&param.path) {
            // It becomes a label of a URL's host.
            strategy
                .prop_filter("a DNS label", |s| dns_label(s))
                .boxed()
        } else {
            strategy
        }
    } else {
        match rules.format {
            Some(StringFormat::HttpsUrl) => https_urls(example_has_path(param)),
            Some(StringFormat::Base64Json) => {
                base64_json(gen.shape_paths(&param.path).unwrap_or_default())
            }
            None => free_text(min_length, rules.max_length),
        }
    };
    base.prop_filter("a string within the parameter's constraints", fits)
        .boxed()
}

/// Strings of free text, `min..=max` characters (short ones more often
/// when the range is wide), neither first nor last a space: some servers
/// trim a value, which would make `" "` empty and change its length.
///
/// Each character is one number ([`text_char`]), and the string is made
/// from all of them at once: a tree of plain numbers, not a tree per
/// character behind a box of its own, which cost an allocation and a
/// shared closure per character of every case. The draws and the
/// shrinking are the numbers', as they were when each character was
/// mapped on its own.
pub(crate) fn free_text(min: u64, max: Option<u64>) -> BoxedStrategy<String> {
    let alphabet: Arc<[char]> = alphabet().into();
    vecs_of(any::<u32>(), min, max.unwrap_or(min + 24))
        .prop_map(move |numbers| {
            let n = numbers.len();
            numbers
                .iter()
                .enumerate()
                .map(|(i, k)| match text_char(&alphabet, *k) {
                    ' ' if i == 0 || i + 1 == n => '_',
                    c => c,
                })
                .collect()
        })
        .boxed()
}

/// The character of free text number `n` stands for: nineteen in twenty
/// from [`alphabet`], the rest any common Chinese character
/// ([`COMMON_HAN`]). One number decides each character (a union of two
/// strategies would cost a tree of trees per character, which was most
/// of the generator's time); it shrinks towards 0, which is `a`.
/// Characters outside these (other Han blocks, symbols, unassigned code
/// points) are [`fringe_strings`], not valid values.
fn text_char(alphabet: &[char], n: u32) -> char {
    if n % 20 == 19 {
        common_han(n / 20)
    } else {
        alphabet[(n / 20) as usize % alphabet.len()]
    }
}

/// Strings of `lo..=hi` characters of `chars`, short ones more often when
/// the range is wide.
pub(crate) fn strings_of<S>(chars: S, lo: u64, hi: u64) -> BoxedStrategy<String>
where
    S: Strategy<Value = char> + Clone + 'static,
{
    vecs_of(chars, lo, hi).prop_map(String::from_iter).boxed()
}

/// `lo..=hi` draws of `items`; where the range is wide, three times in
/// four at most 24 more than `lo`.
fn vecs_of<S>(items: S, lo: u64, hi: u64) -> BoxedStrategy<Vec<S::Value>>
where
    S: Strategy + Clone + 'static,
{
    let (lo, hi) = (lo as usize, hi as usize);
    if hi > lo + 48 {
        prop_oneof![
            3 => vec(items.clone(), lo..=lo + 24),
            1 => vec(items, lo..=hi),
        ]
        .boxed()
    } else {
        vec(items, lo..=hi).boxed()
    }
}

/// A pattern of the common shape `^[class]{m,n}$` (or `+`, `*`, `?`):
/// the class and the repetition bounds.
pub(crate) fn simple_shape(source: &str) -> Option<(String, u64, Option<u64>)> {
    let body = strip_anchors(source);
    let chars: Vec<char> = body.chars().collect();
    if chars.first() != Some(&'[') {
        return None;
    }
    let mut i = 1;
    if chars.get(i) == Some(&'^') {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        i += 1;
    }
    let mut end = None;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '[' => return None,
            ']' => {
                end = Some(i);
                break;
            }
            _ => i += 1,
        }
    }
    let end = end?;
    let class: String = chars[..=end].iter().collect();
    let rest: String = chars[end + 1..].iter().collect();
    let (m, n) = match rest.as_str() {
        "" => (1, Some(1)),
        "+" => (1, None),
        "*" => (0, None),
        "?" => (0, Some(1)),
        r if r.starts_with('{') && r.ends_with('}') => {
            let inner = &r[1..r.len() - 1];
            match inner.split_once(',') {
                None => {
                    let k = inner.parse().ok()?;
                    (k, Some(k))
                }
                Some((a, "")) => (a.parse().ok()?, None),
                Some((a, b)) => (a.parse().ok()?, Some(b.parse().ok()?)),
            }
        }
        _ => return None,
    };
    Some((class, m, n))
}

/// `^class$`, compiled once per thread and class: every trial builds its
/// strategies anew from the same few classes of the specs.
fn class_regex(class: &str) -> Option<Regex> {
    thread_local! {
        static KEPT: std::cell::RefCell<std::collections::HashMap<String, Option<Regex>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    KEPT.with(|kept| {
        if let Some(re) = kept.borrow().get(class) {
            return re.clone();
        }
        let re = Regex::new(&format!("^{class}$")).ok();
        kept.borrow_mut().insert(class.to_string(), re.clone());
        re
    })
}

/// The characters of [`alphabet`] a character class admits, simplest first.
/// Kept per thread and class, as [`class_regex`].
pub(crate) fn class_members(class: &str) -> Vec<char> {
    thread_local! {
        static KEPT: std::cell::RefCell<std::collections::HashMap<String, Vec<char>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    KEPT.with(|kept| {
        if let Some(members) = kept.borrow().get(class) {
            return members.clone();
        }
        let members: Vec<char> = match class_regex(class) {
            Some(re) => alphabet()
                .into_iter()
                .filter(|c| re.is_match(c.encode_utf8(&mut [0; 4])))
                .collect(),
            None => Vec::new(),
        };
        kept.borrow_mut().insert(class.to_string(), members.clone());
        members
    })
}

/// Characters of a class: nineteen in twenty from [`class_members`], the
/// rest the class's printable ASCII or, where it admits Chinese, any common
/// Chinese character.
fn class_chars(class: &str) -> Option<BoxedStrategy<char>> {
    let members = class_members(class);
    let exotic = class_regex(class).and_then(|re| {
        let admits = move |c: char| re.is_match(c.encode_utf8(&mut [0; 4]));
        let ascii: Vec<char> = ('!'..='~').filter(|c| admits(*c)).collect();
        let han = admits(common_han(0)) && admits(common_han(u32::MAX));
        match (ascii.is_empty(), han) {
            (_, true) => Some(
                any::<u32>()
                    .prop_filter_map("a character of the class", move |n| {
                        let c = if n % 2 == 0 || ascii.is_empty() {
                            common_han(n / 2)
                        } else {
                            ascii[(n / 2) as usize % ascii.len()]
                        };
                        admits(c).then_some(c)
                    })
                    .boxed(),
            ),
            (false, false) => Some(select(ascii).boxed()),
            (true, false) => None,
        }
    });
    match (members.is_empty(), exotic) {
        (false, Some(exotic)) => Some(prop_oneof![19 => select(members), 1 => exotic].boxed()),
        (false, None) => Some(select(members).boxed()),
        (true, exotic) => exotic,
    }
}

fn pattern_strings(source: &str, min: Option<u64>, max: Option<u64>) -> BoxedStrategy<String> {
    if let Some((class, m, n)) = simple_shape(source) {
        if let Some(chars) = class_chars(&class) {
            let lo = m.max(min.unwrap_or(0));
            let hi = match (n, max) {
                (Some(n), Some(max)) => n.min(max),
                (Some(b), None) | (None, Some(b)) => b,
                (None, None) => lo + 16,
            };
            if lo <= hi {
                return strings_of(chars, lo, hi);
            }
        }
    }
    regex_strings(source).unwrap_or_else(|| free_text(min.unwrap_or(0), max))
}

/// Strings matching an anchored regex, through proptest's regex strategy
/// (which takes no anchors). "Any character" parts are narrowed to
/// printable ASCII and common Chinese characters.
pub(crate) fn regex_strings(source: &str) -> Option<BoxedStrategy<String>> {
    proptest::string::string_regex(&tame(&strip_anchors(source), PLAIN_CLASS, 12))
        .ok()
        .map(|s| s.boxed())
}

/// The source text of capture group `group` in regex `source`.
pub(crate) fn group_source(source: &str, group: usize) -> Option<String> {
    let chars: Vec<char> = source.chars().collect();
    let mut open: Vec<(usize, Option<usize>)> = Vec::new();
    let mut count = 0;
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            i += 2;
            continue;
        }
        if in_class {
            in_class = c != ']';
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                if chars.get(i + 1) == Some(&'^') {
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    i += 1;
                }
            }
            '(' => {
                let named = chars.get(i + 1) == Some(&'?')
                    && (chars.get(i + 2) == Some(&'<') || chars[i + 2..].starts_with(&['P', '<']));
                if chars.get(i + 1) != Some(&'?') || named {
                    count += 1;
                    let start = if named {
                        i + chars[i..].iter().position(|c| *c == '>')? + 1
                    } else {
                        i + 1
                    };
                    open.push((start, Some(count)));
                } else {
                    open.push((i + 1, None));
                }
            }
            ')' => {
                if let (start, Some(n)) = open.pop()? {
                    if n == group {
                        return Some(chars[start..i].iter().collect());
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

pub(crate) fn strip_anchors(source: &str) -> String {
    let s = source.strip_prefix('^').unwrap_or(source);
    match s.strip_suffix('$') {
        Some(inner) if !inner.ends_with('\\') => inner.to_string(),
        _ => s.to_string(),
    }
}

/// The regex narrowed for drawing: `.` and negated classes to what
/// `plain` (the inside of a class) admits, `+` and `*` at most `most`
/// times.
fn tame(source: &str, plain: &str, most: u32) -> String {
    let mut out = String::new();
    let mut chars = source.chars().peekable();
    // For each open class, whether it was negated (and so intersected
    // with `plain`, which needs a second bracket closed).
    let mut open: Vec<bool> = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '[' => {
                let negated = chars.peek() == Some(&'^');
                if negated {
                    chars.next();
                    out.push_str(&format!("[{plain}&&[^"));
                } else {
                    out.push('[');
                }
                open.push(negated);
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push_str("\\]");
                }
            }
            ']' if !open.is_empty() => {
                out.push_str(if open.pop() == Some(true) { "]]" } else { "]" });
            }
            '.' if open.is_empty() => out.push_str(&format!("[{plain}]")),
            '+' if open.is_empty() => out.push_str(&format!("{{1,{most}}}")),
            '*' if open.is_empty() => out.push_str(&format!("{{0,{most}}}")),
            _ => out.push(c),
        }
    }
    out
}

fn word(min: usize, max: usize, chars: &'static str) -> BoxedStrategy<String> {
    vec(select(chars.chars().collect::<Vec<_>>()), min..=max)
        .prop_map(String::from_iter)
        .boxed()
}

const LOWER_ALNUM: &str = "abcdefghijklmnopqrstuvwxyz0123456789";

/// https URLs valid under every reading: a host of one to three DNS
/// labels of lower-case letters and digits, the last starting with a
/// letter (so that no parser reads an address); no user, port, query or
/// fragment; a path of plain segments when `with_path`.
pub(crate) fn https_urls(with_path: bool) -> BoxedStrategy<String> {
    let tld = (
        word(1, 1, "abcdefghijklmnopqrstuvwxyz"),
        word(0, 9, LOWER_ALNUM),
    )
        .prop_map(|(a, b)| format!("{a}{b}"));
    let host = (vec(word(1, 10, LOWER_ALNUM), 0..=2), tld).prop_map(|(mut labels, tld)| {
        labels.push(tld);
        labels.join(".")
    });
    (host, url_paths(with_path))
        .prop_map(|(host, path)| format!("https://{host}{path}"))
        .boxed()
}

/// The path of a valid URL: nothing (a host only, as the documented
/// example names), or one to three segments of letters, digits, `_` and
/// `-`, the last perhaps with an extension: nothing a parser normalises
/// (no `.` or `..` segment, no percent sign or backslash).
fn url_paths(with_path: bool) -> BoxedStrategy<String> {
    if !with_path {
        return Just(String::new()).boxed();
    }
    let segment = word(
        1,
        10,
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
    );
    (
        vec(segment, 1..=3),
        proptest::option::of(word(1, 5, LOWER_ALNUM)),
    )
        .prop_map(|(segments, ext)| {
            let mut path: String = segments.iter().map(|s| format!("/{s}")).collect();
            if let Some(ext) = ext {
                path.push('.');
                path.push_str(&ext);
            }
            path
        })
        .boxed()
}

/// https URLs whose host `regex` (a `capture_equals` rule's) admits: the
/// regex drawn with its "any character" parts narrowed to lower-case
/// letters and digits, then only its host kept (no user or port) behind
/// `https://`, with a path as [`url_paths`] draws. The filter drops a
/// host the regex needs more around (a port it requires, say).
fn regex_urls(regex: &Regex, with_path: bool) -> Option<BoxedStrategy<String>> {
    let drawn =
        proptest::string::string_regex(&tame(&strip_anchors(regex.as_str()), "a-z0-9", 8)).ok()?;
    let regex = regex.clone();
    Some(
        (drawn, url_paths(with_path))
            .prop_filter_map("a URL the rule's regex admits", move |(text, path)| {
                let host = url_host(&text)?;
                let url = format!("https://{host}{path}");
                regex.is_match(&url).then_some(url)
            })
            .boxed(),
    )
}

/// The host of `text` (`scheme://[user@]host[:port][/?#…]`), if it is
/// made of DNS labels.
fn url_host(text: &str) -> Option<&str> {
    let rest = &text[text.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = &authority[authority.rfind('@').map_or(0, |at| at + 1)..];
    let host = &host[..host.find(':').unwrap_or(host.len())];
    host.split('.').all(dns_label).then_some(host)
}

/// A DNS label: 1 to 63 lower-case letters, digits and hyphens, neither
/// first nor last a hyphen.
fn dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Whether the documented example of `param` is a URL with a path (an
/// object's address rather than a bucket's).
fn example_has_path(param: &Param) -> bool {
    param
        .example
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|e| url::Url::parse(e).ok())
        .is_some_and(|u| u.path() != "/")
}

/// What a valid https URL must be past its format and pattern: one the
/// `url` crate parses, https, with a domain name for its host, and that
/// it reads back unchanged.
fn well_formed_https_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| {
        u.scheme() == "https"
            && matches!(u.host(), Some(url::Host::Domain(_)))
            && (u.as_str() == s || u.as_str().strip_suffix('/') == Some(s))
    })
}

/// A value a parameter's spec admits that not every reasonable reading of
/// the documents does: never drawn as a valid value, kept for probes that
/// accept either verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FringeValue {
    /// The string itself.
    pub value: String,
    /// Why a reading may refuse it, as a sentence.
    pub why: &'static str,
}

/// Han characters a `\p{Han}` class admits outside [`COMMON_HAN`].
const FRINGE_HAN: &[(char, &str)] = &[
    ('\u{F900}', "a CJK compatibility ideograph (U+F900)"),
    ('\u{FA14}', "a CJK compatibility ideograph (U+FA14)"),
    ('\u{3400}', "a CJK Extension A ideograph (U+3400)"),
    (
        '\u{20000}',
        "a CJK Extension B ideograph (U+20000), outside the BMP",
    ),
    (
        '\u{31350}',
        "a CJK Extension H ideograph (U+31350), outside the BMP",
    ),
    (
        '\u{9FEF}',
        "a unified ideograph added after Unicode 1.1 (U+9FEF), not in GBK",
    ),
    ('\u{16FE2}', "an ideographic symbol (U+16FE2)"),
    ('\u{3005}', "an iteration mark (U+3005)"),
    ('\u{2E80}', "a CJK radical (U+2E80)"),
];

/// The fringe values of a string parameter: the empty string; text
/// padded with spaces where the parameter is free text; for a
/// parameter that admits Chinese characters, the Han characters outside
/// U+4E00 to U+9FA5; for an https URL, the forms a URL parser refuses or
/// rewrites (a `]` in the host, an upper-case or international host, a
/// trailing dot, a user, a port, a query, a fragment, a dot segment, a
/// backslash, a stray percent sign). The Han values are as long as the
/// parameter's minimum length. Nothing here is a valid value.
pub fn fringe_strings(param: &Param) -> Vec<FringeValue> {
    let ParamKind::String(rules) = &param.kind else {
        return Vec::new();
    };
    let mut out = vec![FringeValue {
        value: String::new(),
        why: "the empty string: some read it as the parameter missing, some refuse it",
    }];
    if rules.enum_values.is_some() {
        return out;
    }
    if rules.pattern.as_ref().is_none_or(|p| p.matches(" a ")) && rules.format.is_none() {
        out.push(FringeValue {
            value: " a ".into(),
            why: "spaces first and last, which some servers trim",
        });
    }
    let admits_han = match &rules.pattern {
        Some(p) => p.matches(&"中".repeat(rules.min_length.unwrap_or(1).max(1) as usize)),
        None => rules.format.is_none(),
    };
    if admits_han {
        let n = rules.min_length.unwrap_or(1).max(1) as usize;
        for (c, why) in FRINGE_HAN {
            let value: String = std::iter::once(*c)
                .chain(std::iter::repeat_n('中', n.saturating_sub(1)))
                .collect();
            out.push(FringeValue { value, why });
        }
    }
    if rules.format == Some(StringFormat::HttpsUrl) {
        out.extend(fringe_urls(param));
    }
    out
}

/// The https URLs a URL parser refuses or rewrites, built on the
/// parameter's example (or a made-up bucket URL).
fn fringe_urls(param: &Param) -> impl Iterator<Item = FringeValue> {
    let example = param
        .example
        .as_ref()
        .and_then(Value::as_str)
        .unwrap_or("https://bucket.example.com");
    let rest = example.strip_prefix("https://").unwrap_or(example);
    let (host, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let forms: [(String, &'static str); 11] = [
        (
            format!("https://]{host}{path}"),
            "a `]` in the host, which URL parsers refuse",
        ),
        (
            format!("https://{}{path}", host.to_uppercase()),
            "an upper-case host, which parsers lower-case",
        ),
        (
            format!("https://b\u{fc}cket.{host}{path}"),
            "an international host, which parsers rewrite as xn--",
        ),
        (
            format!("https://{host}.{path}"),
            "a host with a trailing dot",
        ),
        (
            format!("https://user@{host}{path}"),
            "a user before the host",
        ),
        (format!("https://{host}:8443{path}"), "a port"),
        (format!("https://{host}{path}?x=1"), "a query"),
        (format!("https://{host}{path}#x"), "a fragment"),
        (
            format!("https://{host}/./a{path}"),
            "a dot segment, which parsers remove",
        ),
        (
            format!("https://{host}\\a{path}"),
            "a backslash, which parsers read as a slash",
        ),
        (
            format!("https://{host}/%zz{path}"),
            "a percent sign that encodes nothing",
        ),
    ];
    forms
        .into_iter()
        .map(|(value, why)| FringeValue { value, why })
}

/// Base64 of a JSON object holding every dotted path in `paths` (and
/// maybe one more key).
fn base64_json(paths: Vec<String>) -> BoxedStrategy<String> {
    let n = paths.len();
    (
        vec(word(1, 8, ALNUM), n),
        proptest::option::of((word(1, 8, ALNUM), word(0, 8, ALNUM))),
    )
        .prop_map(move |(values, extra)| {
            let mut root = Value::Object(Map::new());
            for (path, v) in paths.iter().zip(values) {
                insert_dotted(&mut root, path, Value::String(v));
            }
            if let (Some((k, v)), Some(o)) = (extra, root.as_object_mut()) {
                o.entry(k).or_insert(Value::String(v));
            }
            encode_json(&root)
        })
        .boxed()
}

pub(crate) fn encode_json(value: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(value.to_string())
}

pub(crate) fn insert_dotted(root: &mut Value, path: &str, value: Value) {
    let mut current = root;
    let keys: Vec<&str> = path.split('.').collect();
    for (i, key) in keys.iter().enumerate() {
        let Some(object) = current.as_object_mut() else {
            return;
        };
        if i + 1 == keys.len() {
            object.insert(key.to_string(), value);
            return;
        }
        current = object
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

fn integers(rules: &IntegerRules) -> BoxedStrategy<i64> {
    if let Some(members) = &rules.enum_values {
        return select(members.clone()).boxed();
    }
    let step = step_of(rules.multiple_of);
    let (lo, hi) = bounds(rules.minimum, rules.maximum, step);
    let (first, last) = (ceil_to(lo, step), floor_to(hi, step));
    if first > last {
        return Just(lo).boxed();
    }
    let n = (last - first) / step;
    prop_oneof![
        1 => Just(first),
        1 => Just(last),
        6 => (0..=n).prop_map(move |k| first + k * step),
    ]
    .boxed()
}

pub(crate) fn swap_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_uppercase() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                c.to_uppercase().next().unwrap_or(c)
            }
        })
        .collect()
}

pub(crate) fn step_of(multiple_of: Option<i64>) -> i64 {
    multiple_of.filter(|s| *s > 0).unwrap_or(1)
}

/// Bounds for drawing, where the spec leaves a side open: from 0 (or
/// below a negative maximum), a thousand steps wide.
pub(crate) fn bounds(minimum: Option<i64>, maximum: Option<i64>, step: i64) -> (i64, i64) {
    let span = step.saturating_mul(1000);
    match (minimum, maximum) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, a.saturating_add(span)),
        (None, Some(b)) if b >= 0 => (0, b),
        (None, Some(b)) => (b.saturating_sub(span), b),
        (None, None) => (0, span),
    }
}

pub(crate) fn ceil_to(v: i64, step: i64) -> i64 {
    let r = v.rem_euclid(step);
    if r == 0 {
        v
    } else {
        v - r + step
    }
}

pub(crate) fn floor_to(v: i64, step: i64) -> i64 {
    v - v.rem_euclid(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OSS_HOST: &str = r"^https?://(?:[^/?#]+\.)?s3(?:-internal)?\.([a-z0-9-]+)\.jdcloud-oss\.com(?::[0-9]+)?(?:[/?#].*)?$";

    #[test]
    fn group_source_finds_the_capture_group_text() {
        assert_eq!(group_source(OSS_HOST, 1).as_deref(), Some("[a-z0-9-]+"));
        assert_eq!(group_source(r"^(?P<x>a|b)(c)$", 2).as_deref(), Some("c"));
        assert_eq!(group_source(r"^(?<x>[(])$", 1).as_deref(), Some("[(]"));
        assert_eq!(group_source(r"^(a)$", 2), None);
    }

    #[test]
    fn simple_shapes_are_a_class_and_a_repetition() {
        let class = r"[\p{Han}0-9A-Za-z_.-]";
        assert_eq!(
            simple_shape(&format!("^{class}+$")),
            Some((class.to_string(), 1, None))
        );
        assert_eq!(
            simple_shape("^[A-Za-z0-9]*$"),
            Some(("[A-Za-z0-9]".into(), 0, None))
        );
        assert_eq!(
            simple_shape("^[a-z]{2,5}$"),
            Some(("[a-z]".into(), 2, Some(5)))
        );
        assert_eq!(simple_shape("^img-[a-z0-9]{8}$"), None);
        assert_eq!(simple_shape("^[[:alpha:]]+$"), None);
    }

    #[test]
    fn regexes_are_narrowed_for_drawing_only() {
        assert_eq!(
            tame("a.b+[^/]*", "a-z", 12),
            r"a[a-z]b{1,12}[a-z&&[^/]]{0,12}"
        );
        assert_eq!(tame(r"\.[.+]", "a-z", 3), r"\.[.+]");
        assert_eq!(
            tame(r"[^]x][^a]+", "a-z", 3),
            r"[a-z&&[^\]x]][a-z&&[^a]]{1,3}"
        );
        assert_eq!(strip_anchors("^ab$"), "ab");
        assert_eq!(strip_anchors(r"^ab\$"), r"ab\$");
    }

    #[test]
    fn character_classes_admit_cjk_where_the_pattern_does() {
        let han = class_members(r"[\p{Han}0-9A-Za-z_.-]");
        assert!(han.contains(&'镜') && han.contains(&'a') && !han.contains(&' '));
        assert!(!class_members("[A-Za-z0-9]")
            .iter()
            .any(|c| CJK.contains(*c)));
    }

    #[test]
    fn bounds_fill_the_open_sides() {
        assert_eq!(bounds(Some(20), Some(16000), 10), (20, 16000));
        assert_eq!(bounds(None, None, 10), (0, 10_000));
        assert_eq!(bounds(None, Some(-5), 1), (-1005, -5));
        assert_eq!((ceil_to(21, 10), floor_to(-1, 10)), (30, -10));
    }
}
