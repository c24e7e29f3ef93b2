// dotm site: table filter and sort. No dependencies, no network, no
// inline handlers (the pages may run under a strict CSP). The pages work
// without it.
(function () {
  'use strict';

  // addFilter puts a search box above table that hides the body rows
  // whose text does not contain what is typed (case-insensitive).
  function addFilter(table, n) {
    var box = document.createElement('div');
    box.className = 'filter';
    var input = document.createElement('input');
    input.type = 'search';
    input.id = 'filter-' + n;
    input.placeholder = 'Filter rows';
    input.autocomplete = 'off';
    input.setAttribute('aria-label', 'Filter the rows of the table below');
    var count = document.createElement('output');
    count.setAttribute('for', input.id);
    count.setAttribute('aria-live', 'polite');
    box.appendChild(input);
    box.appendChild(count);
    table.parentNode.insertBefore(box, table);
    input.addEventListener('input', function () {
      filterRows(table, input.value, count);
    });
  }

  // filterRows shows only the body rows of table containing text, and
  // says how many are shown.
  function filterRows(table, text, count) {
    var query = text.trim().toLowerCase();
    var shown = 0;
    var rows = bodyRows(table);
    rows.forEach(function (row) {
      var match = query === '' || row.textContent.toLowerCase().indexOf(query) !== -1;
      row.hidden = !match;
      if (match) {
        shown++;
      }
    });
    count.textContent = query === '' ? '' : shown + ' of ' + rows.length + ' rows';
  }

  // bodyRows lists the rows of all tbody sections of table.
  function bodyRows(table) {
    var rows = [];
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.push.apply(rows, body.rows);
    });
    return rows;
  }

  // makeSortable turns each header cell of table's first header row into
  // a button that sorts the body by that column.
  function makeSortable(table) {
    if (!table.tHead || table.tHead.rows.length === 0) {
      return;
    }
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (th) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'sort';
      while (th.firstChild) {
        button.appendChild(th.firstChild);
      }
      th.appendChild(button);
      th.addEventListener('click', function () {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        headers.forEach(function (other) {
          other.removeAttribute('aria-sort');
        });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        sortRows(table, th.cellIndex, ascending);
      });
    });
  }

  // sortRows sorts each tbody of table by column (stable: equal keys keep
  // their order).
  function sortRows(table, column, ascending) {
    Array.prototype.forEach.call(table.tBodies, function (body) {
      var items = Array.prototype.map.call(body.rows, function (row, i) {
        return { row: row, key: sortKey(row.cells[column]), index: i };
      });
      items.sort(function (a, b) {
        var c = compareKeys(a.key, b.key);
        return (ascending ? c : -c) || a.index - b.index;
      });
      items.forEach(function (item) {
        body.appendChild(item.row);
      });
    });
  }

  var numberPattern = /^[-+]?\d+(\.\d+)?$/;
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

  // sortKey is a cell's data-sort attribute or its text: a number if it
  // reads as one, else the text.
  function sortKey(cell) {
    if (!cell) {
      return { text: '' };
    }
    var text = (cell.getAttribute('data-sort') || cell.textContent).trim();
    if (numberPattern.test(text)) {
      return { number: parseFloat(text), text: text };
    }
    return { text: text };
  }

  // compareKeys orders numbers numerically and before texts, and texts
  // naturally ("web2" before "web10").
  function compareKeys(a, b) {
    var an = a.number !== undefined;
    var bn = b.number !== undefined;
    if (an && bn) {
      return a.number - b.number;
    }
    if (an !== bn) {
      return an ? -1 : 1;
    }
    return collator.compare(a.text, b.text);
  }

  function init() {
    var filterable = document.querySelectorAll('table.filterable');
    Array.prototype.forEach.call(filterable, addFilter);
    Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), makeSortable);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
