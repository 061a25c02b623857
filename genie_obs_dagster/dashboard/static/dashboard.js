/* Genie observability: the local dashboard. Draws every chart as SVG from the datasets embedded in the page
   (sql/dashboards/*.sql run against the marts) and redraws them when the workspace filter changes.
   Only sums are computed here; every distinct count comes from the marts (per workspace and for 'all').
   The data is packed (dashboard/pack.py): columnar tables with dictionary-encoded strings, long ranges in 7-day
   buckets ending on the last day, and text detail (prompts, configuration items) gzip-compressed and decoded
   when a page that shows it is opened. */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("dashboard-data").textContent);
  var META = DATA.meta || {};
  /* A columnar table {n, c: {column: values | {k: distinct values, i: codes}}} as row objects. */
  function decode(t) {
    var names = [], cols = [];
    Object.keys(t.c).forEach(function (name) {
      var c = t.c[name];
      if (c.g) {  // key columns sharing one dictionary of tuples
        c.g.forEach(function (member, j) { names.push(member); cols.push(c.i.map(function (i) { return c.k[i][j]; })); });
      } else {
        names.push(name); cols.push(Array.isArray(c) ? c : c.i.map(function (i) { return c.k[i]; }));
      }
    });
    var out = new Array(t.n);
    for (var j = 0; j < t.n; j += 1) {
      var r = {};
      for (var k = 0; k < names.length; k += 1) { r[names[k]] = cols[k][j]; }
      out[j] = r;
    }
    return out;
  }
  var D = {};
  Object.keys(DATA.datasets).forEach(function (k) { D[k] = decode(DATA.datasets[k]); });
  var DETAIL = DATA.detail || {}, detailLoad = null, waiting = false;
  /* The compressed detail, decoded once (DecompressionStream: no library, nothing fetched). */
  function loadDetail() {
    if (!detailLoad) {
      detailLoad = Promise.all(Object.keys(DETAIL).map(function (k) {
        var bin = atob(DETAIL[k]), bytes = new Uint8Array(bin.length);
        for (var i = 0; i < bin.length; i += 1) { bytes[i] = bin.charCodeAt(i); }
        var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
        return new Response(stream).text().then(function (text) { D[k] = decode(JSON.parse(text)); });
      }));
    }
    return detailLoad;
  }
  var SVGNS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#2f6fed", "#ff7a45", "#12a4a4", "#7a4fd6", "#e8a317", "#d64545", "#1f9d55", "#c2410c",
                 "#0e7490", "#9d174d", "#4d7c0f", "#9aa5b1"];
  var OUTCOMES = [["completed", "Completed", "#1f9d55"], ["failed", "Failed", "#d64545"],
                  ["cancelled", "Cancelled", "#9aa5b1"], ["in_progress", "In progress", "#e8a317"],
                  ["not_fetched", "Not fetched", "#7a4fd6"]];
  var state = { ws: "all", tab: "summary" };

  // -- small helpers --------------------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else if (k === "cls") { node.className = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c != null) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  }
  function sv(tag, attrs, parent) {
    var node = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function tip(node, text) { sv("title", { text: text }, node); return node; }
  function num(v) { return v == null || isNaN(v) ? 0 : Number(v); }
  function sum(rows, key) { return rows.reduce(function (a, r) { return a + num(r[key]); }, 0); }
  function groupBy(rows, keyFn) {
    var map = new Map();
    rows.forEach(function (r) { var k = keyFn(r); if (!map.has(k)) { map.set(k, []); } map.get(k).push(r); });
    return map;
  }
  function ratio(a, b) { return b ? a / b : null; }

  var fmt = {
    int: function (v) { return v == null ? "–" : Math.round(Number(v)).toLocaleString("en-US"); },
    pct: function (v) { return v == null ? "–" : (100 * v).toFixed(1) + "%"; },
    ms: function (v) {
      if (v == null) { return "–"; }
      v = Number(v);
      return v < 1000 ? Math.round(v) + " ms" : (v / 1000).toFixed(v < 10000 ? 2 : 1) + " s";
    },
    big: function (v) {
      if (v == null) { return "–"; }
      var units = ["", "K", "M", "B", "T"], i = 0; v = Number(v);
      while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
      return (i ? v.toFixed(v < 10 ? 1 : 0) : String(Math.round(v))) + units[i];
    },
    bytes: function (v) {
      if (v == null) { return "–"; }
      var units = ["B", "KB", "MB", "GB", "TB", "PB"], i = 0; v = Number(v);
      while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
      return v.toFixed(i ? 1 : 0) + " " + units[i];
    },
    day: function (iso) {
      if (!iso) { return "–"; }
      var d = new Date(iso.slice(0, 10) + "T00:00:00Z");
      return d.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
    },
    time: function (iso) { return iso ? iso.replace("T", " ").replace("+00:00", "").slice(0, 16) + " UTC" : "–"; },
    age: function (iso) {
      if (!iso) { return "–"; }
      var h = (Date.parse(DATA.generated_at) - Date.parse(iso)) / 3600000;
      if (h < 1) { return Math.max(0, Math.round(h * 60)) + " min ago"; }
      return h < 48 ? h.toFixed(1) + " h ago" : (h / 24).toFixed(1) + " days ago";
    },
  };

  // -- the workspace filter -------------------------------------------------------------------------------
  function rows(name) {
    if (!D[name] && DETAIL[name]) { waiting = true; }
    var all = D[name] || [];
    return state.ws === "all" ? all : all.filter(function (r) { return r.workspace_id === state.ws; });
  }
  function scoped(name) { return (D[name] || []).filter(function (r) { return r.scope === state.ws; }); }

  // Titles used by spaces of several workspaces get the workspace name when every workspace is shown.
  var SHARED_TITLES = (function () {
    var seen = {};
    (D.space_leaderboard || []).forEach(function (r) { (seen[r.space] = seen[r.space] || {})[r.workspace_id] = true; });
    return Object.keys(seen).filter(function (t) { return Object.keys(seen[t]).length > 1; });
  })();
  function spaceName(r) {
    return state.ws === "all" && SHARED_TITLES.indexOf(r.space) >= 0 ? r.space + " · " + r.workspace_name : r.space;
  }

  // One date axis for every time chart: first to last day with activity, in any workspace. Up to
  // META.chart_daily_days days it has one bucket per day; beyond, 7-day buckets ending on the last day (the same
  // alignment as the packed data's weekly rows, so every bucket is exact). DAYS holds each bucket's first day.
  function dayNum(iso) { return Math.round(Date.parse(String(iso).slice(0, 10) + "T00:00:00Z") / 86400000); }
  function isoOf(n) { return new Date(n * 86400000).toISOString().slice(0, 10); }
  var FIRST = META.first ? dayNum(META.first) : null, LAST = META.last ? dayNum(META.last) : null;
  var WEEKLY = FIRST != null && LAST - FIRST + 1 > (META.chart_daily_days || 90);
  var KMAX = WEEKLY ? Math.floor((LAST - FIRST) / 7) : 0;
  var DAYS = [], DAY_ENDS = [];
  if (FIRST != null) {
    if (WEEKLY) {
      for (var k = KMAX; k >= 0; k -= 1) { DAY_ENDS.push(isoOf(LAST - 7 * k)); DAYS.push(isoOf(Math.max(FIRST, LAST - 7 * k - 6))); }
    } else {
      for (var d = FIRST; d <= LAST; d += 1) { DAYS.push(isoOf(d)); DAY_ENDS.push(isoOf(d)); }
    }
  }
  function bucketOf(iso) { var d = dayNum(iso); return WEEKLY ? KMAX - Math.floor((LAST - d) / 7) : d - FIRST; }
  function bucketLabel(i) { return WEEKLY ? fmt.day(DAYS[i]) + "–" + fmt.day(DAY_ENDS[i]) : fmt.day(DAYS[i]); }
  function perDay(rowsIn, key) {
    var out = DAYS.map(function () { return 0; });
    rowsIn.forEach(function (r) { var i = bucketOf(r.activity_date); if (i >= 0 && i < out.length) { out[i] += num(r[key]); } });
    return out;
  }
  function minus(a, b) { return a.map(function (v, i) { return v - b[i]; }); }

  // -- charts ---------------------------------------------------------------------------------------------
  /* A round axis: the smallest step of 1, 2, 2.5 or 5 x 10^k giving at most 5 steps up to v. */
  function niceScale(v) {
    if (!(v > 0)) { return { max: 4, ticks: 4 }; }
    var p = Math.pow(10, Math.floor(Math.log10(v / 5))), steps = [1, 2, 2.5, 5, 10, 20];
    for (var i = 0; i < steps.length; i += 1) {
      var step = steps[i] * p;
      if (step >= 1 && Math.abs(step - Math.round(step)) < 1e-9) {
        var ticks = Math.ceil(v / step - 1e-9);
        if (ticks <= 5) { return { max: step * Math.max(ticks, 1), ticks: Math.max(ticks, 1) }; }
      }
    }
    return { max: 20 * p * 5, ticks: 5 };
  }
  /* An SVG drawn at the card's real width, so that text keeps its size whatever the card's width. */
  function chartSvg(card, h, label) {
    var w = Math.max(280, Math.round((card.clientWidth || 640) - 32));
    var svg = sv("svg", { viewBox: "0 0 " + w + " " + h, width: w, height: h, class: "chart", role: "img", "aria-label": label });
    card.appendChild(svg);
    return svg;
  }
  function widthOf(svg) { return Number(svg.getAttribute("width")); }
  function legend(card, items) {
    card.appendChild(el("div", { cls: "legend" }, items.map(function (it) {
      var i = el("i"); i.style.background = it.color;
      return el("span", {}, [i, it.label]);
    })));
  }
  function empty(card, text) { card.appendChild(el("div", { cls: "empty", text: text || (waiting ? "Loading…" : "No data for this selection") })); }
  function yAxis(svg, g, scale, x0, x1, y0, y1, format) {
    for (var i = 0; i <= scale.ticks; i += 1) {
      var y = y1 - (y1 - y0) * i / scale.ticks;
      sv("line", { x1: x0, x2: x1, y1: y, y2: y, stroke: "#e3e8ee" }, g);
      sv("text", { x: x0 - 6, y: y + 4, "text-anchor": "end", text: (format || fmt.big)(scale.max * i / scale.ticks) }, g);
    }
  }
  function xLabels(g, labels, xAt, y, every) {
    labels.forEach(function (lab, i) {
      var last = i === labels.length - 1 && (labels.length - 1) % every >= every / 2 + 0.5;
      if (i % every === 0 || last) {
        sv("text", { x: xAt(i), y: y, "text-anchor": "middle", text: lab }, g);
      }
    });
  }

  /* A time chart over DAYS: kind "bars" stacks the series; kind "lines" draws one line per series. */
  function timeChart(card, series, opts) {
    opts = opts || {};
    var n = DAYS.length;
    series = series.filter(function (s) { return s.values.some(function (v) { return v; }); });
    if (!n || !series.length) { return empty(card); }
    legend(card, series.map(function (s) { return { label: s.name, color: s.color }; }));
    var H = opts.height || 230, L = 52, R = 10, T = 8, B = 24;
    var svg = chartSvg(card, H, opts.label || "time chart"), g = sv("g", {}, svg), W = widthOf(svg);
    var stacked = opts.kind !== "lines";
    var totals = DAYS.map(function (_, i) {
      return stacked ? series.reduce(function (a, s) { return a + num(s.values[i]); }, 0)
        : Math.max.apply(null, series.map(function (s) { return num(s.values[i]); }));
    });
    var scale = niceScale(Math.max.apply(null, totals)), max = scale.max;
    var step = (W - L - R) / n;
    function x(i) { return L + step * (i + 0.5); }
    function y(v) { return H - B - (H - B - T) * v / max; }
    yAxis(svg, g, scale, L, W - R, T, H - B, opts.format);
    xLabels(g, DAYS.map(fmt.day), x, H - 6, Math.ceil(n / Math.max(2, Math.floor((W - L) / 70))));
    if (stacked) {
      var bw = Math.max(2, step * 0.72);
      DAYS.forEach(function (day, i) {
        var base = 0;
        series.forEach(function (s) {
          var v = num(s.values[i]);
          if (!v) { return; }
          tip(sv("rect", { x: x(i) - bw / 2, y: y(base + v), width: bw, height: y(base) - y(base + v), fill: s.color, rx: 1.5 }, g),
              bucketLabel(i) + " · " + s.name + ": " + (opts.format || fmt.int)(v));
          base += v;
        });
      });
    } else {
      series.forEach(function (s) {
        var d = s.values.map(function (v, i) { return (i ? "L" : "M") + x(i).toFixed(1) + " " + y(num(v)).toFixed(1); }).join(" ");
        sv("path", { d: d, fill: "none", stroke: s.color, "stroke-width": 2.2, "stroke-linejoin": "round" }, g);
        s.values.forEach(function (v, i) {
          tip(sv("circle", { cx: x(i), cy: y(num(v)), r: n > 40 ? 1.5 : 3, fill: s.color }, g),
              bucketLabel(i) + " · " + s.name + ": " + (opts.format || fmt.int)(v));
        });
      });
    }
    return svg;
  }

  /* Vertical bars over categories (e.g. a histogram). */
  function columns(card, categories, values, opts) {
    opts = opts || {};
    if (!values.some(function (v) { return v; })) { return empty(card); }
    var H = opts.height || 230, L = 52, R = 10, T = 14, B = 26;
    var svg = chartSvg(card, H, opts.label || "bar chart"), g = sv("g", {}, svg), W = widthOf(svg);
    var scale = niceScale(Math.max.apply(null, values)), max = scale.max, step = (W - L - R) / categories.length, bw = step * 0.66;
    yAxis(svg, g, scale, L, W - R, T, H - B);
    categories.forEach(function (c, i) {
      var v = num(values[i]), x = L + step * i + (step - bw) / 2, y = H - B - (H - B - T) * v / max;
      tip(sv("rect", { x: x, y: y, width: bw, height: H - B - y, fill: opts.color || PALETTE[0], rx: 2 }, g), c + ": " + fmt.int(v));
      if (v) { sv("text", { x: x + bw / 2, y: y - 4, "text-anchor": "middle", class: "value-label", text: fmt.int(v) }, g); }
      sv("text", { x: x + bw / 2, y: H - 8, "text-anchor": "middle", text: c }, g);
    });
    return svg;
  }

  /* Horizontal bars: items [{label, values: [..]}] with one value per series [{name, color}]. */
  function hbars(card, items, series, opts) {
    opts = opts || {};
    items = items.slice(0, opts.max || 12);
    if (!items.length) { return empty(card); }
    if (series.length > 1) { legend(card, series.map(function (s) { return { label: s.name, color: s.color }; })); }
    var rowH = series.length > 1 ? 13 * series.length + 10 : 24, LW = opts.labelWidth || 210, R = 64;
    var H = items.length * rowH + 6;
    var svg = chartSvg(card, H, opts.label || "bar chart"), g = sv("g", {}, svg), W = widthOf(svg);
    LW = Math.min(LW, Math.round(W * 0.42));
    var max = opts.max1 ? 1 : niceScale(Math.max.apply(null, items.map(function (it) { return Math.max.apply(null, it.values.map(num)); }))).max;
    items.forEach(function (it, i) {
      var y0 = i * rowH + 3;
      var chars = Math.floor(LW / 6.4), label = it.label.length > chars ? it.label.slice(0, chars - 1) + "…" : it.label;
      tip(sv("text", { x: LW - 8, y: y0 + rowH / 2 + 1, "text-anchor": "end", "dominant-baseline": "middle", class: "value-label", text: label }, g), it.label);
      var bh = series.length > 1 ? 11 : 16;
      series.forEach(function (s, k) {
        var v = it.values[k], w = v == null ? 0 : (W - LW - R) * num(v) / max;
        var y = series.length > 1 ? y0 + 5 + k * 13 : y0 + (rowH - bh) / 2;
        tip(sv("rect", { x: LW, y: y, width: Math.max(w, v ? 1 : 0), height: bh, fill: it.color || s.color, rx: 2 }, g),
            it.label + " · " + s.name + ": " + (opts.format || fmt.int)(v));
        sv("text", { x: LW + w + 5, y: y + bh / 2 + 1, "dominant-baseline": "middle", text: (opts.format || fmt.int)(v) }, g);
      });
    });
    return svg;
  }

  /* A donut of parts [{label, value, color}], with the total in the middle. */
  function donut(card, parts, opts) {
    opts = opts || {};
    parts = parts.filter(function (p) { return p.value > 0; });
    var total = parts.reduce(function (a, p) { return a + p.value; }, 0);
    if (!total) { return empty(card); }
    var H = Math.max(200, 44 + parts.length * 26);
    var svg = chartSvg(card, H, opts.label || "donut"), g = sv("g", {}, svg), W = widthOf(svg), a = -Math.PI / 2;
    var r = Math.min(95, H / 2 - 8, W * 0.17), r0 = r * 0.62, cx = r + 8, cy = H / 2, lx = 2 * r + 34;
    var ly0 = H / 2 - (parts.length - 1) * 13;
    parts.forEach(function (p, i) {
      var da = 2 * Math.PI * p.value / total, a1 = a + Math.min(da, 2 * Math.PI - 1e-4);
      var large = da > Math.PI ? 1 : 0;
      var d = ["M", cx + r * Math.cos(a), cy + r * Math.sin(a), "A", r, r, 0, large, 1, cx + r * Math.cos(a1), cy + r * Math.sin(a1),
               "L", cx + r0 * Math.cos(a1), cy + r0 * Math.sin(a1), "A", r0, r0, 0, large, 0, cx + r0 * Math.cos(a), cy + r0 * Math.sin(a), "Z"].join(" ");
      tip(sv("path", { d: d, fill: p.color || PALETTE[i % PALETTE.length] }, g), p.label + ": " + fmt.int(p.value));
      a = a + da;
      var ly = ly0 + i * 26;
      sv("rect", { x: lx, y: ly - 9, width: 12, height: 12, rx: 2, fill: p.color || PALETTE[i % PALETTE.length] }, g);
      sv("text", { x: lx + 20, y: ly + 1, class: "value-label", text: p.label }, g);
      sv("text", { x: W - 4, y: ly + 1, "text-anchor": "end", text: fmt.int(p.value) + " (" + fmt.pct(p.value / total) + ")" }, g);
    });
    sv("text", { x: cx, y: cy + 4, "text-anchor": "middle", class: "center-value", text: fmt.int(total) }, g);
    sv("text", { x: cx, y: cy + 22, "text-anchor": "middle", text: opts.centerLabel || "total" }, g);
    return svg;
  }

  /* A table; columns [{key, label, num, fmt, wrap, cell(row) -> node}]. */
  function table(card, cols, data, opts) {
    opts = opts || {};
    if (!data.length) { return empty(card); }
    var max = opts.max || 200, shown = data.slice(0, max);
    var head = el("tr", {}, cols.map(function (c) { return el("th", { cls: c.num ? "num" : "", text: c.label }); }));
    var body = shown.map(function (r) {
      return el("tr", {}, cols.map(function (c) {
        var td = el("td", { cls: (c.num ? "num" : "") + (c.wrap ? " wrap" : "") + (c.fmt === fmt.time ? " nowrap" : "") });
        if (c.cell) { var node = c.cell(r); if (node != null) { td.appendChild(typeof node === "string" ? document.createTextNode(node) : node); } }
        else { td.textContent = c.fmt ? c.fmt(r[c.key]) : (r[c.key] == null ? "–" : String(r[c.key])); }
        return td;
      }));
    });
    card.appendChild(el("div", { cls: "table-wrap" + (opts.tall ? " tall" : "") }, [el("table", {}, [el("thead", {}, [head]), el("tbody", {}, body)])]));
    if (data.length > max) { card.appendChild(el("p", { cls: "note", text: "Showing " + max + " of " + data.length + " rows." })); }
  }
  function pill(value, cls) { return value == null ? null : el("span", { cls: "pill " + (cls || value), text: String(value).replace("_", " ") }); }
  function sqlCell(text, summary) {
    if (!text) { return null; }
    return el("details", {}, [el("summary", { text: summary || "SQL" }), el("pre", { cls: "sql", text: text })]);
  }

  // -- layout helpers -------------------------------------------------------------------------------------
  function card(grid, width, title, note) {
    var c = el("section", { cls: "card " + width }, [el("h3", { text: title }), note ? el("p", { cls: "note", text: note }) : null]);
    grid.appendChild(c);
    return c;
  }
  function kpis(grid, items) {
    var box = el("div", { cls: "kpis" });
    items.forEach(function (k) {
      var tile = el("div", { cls: "kpi", "data-kpi": k.id, "data-value": k.value == null ? "" : String(k.value) },
                    [el("div", { cls: "label", text: k.label }), el("div", { cls: "value", text: (k.fmt || fmt.int)(k.value) }),
                     k.hint ? el("div", { cls: "hint", text: k.hint }) : null]);
      if (k.color) { tile.style.borderTopColor = k.color; }
      box.appendChild(tile);
    });
    grid.appendChild(box);
  }
  function colorMap(keys) {
    var m = {};
    keys.forEach(function (k, i) { m[k] = PALETTE[i % PALETTE.length]; });
    return m;
  }
  function topSpaces(activity, n) {
    var by = groupBy(activity, function (r) { return r.workspace_id + "/" + r.space_id; });
    return Array.from(by.values()).map(function (rs) { return { key: rs[0].workspace_id + "/" + rs[0].space_id, label: spaceName(rs[0]), q: sum(rs, "questions") }; })
      .sort(function (a, b) { return b.q - a.q; }).slice(0, n);
  }

  // -- pages ----------------------------------------------------------------------------------------------
  function successRate(rs) { return ratio(sum(rs, "completed"), sum(rs, "completed") + sum(rs, "failed") + sum(rs, "cancelled")); }
  function feedbackShare(rs) { return ratio(sum(rs, "positive_feedback"), sum(rs, "positive_feedback") + sum(rs, "negative_feedback")); }
  function activeAskers() { var s = scoped("top_askers"); return s.length ? s[0].askers_in_scope : 0; }

  /* Adoption per bucket. People cannot be summed over days: in 7-day buckets the weekly figures are the mart's
     7-day count on the bucket's last day (exact: the bucket is those 7 days), new askers add up, returning ones
     are the week's askers minus its new ones, and daily active askers are averaged over the bucket's days. */
  function adoptionBuckets(ad) {
    var by = new Map(ad.map(function (r) { return [r.activity_date, r]; }));
    function at(d, key) { return by.has(d) ? num(by.get(d)[key]) : 0; }
    if (!WEEKLY) {
      return { active: DAYS.map(function (d) { return at(d, "active_askers"); }), weekly: DAYS.map(function (d) { return at(d, "weekly_active_askers"); }),
               fresh: DAYS.map(function (d) { return at(d, "new_askers"); }), returning: DAYS.map(function (d) { return at(d, "returning_askers"); }) };
    }
    var active = perDay(ad, "active_askers"), fresh = perDay(ad, "new_askers");
    var weekly = DAY_ENDS.map(function (d) { return at(d, "weekly_active_askers"); });
    return { active: active.map(function (v, i) { return v / (dayNum(DAY_ENDS[i]) - dayNum(DAYS[i]) + 1); }), weekly: weekly,
             fresh: fresh, returning: minus(weekly, fresh) };
  }
  function adoptionChart(c) {
    var a = adoptionBuckets(scoped("adoption_daily"));
    timeChart(c, [
      { name: WEEKLY ? "Daily active askers (average over the week)" : "Daily active askers", color: PALETTE[0], values: a.active },
      { name: WEEKLY ? "Active askers in the week" : "Weekly active askers (7 days)", color: PALETTE[1], values: a.weekly },
    ], { kind: "lines", label: "active askers", format: WEEKLY ? function (v) { return v == null ? "–" : (Math.round(v * 10) / 10).toLocaleString("en-US"); } : null });
  }

  var PAGES = [
    { id: "summary", title: "Executive summary", lead: "Genie usage, quality and adoption at a glance.", render: function (grid) {
      var act = rows("daily_activity"), lb = rows("space_leaderboard"), ph = rows("pipeline_health");
      kpis(grid, [
        { id: "questions", label: "Questions", value: sum(act, "questions") },
        { id: "conversations", label: "Conversations", value: sum(lb, "conversations") },
        { id: "askers", label: "People asking", value: activeAskers(), color: PALETTE[1] },
        { id: "spaces", label: "Spaces used", value: lb.filter(function (r) { return r.questions > 0; }).length, color: PALETTE[2] },
        { id: "success_rate", label: "Success rate", value: successRate(act), fmt: fmt.pct, color: "#1f9d55", hint: "completed / finished" },
        { id: "positive_feedback", label: "Positive feedback", value: feedbackShare(act), fmt: fmt.pct, color: "#1f9d55", hint: "of rated answers" },
        { id: "coverage", label: "Coverage", value: ratio(sum(ph, "messages_with_details"), sum(ph, "messages_listed")), fmt: fmt.pct, color: PALETTE[3], hint: "messages with details" },
      ]);
      var c = card(grid, "w8", "Questions per day", "By outcome of Genie's answer");
      timeChart(c, OUTCOMES.map(function (o) { return { name: o[1], color: o[2], values: perDay(act, o[0]) }; }), { label: "questions per day" });
      donut(card(grid, "w4", "Outcomes", "All questions in the selection"),
            OUTCOMES.map(function (o) { return { label: o[1], value: sum(act, o[0]), color: o[2] }; }), { centerLabel: "questions" });
      hbars(card(grid, "w6", "Top spaces", "Questions per space"),
            lb.slice().sort(function (a, b) { return b.questions - a.questions; }).map(function (r) { return { label: spaceName(r), values: [r.questions] }; }),
            [{ name: "Questions", color: PALETTE[0] }], { max: 8 });
      adoptionChart(card(grid, "w6", "Active askers", "Distinct people asking, per day and over the last 7 days"));
    } },
    { id: "usage", title: "Usage", lead: "Which spaces are used, how much, and how well they answer.", render: function (grid) {
      var act = rows("daily_activity"), lb = rows("space_leaderboard"), sd = rows("space_daily");
      var top = topSpaces(sd, 8), colors = colorMap(top.map(function (t) { return t.key; }));
      var series = top.map(function (t) {
        return { name: t.label, color: colors[t.key], values: perDay(sd.filter(function (r) { return r.workspace_id + "/" + r.space_id === t.key; }), "questions") };
      });
      var shown = series.reduce(function (acc, s) { return minus(acc, s.values); }, perDay(act, "questions"));
      series.push({ name: "Other spaces", color: "#b8c4d0", values: shown });
      timeChart(card(grid, "w8", "Questions " + (WEEKLY ? "per week" : "per day") + " by space", "The eight busiest spaces, and all others"), series, { label: "questions by space" });
      hbars(card(grid, "w4", "Success rate by space", "Completed / (completed + failed + cancelled)"),
            lb.filter(function (r) { return r.success_rate != null; }).sort(function (a, b) { return a.success_rate - b.success_rate; })
              .map(function (r) { return { label: spaceName(r), values: [r.success_rate] }; }),
            [{ name: "Success rate", color: "#1f9d55" }], { format: fmt.pct, max1: true, labelWidth: 190 });
      timeChart(card(grid, "w6", "Conversations per day", "Started that day vs continued"), [
        { name: "New conversations", color: PALETTE[2], values: perDay(act, "new_conversations") },
        { name: "Continued", color: "#b8c4d0", values: minus(perDay(act, "conversations"), perDay(act, "new_conversations")) },
      ], { label: "conversations" });
      hbars(card(grid, "w6", "Questions and askers by space", ""),
            lb.slice().sort(function (a, b) { return b.questions - a.questions; }).map(function (r) { return { label: spaceName(r), values: [r.questions, r.askers] }; }),
            [{ name: "Questions", color: PALETTE[0] }, { name: "Askers", color: PALETTE[1] }], { max: 8 });
      table(card(grid, "w12", "Space leaderboard", "Ranked by questions within each workspace"), [
        { key: "questions_rank", label: "#", num: true }, { label: "Space", cell: spaceName }, { key: "workspace_name", label: "Workspace" },
        { key: "questions", label: "Questions", num: true, fmt: fmt.int }, { key: "conversations", label: "Conversations", num: true, fmt: fmt.int },
        { key: "askers", label: "Askers", num: true, fmt: fmt.int }, { key: "completed", label: "Completed", num: true, fmt: fmt.int },
        { key: "failed", label: "Failed", num: true, fmt: fmt.int }, { key: "cancelled", label: "Cancelled", num: true, fmt: fmt.int },
        { key: "success_rate", label: "Success", num: true, fmt: fmt.pct }, { key: "positive_feedback", label: "Positive", num: true },
        { key: "negative_feedback", label: "Negative", num: true }, { key: "review_requests", label: "Reviews", num: true },
        { key: "active_days", label: "Active days", num: true }, { key: "last_asked_at", label: "Last question", fmt: fmt.time },
      ], lb);
    } },
    { id: "quality", title: "Quality and feedback", lead: "Where Genie fails, and what people think of its answers.", render: function (grid) {
      var act = rows("daily_activity"), fl = rows("failures"), neg = rows("negative_feedback");
      kpis(grid, [
        { id: "failed", label: "Failed answers", value: sum(act, "failed"), color: "#d64545" },
        { id: "failure_rate", label: "Failure rate", value: ratio(sum(act, "failed"), sum(act, "completed") + sum(act, "failed") + sum(act, "cancelled")), fmt: fmt.pct, color: "#d64545" },
        { id: "positive", label: "Rated positive", value: sum(act, "positive_feedback"), color: "#1f9d55" },
        { id: "negative", label: "Rated negative", value: sum(act, "negative_feedback"), color: "#d64545" },
        { id: "reviews", label: "Review requests", value: sum(act, "review_requests"), color: "#e8a317" },
      ]);
      timeChart(card(grid, "w6", "Feedback per day", "Ratings of the day's answers"), [
        { name: "Positive", color: "#1f9d55", values: perDay(act, "positive_feedback") },
        { name: "Negative", color: "#d64545", values: perDay(act, "negative_feedback") },
        { name: "Review requested", color: "#e8a317", values: perDay(act, "review_requests") },
      ], { kind: "lines", label: "feedback" });
      var types = groupBy(fl, function (r) { return r.error_type; }), typeNames = Array.from(types.keys()).sort();
      var tc = colorMap(typeNames);
      hbars(card(grid, "w6", "Failures by error type", "Genie's error type of failed answers"),
            typeNames.map(function (t) { return { label: t, values: [sum(types.get(t), "failures")], color: tc[t] }; })
              .sort(function (a, b) { return b.values[0] - a.values[0]; }),
            [{ name: "Failures", color: "#d64545" }], { labelWidth: 260 });
      timeChart(card(grid, "w6", "Failures per day", "By error type"), typeNames.map(function (t) {
        return { name: t, color: tc[t], values: perDay(types.get(t), "failures") };
      }), { label: "failures per day" });
      var lb = rows("space_leaderboard");
      hbars(card(grid, "w6", "Feedback by space", "Answers rated positive and negative"),
            lb.filter(function (r) { return r.positive_feedback + r.negative_feedback > 0; })
              .sort(function (a, b) { return (b.positive_feedback + b.negative_feedback) - (a.positive_feedback + a.negative_feedback); })
              .map(function (r) { return { label: spaceName(r), values: [r.positive_feedback, r.negative_feedback] }; }),
            [{ name: "Positive", color: "#1f9d55" }, { name: "Negative", color: "#d64545" }], { max: 8 });
      table(card(grid, "w12", "Answers rated negative", "With the SQL Genie wrote; newest first"), [
        { key: "asked_at", label: "Asked", fmt: fmt.time }, { label: "Space", cell: spaceName }, { key: "asker", label: "Asker" },
        { key: "question", label: "Question", wrap: true }, { key: "query_description", label: "Genie's description", wrap: true },
        { label: "SQL", cell: function (r) { return sqlCell(r.query_sql); } },
        { label: "Status", cell: function (r) { return pill(r.outcome); } },
        { label: "Review", cell: function (r) { return r.review_requested ? pill("requested", "in_progress") : null; } },
      ], neg);
    } },
    { id: "prompts", title: "Prompts and SQL", lead: "What people ask, what Genie answered, and the SQL it ran (latest " + (META.prompts_per_workspace || 200) + " per workspace" +
      ((META.prompts_per_workspace || 200) < 200 ? "; every prompt is in the Lakeview dashboard" : "") + ").", render: function (grid) {
      var pr = rows("recent_prompts");
      donut(card(grid, "w4", "Answer kinds", "Latest questions in the selection"), [
        { label: "Answered with SQL", value: pr.filter(function (r) { return r.query_sql; }).length, color: PALETTE[0] },
        { label: "Text only", value: pr.filter(function (r) { return !r.query_sql && r.outcome === "completed"; }).length, color: PALETTE[2] },
        { label: "No answer", value: pr.filter(function (r) { return !r.query_sql && r.outcome !== "completed"; }).length, color: "#9aa5b1" },
      ], { centerLabel: "questions" });
      var spaces = groupBy(pr, spaceName);
      hbars(card(grid, "w8", "Latest questions by space", ""),
            Array.from(spaces.entries()).map(function (e) { return { label: e[0], values: [e[1].length] }; })
              .sort(function (a, b) { return b.values[0] - a.values[0]; }), [{ name: "Questions", color: PALETTE[0] }], { max: 8 });
      table(card(grid, "w12", "Questions, answers and SQL", "Newest first"), [
        { key: "asked_at", label: "Asked", fmt: fmt.time }, { label: "Space", cell: spaceName }, { key: "asker", label: "Asker" },
        { key: "question", label: "Question", wrap: true }, { key: "query_description", label: "Genie's description", wrap: true },
        { label: "SQL", cell: function (r) { return sqlCell(r.query_sql); } },
        { label: "Answer", cell: function (r) { return r.text_answer ? sqlCell(r.text_answer, "Answer") : null; } },
        { label: "Status", cell: function (r) { return pill(r.outcome); } },
        { label: "Feedback", cell: function (r) { return pill(r.feedback_rating); } },
        { key: "sql_total_duration_ms", label: "SQL time", num: true, fmt: fmt.ms },
      ], pr, { tall: true });
    } },
    { id: "performance", title: "SQL performance", lead: "The SQL Genie ran, as system.query.history saw it.", render: function (grid) {
      var perf = rows("sql_performance"), act = rows("daily_activity"), hist = rows("sql_duration_histogram");
      kpis(grid, [
        { id: "statements", label: "SQL statements", value: sum(perf, "statements") },
        { id: "failed_statements", label: "Failed statements", value: sum(perf, "failed_statements"), color: "#d64545" },
        { id: "avg_duration", label: "Average duration", value: ratio(sum(act, "sql_total_duration_ms"), sum(perf, "statements_with_history")), fmt: fmt.ms, color: PALETTE[2] },
        { id: "read_rows", label: "Rows read", value: sum(perf, "read_rows"), fmt: fmt.big, color: PALETTE[3] },
        { id: "read_bytes", label: "Data read", value: sum(perf, "read_bytes"), fmt: fmt.bytes, color: PALETTE[3] },
      ]);
      var buckets = groupBy(hist, function (r) { return r.bucket_order + "|" + r.bucket; });
      var keys = Array.from(buckets.keys()).sort(function (a, b) { return parseInt(a, 10) - parseInt(b, 10); });
      columns(card(grid, "w6", "How long Genie's SQL took", "Statements by total duration"),
              keys.map(function (k) { return k.split("|")[1]; }), keys.map(function (k) { return sum(buckets.get(k), "statements"); }),
              { color: PALETTE[2], label: "duration histogram" });
      hbars(card(grid, "w6", "Duration by space", "Median (p50) and p90 of total duration"),
            perf.slice().sort(function (a, b) { return num(b.duration_p90_ms) - num(a.duration_p90_ms); })
              .map(function (r) { return { label: spaceName(r), values: [r.duration_p50_ms, r.duration_p90_ms] }; }),
            [{ name: "p50", color: PALETTE[0] }, { name: "p90", color: PALETTE[1] }], { format: fmt.ms, max: 8 });
      timeChart(card(grid, "w6", "Statements per day", "Failed ones in red"), [
        { name: "Succeeded", color: PALETTE[0], values: minus(perDay(act, "sql_statements"), perDay(act, "failed_statements")) },
        { name: "Failed", color: "#d64545", values: perDay(act, "failed_statements") },
      ], { label: "statements per day" });
      var tot = perDay(act, "sql_total_duration_ms"), cnt = perDay(act, "sql_statements");
      timeChart(card(grid, "w6", "Average duration per day", ""), [
        { name: "Average total duration", color: PALETTE[2], values: tot.map(function (t, i) { return cnt[i] ? t / cnt[i] : 0; }) },
      ], { kind: "lines", format: fmt.ms, label: "average duration" });
      table(card(grid, "w12", "By space", "Percentiles are exact, over the statements found in query history"), [
        { label: "Space", cell: spaceName }, { key: "workspace_name", label: "Workspace" },
        { key: "statements", label: "Statements", num: true, fmt: fmt.int }, { key: "failed_statements", label: "Failed", num: true, fmt: fmt.int },
        { key: "duration_p50_ms", label: "p50", num: true, fmt: fmt.ms }, { key: "duration_p90_ms", label: "p90", num: true, fmt: fmt.ms },
        { key: "duration_p95_ms", label: "p95", num: true, fmt: fmt.ms }, { key: "duration_avg_ms", label: "Average", num: true, fmt: fmt.ms },
        { key: "duration_max_ms", label: "Max", num: true, fmt: fmt.ms }, { key: "read_rows", label: "Rows read", num: true, fmt: fmt.big },
        { key: "read_bytes", label: "Data read", num: true, fmt: fmt.bytes }, { key: "produced_rows", label: "Rows returned", num: true, fmt: fmt.int },
      ], perf);
    } },
    { id: "adoption", title: "Adoption", lead: "Who asks: active, new and returning people (from the asker of each question, not from query history).", render: function (grid) {
      var ad = scoped("adoption_daily"), top = scoped("top_askers"), last = ad.length ? ad[ad.length - 1] : null;
      kpis(grid, [
        { id: "people", label: "People asking", value: activeAskers() },
        { id: "dau", label: "Active on the last day", value: last ? last.active_askers : null, hint: last ? fmt.day(last.activity_date) : "" },
        { id: "wau", label: "Active in the last 7 days", value: last ? last.weekly_active_askers : null, color: PALETTE[1] },
        { id: "per_person", label: "Questions per person", value: ratio(sum(ad, "questions"), activeAskers()), fmt: function (v) { return v == null ? "–" : v.toFixed(1); }, color: PALETTE[2] },
      ]);
      adoptionChart(card(grid, "w6", "Daily and weekly active askers", "Weekly = distinct people over the 7 days ending that day"));
      var a = adoptionBuckets(ad);
      timeChart(card(grid, "w6", "New and returning askers", "New = first question ever seen from that person" + (WEEKLY ? "; per 7 days" : "")), [
        { name: "Returning", color: PALETTE[0], values: a.returning },
        { name: "New", color: PALETTE[1], values: a.fresh },
      ], { label: "new and returning" });
      hbars(card(grid, "w6", "Top users", "Questions per person"), top.map(function (r) { return { label: r.asker, values: [r.questions] }; }),
            [{ name: "Questions", color: PALETTE[3] }], { max: 10, labelWidth: 250 });
      table(card(grid, "w6", "Top users in detail", ""), [
        { key: "questions_rank", label: "#", num: true }, { key: "asker", label: "Asker" },
        { key: "questions", label: "Questions", num: true }, { key: "spaces", label: "Spaces", num: true },
        { key: "active_days", label: "Days", num: true }, { key: "failed", label: "Failed", num: true },
        { key: "negative_feedback", label: "Negative", num: true }, { key: "last_asked_at", label: "Last question", fmt: fmt.time },
      ], top);
    } },
    { id: "config", title: "Space configuration", lead: "How each space is set up (from serialized_space), and when that changed.", render: function (grid) {
      var sc = rows("space_config"), items = rows("space_config_items"), ch = rows("config_changes");
      hbars(card(grid, "w6", "What each space knows", "Tables, instructions and examples configured"),
            sc.map(function (r) { return { label: spaceName(r), values: [r.tables, r.example_sqls + r.text_instructions, r.benchmarks] }; }),
            [{ name: "Tables", color: PALETTE[0] }, { name: "Instructions and examples", color: PALETTE[2] }, { name: "Benchmarks", color: PALETTE[3] }], { max: 10 });
      table(card(grid, "w6", "Configuration changes", "Every version seen, newest first"), [
        { key: "first_seen_at", label: "First seen", fmt: fmt.time }, { label: "Space", cell: spaceName },
        { key: "version_number", label: "Version", num: true }, { label: "Current", cell: function (r) { return r.is_current ? pill("current", "completed") : null; } },
        { key: "tables", label: "Tables", num: true }, { key: "sample_questions", label: "Samples", num: true },
        { key: "benchmarks", label: "Benchmarks", num: true },
      ], ch);
      table(card(grid, "w12", "Spaces", "Current configuration"), [
        { label: "Space", cell: spaceName }, { key: "workspace_name", label: "Workspace" },
        { key: "sample_questions", label: "Sample questions", num: true }, { key: "tables", label: "Tables", num: true },
        { key: "columns", label: "Columns", num: true }, { key: "text_instructions", label: "Instructions", num: true },
        { key: "example_sqls", label: "Example SQL", num: true }, { key: "join_specs", label: "Joins", num: true },
        { key: "benchmarks", label: "Benchmarks", num: true }, { key: "versions", label: "Versions", num: true },
        { key: "update_time", label: "Updated", fmt: fmt.time },
      ], sc);
      var c = card(grid, "w12", "Configuration in detail", "Sample questions, tables, instructions, joins and benchmarks");
      var bySpace = groupBy(items, function (r) { return r.workspace_id + "/" + r.space_id; });
      if (!bySpace.size) { empty(c); }
      var KINDS = [["sample_question", "Sample questions"], ["table", "Tables"], ["metric_view", "Metric views"], ["text_instruction", "Instructions"],
                   ["example_sql", "Example SQL"], ["join_spec", "Joins"], ["benchmark", "Benchmarks"]];
      bySpace.forEach(function (its) {
        var block = el("div", { cls: "space-block" }, [el("h4", { text: its[0].space + "  ·  " + its[0].workspace_name })]);
        var lists = el("div", { cls: "items" });
        KINDS.forEach(function (k) {
          var mine = its.filter(function (r) { return r.item_type === k[0]; });
          if (!mine.length) { return; }
          lists.appendChild(el("div", {}, [el("h5", { text: k[1] + " (" + mine.length + ")" }), el("ul", {}, mine.map(function (r) {
            var text = r.item_text || "–";
            if (r.column_count != null) { text += " — " + r.column_count + " columns"; }
            return el("li", {}, [text, r.item_detail && k[0] !== "table" ? sqlCell(r.item_detail, k[0] === "join_spec" ? "condition" : "SQL") : null]);
          }))]));
        });
        block.appendChild(lists);
        c.appendChild(block);
      });
    } },
    { id: "health", title: "Pipeline health", lead: "Is the data complete and fresh? Coverage, pending work, errors and freshness per workspace.", render: function (grid) {
      var ph = rows("pipeline_health"), fe = rows("fetch_errors");
      kpis(grid, [
        { id: "health_coverage", label: "Coverage", value: ratio(sum(ph, "messages_with_details"), sum(ph, "messages_listed")), fmt: fmt.pct, hint: "messages with details / listed" },
        { id: "pending", label: "Pending", value: sum(ph, "messages_pending"), color: "#e8a317", hint: "not final yet: fetched again" },
        { id: "missing", label: "Missing details", value: sum(ph, "messages_missing"), color: "#7a4fd6" },
        { id: "open_errors", label: "Open fetch errors", value: sum(fe, "open_errors"), color: "#d64545" },
        { id: "api_only", label: "Found only by the API", value: sum(ph, "messages_api_only"), color: PALETTE[2], hint: "missed by the audit log" },
      ]);
      hbars(card(grid, "w6", "Coverage by workspace", "Messages listed from the audit log that have their details"),
            ph.map(function (r) {
              return { label: r.workspace_name, values: [r.coverage], color: r.coverage == null || r.coverage >= 0.98 ? "#1f9d55" : r.coverage >= 0.9 ? "#e8a317" : "#d64545" };
            }), [{ name: "Coverage", color: "#1f9d55" }],
            { format: fmt.pct, max1: true });
      hbars(card(grid, "w6", "Open fetch errors by type", "Messages and spaces the API could not return"),
            fe.filter(function (r) { return r.open_errors > 0; }).map(function (r) { return { label: r.object_type + ": " + r.error_type, values: [r.open_errors] }; }),
            [{ name: "Open errors", color: "#d64545" }], { labelWidth: 240 });
      table(card(grid, "w12", "Freshness and completeness", "Times in UTC; ages relative to when this page was generated"), [
        { key: "workspace_name", label: "Workspace" }, { key: "audit_events", label: "Audit events", num: true, fmt: fmt.int },
        { key: "latest_audit_event_time", label: "Latest audit event", fmt: fmt.time },
        { label: "Audit age", cell: function (r) { return fmt.age(r.latest_audit_event_time); } },
        { key: "latest_fetch_time", label: "Latest fetch", fmt: fmt.time },
        { label: "Fetch age", cell: function (r) { return fmt.age(r.latest_fetch_time); } },
        { key: "messages_listed", label: "Listed", num: true, fmt: fmt.int }, { key: "messages_with_details", label: "With details", num: true, fmt: fmt.int },
        { key: "messages_pending", label: "Pending", num: true }, { key: "messages_missing", label: "Missing", num: true },
        { key: "messages_excluded", label: "Excluded", num: true }, { key: "open_fetch_errors", label: "Open errors", num: true },
        { key: "spaces_with_details", label: "Spaces", num: true }, { key: "open_space_fetch_errors", label: "Space errors", num: true },
      ], ph);
      table(card(grid, "w12", "Fetch errors", ""), [
        { key: "workspace_name", label: "Workspace" }, { key: "object_type", label: "Object" }, { key: "error_type", label: "Type" },
        { key: "open_errors", label: "Open", num: true }, { key: "permanent_errors", label: "Permanent", num: true },
        { key: "resolved_errors", label: "Resolved", num: true }, { key: "attempts", label: "Attempts", num: true },
        { key: "last_attempt_at", label: "Last attempt", fmt: fmt.time }, { key: "example_error_message", label: "Example", wrap: true },
      ], fe);
    } },
  ];

  // -- wiring -------------------------------------------------------------------------------------------------
  function readHash() {
    var h = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (h.get("ws")) { state.ws = h.get("ws"); }
    if (h.get("tab")) { state.tab = h.get("tab"); }
  }
  function writeHash() { history.replaceState(null, "", "#ws=" + encodeURIComponent(state.ws) + "&tab=" + encodeURIComponent(state.tab)); }

  /* Draw the visible page(s) only: charts are sized to their cards, which hidden pages do not have. */
  function render() {
    waiting = false;
    var main = document.getElementById("pages");
    main.textContent = "";
    document.body.classList.toggle("all-pages", state.tab === "all");
    PAGES.forEach(function (p) {
      var grid = el("div", { cls: "grid" }), visible = state.tab === "all" || p.id === state.tab;
      var section = el("section", { cls: "page" + (visible ? " active" : ""), id: "page-" + p.id, "data-page": p.id },
                       [el("h2", { text: p.title }), el("p", { cls: "lead", text: p.lead }), grid]);
      main.appendChild(section);
      if (visible) { p.render(grid); }
    });
    Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) { b.classList.toggle("active", b.dataset.tab === state.tab); });
    document.documentElement.setAttribute("data-charts", String(document.querySelectorAll("svg.chart").length));
    document.documentElement.setAttribute("data-workspace", state.ws);
    document.documentElement.setAttribute("data-rendered", window.__errors.length ? "errors" : waiting ? "loading" : "ok");
    if (waiting) {
      loadDetail().then(render, function (e) {
        window.__errors.push("could not decode the embedded detail: " + e);
        var box = document.getElementById("js-errors");
        box.textContent = window.__errors.join("\n"); box.hidden = false;
        document.documentElement.setAttribute("data-rendered", "errors");
      });
    }
  }

  function init() {
    readHash();
    var select = document.getElementById("ws-filter");
    select.appendChild(el("option", { value: "all", text: "All workspaces" }));
    (D.workspaces || []).forEach(function (w) { select.appendChild(el("option", { value: w.workspace_id, text: w.workspace_name + " (" + w.workspace_id + ")" })); });
    if (!Array.prototype.some.call(select.options, function (o) { return o.value === state.ws; })) { state.ws = "all"; }
    select.value = state.ws;
    select.addEventListener("change", function () { state.ws = select.value; writeHash(); render(); });
    var tabs = document.getElementById("tabs");
    PAGES.forEach(function (p) {
      var b = el("button", { type: "button", role: "tab", "data-tab": p.id, text: p.title });
      b.addEventListener("click", function () { state.tab = p.id; writeHash(); render(); window.scrollTo(0, 0); });
      tabs.appendChild(b);
    });
    if (state.tab !== "all" && !PAGES.some(function (p) { return p.id === state.tab; })) { state.tab = "summary"; }
    document.getElementById("generated").textContent = "Generated " + fmt.time(DATA.generated_at) + " from the analytics marts";
    render();
    performance.mark("dashboard-rendered");
    document.documentElement.setAttribute("data-render-ms", performance.now().toFixed(1));
    setTimeout(loadDetail, 0);  // ready before another page is opened
  }

  init();
})();
