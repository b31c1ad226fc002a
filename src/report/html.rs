//! The report as one self-contained HTML page: inline CSS and script, no
//! external asset (a Content-Security-Policy forbids loading any), every
//! table sortable by clicking a column, one box filtering the rows of all.
//!
//! The script marks the page when it is done (`data-sortable-tables`,
//! `data-sortable-rows` on `<body>`), records any script error on `<html>`
//! (`data-js-errors`), and, opened with `#selftest`, sorts and filters the
//! largest table and writes the outcome to `data-selftest`: what the
//! headless-browser test reads.

use super::document::{Block, Document, Table};
use super::text::{Span, Text};

pub(super) fn render(doc: &Document) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(&doc.title)));
    out.push_str(&format!("<style>{STYLE}</style>\n"));
    out.push_str(&format!("<script>{ERROR_HOOK}</script>\n"));
    out.push_str("</head>\n<body>\n<header>\n");
    out.push_str(&format!("<h1>{}</h1>\n", escape(&doc.title)));
    for p in &doc.intro {
        out.push_str(&format!("<p>{}</p>\n", text(p)));
    }
    out.push_str("</header>\n");
    out.push_str(
        "<div class=\"toolbar\"><label for=\"filter\">Filter rows</label> <input id=\"filter\" type=\"search\" placeholder=\"code, parameter, provider…\" autocomplete=\"off\"> <span id=\"filter-status\" aria-live=\"polite\"></span></div>\n",
    );
    out.push_str("<nav aria-label=\"Contents\">\n<ul>\n");
    for s in &doc.sections {
        out.push_str(&format!(
            "<li class=\"toc-{}\"><a href=\"#{}\">{}</a></li>\n",
            s.level,
            escape(&s.id),
            text(&s.title)
        ));
    }
    out.push_str("</ul>\n</nav>\n<main>\n");
    for section in &doc.sections {
        out.push_str(&format!(
            "<section id=\"{}\">\n<h{level}>{}</h{level}>\n",
            escape(&section.id),
            text(&section.title),
            level = section.level
        ));
        for block in &section.blocks {
            match block {
                Block::Paragraph(p) => out.push_str(&format!("<p>{}</p>\n", text(p))),
                Block::Table(t) => out.push_str(&table(t)),
            }
        }
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n");
    out.push_str(&format!("<script>{SCRIPT}</script>\n"));
    out.push_str("</body>\n</html>\n");
    out
}

