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

  // highlight makes pointing at (or focusing) a box of a graph emphasise
  // it, its arrows and the boxes they join, fading the rest. Boxes have
  // ids; each arrow's classes name its ends ("from-box-n3 to-box-n22").
  function highlight(svg) {
    function clear() {
      svg.classList.remove('hl-on');
      Array.prototype.forEach.call(svg.querySelectorAll('.hl, .hl-self'), function (el) {
        el.classList.remove('hl', 'hl-self');
      });
    }
    function show(box) {
      clear();
      svg.classList.add('hl-on');
      box.classList.add('hl-self');
      var id = box.id;
      var arrows = svg.querySelectorAll('g.edge.from-' + CSS.escape(id) + ', g.edge.to-' + CSS.escape(id));
      Array.prototype.forEach.call(arrows, function (edge) {
        edge.classList.add('hl');
        Array.prototype.forEach.call(edge.classList, function (c) {
          var m = /^(?:from|to)-(.+)$/.exec(c);
          if (m && m[1] !== id) {
            var other = svg.querySelector('#' + CSS.escape(m[1]));
            if (other) {
              other.classList.add('hl');
            }
          }
        });
      });
    }
    Array.prototype.forEach.call(svg.querySelectorAll('g.node[id]'), function (box) {
      box.addEventListener('mouseenter', function () { show(box); });
      box.addEventListener('focusin', function () { show(box); });
      box.addEventListener('mouseleave', clear);
      box.addEventListener('focusout', clear);
    });
  }

  // addSearch shows the navigation's search box: it finds nodes,
  // services, processes, groups, IP addresses and ports in the index
  // search-index.js sets (window.dotmSearch) and lists them as links.
  function addSearch(form) {
    var index = window.dotmSearch;
    if (!Array.isArray(index)) {
      return;
    }
    var root = form.getAttribute('data-root') || '';
    var input = form.querySelector('input');
    var list = form.querySelector('ul');
    var texts = index.map(function (e) {
      return (e.n + ' ' + (e.t || '')).toLowerCase();
    });
    form.hidden = false;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var first = list.querySelector('a');
      if (first) {
        first.click();
      }
    });
    input.addEventListener('input', function () {
      var words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      if (words.length === 0) {
        list.hidden = true;
        return;
      }
      var shown = 0;
      var total = 0;
      for (var i = 0; i < index.length; i++) {
        var text = texts[i];
        if (!words.every(function (w) { return text.indexOf(w) !== -1; })) {
          continue;
        }
        total++;
        if (shown === 20) {
          continue;
        }
        shown++;
        var li = document.createElement('li');
        var a = document.createElement('a');
        a.href = root + index[i].u;
        a.textContent = index[i].n;
        var kind = document.createElement('span');
        kind.className = 'kind';
        kind.textContent = index[i].k + (index[i].t ? ' · ' + index[i].t : '');
        a.appendChild(kind);
        li.appendChild(a);
        list.appendChild(li);
      }
      if (total === 0 || total > shown) {
        var more = document.createElement('li');
        more.className = 'more';
        more.textContent = total === 0 ? 'Nothing found' : (total - shown) + ' more: type more of the name';
        list.appendChild(more);
      }
      list.hidden = false;
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll('.graph svg'), highlight);
    Array.prototype.forEach.call(document.querySelectorAll('form.search'), addSearch);
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
