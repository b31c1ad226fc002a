//! The report as one self-contained HTML page: inline CSS and script, no
//! external asset (a Content-Security-Policy forbids loading any), every
//! table sortable by clicking a column, one box filtering the rows of all.
//!
//! It opens with what a reader takes in at a glance: a verdict grid per
//! observed run (a small cell per rule, one colour per outcome, a legend;
//! the rule and its counts as the cell's tooltip), then the comparison as
//! a matrix of short cells, each opening on a click (`<details>`) to the
//! spec's text in full.
//!
//! The script marks the page when it is done (`data-sortable-tables`,
//! `data-sortable-rows` on `<body>`), records any script error on `<html>`
//! (`data-js-errors`), and, opened with `#selftest`, sorts and filters the
//! largest table and writes the outcome to `data-selftest`: what the
//! headless-browser test reads. `data-grid-cells` on `<body>` counts the
//! grid cells; the self-test also checks that every one is drawn in its
//! legend's colour (each grid's count on it as `data-drawn`) and that a
//! comparison cell opens on a click (its text in `data-opened-cell`).

use super::document::{Block, Document, Glance, Section, Table};
use super::observed::Outcome;
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
    // The comparison first, after the grids: what a reader takes in at a
    // glance; then the rest in the document's order.
    let sections: Vec<&Section> = doc
        .sections
        .iter()
        .filter(|s| s.lead)
        .chain(doc.sections.iter().filter(|s| !s.lead))
        .collect();
    out.push_str(&glance(&doc.glance));
    out.push_str(
        "<details class=\"toc\"><summary>Contents</summary>\n<nav aria-label=\"Contents\">\n<ul>\n",
    );
    for s in &sections {
        out.push_str(&format!(
            "<li class=\"toc-{}\"><a href=\"#{}\">{}</a></li>\n",
            s.level,
            escape(&s.id),
            text(&s.title)
        ));
    }
    out.push_str("</ul>\n</nav>\n</details>\n<main>\n");
    for section in sections {
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

/// The class of an outcome's colour: `o-not_exercised`.
fn outcome_class(outcome: Outcome) -> String {
    format!("o-{}", outcome.label().replace(' ', "_"))
}

/// A verdict grid per run, each with its legend.
fn glance(g: &Glance) -> String {
    let mut out = format!(
        "<section id=\"at-a-glance\" class=\"glance\">\n<h2>{}</h2>\n<p>{}</p>\n",
        text(&g.title),
        text(&g.intro)
    );
    for grid in &g.grids {
        let rules: usize = grid.groups.iter().map(|gr| gr.cells.len()).sum();
        out.push_str(&format!(
            "<figure class=\"verdicts\" data-rules=\"{rules}\">\n<figcaption><strong>{}</strong> {}</figcaption>\n<ul class=\"legend\">",
            text(&grid.title),
            text(&grid.summary)
        ));
        for (outcome, n) in &grid.legend {
            out.push_str(&format!(
                "<li title=\"{}\"><span class=\"swatch {}\" data-outcome=\"{}\"></span> {} <span class=\"n\">{n}</span></li>",
                escape(outcome.meaning()),
                outcome_class(*outcome),
                outcome_class(*outcome),
                escape(outcome.label()),
            ));
        }
        out.push_str("</ul>\n");
        for group in &grid.groups {
            out.push_str(&format!(
                "<div class=\"grid-group\"><div class=\"grid-title\">{}</div><div class=\"grid\" role=\"list\">",
                text(&group.title)
            ));
            for cell in &group.cells {
                out.push_str(&format!(
                    "<span class=\"cell {class}\" data-outcome=\"{class}\" role=\"listitem\" title=\"{label}\" aria-label=\"{label}\"></span>",
                    class = outcome_class(cell.outcome),
                    label = escape(&cell.label),
                ));
            }
            out.push_str("</div></div>\n");
        }
        out.push_str("</figure>\n");
    }
    out.push_str("</section>\n");
    out
}

fn table(t: &Table) -> String {
    let mut out = String::from("<div class=\"scroll\"><table class=\"sortable\">\n<thead><tr>");
    for c in &t.columns {
        out.push_str(&format!("<th scope=\"col\">{}</th>", text(c)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (i, row) in t.rows.iter().enumerate() {
        out.push_str("<tr>");
        for (j, c) in row.iter().enumerate() {
            let short = t
                .short
                .get(i)
                .and_then(|r| r.get(j))
                .and_then(Option::as_ref);
            let muted = if c.to_flat_string() == "not documented" {
                " class=\"nd\""
            } else {
                ""
            };
            match short {
                Some(short) => out.push_str(&format!(
                    "<td><details class=\"more\"><summary>{}</summary><div class=\"full\">{}</div></details></td>",
                    text(short),
                    text(c)
                )),
                None => out.push_str(&format!("<td{muted}>{}</td>", text(c))),
            }
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
details.toc > summary { cursor: pointer; color: var(--accent); margin: .5rem 0; }
.glance figure { margin: .75rem 0; padding: .6rem .9rem; border: 1px solid var(--line); border-radius: 6px; }
.glance figcaption { margin-bottom: .3rem; }
.legend { list-style: none; padding: 0; margin: .3rem 0 .5rem; display: flex; flex-wrap: wrap; gap: .25rem 1.1rem; }
.legend .n { color: #5a6470; }
.swatch, .cell { display: inline-block; width: 13px; height: 13px; border-radius: 2px; vertical-align: -2px; }
.grid-group { margin: .35rem 0; }
.grid-title { font-size: .9em; color: #3b4450; margin-bottom: .15rem; }
.grid { display: flex; flex-wrap: wrap; gap: 3px; max-width: 60rem; }
.cell:hover { outline: 2px solid #1d2228; outline-offset: 1px; }
.o-conforms { background: #009e73; }
.o-violates { background: #d55e00; }
.o-departs { background: #e69f00; }
.o-observed { background: #0072b2; }
.o-not_exercised { background: #eceff2; box-shadow: inset 0 0 0 1px #9aa3ad; }
td.nd { color: #7a838d; }
td details.more > summary { cursor: pointer; list-style: none; }
td details.more > summary::-webkit-details-marker { display: none; }
td details.more > summary::after { content: " \25B8"; color: var(--accent); }
td details.more[open] > summary::after { content: " \25BE"; }
td details.more .full { margin-top: .3rem; padding-top: .3rem; border-top: 1px dashed var(--line); font-size: .95em; }
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
  var gridCells = Array.prototype.slice.call(document.querySelectorAll('.grid .cell'));
  document.body.setAttribute('data-grid-cells', String(gridCells.length));

  function checkGrids(problems) {
    Array.prototype.forEach.call(document.querySelectorAll('figure.verdicts'), function (figure, n) {
      var cells = figure.querySelectorAll('.grid .cell');
      if (String(cells.length) !== figure.getAttribute('data-rules')) {
        problems.push('grid ' + n + ' has ' + cells.length + ' cells for ' + figure.getAttribute('data-rules') + ' rules');
      }
      var colours = {};
      Array.prototype.forEach.call(figure.querySelectorAll('.legend .swatch'), function (swatch) {
        colours[swatch.getAttribute('data-outcome')] = getComputedStyle(swatch).backgroundColor;
      });
      var drawn = 0;
      Array.prototype.forEach.call(cells, function (cell) {
        var box = cell.getBoundingClientRect();
        var colour = getComputedStyle(cell).backgroundColor;
        if (box.width >= 8 && box.height >= 8 && colour === colours[cell.getAttribute('data-outcome')] && cell.title) {
          drawn += 1;
        }
      });
      if (drawn !== cells.length) { problems.push('grid ' + n + ': ' + (cells.length - drawn) + ' cells not drawn in their legend colour'); }
      figure.setAttribute('data-drawn', String(drawn));
    });
  }

  function checkOpening(problems) {
    var more = document.querySelector('td details.more');
    if (!more) { problems.push('no comparison cell opens'); return; }
    var full = more.querySelector('.full');
    function shown() {
      var box = full.getBoundingClientRect();
      return full.checkVisibility() && box.width > 0 && box.height > 0;
    }
    if (more.open || shown()) { problems.push('a comparison cell shows its text before a click'); }
    more.querySelector('summary').click();
    if (!more.open || !shown()) { problems.push('a click did not open a comparison cell'); }
    document.body.setAttribute('data-opened-cell', full.textContent.trim().slice(0, 120));
  }

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
    checkGrids(problems);
    checkOpening(problems);
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