fn table(t: &Table) -> String {
    let mut out = String::from("<div class=\"scroll\"><table class=\"sortable\">\n<thead><tr>");
    for c in &t.columns {
        out.push_str(&format!("<th scope=\"col\">{}</th>", text(c)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in row {
            out.push_str(&format!("<td>{}</td>", text(c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
    out
}

fn text(t: &Text) -> String {
    let mut out = String::new();
    for span in t.spans() {
        match span {
            Span::Plain(s) => out.push_str(&escape(s)),
            Span::Code(s) => out.push_str(&format!("<code>{}</code>", escape(s))),
            Span::Break => out.push_str("<br>"),
        }
    }
    out
}

/// Escapes text for element content and quoted attribute values alike.
fn escape(s: &str) -> String {
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

const STYLE: &str = r#"
:root { --line: #d0d4da; --head: #f3f5f7; --accent: #0b5cad; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 0 1.5rem 3rem; max-width: 110rem; color: #1d2228; }
.toolbar { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line); padding: .5rem 0; z-index: 1; }
section { scroll-margin-top: 3.5rem; }
h1 { font-size: 1.5rem; margin: .5rem 0; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid var(--line); }
h3 { margin-top: 1.75rem; }
nav ul { columns: 3 18rem; padding-left: 1rem; }
nav .toc-3 { margin-left: 1rem; font-size: .92em; }
a { color: var(--accent); }
.toolbar input { font: inherit; padding: .25rem .5rem; width: 24rem; max-width: 60vw; }
#filter-status { color: #5a6470; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: var(--head); cursor: pointer; white-space: nowrap; user-select: none; }
th[aria-sort="ascending"]::after { content: " \25B2"; }
th[aria-sort="descending"]::after { content: " \25BC"; }
tbody tr:nth-child(even) { background: #fafbfc; }
code { font: 12.5px/1.4 ui-monospace, monospace; background: #eef1f4; padding: 0 .2em; border-radius: 3px; overflow-wrap: anywhere; }
"#;

/// Runs first, so that an error anywhere in the page is recorded.
const ERROR_HOOK: &str = r#"
(function () {
  function record(message) {
    var root = document.documentElement;
    var before = root.getAttribute('data-js-errors');
    root.setAttribute('data-js-errors', (before ? before + ' | ' : '') + message);
  }
  window.addEventListener('error', function (e) { record(String(e.message)); });
  window.addEventListener('unhandledrejection', function (e) { record('unhandled rejection: ' + String(e.reason)); });
})();
"#;

const SCRIPT: &str = r#"
(function () {
  'use strict';
  var tables = Array.prototype.slice.call(document.querySelectorAll('table.sortable'));
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  var filter = document.getElementById('filter');
  var status = document.getElementById('filter-status');

  function rowsOf(table) { return Array.prototype.slice.call(table.tBodies[0].rows); }
  function headersOf(table) { return Array.prototype.slice.call(table.tHead.rows[0].cells); }
  function cellText(row, index) {
    var cell = row.cells[index];
    return cell ? cell.textContent.trim() : '';
  }

  function sortBy(table, index, descending) {
    var body = table.tBodies[0];
    var rows = rowsOf(table);
    rows.sort(function (a, b) {
      var order = collator.compare(cellText(a, index), cellText(b, index));
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    headersOf(table).forEach(function (th, i) {
      th.setAttribute('aria-sort', i === index ? (descending ? 'descending' : 'ascending') : 'none');
    });
  }

  var rowCount = 0;
  tables.forEach(function (table) {
    headersOf(table).forEach(function (th, index) {
      th.tabIndex = 0;
      th.title = 'Sort by this column';
      th.setAttribute('aria-sort', 'none');
      function activate() { sortBy(table, index, th.getAttribute('aria-sort') === 'ascending'); }
      th.addEventListener('click', activate);
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); activate(); }
      });
    });
    rowCount += table.tBodies[0].rows.length;
  });

  function applyFilter() {
    var query = filter.value.trim().toLowerCase();
    var shown = 0;
    var total = 0;
    tables.forEach(function (table) {
      var visible = 0;
      rowsOf(table).forEach(function (row) {
        var match = query === '' || row.textContent.toLowerCase().indexOf(query) !== -1;
        row.hidden = !match;
        total += 1;
        if (match) { shown += 1; visible += 1; }
      });
      table.hidden = query !== '' && visible === 0;
    });
    status.textContent = query === '' ? total + ' rows' : shown + ' of ' + total + ' rows match';
  }
  filter.addEventListener('input', applyFilter);
  applyFilter();

  document.body.setAttribute('data-sortable-tables', String(tables.length));
  document.body.setAttribute('data-sortable-rows', String(rowCount));

  function selftest() {
    var problems = [];
    var table = tables.reduce(function (a, b) {
      return b.tBodies[0].rows.length > a.tBodies[0].rows.length ? b : a;
    });
    var columns = [0, Math.min(3, headersOf(table).length - 1)];
    columns.forEach(function (index) {
      var th = headersOf(table)[index];
      [false, true].forEach(function (descending) {
        th.click();
        var values = rowsOf(table).map(function (row) { return cellText(row, index); });
        for (var i = 1; i < values.length; i += 1) {
          var order = collator.compare(values[i - 1], values[i]);
          if (descending ? order < 0 : order > 0) {
            problems.push('column ' + index + ' not ' + (descending ? 'descending' : 'ascending') + ' at row ' + i);
            break;
          }
        }
        if (th.getAttribute('aria-sort') !== (descending ? 'descending' : 'ascending')) {
          problems.push('column ' + index + ' aria-sort is ' + th.getAttribute('aria-sort'));
        }
      });
    });
    var probe = cellText(rowsOf(table)[0], 0).toLowerCase();
    filter.value = probe;
    filter.dispatchEvent(new Event('input'));
    var visible = rowsOf(table).filter(function (row) { return !row.hidden; });
    if (visible.length === 0) { problems.push('filter "' + probe + '" hid every row'); }
    rowsOf(table).forEach(function (row) {
      var has = row.textContent.toLowerCase().indexOf(probe) !== -1;
      if (has === row.hidden) { problems.push('filter "' + probe + '" misplaced a row'); }
    });
    if (status.textContent.indexOf(' of ') === -1) { problems.push('filter status not updated'); }
    filter.value = '';
    filter.dispatchEvent(new Event('input'));
    if (rowsOf(table).some(function (row) { return row.hidden; })) { problems.push('clearing the filter left rows hidden'); }
    document.body.setAttribute('data-selftest', problems.length ? 'failed: ' + problems.join('; ') : 'passed');
  }
  if (window.location.hash === '#selftest') { selftest(); }
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_element_content_and_attributes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
