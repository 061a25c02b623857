/* Genie observability: the local dashboard. Draws every chart as SVG from the datasets embedded in the page
   (sql/dashboards/*.sql run against the marts, packed by dashboard/pack.py) and redraws them for the view:
   workspace, date range (presets of 7, 30 and 90 days ending on the last day with a question, or custom),
   a space (its own page), an asker and an error type. The whole view is in the URL fragment, so a link opens it.

   Sums come from the daily tables (per workspace and per space: exact over any range of whole days); distinct
   people and conversations from the marts (all time), from people_by_period (the presets and the periods before
   them) or from the per-message facts (any range they cover; asker and error-type filters); the search reads the
   message texts. Configuration changes (with the space's figures in the 7 days before and after each) and
   benchmark (eval) runs are events: the date range keeps those of its days (a range starting on the first day
   with data, or ending on the last, also keeps those before or after). Every table is columnar, gzip-compressed
   and decoded here (DecompressionStream): the core tables before the first render, the messages, their texts,
   negative answers, configuration items and eval runs when a view needs them. Nothing is fetched: the page works
   offline. */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("dashboard-data").textContent);
  var META = DATA.meta || {};
  var BLOBS = DATA.detail || {};
  var D = {};
  var PAGE_SIZE = 50;

  // -- decoding ---------------------------------------------------------------------------------------------
  /* A columnar table {n, c: {column: values | {k, i} | {g, k, i} | {d} | {f} | {by, k, i}}} as row objects
     (pack.py's ``columns``: dictionaries, joint key dictionaries, deltas, first-use numbers, per-workspace
     dictionaries). */
  function decode(t) {
    var names = [], cols = [], scoped = [];
    Object.keys(t.c).forEach(function (name) {
      var c = t.c[name];
      if (Array.isArray(c)) { names.push(name); cols.push(c); }
      else if (c.g) { c.g.forEach(function (member, j) { names.push(member); cols.push(c.i.map(function (i) { return c.k[i][j]; })); }); }
      else if (c.d) { var total = 0; names.push(name); cols.push(c.d.map(function (x) { total += x; return total; })); }
      else if (c.f) {
        var next = 0;
        names.push(name);
        cols.push(c.f.map(function (x) { if (x == null) { return null; } if (x < 0) { next += 1; return next - 1; } return next - 1 - x; }));
      } else if (c.by) { scoped.push([name, c]); }
      else { names.push(name); cols.push(c.i.map(function (i) { return c.k[i]; })); }
    });
    scoped.forEach(function (s) {
      var by = cols[names.indexOf(s[1].by)], c = s[1];
      names.push(s[0]); cols.push(c.i.map(function (i, j) { return c.k[by[j]][i]; }));
    });
    var out = new Array(t.n);
    for (var j = 0; j < t.n; j += 1) {
      var r = {};
      for (var k = 0; k < names.length; k += 1) { r[names[k]] = cols[k][j]; }
      out[j] = r;
    }
    return out;
  }
  function gunzip(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i += 1) { bytes[i] = bin.charCodeAt(i); }
    return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
  }
  var inflating = {}, pending = [];
  /* Decode a table once (a promise); message texts need the messages first (they are attached to them). */
  function inflate(name) {
    if (!inflating[name]) {
      var before = name === "message_text" ? inflate("messages") : Promise.resolve();
      inflating[name] = before.then(function () {
        if (D[name] || !BLOBS[name]) { return null; }
        return gunzip(BLOBS[name]).then(function (text) { D[name] = decode(JSON.parse(text)); prepare(name); });
      });
    }
    return inflating[name];
  }
  /* A lazy table, or null while it is being decoded (the view is drawn again when it is). */
  function need(name) {
    if (D[name]) { return D[name]; }
    if (BLOBS[name] && pending.indexOf(name) < 0) { pending.push(name); }
    return null;
  }
  Object.keys(DATA.datasets || {}).forEach(function (k) { D[k] = decode(DATA.datasets[k]); });

  // -- small helpers --------------------------------------------------------------------------------------
  var SVGNS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#2f6fed", "#ff7a45", "#12a4a4", "#7a4fd6", "#e8a317", "#d64545", "#1f9d55", "#c2410c",
                 "#0e7490", "#9d174d", "#4d7c0f", "#9aa5b1"];
  var OUTCOMES = [["completed", "Completed", "#1f9d55"], ["failed", "Failed", "#d64545"],
                  ["cancelled", "Cancelled", "#9aa5b1"], ["in_progress", "In progress", "#e8a317"],
                  ["not_fetched", "Not fetched", "#7a4fd6"]];
  var DURATION_BUCKETS = [[250, "< 0.25 s"], [1000, "0.25-1 s"], [2000, "1-2 s"], [5000, "2-5 s"], [10000, "5-10 s"],
                          [30000, "10-30 s"], [Infinity, ">= 30 s"]];
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else if (k === "cls") { node.className = attrs[k]; }
      else if (attrs[k] != null) { node.setAttribute(k, attrs[k]); }
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
  function sum(rows, key) { var a = 0; for (var i = 0; i < rows.length; i += 1) { a += num(rows[i][key]); } return a; }
  function groupBy(rows, keyFn) {
    var map = new Map();
    rows.forEach(function (r) { var k = keyFn(r); if (!map.has(k)) { map.set(k, []); } map.get(k).push(r); });
    return map;
  }
  function distinct(rows, key) {
    var seen = new Set();
    rows.forEach(function (r) { if (r[key] != null) { seen.add(r[key]); } });
    return seen.size;
  }
  function ratio(a, b) { return b ? a / b : null; }
  /* Continuous percentile (linear between the two nearest ranks), as the marts compute it. */
  function percentile(sorted, q) {
    if (!sorted.length) { return null; }
    var pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }
  function durationsOf(rows) {
    return rows.filter(function (m) { return m.duration != null; }).map(function (m) { return m.duration; }).sort(function (a, b) { return a - b; });
  }

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
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
    day: function (iso) { return iso ? MONTHS[parseInt(iso.slice(5, 7), 10) - 1] + " " + parseInt(iso.slice(8, 10), 10) : "–"; },
    date: function (iso) { return iso ? fmt.day(iso) + ", " + iso.slice(0, 4) : "–"; },
    time: function (iso) { return iso ? iso.replace("T", " ").replace("+00:00", "").slice(0, 16) + " UTC" : "–"; },
    age: function (iso) {
      if (!iso) { return "–"; }
      var h = (Date.parse(DATA.generated_at) - Date.parse(iso)) / 3600000;
      if (h < 1) { return Math.max(0, Math.round(h * 60)) + " min ago"; }
      return h < 48 ? h.toFixed(1) + " h ago" : (h / 24).toFixed(1) + " days ago";
    },
    one: function (v) { return v == null ? "–" : v.toFixed(1); },
    /* a change of a ratio, in percentage points */
    pts: function (v) { return v == null ? "–" : (v > 0 ? "+" : v < 0 ? "−" : "±") + Math.abs(100 * v).toFixed(1) + " pts"; },
  };

  // -- days -------------------------------------------------------------------------------------------------
  var DAY_NUMS = new Map(), DAY_ISOS = new Map();  // a few hundred distinct days for many rows
  function dayNum(iso) {
    var s = String(iso).slice(0, 10), n = DAY_NUMS.get(s);
    if (n === undefined) { n = Math.round(Date.parse(s + "T00:00:00Z") / 86400000); DAY_NUMS.set(s, n); }
    return n;
  }
  function isoOf(n) {
    var s = DAY_ISOS.get(n);
    if (s === undefined) { s = new Date(n * 86400000).toISOString().slice(0, 10); DAY_ISOS.set(n, s); }
    return s;
  }
  function two(n) { return n < 10 ? "0" + n : String(n); }
  var FIRST = META.first ? dayNum(META.first) : null, LAST = META.last ? dayNum(META.last) : null;
  var CHART_DAILY = META.chart_daily_days || 90;
  var MSG_FIRST = META.messages && META.messages.first ? dayNum(META.messages.first) : null;
  var TEXT_FIRST = META.texts && META.texts.first ? dayNum(META.texts.first) : null;
  var TEXT_COUNT = META.texts ? META.texts.count : 0;
  // Older rows are kept per 7-day bucket (ending on the last day): dates before these are bucket ends.
  function dailyFrom(days) { return LAST == null ? null : LAST - 7 * Math.ceil(days / 7) + 1; }
  var SPACE_DAILY_FROM = dailyFrom(META.space_daily_days || 182), WS_DAILY_FROM = dailyFrom(META.workspace_daily_days || 365);

  // -- prepared tables --------------------------------------------------------------------------------------
  var SPACE = {}, BY_SPACE = {}, PERIODS = {}, SHARED_TITLES = [], WS_NAMES = {};
  function keyOf(r) { return r.workspace_id + "/" + r.space_id; }
  function prepare(name) {
    var rows = D[name];
    if (rows.length && "activity_date" in rows[0]) { rows.forEach(function (r) { r._d = dayNum(r.activity_date); }); }
    if (rows.length && "space_id" in rows[0] && "workspace_id" in rows[0]) { rows.forEach(function (r) { r.key = keyOf(r); }); }
    if (name === "messages") {  // one object shape for every message: the additive columns of the daily rows too
      rows = D.messages = rows.map(function (r) {
        var day = Math.floor(r.t / 1440), minute = r.t - 1440 * day, o = r.outcome, iso = isoOf(day);
        return { key: r.key, workspace_id: r.workspace_id, workspace_name: r.workspace_name, space_id: r.space_id, space: r.space,
                 t: r.t, _d: day, activity_date: iso, asked_at: iso + "T" + two(Math.floor(minute / 60)) + ":" + two(minute % 60) + ":00+00:00",
                 asker: r.asker, conversation: r.conversation, outcome: o, error_type: r.error_type, feedback_rating: r.feedback_rating,
                 review_requested: r.review_requested, duration: r.sql_total_duration_ms, questions: 1,
                 completed: o === "completed" ? 1 : 0, failed: o === "failed" ? 1 : 0, cancelled: o === "cancelled" ? 1 : 0,
                 in_progress: o === "in_progress" ? 1 : 0, not_fetched: o === "not_fetched" ? 1 : 0, failures: o === "failed" ? 1 : 0,
                 positive_feedback: r.feedback_rating === "POSITIVE" ? 1 : 0, negative_feedback: r.feedback_rating === "NEGATIVE" ? 1 : 0,
                 review_requests: r.review_requested, new_conversations: r.starts_conversation, starts_conversation: r.starts_conversation,
                 sql_statements: r.has_statement, has_statement: r.has_statement, failed_statements: r.statement_failed,
                 sql_total_duration_ms: num(r.sql_total_duration_ms),
                 has_text: 0, question: null, query_description: null, query_sql: null, text_answer: null, query_row_count: null, _hay: null };
      });
    }
    if (name === "message_text") {
      rows.forEach(function (x, i) {
        var m = D.messages[i];
        m.question = x.question; m.query_description = x.query_description; m.query_sql = x.query_sql; m.text_answer = x.text_answer;
        m.query_row_count = x.query_row_count; m.has_text = 1;
      });
    }
    if (name === "negative_feedback") { rows.forEach(function (r) { r._d = dayNum(r.asked_at); }); }
    // events: a configuration change on its UTC day; an eval run on the day it started (run_date, as on Lakeview)
    if (name === "config_change_impact") { rows.forEach(function (r) { r._d = dayNum(r.changed_at); r._t = Date.parse(r.changed_at); }); }
    if (name === "eval_accuracy") {
      rows.forEach(function (r) {
        r._d = dayNum(r.run_date || r.finished_at); r._t = Date.parse(r.finished_at || r.run_date);
        if (r.workspace_name == null) { r.workspace_name = WS_NAMES[r.workspace_id] || r.workspace_id; }
        if (!SPACE[r.key]) { SPACE[r.key] = { key: r.key, workspace_id: r.workspace_id, workspace_name: r.workspace_name, space_id: r.space_id, space: r.space }; }
      });
    }
    if (name === "space_activity") {
      rows.forEach(function (r) { (BY_SPACE[r.key] = BY_SPACE[r.key] || []).push(r); });
    }
    if (name === "people_by_period") {
      rows.forEach(function (r) {
        var p = PERIODS[dayNum(r.first_day) + "|" + dayNum(r.last_day)] = PERIODS[dayNum(r.first_day) + "|" + dayNum(r.last_day)] || {};
        p[r.workspace_id + "/" + (r.space_id || "")] = r;
      });
    }
    if (["space_leaderboard", "space_activity", "space_config", "sql_performance", "config_changes", "config_change_impact"].indexOf(name) >= 0) {
      rows.forEach(function (r) {
        if (!SPACE[r.key]) { SPACE[r.key] = { key: r.key, workspace_id: r.workspace_id, workspace_name: r.workspace_name, space_id: r.space_id, space: r.space }; }
      });
    }
  }
  function setup() {
    var seen = {};
    D.workspaces.forEach(function (w) { WS_NAMES[w.workspace_id] = w.workspace_name; });
    Object.keys(SPACE).forEach(function (k) { var s = SPACE[k]; (seen[s.space] = seen[s.space] || {})[s.workspace_id] = true; });
    SHARED_TITLES = Object.keys(seen).filter(function (t) { return Object.keys(seen[t]).length > 1; });
  }
  /* A space's title; with every workspace shown, titles used in several workspaces get the workspace name. */
  function spaceName(r) {
    var s = SPACE[r.key || keyOf(r)] || r;
    return state.ws === "all" && SHARED_TITLES.indexOf(s.space) >= 0 ? s.space + " · " + s.workspace_name : s.space;
  }

  // -- the view: URL state ------------------------------------------------------------------------------------
  var DEFAULTS = { ws: "all", tab: "summary", range: "all", from: "", to: "", space: "", asker: "", error: "",
                   q: "", status: "", "in": "", fb: "", p: "1", sort: "" };
  var KEYS = Object.keys(DEFAULTS);
  var state = {}, V = null, SORTS = {};
  function readHash() {
    var h = new URLSearchParams(location.hash.replace(/^#/, ""));
    KEYS.forEach(function (k) { state[k] = h.has(k) ? h.get(k) : DEFAULTS[k]; });
    if (["all", "7d", "30d", "90d", "custom"].indexOf(state.range) < 0) { state.range = "all"; }
    if (state.range === "custom" && !(/^\d{4}-\d\d-\d\d$/.test(state.from) && /^\d{4}-\d\d-\d\d$/.test(state.to))) { state.range = "all"; }
    if (!(parseInt(state.p, 10) >= 1)) { state.p = "1"; }
  }
  function hashOf(s) {
    return "#" + KEYS.filter(function (k) { return k === "ws" || k === "tab" || s[k] !== DEFAULTS[k]; })
      .map(function (k) { return k + "=" + encodeURIComponent(s[k]); }).join("&");
  }
  /* A link to the view with some changes (the page number starts again unless given). */
  function linkTo(changes) {
    var s = Object.assign({}, state, { p: "1" }, changes);
    if (changes.range && changes.range !== "custom") { s.from = ""; s.to = ""; }
    return hashOf(s);
  }
  var drawnHash = null;
  function go(changes, push) {
    var h = linkTo(changes);
    history[push ? "pushState" : "replaceState"](null, "", h);
    readHash(); syncControls(); render();
  }
  function onNavigate() { if (location.hash !== drawnHash) { readHash(); syncControls(); render(); } }

  function rangeOf(s) {
    if (FIRST == null) { return { from: 0, to: -1, len: 0, prev: null }; }
    var n = { "7d": 7, "30d": 30, "90d": 90 }[s.range], lo = FIRST, hi = LAST;
    if (n) { lo = LAST - n + 1; }
    else if (s.range === "custom") { lo = dayNum(s.from); hi = dayNum(s.to); if (lo > hi) { var x = lo; lo = hi; hi = x; } }
    var len = hi - lo + 1;
    // the previous period of the same length, when the data covers all of it
    var prev = s.range !== "all" && lo - len >= FIRST ? { from: lo - len, to: lo - 1 } : null;
    return { from: lo, to: hi, len: len, prev: prev };
  }
  function makeView() {
    var r = rangeOf(state), space = state.tab === "space" ? state.space : "";
    // a space's page counts in its own workspace, whatever the workspace filter
    var ws = space && SPACE[space] ? SPACE[space].workspace_id : state.ws;
    return { from: r.from, to: r.to, len: r.len, prev: r.prev, ws: ws, all: state.range === "all",
             space: space, asker: state.asker, error: state.error };
  }

  // -- what the view counts -----------------------------------------------------------------------------------
  function wsOk(r) { return V.ws === "all" || r.workspace_id === V.ws; }
  function inRange(rows, lo, hi) { return rows.filter(function (r) { return r._d >= lo && r._d <= hi; }); }
  function usesFacts() { return !!(V.asker || V.error); }
  /* Do the per-message facts hold every message of [lo, ...]? */
  function covered(lo) { return MSG_FIRST != null && Math.max(lo, FIRST) >= MSG_FIRST; }
  function textCovered(lo) { return TEXT_FIRST != null && Math.max(lo, FIRST) >= TEXT_FIRST; }
  /* The messages of the view in [lo, hi] (every filter applied); [] while they are being decoded. */
  function facts(lo, hi, space) {
    var M = need("messages");
    if (!M) { return []; }
    space = space === undefined ? V.space : space;
    return M.filter(function (m) {
      return m._d >= lo && m._d <= hi && wsOk(m) && (!space || m.key === space) && (!V.asker || m.asker === V.asker) &&
        (!V.error || m.error_type === V.error);
    });
  }
  /* Additive rows (questions, outcomes, feedback, statements) of the view: the daily tables, or the messages
     when an asker or an error type is selected. */
  function activity(lo, hi) {
    if (usesFacts()) { return facts(lo, hi); }
    if (V.space) { return inRange(BY_SPACE[V.space] || [], lo, hi); }
    return inRange(D.daily_activity.filter(wsOk), lo, hi);
  }
  function perSpace(lo, hi) {
    if (usesFacts()) { return facts(lo, hi); }
    return inRange(D.space_activity.filter(function (r) { return wsOk(r) && (!V.space || r.key === V.space); }), lo, hi);
  }
  function failuresIn(lo, hi) {
    if (V.asker) { return facts(lo, hi).filter(function (m) { return m.failed; }); }
    return inRange(D.failures.filter(function (r) { return wsOk(r) && (!V.space || r.key === V.space) && (!V.error || r.error_type === V.error); }), lo, hi);
  }
  /* Distinct askers and conversations of the view in [lo, hi] ({askers, conversations}), or null when the page
     cannot know them (a range older than the per-message facts that is not one of the presets). */
  function people(lo, hi, space) {
    space = space === undefined ? V.space : space;
    var p = !usesFacts() && PERIODS[lo + "|" + hi];
    if (p) { return p[space || V.ws + "/"] || { askers: 0, conversations: 0 }; }
    if (!covered(lo)) { return null; }
    var f = facts(lo, hi, space);
    return { askers: distinct(f, "asker"), conversations: distinct(f, "conversation") };
  }
  function field(obj, key) { return obj ? obj[key] : null; }
  function successRate(rs) { return ratio(sum(rs, "completed"), sum(rs, "completed") + sum(rs, "failed") + sum(rs, "cancelled")); }
  function feedbackShare(rs) { return ratio(sum(rs, "positive_feedback"), sum(rs, "positive_feedback") + sum(rs, "negative_feedback")); }
  function spacesUsed(rs) { var s = new Set(); rs.forEach(function (r) { if (r.questions > 0) { s.add(r.key); } }); return s.size; }
  function coverage() { var ph = D.pipeline_health.filter(wsOk); return ratio(sum(ph, "messages_with_details"), sum(ph, "messages_listed")); }

  /* The spaces of the view over [lo, hi], ranked by questions across every workspace shown (one ranking). */
  function leaderboard(lo, hi) {
    var allTime = V.all && !usesFacts(), mart = {};
    D.space_leaderboard.forEach(function (r) { mart[r.key] = r; });
    var period = !usesFacts() && PERIODS[lo + "|" + hi], known = usesFacts() || covered(lo);
    var byFacts = !allTime && known ? groupBy(facts(lo, hi), function (m) { return m.key; }) : new Map();
    var out = [];
    groupBy(perSpace(lo, hi), function (r) { return r.key; }).forEach(function (rs, key) {
      var q = sum(rs, "questions");
      if (!q) { return; }
      var s = SPACE[key] || rs[0], m = mart[key], f = byFacts.get(key) || [];
      var ppl = allTime ? m || null : period ? period[key] || { askers: 0, conversations: 0 } :
        known ? { askers: distinct(f, "asker"), conversations: distinct(f, "conversation") } : null;
      var daily = rs.every(function (r) { return r._d >= SPACE_DAILY_FROM; });
      out.push({
        key: key, workspace_id: s.workspace_id, workspace_name: s.workspace_name, space_id: s.space_id, space: s.space,
        questions: q, conversations: field(ppl, "conversations"), askers: field(ppl, "askers"),
        completed: sum(rs, "completed"), failed: sum(rs, "failed"), cancelled: sum(rs, "cancelled"), success_rate: successRate(rs),
        positive_feedback: sum(rs, "positive_feedback"), negative_feedback: sum(rs, "negative_feedback"), review_requests: sum(rs, "review_requests"),
        active_days: allTime && m ? m.active_days : usesFacts() ? distinct(f, "_d") : daily ? new Set(rs.filter(function (r) { return r.questions > 0; }).map(function (r) { return r._d; })).size : null,
        last_asked_at: allTime && m ? m.last_asked_at : f.length ? f[0].asked_at : null,  // messages: newest first
      });
    });
    out.sort(function (a, b) { return b.questions - a.questions || (a.space < b.space ? -1 : a.space > b.space ? 1 : 0) || (a.workspace_id < b.workspace_id ? -1 : 1); });
    out.forEach(function (r, i) { r.rank = i + 1; });
    return out;
  }
  /* SQL figures per space over [lo, hi]: all time from the marts; otherwise counts from the daily tables and
     durations from the messages (when they cover the range). */
  function sqlBySpace(lo, hi) {
    if (V.all && !usesFacts()) { return D.sql_performance.filter(function (r) { return wsOk(r) && (!V.space || r.key === V.space); }); }
    var byFacts = covered(lo) ? groupBy(facts(lo, hi), function (m) { return m.key; }) : new Map();
    var out = [];
    groupBy(perSpace(lo, hi), function (r) { return r.key; }).forEach(function (rs, key) {
      var n = sum(rs, "sql_statements");
      if (!n) { return; }
      var s = SPACE[key] || rs[0], d = durationsOf(byFacts.get(key) || []), known = covered(lo);
      out.push({ key: key, workspace_id: s.workspace_id, workspace_name: s.workspace_name, space_id: s.space_id, space: s.space,
                 statements: n, failed_statements: sum(rs, "failed_statements"),
                 duration_p50_ms: known ? percentile(d, 0.5) : null, duration_p90_ms: known ? percentile(d, 0.9) : null,
                 duration_p95_ms: known ? percentile(d, 0.95) : null,
                 duration_avg_ms: known && d.length ? d.reduce(function (a, x) { return a + x; }, 0) / d.length : null,
                 duration_max_ms: known && d.length ? d[d.length - 1] : null });
    });
    return out.sort(function (a, b) { return b.statements - a.statements; });
  }
  function topUsers(lo, hi) {
    if (V.all && !usesFacts() && !V.space) { return D.top_askers.filter(function (r) { return r.scope === V.ws; }); }
    if (!covered(lo)) { return null; }
    var out = [];
    groupBy(facts(lo, hi), function (m) { return m.asker; }).forEach(function (ms, asker) {
      if (asker == null) { return; }
      out.push({ asker: asker, questions: ms.length, conversations: distinct(ms, "conversation"), spaces: distinct(ms, "key"),
                 active_days: distinct(ms, "_d"), completed: sum(ms, "completed"), failed: sum(ms, "failed"),
                 negative_feedback: sum(ms, "negative_feedback"), last_asked_at: ms[0].asked_at });
    });
    out.sort(function (a, b) { return b.questions - a.questions || (a.asker < b.asker ? -1 : 1); });
    out.forEach(function (r, i) { r.questions_rank = i + 1; });
    return out;
  }

  // -- time axes ----------------------------------------------------------------------------------------------
  /* Buckets of [lo, hi]: days up to CHART_DAILY days, else 7-day buckets ending on the last day (the packed
     data's alignment, so that every weekly bucket is exact), clipped to the range. */
  function axis(lo, hi) {
    var starts = [], ends = [], weekly = hi - lo + 1 > CHART_DAILY, bmax = 0;
    if (!weekly) { for (var d = lo; d <= hi; d += 1) { starts.push(d); ends.push(d); } }
    else {
      bmax = Math.floor((LAST - lo) / 7);
      for (var b = bmax; b >= Math.floor((LAST - hi) / 7); b -= 1) { starts.push(Math.max(lo, LAST - 7 * b - 6)); ends.push(Math.min(hi, LAST - 7 * b)); }
    }
    return { starts: starts, ends: ends, weekly: weekly, n: starts.length,
             index: function (day) { var i = weekly ? bmax - Math.floor((LAST - day) / 7) : day - lo; return day >= lo && day <= hi ? i : -1; } };
  }
  function perBucket(ax, rowsIn, key) {
    var out = ax.starts.map(function () { return 0; });
    rowsIn.forEach(function (r) { var i = ax.index(r._d); if (i >= 0 && i < out.length) { out[i] += key ? num(r[key]) : 1; } });
    return out;
  }
  function bucketLabel(ax, i) { return ax.weekly ? fmt.day(isoOf(ax.starts[i])) + "–" + fmt.day(isoOf(ax.ends[i])) : fmt.day(isoOf(ax.starts[i])); }
  function minus(a, b) { return a.map(function (v, i) { return v - b[i]; }); }
  function perWhat(ax) { return ax.weekly ? "per week" : "per day"; }

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
  function empty(card, text) { card.appendChild(el("div", { cls: "empty", text: text || (pending.length ? "Loading…" : "No data for this selection") })); }
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
      if (i % every === 0 || last) { sv("text", { x: xAt(i), y: y, "text-anchor": "middle", text: lab }, g); }
    });
  }

  /* A time chart over an axis: kind "bars" stacks the series; kind "lines" draws one line per series; marks
     [{day, label}] are dashed vertical lines (e.g. configuration changes). */
  function timeChart(card, ax, series, opts) {
    opts = opts || {};
    var n = ax.n;
    series = series.filter(function (s) { return s.values.some(function (v) { return v; }); });
    if (!n || !series.length) { return empty(card, opts.empty); }
    legend(card, series.map(function (s) { return { label: s.name, color: s.color }; }));
    var H = opts.height || 230, L = 52, R = 10, T = 8, B = 24;
    var svg = chartSvg(card, H, opts.label || "time chart"), g = sv("g", {}, svg), W = widthOf(svg);
    var stacked = opts.kind !== "lines";
    var totals = ax.starts.map(function (_, i) {
      return stacked ? series.reduce(function (a, s) { return a + num(s.values[i]); }, 0)
        : Math.max.apply(null, series.map(function (s) { return num(s.values[i]); }));
    });
    var scale = niceScale(Math.max.apply(null, totals)), max = scale.max;
    var step = (W - L - R) / n;
    function x(i) { return L + step * (i + 0.5); }
    function y(v) { return H - B - (H - B - T) * v / max; }
    yAxis(svg, g, scale, L, W - R, T, H - B, opts.format);
    xLabels(g, ax.starts.map(function (d) { return fmt.day(isoOf(d)); }), x, H - 6, Math.ceil(n / Math.max(2, Math.floor((W - L) / 70))));
    if (stacked) {
      var bw = Math.max(2, step * 0.72);
      ax.starts.forEach(function (day, i) {
        var base = 0;
        series.forEach(function (s) {
          var v = num(s.values[i]);
          if (!v) { return; }
          tip(sv("rect", { x: x(i) - bw / 2, y: y(base + v), width: bw, height: y(base) - y(base + v), fill: s.color, rx: 1.5 }, g),
              bucketLabel(ax, i) + " · " + s.name + ": " + (opts.format || fmt.int)(v));
          base += v;
        });
      });
    } else {
      series.forEach(function (s) {
        var d = s.values.map(function (v, i) { return (i ? "L" : "M") + x(i).toFixed(1) + " " + y(num(v)).toFixed(1); }).join(" ");
        sv("path", { d: d, fill: "none", stroke: s.color, "stroke-width": 2.2, "stroke-linejoin": "round" }, g);
        s.values.forEach(function (v, i) {
          tip(sv("circle", { cx: x(i), cy: y(num(v)), r: n > 40 ? 1.5 : 3, fill: s.color }, g),
              bucketLabel(ax, i) + " · " + s.name + ": " + (opts.format || fmt.int)(v));
        });
      });
    }
    (opts.marks || []).forEach(function (mk) {
      var i = ax.index(mk.day);
      if (i < 0) { return; }
      var mg = sv("g", { class: "mark" }, g);
      tip(sv("line", { x1: x(i), x2: x(i), y1: T, y2: H - B }, mg), mk.title || mk.label);
      sv("text", { x: x(i) + 3, y: T + 10, text: mk.label }, mg);
    });
    return svg;
  }

  /* Vertical bars over categories (e.g. a histogram). */
  function columns(card, categories, values, opts) {
    opts = opts || {};
    if (!values.some(function (v) { return v; })) { return empty(card, opts.empty); }
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

  /* Horizontal bars: items [{label, values: [..], href}] with one value per series [{name, color}]; an item with
     an href is a link (a space's page, an error-type filter). */
  function hbars(card, items, series, opts) {
    opts = opts || {};
    items = items.slice(0, opts.max || 12);
    if (!items.length) { return empty(card, opts.empty); }
    if (series.length > 1) { legend(card, series.map(function (s) { return { label: s.name, color: s.color }; })); }
    var rowH = series.length > 1 ? 13 * series.length + 10 : 24, LW = opts.labelWidth || 210, R = 64;
    var H = items.length * rowH + 6;
    var svg = chartSvg(card, H, opts.label || "bar chart"), root = sv("g", {}, svg), W = widthOf(svg);
    LW = Math.min(LW, Math.round(W * 0.42));
    var max = opts.max1 ? 1 : niceScale(Math.max.apply(null, items.map(function (it) { return Math.max.apply(null, it.values.map(num)); }))).max;
    items.forEach(function (it, i) {
      var g = it.href ? sv("a", { href: it.href, "data-label": it.label }, root) : root;
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
    if (!total) { return empty(card, opts.empty); }
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

  // -- tables: sortable, paged, exportable to CSV --------------------------------------------------------------
  function parseSort(text) {
    var out = {};
    (text || "").split("~").forEach(function (part) { var p = part.split("."); if (p.length === 3) { out[p[0]] = { col: p[1], dir: p[2] === "asc" ? 1 : -1 }; } });
    return out;
  }
  function sortText(sorts) { return Object.keys(sorts).map(function (k) { return k + "." + sorts[k].col + "." + (sorts[k].dir > 0 ? "asc" : "desc"); }).join("~"); }
  function colValue(c, r) { return c.value ? c.value(r) : r[c.key]; }
  function colId(c, i) { return c.key || c.id || "c" + i; }
  /* CSV of the rows, values unformatted. A text cell starting with =, +, -, @, a tab or a carriage return gets a
     leading ' so that a spreadsheet shows it as text instead of running it as a formula (a question such as
     =HYPERLINK(...) stays a question); numbers, negative ones too, stay numbers. */
  function csvOf(cols, data) {
    function cell(v) {
      if (v == null) { return ""; }
      var s = String(v);
      if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) { s = "'" + s; }
      return /[",\n\r]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
    }
    var lines = [cols.map(function (c) { return cell(c.label); }).join(",")];
    data.forEach(function (r) { lines.push(cols.map(function (c) { return cell(c.csv ? c.csv(r) : colValue(c, r)); }).join(",")); });
    return lines.join("\r\n") + "\r\n";
  }
  function download(name, text) {
    var a = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" })), download: name });
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 2000);
  }
  /* A table; spec {id, cols: [{key | id, label, num, fmt, wrap, cell(row) -> node, value(row) (sort, CSV)}],
     rows, max (rows shown), paged (PAGE_SIZE rows per page, the page number in the URL), tall}. Its header
     sorts (state in the URL); its CSV button exports every row in the order shown, values unformatted. */
  function table(card, spec) {
    var data = spec.rows, cols = spec.cols, sort = SORTS[spec.id];
    var tools = card.querySelector(".card-tools");
    var csv = el("button", { type: "button", cls: "tool", "data-csv": spec.id, text: "CSV", title: "Download every row as CSV" });
    tools.appendChild(csv);
    if (!data.length) { csv.disabled = true; return empty(card, spec.empty); }
    if (sort) {
      var c = cols.filter(function (x, i) { return colId(x, i) === sort.col; })[0];
      if (c) {
        data = data.map(function (r, i) { return [r, i]; }).sort(function (a, b) {
          var x = colValue(c, a[0]), y = colValue(c, b[0]);
          if (x == null || y == null) { return x == null && y == null ? a[1] - b[1] : x == null ? 1 : -1; }
          return (x < y ? -1 : x > y ? 1 : 0) * sort.dir || a[1] - b[1];
        }).map(function (p) { return p[0]; });
      }
    }
    csv.addEventListener("click", function () { download("genie-" + spec.id + ".csv", csvOf(cols, data)); });
    var pages = spec.paged ? Math.max(1, Math.ceil(data.length / PAGE_SIZE)) : 1, page = spec.paged ? Math.min(pages, parseInt(state.p, 10) || 1) : 1;
    var shown = spec.paged ? data.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE) : data.slice(0, spec.max || 200);
    var head = el("tr", {}, cols.map(function (c, i) {
      var id = colId(c, i), on = sort && sort.col === id;
      var b = el("button", { type: "button", cls: "sort", text: c.label, title: "Sort by " + c.label });
      b.addEventListener("click", function () {
        var sorts = parseSort(state.sort);
        sorts[spec.id] = { col: id, dir: on ? -sort.dir : c.num || c.fmt === fmt.time ? -1 : 1 };
        go({ sort: sortText(sorts), p: state.p });
      });
      return el("th", { cls: c.num ? "num" : "", "data-col": id, "aria-sort": on ? (sort.dir > 0 ? "ascending" : "descending") : null }, [b]);
    }));
    var body = shown.map(function (r) {
      return el("tr", {}, cols.map(function (c) {
        var td = el("td", { cls: (c.num ? "num" : "") + (c.wrap ? " wrap" : "") + (c.fmt === fmt.time ? " nowrap" : "") });
        if (c.cell) { var node = c.cell(r); if (node != null) { td.appendChild(typeof node === "string" ? document.createTextNode(node) : node); } }
        else { var v = colValue(c, r); td.textContent = c.fmt ? c.fmt(v) : (v == null ? "–" : String(v)); }
        return td;
      }));
    });
    card.appendChild(el("div", { cls: "table-wrap" + (spec.tall ? " tall" : "") }, [
      el("table", { "data-table": spec.id, "data-total": String(data.length) }, [el("thead", {}, [head]), el("tbody", {}, body)])]));
    if (spec.paged) {
      var prev = el("button", { type: "button", cls: "tool", text: "‹ Previous", "data-step": "prev" });
      var next = el("button", { type: "button", cls: "tool", text: "Next ›", "data-step": "next" });
      prev.disabled = page <= 1; next.disabled = page >= pages;
      prev.addEventListener("click", function () { go({ p: String(page - 1), sort: state.sort }); });
      next.addEventListener("click", function () { go({ p: String(page + 1), sort: state.sort }); });
      card.appendChild(el("div", { cls: "pager" }, [prev, el("span", { "data-pager": "", text: "Rows " + fmt.int((page - 1) * PAGE_SIZE + 1) + "–" +
        fmt.int((page - 1) * PAGE_SIZE + shown.length) + " of " + fmt.int(data.length) + " · page " + page + " of " + pages }), next]));
    } else if (data.length > shown.length) {
      card.appendChild(el("p", { cls: "note", text: "Showing " + shown.length + " of " + data.length + " rows (the CSV has them all)." }));
    }
  }
  function pill(value, cls) { return value == null ? null : el("span", { cls: "pill " + (cls || value), text: String(value).replace("_", " ") }); }
  function details(text, summary, open) {
    if (!text) { return null; }
    var d = el("details", {}, [el("summary", { text: summary || "SQL" }), el("pre", { cls: "sql", text: text })]);
    if (open) { d.open = true; }
    return d;
  }
  function link(text, href, attrs) { return el("a", Object.assign({ cls: "link", href: href, text: text }, attrs || {})); }
  function spaceLink(r) { return link(spaceName(r), linkTo({ tab: "space", space: r.key || keyOf(r) }), { "data-space": r.key || keyOf(r) }); }
  function askerLink(a) { return a == null ? null : link(a, linkTo({ asker: a }), { "data-asker": a }); }
  function errorLink(t) { return t == null ? null : link(t, linkTo({ error: t }), { "data-error": t }); }

  // -- layout helpers -------------------------------------------------------------------------------------
  function card(grid, width, title, note) {
    var c = el("section", { cls: "card " + width }, [
      el("div", { cls: "card-head" }, [el("div", {}, [el("h3", { text: title }), note ? el("p", { cls: "note", text: note }) : null]), el("div", { cls: "card-tools" })])]);
    grid.appendChild(c);
    return c;
  }
  /* KPI cards: {id, label, get(lo, hi) -> value, fmt, color, hint, better: "up" | "down", points: a ratio whose
     change is shown in percentage points, still: not about the date range (no change shown)}. */
  function kpis(grid, items) {
    var box = el("div", { cls: "kpis" });
    items.forEach(function (k) {
      var value = k.get(V.from, V.to), prev = V.prev && !k.still ? k.get(V.prev.from, V.prev.to) : undefined;
      var f = k.fmt || fmt.int, tile = el("div", { cls: "kpi", "data-kpi": k.id, "data-value": value == null ? "" : String(value),
                                                     "data-prev": prev == null ? "" : String(prev) },
                                         [el("div", { cls: "label", text: k.label }), el("div", { cls: "value", text: pending.length ? "…" : f(value) })]);
      if (prev != null && value != null && !pending.length) {
        var d = value - prev, text;
        if (k.points) { text = (d >= 0 ? "+" : "−") + Math.abs(100 * d).toFixed(1) + " pts"; }
        else if (prev === 0) { text = value === 0 ? "±0" : "new"; }
        else { var pct = 100 * d / prev; text = (d >= 0 ? "+" : "−") + (Math.abs(pct) < 10 ? Math.abs(pct).toFixed(1) : Math.round(Math.abs(pct))) + "%"; }
        var good = d === 0 || !k.better ? "" : (d > 0) === (k.better === "up") ? " good" : " bad";
        tile.appendChild(el("div", { cls: "delta" + good, text: text + " vs previous " + V.len + (V.len === 1 ? " day" : " days"),
                                     title: "Previous period: " + fmt.date(isoOf(V.prev.from)) + " – " + fmt.date(isoOf(V.prev.to)) + ": " + f(prev) }));
      }
      if (k.hint) { tile.appendChild(el("div", { cls: "hint", text: k.hint })); }
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
  function note(grid, text) { grid.appendChild(el("p", { cls: "coverage", text: text })); }

  // -- adoption -----------------------------------------------------------------------------------------------
  /* Adoption per bucket. People cannot be summed over days: in 7-day buckets the weekly figures are the mart's
     7-day count on the bucket's last day, new askers add up, returning ones are the week's askers minus its new
     ones, and daily active askers are averaged over the bucket's days. With an asker or error-type filter they
     are counted from the messages (distinct askers per bucket). */
  function adoption(ax) {
    if (usesFacts() || V.space) {
      var f = facts(ax.starts[0], ax.ends[ax.n - 1]), per = ax.starts.map(function () { return new Set(); });
      f.forEach(function (m) { var i = ax.index(m._d); if (i >= 0) { per[i].add(m.asker); } });
      return { active: per.map(function (s) { return s.size; }), facts: true };
    }
    var ad = D.adoption_daily.filter(function (r) { return r.scope === V.ws && r._d >= ax.starts[0] && r._d <= ax.ends[ax.n - 1]; });
    var by = new Map(ad.map(function (r) { return [r._d, r]; }));
    function at(d, key) { return by.has(d) ? num(by.get(d)[key]) : 0; }
    if (!ax.weekly) {
      return { active: ax.starts.map(function (d) { return at(d, "active_askers"); }), weekly: ax.starts.map(function (d) { return at(d, "weekly_active_askers"); }),
               fresh: ax.starts.map(function (d) { return at(d, "new_askers"); }), returning: ax.starts.map(function (d) { return at(d, "returning_askers"); }) };
    }
    var active = perBucket(ax, ad, "active_askers"), fresh = perBucket(ax, ad, "new_askers");
    var weekly = ax.ends.map(function (d) { return at(d, "weekly_active_askers"); });
    return { active: active.map(function (v, i) { return v / (ax.ends[i] - ax.starts[i] + 1); }), weekly: weekly, fresh: fresh, returning: minus(weekly, fresh) };
  }
  function adoptionChart(c, ax) {
    var a = adoption(ax);
    if (a.facts) {
      return timeChart(c, ax, [{ name: "Active askers " + perWhat(ax), color: PALETTE[0], values: a.active }], { kind: "lines", label: "active askers" });
    }
    timeChart(c, ax, [
      { name: ax.weekly ? "Daily active askers (average over the week)" : "Daily active askers", color: PALETTE[0], values: a.active },
      { name: ax.weekly ? "Active askers in the week" : "Weekly active askers (7 days)", color: PALETTE[1], values: a.weekly },
    ], { kind: "lines", label: "active askers", format: ax.weekly ? function (v) { return v == null ? "–" : (Math.round(v * 10) / 10).toLocaleString("en-US"); } : null });
  }

  // -- shared page parts ----------------------------------------------------------------------------------------
  function leaderboardTable(c, lb) {
    table(c, { id: "space-leaderboard", rows: lb, cols: [
      { key: "rank", label: "#", num: true }, { id: "space", label: "Space", value: spaceName, cell: spaceLink }, { key: "workspace_name", label: "Workspace" },
      { key: "questions", label: "Questions", num: true, fmt: fmt.int }, { key: "conversations", label: "Conversations", num: true, fmt: fmt.int },
      { key: "askers", label: "Askers", num: true, fmt: fmt.int }, { key: "completed", label: "Completed", num: true, fmt: fmt.int },
      { key: "failed", label: "Failed", num: true, fmt: fmt.int }, { key: "cancelled", label: "Cancelled", num: true, fmt: fmt.int },
      { key: "success_rate", label: "Success", num: true, fmt: fmt.pct }, { key: "positive_feedback", label: "Positive", num: true, fmt: fmt.int },
      { key: "negative_feedback", label: "Negative", num: true, fmt: fmt.int }, { key: "review_requests", label: "Reviews", num: true, fmt: fmt.int },
      { key: "active_days", label: "Active days", num: true, fmt: fmt.int }, { key: "last_asked_at", label: "Last question", fmt: fmt.time },
    ] });
  }
  function failureTypes(fl) {
    var types = groupBy(fl, function (r) { return r.error_type; });
    return Array.from(types.keys()).sort().map(function (t) { return { type: t, rows: types.get(t), n: sum(types.get(t), "failures") }; });
  }
  function failureCharts(grid, ax, fl) {
    var types = failureTypes(fl), tc = colorMap(types.map(function (t) { return t.type; }));
    hbars(card(grid, "w6", "Failures by error type", "Genie's error type of failed answers; click one to filter by it"),
          types.map(function (t) { return { label: t.type, values: [t.n], color: tc[t.type], href: linkTo({ error: t.type }) }; })
            .sort(function (a, b) { return b.values[0] - a.values[0]; }),
          [{ name: "Failures", color: "#d64545" }], { labelWidth: 260 });
    timeChart(card(grid, "w6", "Failures " + perWhat(ax), "By error type"), ax, types.map(function (t) {
      return { name: t.type, color: tc[t.type], values: perBucket(ax, t.rows, "failures") };
    }), { label: "failures per day" });
  }
  function askersTable(c, id, top) {
    if (top == null) { return empty(c, "Per-message data reaches back to " + fmt.date(META.messages && META.messages.first) + ": choose a range after it, or all time."); }
    table(c, { id: id, rows: top, cols: [
      { key: "questions_rank", label: "#", num: true }, { key: "asker", label: "Asker", cell: function (r) { return askerLink(r.asker); } },
      { key: "questions", label: "Questions", num: true, fmt: fmt.int }, { key: "spaces", label: "Spaces", num: true, fmt: fmt.int },
      { key: "active_days", label: "Days", num: true, fmt: fmt.int }, { key: "failed", label: "Failed", num: true, fmt: fmt.int },
      { key: "negative_feedback", label: "Negative", num: true, fmt: fmt.int }, { key: "last_asked_at", label: "Last question", fmt: fmt.time },
    ], max: 20 });
  }

  // -- search -------------------------------------------------------------------------------------------------
  /* Search terms: words, or "quoted phrases"; every term must appear (any case) in the question, Genie's
     description, the SQL or the answer. */
  function termsOf(q) {
    var out = [], re = /"([^"]+)"|(\S+)/g, m;
    while ((m = re.exec(q || "")) !== null) { var t = (m[1] || m[2]).toLowerCase().trim(); if (t) { out.push(t); } }
    return out;
  }
  function haystack(m) {
    if (m._hay == null) { m._hay = [m.question, m.query_description, m.query_sql, m.text_answer].filter(Boolean).join("\n").toLowerCase(); }
    return m._hay;
  }
  /* The messages with text matching the search of the view over [lo, hi] (newest first); null while loading. */
  function searchMatches(lo, hi, opts) {
    opts = opts || {};
    if (!need("message_text")) { return null; }
    var M = D.messages, terms = termsOf(opts.q === undefined ? state.q : opts.q), out = [];
    var status = opts.status === undefined ? state.status : opts.status, inSpace = opts.space || state["in"], fb = opts.fb === undefined ? state.fb : opts.fb;
    for (var i = 0; i < TEXT_COUNT && i < M.length; i += 1) {
      var m = M[i];
      if (m._d < lo || m._d > hi || !wsOk(m) || (V.asker && m.asker !== V.asker) || (V.error && m.error_type !== V.error)) { continue; }
      if ((status && m.outcome !== status) || (inSpace && m.key !== inSpace)) { continue; }
      if (fb && !(fb === "review" ? m.review_requested : fb === "none" ? !m.feedback_rating : m.feedback_rating === fb)) { continue; }
      var hay = terms.length ? haystack(m) : "";
      if (terms.every(function (t) { return hay.indexOf(t) >= 0; })) { out.push(m); }
    }
    return out;
  }
  function highlight(text, terms) {
    if (text == null) { return null; }
    var frag = document.createDocumentFragment(), lower = text.toLowerCase(), i = 0;
    while (i < text.length) {
      var best = -1, len = 0;
      terms.forEach(function (t) { var j = lower.indexOf(t, i); if (j >= 0 && (best < 0 || j < best || (j === best && t.length > len))) { best = j; len = t.length; } });
      if (best < 0) { frag.appendChild(document.createTextNode(text.slice(i))); break; }
      if (best > i) { frag.appendChild(document.createTextNode(text.slice(i, best))); }
      frag.appendChild(el("mark", { text: text.slice(best, best + len) }));
      i = best + len;
    }
    return frag;
  }
  function messagesTable(c, id, data, terms) {
    function has(t) { return function (r) { var s = (r[t] || "").toLowerCase(); return terms.some(function (x) { return s.indexOf(x) >= 0; }); }; }
    table(c, { id: id, rows: data, paged: true, tall: true, cols: [
      { key: "asked_at", label: "Asked", fmt: fmt.time }, { id: "space", label: "Space", value: spaceName, cell: spaceLink },
      { key: "asker", label: "Asker", cell: function (r) { return askerLink(r.asker); } },
      { key: "question", label: "Question", wrap: true, cell: function (r) { return highlight(r.question, terms) || "–"; } },
      { key: "query_description", label: "Genie's description", wrap: true, cell: function (r) { return highlight(r.query_description, terms); } },
      { key: "query_sql", label: "SQL", cell: function (r) { return details(r.query_sql, "SQL", has("query_sql")(r)); } },
      { key: "text_answer", label: "Answer", cell: function (r) { return details(r.text_answer, "Answer", has("text_answer")(r)); } },
      { key: "outcome", label: "Status", cell: function (r) { return pill(r.outcome); } },
      { key: "error_type", label: "Error", cell: function (r) { return errorLink(r.error_type); } },
      { key: "feedback_rating", label: "Feedback", cell: function (r) { return pill(r.feedback_rating); } },
      { key: "duration", label: "SQL time", num: true, fmt: fmt.ms },
    ] });
  }
  function textCoverageNote(grid, lo) {
    var total = META.messages_total || 0;
    if (!TEXT_COUNT) { return note(grid, "No message texts in this page."); }
    note(grid, TEXT_COUNT >= total ? "Searching all " + fmt.int(total) + " messages." :
         "Searching the " + fmt.int(TEXT_COUNT) + " messages since " + fmt.date(META.texts.first) + " (of " + fmt.int(total) +
         " in all; the page keeps the texts of the newest " + fmt.int(META.texts.budget) + "; the Lakeview dashboard has every one)" +
         (textCovered(lo) ? "." : ": the range starts before that."));
  }

  // -- the space lifecycle: configuration changes and benchmark (eval) runs ------------------------------------
  var EVENTS_NOTE = "Configuration changes count on the day they were made, benchmark runs on the day they started (UTC); " +
    "a range starting on the first day with data, or ending on the last, also takes in those before or after it.";
  /* The events (configuration changes, eval runs) of the view: of one space, or of the workspace filter, on the
     days of the date range (its open ends: see EVENTS_NOTE). */
  function eventsOf(rows, space) {
    var lo = V.all || V.from <= FIRST ? -Infinity : V.from, hi = V.all || V.to >= LAST ? Infinity : V.to;
    return (rows || []).filter(function (r) { return (space ? r.key === space : wsOk(r)) && r._d >= lo && r._d <= hi; });
  }
  /* A change cell: +/- points, green when it went the better way ("up" or "down"). */
  function deltaCell(key, better) {
    return function (r) {
      var v = r[key];
      if (v == null) { return "–"; }
      return el("span", { cls: "change" + (v === 0 ? "" : (v > 0) === (better === "up") ? " good" : " bad"), text: fmt.pts(v) });
    };
  }
  /* A diff summary ("tables +0 -1 ~0; text_instructions +0 -0 ~1") as read: "tables −1; text instructions ~1". */
  function diffText(summary) {
    return String(summary || "").split("; ").map(function (part) {
      var m = /^(\S+) \+(\d+) -(\d+) ~(\d+)$/.exec(part);
      if (!m) { return part; }
      return m[1].replace(/_/g, " ") + " " + [["+", m[2]], ["−", m[3]], ["~", m[4]]].filter(function (x) { return x[1] !== "0"; })
        .map(function (x) { return x[0] + x[1]; }).join(" ");
    }).join("; ");
  }
  /* The columns of a before/after table (one space's changes, or every space's). */
  function impactCols(withSpace) {
    var cols = [{ key: "changed_at", label: "Changed", fmt: fmt.time }];
    if (withSpace) { cols.push({ id: "space", label: "Space", value: spaceName, cell: spaceLink }, { key: "workspace_name", label: "Workspace" }); }
    return cols.concat([
      { key: "version_number", label: "Version", num: true },
      { key: "diff_summary", label: "What changed", wrap: true, cell: function (r) { return el("span", { title: r.diff_summary + " (items added, removed, changed per section)", text: diffText(r.diff_summary) }); } },
      { key: "questions_before", label: "Questions before", num: true, fmt: fmt.int }, { key: "questions_after", label: "Questions after", num: true, fmt: fmt.int },
      { key: "success_rate_before", label: "Success before", num: true, fmt: fmt.pct }, { key: "success_rate_after", label: "Success after", num: true, fmt: fmt.pct },
      { key: "success_rate_change", label: "Success change", num: true, fmt: fmt.pts, cell: deltaCell("success_rate_change", "up") },
      { key: "negative_feedback_rate_before", label: "Negative before", num: true, fmt: fmt.pct },
      { key: "negative_feedback_rate_after", label: "Negative after", num: true, fmt: fmt.pct },
      { key: "negative_feedback_rate_change", label: "Negative change", num: true, fmt: fmt.pts, cell: deltaCell("negative_feedback_rate_change", "down") },
    ]);
  }
  var IMPACT_NOTE = "The space's questions, success rate (completed / finished answers) and negative-feedback rate (rated negative / " +
    "questions) in the 7 days before each change and the 7 days from it (windows of changes less than 7 days apart overlap)";
  /* A configuration change as a dashed line of a chart: when it was made (else when the pipeline first saw it). */
  function changeMarks(space) {
    var impact = {}, marks = [];
    D.config_change_impact.forEach(function (r) { if (r.key === space) { impact[r.version_number] = r; } });
    D.config_changes.forEach(function (r) {
      if (r.key === space && r.version_number > 1 && !impact[r.version_number]) {
        marks.push({ at: r.first_seen_at, label: "v" + r.version_number, title: "Configuration version " + r.version_number + " first seen " + fmt.time(r.first_seen_at) });
      }
    });
    Object.keys(impact).forEach(function (v) {
      var c = impact[v];
      marks.push({ at: c.changed_at, label: "v" + v, title: "Configuration version " + v + " made " + fmt.time(c.changed_at) + ": " + c.diff_summary +
        ". Success rate in the 7 days before → after: " + fmt.pct(c.success_rate_before) + " → " + fmt.pct(c.success_rate_after) });
    });
    return marks.map(function (m) { return Object.assign(m, { day: dayNum(m.at), t: Date.parse(m.at) }); }).sort(function (a, b) { return a.t - b.t; });
  }
  /* Accuracy of each run over time (points on a line, 0-100 %) from the first to the last day shown, with the
     configuration changes as dashed lines. */
  function accuracyChart(card, runs, marks, lo, hi) {
    var H = 210, L = 46, R = 14, T = 10, B = 24;
    var svg = chartSvg(card, H, "benchmark accuracy"), g = sv("g", {}, svg), W = widthOf(svg);
    var t0 = lo * 86400000, t1 = (hi + 1) * 86400000;
    function x(t) { return L + (W - L - R) * (t - t0) / (t1 - t0); }
    function y(v) { return H - B - (H - B - T) * v; }
    yAxis(svg, g, { max: 1, ticks: 4 }, L, W - R, T, H - B, function (v) { return Math.round(100 * v) + "%"; });
    var n = Math.max(2, Math.min(7, Math.floor((W - L) / 90))), step = Math.max(1, Math.round((hi - lo) / (n - 1)));
    for (var d = lo; d <= hi; d += step) { sv("text", { x: x(d * 86400000), y: H - 6, "text-anchor": "middle", text: fmt.day(isoOf(d)) }, g); }
    marks.forEach(function (mk) {
      if (mk.t < t0 || mk.t > t1) { return; }
      var mg = sv("g", { class: "mark" }, g);
      tip(sv("line", { x1: x(mk.t), x2: x(mk.t), y1: T, y2: H - B }, mg), mk.title);
      sv("text", { x: x(mk.t) + 3, y: T + 10, text: mk.label }, mg);
    });
    sv("path", { d: runs.map(function (r, i) { return (i ? "L" : "M") + x(r._t).toFixed(1) + " " + y(num(r.accuracy)).toFixed(1); }).join(" "),
                 fill: "none", stroke: PALETTE[3], "stroke-width": 2.2, "stroke-linejoin": "round" }, g);
    runs.forEach(function (r) {
      tip(sv("circle", { cx: x(r._t), cy: y(num(r.accuracy)), r: runs.length > 60 ? 2 : 3.5, fill: PALETTE[3], class: "run",
                         "data-run": r.run_number, "data-accuracy": r.accuracy }, g),
          "Run " + r.run_number + ", finished " + fmt.time(r.finished_at) + ": " + fmt.pct(r.accuracy) + " (" + r.num_correct + " of " +
          r.num_questions + " correct, " + r.num_needs_review + " to review)" + (r.accuracy_change == null ? "" : "; " + fmt.pts(r.accuracy_change) + " vs the run before"));
    });
    return svg;
  }
  /* Why a space has no benchmark run at all. */
  function noRunsNote(space) {
    var sc = D.space_config.filter(function (r) { return r.key === space; })[0];
    if (sc && !sc.benchmarks) {
      return "No benchmark runs: this space has no benchmark questions. Add some to the space (Benchmarks in Genie); the pipeline " +
        "then evaluates them on the schedule of the evals: section of its settings.";
    }
    if (sc) {
      return "No benchmark runs yet: this space has " + fmt.int(sc.benchmarks) + " benchmark question" + (sc.benchmarks === 1 ? "" : "s") +
        ". Runs start on the schedule of the evals: section of the settings; there are none while that section is absent, or when it " +
        "turns this space's schedule off (null).";
    }
    return "No benchmark runs for this space (its configuration could not be fetched).";
  }
  /* A space's benchmark accuracy: the latest run of the range (and its change vs the run before it), the runs over
     time, and the runs as a table. */
  function accuracyCards(grid, space, marks) {
    var title = "Benchmark accuracy", sub = "Correct answers / benchmark questions of each finished eval run (needs review counts as not correct); dashed lines: configuration changes";
    var all = need("eval_accuracy"), mine = (all || []).filter(function (r) { return r.key === space; });
    if (!mine.length) {  // loading, or no run at all: one card saying why
      var only = card(grid, "w12", title, all ? "" : sub);
      return all ? only.appendChild(el("p", { cls: "empty-note", "data-note": "no-evals", text: noRunsNote(space) })) : empty(only);
    }
    var c = card(grid, "w6", title, sub), t = card(grid, "w6", "Benchmark runs", "Finished eval runs, newest first. " + EVENTS_NOTE);
    var runs = eventsOf(mine, space).sort(function (a, b) { return a.run_number - b.run_number; });
    if (!runs.length) {
      empty(c, "No benchmark run started in this date range (" + fmt.int(mine.length) + " in all).");
    } else {
      var last = runs[runs.length - 1], change = last.accuracy_change;
      c.appendChild(el("div", { cls: "figure", "data-figure": "accuracy", "data-value": last.accuracy == null ? "" : String(last.accuracy),
                                "data-change": change == null ? "" : String(change), "data-run": String(last.run_number), "data-runs": String(runs.length) }, [
        el("span", { cls: "value", text: fmt.pct(last.accuracy) }),
        el("span", { cls: "delta" + (change > 0 ? " good" : change < 0 ? " bad" : ""), text: change == null ? "first run" : fmt.pts(change) + " vs the run before" }),
        el("span", { cls: "hint", text: "latest run (" + last.run_number + "), finished " + fmt.time(last.finished_at) + ": " + last.num_correct + " of " +
                                        last.num_questions + " correct" }),
      ]));
      var lo = runs[0]._d, hi = dayNum(last.finished_at || last.run_date);  // the range's days, and the runs' if beyond
      if (FIRST != null) { lo = Math.min(lo, V.all ? FIRST : V.from); hi = Math.max(hi, V.all ? LAST : V.to); }
      accuracyChart(c, runs, marks, lo, hi);
    }
    table(t, { id: "space-evals", rows: runs.slice().reverse(), empty: "No run in this date range", cols: [
      { key: "finished_at", label: "Finished", fmt: fmt.time }, { key: "run_number", label: "Run", num: true },
      { key: "num_questions", label: "Questions", num: true, fmt: fmt.int }, { key: "num_correct", label: "Correct", num: true, fmt: fmt.int },
      { key: "num_needs_review", label: "Review", num: true, fmt: fmt.int }, { key: "num_bad", label: "Bad", num: true, fmt: fmt.int },
      { key: "accuracy", label: "Accuracy", num: true, fmt: fmt.pct },
      { key: "accuracy_change", label: "Change", num: true, fmt: fmt.pts, cell: deltaCell("accuracy_change", "up") },
    ] });
  }
  /* Every space's latest benchmark accuracy in the range (with its change vs the run before), worst first; null
     while the runs are being decoded. */
  function accuracyBySpace() {
    var all = need("eval_accuracy");
    if (!all) { return null; }
    var out = [];
    groupBy(eventsOf(all), function (r) { return r.key; }).forEach(function (rs, key) {
      var last = rs.reduce(function (a, r) { return r.run_number > a.run_number ? r : a; });
      out.push({ key: key, workspace_id: last.workspace_id, workspace_name: last.workspace_name, space_id: last.space_id, space: last.space,
                 runs: rs.length, accuracy: last.accuracy, accuracy_change: last.accuracy_change, num_questions: last.num_questions,
                 num_correct: last.num_correct, finished_at: last.finished_at });
    });
    return out.sort(function (a, b) { return num(a.accuracy) - num(b.accuracy) || (spaceName(a) < spaceName(b) ? -1 : 1); });
  }

  // -- pages ----------------------------------------------------------------------------------------------
  var PAGES = [
    { id: "summary", title: "Executive summary", lead: "Genie usage, quality and adoption at a glance.", render: function (grid) {
      var ax = axis(V.from, V.to), act = activity(V.from, V.to);
      kpis(grid, [
        { id: "questions", label: "Questions", get: function (lo, hi) { return sum(activity(lo, hi), "questions"); }, better: "up" },
        { id: "conversations", label: "Conversations", get: function (lo, hi) { return field(people(lo, hi), "conversations"); }, better: "up" },
        { id: "askers", label: "People asking", get: function (lo, hi) { return field(people(lo, hi), "askers"); }, color: PALETTE[1], better: "up" },
        { id: "spaces", label: "Spaces used", get: function (lo, hi) { return spacesUsed(perSpace(lo, hi)); }, color: PALETTE[2], better: "up" },
        { id: "success_rate", label: "Success rate", get: function (lo, hi) { return successRate(activity(lo, hi)); }, fmt: fmt.pct, color: "#1f9d55", hint: "completed / finished", points: true, better: "up" },
        { id: "positive_feedback", label: "Positive feedback", get: function (lo, hi) { return feedbackShare(activity(lo, hi)); }, fmt: fmt.pct, color: "#1f9d55", hint: "of rated answers", points: true, better: "up" },
        { id: "coverage", label: "Coverage", get: coverage, fmt: fmt.pct, color: PALETTE[3], hint: "messages with details (pipeline, all time)", still: true },
      ]);
      timeChart(card(grid, "w8", "Questions " + perWhat(ax), "By outcome of Genie's answer"), ax,
                OUTCOMES.map(function (o) { return { name: o[1], color: o[2], values: perBucket(ax, act, o[0]) }; }), { label: "questions per day" });
      donut(card(grid, "w4", "Outcomes", "All questions in the selection"),
            OUTCOMES.map(function (o) { return { label: o[1], value: sum(act, o[0]), color: o[2] }; }), { centerLabel: "questions" });
      hbars(card(grid, "w6", "Top spaces", "Questions per space; click one to open its page"),
            leaderboard(V.from, V.to).map(function (r) { return { label: spaceName(r), values: [r.questions], href: linkTo({ tab: "space", space: r.key }) }; }),
            [{ name: "Questions", color: PALETTE[0] }], { max: 8 });
      adoptionChart(card(grid, "w6", "Active askers", usesFacts() ? "Distinct people asking" : "Distinct people asking, per day and over the last 7 days"), ax);
    } },
    { id: "usage", title: "Usage", lead: "Which spaces are used, how much, and how well they answer.", render: function (grid) {
      var ax = axis(V.from, V.to), act = activity(V.from, V.to), sp = perSpace(V.from, V.to), lb = leaderboard(V.from, V.to);
      var top = lb.slice(0, 8), colors = colorMap(top.map(function (t) { return t.key; })), by = groupBy(sp, function (r) { return r.key; });
      var series = top.map(function (t) { return { name: spaceName(t), color: colors[t.key], values: perBucket(ax, by.get(t.key) || [], "questions") }; });
      series.push({ name: "Other spaces", color: "#b8c4d0", values: series.reduce(function (acc, s) { return minus(acc, s.values); }, perBucket(ax, act, "questions")) });
      timeChart(card(grid, "w8", "Questions " + perWhat(ax) + " by space", "The eight busiest spaces, and all others"), ax, series, { label: "questions by space" });
      hbars(card(grid, "w4", "Success rate by space", "Completed / (completed + failed + cancelled)"),
            lb.filter(function (r) { return r.success_rate != null; }).sort(function (a, b) { return a.success_rate - b.success_rate; })
              .map(function (r) { return { label: spaceName(r), values: [r.success_rate], href: linkTo({ tab: "space", space: r.key }) }; }),
            [{ name: "Success rate", color: "#1f9d55" }], { format: fmt.pct, max1: true, labelWidth: 190 });
      var conv = usesFacts() ? null : perBucket(ax, act, "conversations");
      timeChart(card(grid, "w6", "Conversations " + perWhat(ax), "Started then vs continued"), ax, [
        { name: "New conversations", color: PALETTE[2], values: perBucket(ax, act, "new_conversations") },
        { name: "Continued", color: "#b8c4d0", values: conv ? minus(conv, perBucket(ax, act, "new_conversations")) : ax.starts.map(function () { return 0; }) },
      ], { label: "conversations" });
      hbars(card(grid, "w6", "Questions and askers by space", ""),
            lb.map(function (r) { return { label: spaceName(r), values: [r.questions, r.askers], href: linkTo({ tab: "space", space: r.key }) }; }),
            [{ name: "Questions", color: PALETTE[0] }, { name: "Askers", color: PALETTE[1] }], { max: 8 });
      leaderboardTable(card(grid, "w12", "Space leaderboard", "Ranked by questions across every workspace shown; click a space to open its page"), lb);
    } },
    { id: "quality", title: "Quality and feedback", lead: "Where Genie fails, and what people think of its answers.", render: function (grid) {
      var ax = axis(V.from, V.to), act = activity(V.from, V.to), neg = need("negative_feedback");
      kpis(grid, [
        { id: "failed", label: "Failed answers", get: function (lo, hi) { return sum(activity(lo, hi), "failed"); }, color: "#d64545", better: "down" },
        { id: "failure_rate", label: "Failure rate", get: function (lo, hi) { var a = activity(lo, hi); return ratio(sum(a, "failed"), sum(a, "completed") + sum(a, "failed") + sum(a, "cancelled")); }, fmt: fmt.pct, color: "#d64545", points: true, better: "down" },
        { id: "positive", label: "Rated positive", get: function (lo, hi) { return sum(activity(lo, hi), "positive_feedback"); }, color: "#1f9d55", better: "up" },
        { id: "negative", label: "Rated negative", get: function (lo, hi) { return sum(activity(lo, hi), "negative_feedback"); }, color: "#d64545", better: "down" },
        { id: "reviews", label: "Review requests", get: function (lo, hi) { return sum(activity(lo, hi), "review_requests"); }, color: "#e8a317" },
      ]);
      timeChart(card(grid, "w6", "Feedback " + perWhat(ax), "Ratings of the answers"), ax, [
        { name: "Positive", color: "#1f9d55", values: perBucket(ax, act, "positive_feedback") },
        { name: "Negative", color: "#d64545", values: perBucket(ax, act, "negative_feedback") },
        { name: "Review requested", color: "#e8a317", values: perBucket(ax, act, "review_requests") },
      ], { kind: "lines", label: "feedback" });
      failureCharts(grid, ax, failuresIn(V.from, V.to));
      hbars(card(grid, "w6", "Feedback by space", "Answers rated positive and negative"),
            leaderboard(V.from, V.to).filter(function (r) { return r.positive_feedback + r.negative_feedback > 0; })
              .sort(function (a, b) { return (b.positive_feedback + b.negative_feedback) - (a.positive_feedback + a.negative_feedback); })
              .map(function (r) { return { label: spaceName(r), values: [r.positive_feedback, r.negative_feedback], href: linkTo({ tab: "space", space: r.key }) }; }),
            [{ name: "Positive", color: "#1f9d55" }, { name: "Negative", color: "#d64545" }], { max: 8 });
      var rated = (neg || []).filter(function (r) {
        return wsOk(r) && r._d >= V.from && r._d <= V.to && (!V.asker || r.asker === V.asker) && (!V.error || r.error_type === V.error);
      });
      table(card(grid, "w12", "Answers rated negative", "With the SQL Genie wrote; newest first (the latest " + (META.negative_per_workspace || 100) + " per workspace)"), {
        id: "negative-answers", rows: rated, cols: [
          { key: "asked_at", label: "Asked", fmt: fmt.time }, { id: "space", label: "Space", value: spaceName, cell: spaceLink },
          { key: "asker", label: "Asker", cell: function (r) { return askerLink(r.asker); } },
          { key: "question", label: "Question", wrap: true }, { key: "query_description", label: "Genie's description", wrap: true },
          { key: "query_sql", label: "SQL", cell: function (r) { return details(r.query_sql); } },
          { key: "outcome", label: "Status", cell: function (r) { return pill(r.outcome); } },
          { key: "error_type", label: "Error", cell: function (r) { return errorLink(r.error_type); } },
          { key: "review_requested", label: "Review", cell: function (r) { return r.review_requested ? pill("requested", "in_progress") : null; } },
        ] });
    } },
    { id: "prompts", title: "Prompts and SQL", lead: "Search what people asked, what Genie answered, and the SQL it ran.", render: function (grid) {
      var c = card(grid, "w12", "Search", "Every word must appear in the question, Genie's description, the SQL or the answer; \"quote\" a phrase");
      var form = el("div", { cls: "search" });
      var q = el("input", { type: "search", id: "search-q", placeholder: "e.g. revenue \"last week\"", value: state.q, "aria-label": "Search" });
      var timer = null;
      q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { go({ q: q.value }); }, 250); });
      q.addEventListener("keydown", function (e) { if (e.key === "Enter") { clearTimeout(timer); go({ q: q.value }); } });
      function select(id, label, options, value, onChange) {
        var s = el("select", { id: id, "aria-label": label }, options.map(function (o) { return el("option", { value: o[0], text: o[1] }); }));
        s.value = value;
        s.addEventListener("change", function () { onChange(s.value); });
        return el("label", {}, [label, s]);
      }
      var M = need("message_text") ? D.messages.slice(0, TEXT_COUNT) : [];
      var spaces = new Map(), askers = new Set();
      M.forEach(function (m) { if (wsOk(m)) { if (!spaces.has(m.key)) { spaces.set(m.key, spaceName(m)); } if (m.asker) { askers.add(m.asker); } } });
      if (V.asker) { askers.add(V.asker); }
      form.appendChild(el("label", {}, ["Search", q]));
      form.appendChild(select("search-status", "Status", [["", "Any status"]].concat(OUTCOMES.map(function (o) { return [o[0], o[1]]; })), state.status, function (v) { go({ status: v }); }));
      form.appendChild(select("search-space", "Space", [["", "Any space"]].concat(Array.from(spaces.entries()).sort(function (a, b) { return a[1] < b[1] ? -1 : 1; })), state["in"], function (v) { go({ "in": v }); }));
      form.appendChild(select("search-asker", "Asker", [["", "Anyone"]].concat(Array.from(askers).sort().map(function (a) { return [a, a]; })), state.asker, function (v) { go({ asker: v }); }));
      form.appendChild(select("search-feedback", "Feedback", [["", "Any feedback"], ["POSITIVE", "Rated positive"], ["NEGATIVE", "Rated negative"], ["none", "Not rated"], ["review", "Review requested"]], state.fb, function (v) { go({ fb: v }); }));
      var matches = searchMatches(V.from, V.to), terms = termsOf(state.q);
      form.appendChild(el("span", { cls: "count", id: "search-count", "data-matches": matches ? String(matches.length) : "", "data-query": state.q,
                                    text: matches ? fmt.int(matches.length) + (matches.length === 1 ? " message" : " messages") : "Loading…" }));
      c.appendChild(form);
      textCoverageNote(c, V.from);
      matches = matches || [];
      donut(card(grid, "w4", "Answer kinds", "Messages found"), [
        { label: "Answered with SQL", value: matches.filter(function (r) { return r.query_sql; }).length, color: PALETTE[0] },
        { label: "Text only", value: matches.filter(function (r) { return !r.query_sql && r.outcome === "completed"; }).length, color: PALETTE[2] },
        { label: "No answer", value: matches.filter(function (r) { return !r.query_sql && r.outcome !== "completed"; }).length, color: "#9aa5b1" },
      ], { centerLabel: "messages" });
      hbars(card(grid, "w8", "Messages found by space", "Click a space to open its page"),
            Array.from(groupBy(matches, function (r) { return r.key; }).entries()).map(function (e) { return { label: spaceName(e[1][0]), values: [e[1].length], href: linkTo({ tab: "space", space: e[0] }) }; })
              .sort(function (a, b) { return b.values[0] - a.values[0]; }), [{ name: "Messages", color: PALETTE[0] }], { max: 8 });
      messagesTable(card(grid, "w12", "Messages found", "Newest first; " + PAGE_SIZE + " per page; the CSV holds every message found"), "messages", matches, terms);
    } },
    { id: "performance", title: "SQL performance", lead: "The SQL Genie ran, as system.query.history saw it.", render: function (grid) {
      var ax = axis(V.from, V.to), act = activity(V.from, V.to), perf = sqlBySpace(V.from, V.to), allTime = V.all && !usesFacts();
      function avg(lo, hi) {
        if (usesFacts() || (!allTime && covered(lo))) { var d = durationsOf(facts(lo, hi)); return d.length ? d.reduce(function (a, x) { return a + x; }, 0) / d.length : null; }
        var a = activity(lo, hi);
        return ratio(sum(a, "sql_total_duration_ms"), allTime ? sum(D.sql_performance.filter(wsOk), "statements_with_history") : sum(a, "sql_statements"));
      }
      function reads(key) { return function (lo, hi) { return usesFacts() ? null : sum(activity(lo, hi), key); }; }
      kpis(grid, [
        { id: "statements", label: "SQL statements", get: function (lo, hi) { return sum(activity(lo, hi), "sql_statements"); } },
        { id: "failed_statements", label: "Failed statements", get: function (lo, hi) { return sum(activity(lo, hi), "failed_statements"); }, color: "#d64545", better: "down" },
        { id: "avg_duration", label: "Average duration", get: avg, fmt: fmt.ms, color: PALETTE[2], better: "down" },
        { id: "read_rows", label: "Rows read", get: reads("read_rows"), fmt: fmt.big, color: PALETTE[3], hint: usesFacts() ? "not kept per message" : "" },
        { id: "read_bytes", label: "Data read", get: reads("read_bytes"), fmt: fmt.bytes, color: PALETTE[3] },
      ]);
      var hc = card(grid, "w6", "How long Genie's SQL took", "Statements by total duration");
      if (allTime && !V.space) {
        var buckets = groupBy(D.sql_duration_histogram.filter(wsOk), function (r) { return r.bucket_order + "|" + r.bucket; });
        var keys = Array.from(buckets.keys()).sort(function (a, b) { return parseInt(a, 10) - parseInt(b, 10); });
        columns(hc, keys.map(function (k) { return k.split("|")[1]; }), keys.map(function (k) { return sum(buckets.get(k), "statements"); }), { color: PALETTE[2], label: "duration histogram" });
      } else if (covered(V.from)) {
        var d = durationsOf(facts(V.from, V.to));
        columns(hc, DURATION_BUCKETS.map(function (b) { return b[1]; }), DURATION_BUCKETS.map(function (b, i) {
          var lo = i ? DURATION_BUCKETS[i - 1][0] : -Infinity;
          return d.filter(function (x) { return x >= lo && x < b[0]; }).length;
        }), { color: PALETTE[2], label: "duration histogram" });
      } else { empty(hc, "Durations are kept per message since " + fmt.date(META.messages.first) + ": choose a range after it, or all time."); }
      hbars(card(grid, "w6", "Duration by space", "Median (p50) and p90 of total duration"),
            perf.filter(function (r) { return r.duration_p90_ms != null; }).sort(function (a, b) { return num(b.duration_p90_ms) - num(a.duration_p90_ms); })
              .map(function (r) { return { label: spaceName(r), values: [r.duration_p50_ms, r.duration_p90_ms], href: linkTo({ tab: "space", space: r.key }) }; }),
            [{ name: "p50", color: PALETTE[0] }, { name: "p90", color: PALETTE[1] }], { format: fmt.ms, max: 8 });
      timeChart(card(grid, "w6", "Statements " + perWhat(ax), "Failed ones in red"), ax, [
        { name: "Succeeded", color: PALETTE[0], values: minus(perBucket(ax, act, "sql_statements"), perBucket(ax, act, "failed_statements")) },
        { name: "Failed", color: "#d64545", values: perBucket(ax, act, "failed_statements") },
      ], { label: "statements per day" });
      var tot = perBucket(ax, act, "sql_total_duration_ms"), cnt = perBucket(ax, act, "sql_statements");
      timeChart(card(grid, "w6", "Average duration " + perWhat(ax), ""), ax, [
        { name: "Average total duration", color: PALETTE[2], values: tot.map(function (t, i) { return cnt[i] ? t / cnt[i] : 0; }) },
      ], { kind: "lines", format: fmt.ms, label: "average duration" });
      var cols = [
        { id: "space", label: "Space", value: spaceName, cell: spaceLink }, { key: "workspace_name", label: "Workspace" },
        { key: "statements", label: "Statements", num: true, fmt: fmt.int }, { key: "failed_statements", label: "Failed", num: true, fmt: fmt.int },
        { key: "duration_p50_ms", label: "p50", num: true, fmt: fmt.ms }, { key: "duration_p90_ms", label: "p90", num: true, fmt: fmt.ms },
        { key: "duration_p95_ms", label: "p95", num: true, fmt: fmt.ms }, { key: "duration_avg_ms", label: "Average", num: true, fmt: fmt.ms },
        { key: "duration_max_ms", label: "Max", num: true, fmt: fmt.ms }];
      if (allTime) {
        cols = cols.concat([{ key: "read_rows", label: "Rows read", num: true, fmt: fmt.big }, { key: "read_bytes", label: "Data read", num: true, fmt: fmt.bytes },
                            { key: "produced_rows", label: "Rows returned", num: true, fmt: fmt.int }]);
      }
      table(card(grid, "w12", "By space", "Percentiles are exact, over the statements found in query history" + (allTime || covered(V.from) ? "" : " (durations per message only since " + fmt.date(META.messages.first) + ")")),
            { id: "sql-by-space", rows: perf, cols: cols });
    } },
    { id: "adoption", title: "Adoption", lead: "Who asks: active, new and returning people (from the asker of each question, not from query history).", render: function (grid) {
      var ax = axis(V.from, V.to), top = topUsers(V.from, V.to), filtered = usesFacts();
      function at(hi, key) {
        if (filtered) { return key === "active_askers" ? distinct(facts(hi, hi), "asker") : distinct(facts(hi - 6, hi), "asker"); }
        var r = D.adoption_daily.filter(function (x) { return x.scope === V.ws && x._d === hi; })[0];
        return r ? r[key] : null;
      }
      function askers(lo, hi) { return field(people(lo, hi), "askers"); }
      kpis(grid, [
        { id: "people", label: "People asking", get: askers, better: "up" },
        { id: "dau", label: "Active on the last day", get: function (lo, hi) { return at(hi, "active_askers"); }, hint: fmt.day(isoOf(V.to)) },
        { id: "wau", label: "Active in the last 7 days", get: function (lo, hi) { return at(hi, "weekly_active_askers"); }, color: PALETTE[1], hint: "the 7 days to " + fmt.day(isoOf(V.to)) },
        { id: "per_person", label: "Questions per person", get: function (lo, hi) { return ratio(sum(activity(lo, hi), "questions"), askers(lo, hi)); }, fmt: fmt.one, color: PALETTE[2] },
      ]);
      adoptionChart(card(grid, "w6", "Daily and weekly active askers", "Weekly = distinct people over the 7 days ending that day"), ax);
      var a = adoption(ax);
      timeChart(card(grid, "w6", "New and returning askers", "New = first question ever seen from that person" + (ax.weekly ? "; per 7 days" : "")), ax, a.facts ? [] : [
        { name: "Returning", color: PALETTE[0], values: a.returning },
        { name: "New", color: PALETTE[1], values: a.fresh },
      ], { label: "new and returning", empty: a.facts ? "Not with an asker or error-type filter" : null });
      hbars(card(grid, "w6", "Top users", "Questions per person; click one to filter by them"),
            (top || []).map(function (r) { return { label: r.asker, values: [r.questions], href: linkTo({ asker: r.asker }) }; }),
            [{ name: "Questions", color: PALETTE[3] }], { max: 10, labelWidth: 250 });
      askersTable(card(grid, "w6", "Top users in detail", ""), "top-users", top);
    } },
    { id: "config", title: "Space configuration", lead: "How each space is set up (from serialized_space), how it changed and how each change went, and its benchmark accuracy. " +
      "The configuration and its versions are the current state (the date range does not apply); configuration changes count on the day they were made, benchmark runs on the day they started.", render: function (grid) {
      var sc = D.space_config.filter(wsOk), items = need("space_config_items") || [], ch = D.config_changes.filter(wsOk);
      var changes = groupBy(D.config_item_changes, function (r) { return r.key + "#" + r.version_number; });
      hbars(card(grid, "w6", "What each space knows", "Tables, instructions and examples configured"),
            sc.map(function (r) { return { label: spaceName(r), values: [r.tables, r.example_sqls + r.text_instructions, r.benchmarks], href: linkTo({ tab: "space", space: r.key }) }; }),
            [{ name: "Tables", color: PALETTE[0] }, { name: "Instructions and examples", color: PALETTE[2] }, { name: "Benchmarks", color: PALETTE[3] }], { max: 10 });
      table(card(grid, "w6", "Configuration versions", "Every version seen, newest first"), { id: "config-changes", rows: ch, cols: [
        { key: "first_seen_at", label: "First seen", fmt: fmt.time }, { id: "space", label: "Space", value: spaceName, cell: spaceLink },
        { key: "version_number", label: "Version", num: true }, { key: "is_current", label: "Current", cell: function (r) { return r.is_current ? pill("current", "completed") : null; } },
        { id: "changed", label: "What changed", value: function (r) { return changeText(changes.get(r.key + "#" + r.version_number)); }, cell: function (r) { return changeList(changes.get(r.key + "#" + r.version_number), r.version_number); } },
      ] });
      table(card(grid, "w12", "Before and after configuration changes", IMPACT_NOTE + ". " + EVENTS_NOTE), {
        id: "config-impact", rows: eventsOf(D.config_change_impact), cols: impactCols(true), paged: true,
        empty: D.config_change_impact.some(wsOk) ? "No configuration change in this date range" : "No configuration change seen" });
      var acc = accuracyBySpace();
      if (acc === null || D.eval_accuracy.length) {
        hbars(card(grid, "w6", "Latest benchmark accuracy by space", "The latest finished eval run of each space in the range; lowest first"),
              (acc || []).map(function (r) { return { label: spaceName(r), values: [r.accuracy], href: linkTo({ tab: "space", space: r.key }) }; }),
              [{ name: "Accuracy", color: PALETTE[3] }], { format: fmt.pct, max1: true, labelWidth: 190, empty: acc ? "No benchmark run in this selection (workspace and date range)" : null });
        table(card(grid, "w6", "Benchmark accuracy by space", "Change: vs the space's run before its latest. " + EVENTS_NOTE), {
          id: "accuracy-by-space", rows: acc || [], empty: acc ? "No benchmark run in this selection (workspace and date range)" : null, cols: [
            { id: "space", label: "Space", value: spaceName, cell: spaceLink }, { key: "workspace_name", label: "Workspace" },
            { key: "accuracy", label: "Latest accuracy", num: true, fmt: fmt.pct },
            { key: "accuracy_change", label: "Change", num: true, fmt: fmt.pts, cell: deltaCell("accuracy_change", "up") },
            { key: "num_questions", label: "Questions", num: true, fmt: fmt.int }, { key: "runs", label: "Runs", num: true, fmt: fmt.int },
            { key: "finished_at", label: "Latest run", fmt: fmt.time },
          ] });
      }
      table(card(grid, "w12", "Spaces", "Current configuration"), { id: "spaces", rows: sc, cols: [
        { id: "space", label: "Space", value: spaceName, cell: spaceLink }, { key: "workspace_name", label: "Workspace" },
        { key: "sample_questions", label: "Sample questions", num: true }, { key: "tables", label: "Tables", num: true },
        { key: "columns", label: "Columns", num: true }, { key: "text_instructions", label: "Instructions", num: true },
        { key: "example_sqls", label: "Example SQL", num: true }, { key: "join_specs", label: "Joins", num: true },
        { key: "benchmarks", label: "Benchmarks", num: true }, { key: "versions", label: "Versions", num: true },
        { key: "update_time", label: "Updated", fmt: fmt.time },
      ] });
      var c = card(grid, "w12", "Configuration in detail", "Sample questions, tables, instructions, joins and benchmarks");
      var bySpace = groupBy(items.filter(wsOk), function (r) { return r.key; });
      if (!bySpace.size) { empty(c); }
      bySpace.forEach(function (its) { configBlock(c, its); });
    } },
    { id: "health", title: "Pipeline health", lead: "Is the data complete and fresh? Coverage, pending work, errors and freshness per workspace: the pipeline's state now, whatever the date range.", render: function (grid) {
      var ph = D.pipeline_health.filter(wsOk), fe = D.fetch_errors.filter(wsOk);
      kpis(grid, [
        { id: "health_coverage", label: "Coverage", get: coverage, fmt: fmt.pct, hint: "messages with details / listed", still: true },
        { id: "pending", label: "Pending", get: function () { return sum(ph, "messages_pending"); }, color: "#e8a317", hint: "not final yet: fetched again", still: true },
        { id: "missing", label: "Missing details", get: function () { return sum(ph, "messages_missing"); }, color: "#7a4fd6", still: true },
        { id: "open_errors", label: "Open fetch errors", get: function () { return sum(fe, "open_errors"); }, color: "#d64545", still: true },
        { id: "api_only", label: "Found only by the API", get: function () { return sum(ph, "messages_api_only"); }, color: PALETTE[2], hint: "missed by the audit log", still: true },
      ]);
      hbars(card(grid, "w6", "Coverage by workspace", "Messages listed from the audit log that have their details"),
            ph.map(function (r) {
              return { label: r.workspace_name, values: [r.coverage], color: r.coverage == null || r.coverage >= 0.98 ? "#1f9d55" : r.coverage >= 0.9 ? "#e8a317" : "#d64545" };
            }), [{ name: "Coverage", color: "#1f9d55" }], { format: fmt.pct, max1: true });
      hbars(card(grid, "w6", "Open fetch errors by type", "Messages and spaces the API could not return"),
            fe.filter(function (r) { return r.open_errors > 0; }).map(function (r) { return { label: r.object_type + ": " + r.error_type, values: [r.open_errors] }; }),
            [{ name: "Open errors", color: "#d64545" }], { labelWidth: 240 });
      table(card(grid, "w12", "Freshness and completeness", "Times in UTC; ages relative to when this page was generated"), { id: "freshness", rows: ph, cols: [
        { key: "workspace_name", label: "Workspace" }, { key: "audit_events", label: "Audit events", num: true, fmt: fmt.int },
        { key: "latest_audit_event_time", label: "Latest audit event", fmt: fmt.time },
        { id: "audit_age", label: "Audit age", value: function (r) { return fmt.age(r.latest_audit_event_time); } },
        { key: "latest_fetch_time", label: "Latest fetch", fmt: fmt.time },
        { id: "fetch_age", label: "Fetch age", value: function (r) { return fmt.age(r.latest_fetch_time); } },
        { key: "messages_listed", label: "Listed", num: true, fmt: fmt.int }, { key: "messages_with_details", label: "With details", num: true, fmt: fmt.int },
        { key: "messages_pending", label: "Pending", num: true }, { key: "messages_missing", label: "Missing", num: true },
        { key: "messages_excluded", label: "Excluded", num: true }, { key: "open_fetch_errors", label: "Open errors", num: true },
        { key: "spaces_with_details", label: "Spaces", num: true }, { key: "open_space_fetch_errors", label: "Space errors", num: true },
      ] });
      table(card(grid, "w12", "Fetch errors", ""), { id: "fetch-errors", rows: fe, cols: [
        { key: "workspace_name", label: "Workspace" }, { key: "object_type", label: "Object" }, { key: "error_type", label: "Type" },
        { key: "open_errors", label: "Open", num: true }, { key: "permanent_errors", label: "Permanent", num: true },
        { key: "resolved_errors", label: "Resolved", num: true }, { key: "attempts", label: "Attempts", num: true },
        { key: "last_attempt_at", label: "Last attempt", fmt: fmt.time }, { key: "example_error_message", label: "Example", wrap: true },
      ] });
    } },
  ];

  // -- configuration ------------------------------------------------------------------------------------------
  var KINDS = [["sample_question", "Sample questions", "sample question"], ["table", "Tables", "table"], ["metric_view", "Metric views", "metric view"],
               ["text_instruction", "Instructions", "instruction"], ["example_sql", "Example SQL", "example SQL"], ["join_spec", "Joins", "join"],
               ["benchmark", "Benchmarks", "benchmark"], ["title", "Title", "title"], ["description", "Description", "description"]];
  function kindName(t) { var k = KINDS.filter(function (x) { return x[0] === t; })[0]; return k ? k[2] : t; }
  function changeText(rs) {
    if (!rs) { return ""; }
    return rs.map(function (r) { return (r.change === "added" ? "+ " : "- ") + kindName(r.item_type) + ": " + r.item_text; }).join("; ");
  }
  /* What changed in a version: title and description as old -> new, items added and removed. */
  function changeList(rs, version) {
    if (!rs || !rs.length) { return version > 1 ? "no item changed" : "first version seen"; }
    var ul = el("ul", { cls: "changes" });
    ["title", "description"].forEach(function (t) {
      var old = rs.filter(function (r) { return r.item_type === t && r.change === "removed"; })[0], now = rs.filter(function (r) { return r.item_type === t && r.change === "added"; })[0];
      var label = t === "title" ? "Title" : "Description";
      if (old || now) { ul.appendChild(el("li", { "data-change": t, text: label + ": “" + (old ? old.item_text : "") + "” → “" + (now ? now.item_text : "") + "”" })); }
    });
    rs.filter(function (r) { return r.item_type !== "title" && r.item_type !== "description"; }).forEach(function (r) {
      ul.appendChild(el("li", { cls: r.change, "data-change": r.item_type, text: (r.change === "added" ? "+ " : "− ") + kindName(r.item_type) + ": " + r.item_text }));
    });
    return ul;
  }
  function configBlock(c, its) {
    var block = el("div", { cls: "space-block" }, [el("h4", {}, [spaceLink(its[0]), "  ·  " + its[0].workspace_name])]);
    var lists = el("div", { cls: "items" });
    KINDS.slice(0, 7).forEach(function (k) {
      var mine = its.filter(function (r) { return r.item_type === k[0]; });
      if (!mine.length) { return; }
      lists.appendChild(el("div", {}, [el("h5", { text: k[1] + " (" + mine.length + ")" }), el("ul", {}, mine.map(function (r) {
        var text = r.item_text || "–";
        if (r.column_count != null) { text += " — " + r.column_count + " columns"; }
        return el("li", {}, [text, r.item_detail && k[0] !== "table" ? details(r.item_detail, k[0] === "join_spec" ? "condition" : "SQL") : null]);
      }))]));
    });
    block.appendChild(lists);
    c.appendChild(block);
  }

  // -- a space's page -------------------------------------------------------------------------------------------
  var SPACE_PAGE = { id: "space", title: "Space", lead: "", render: function (grid, section) {
    var s = SPACE[V.space];
    if (!s) { section.querySelector("h2").textContent = "Unknown space"; return empty(grid, "This page has no space " + V.space + "."); }
    section.querySelector("h2").textContent = s.space;
    var head = section.querySelector(".lead");
    head.textContent = "";
    head.className = "space-head";
    head.appendChild(link("‹ All spaces", linkTo({ tab: "usage", space: "" })));
    head.appendChild(el("span", { text: "Workspace " + s.workspace_name }));
    head.appendChild(el("code", { text: s.space_id }));
    var ax = axis(V.from, V.to), act = activity(V.from, V.to), allTime = V.all && !usesFacts();
    var mart = D.sql_performance.filter(function (r) { return r.key === V.space; })[0];
    function durations(lo, hi) { return covered(lo) || usesFacts() ? durationsOf(facts(lo, hi)) : null; }
    function p50(lo, hi) {
      if (lo === FIRST && hi === LAST && !usesFacts() && mart) { return mart.duration_p50_ms; }
      var d = durations(lo, hi); return d ? percentile(d, 0.5) : null;
    }
    kpis(grid, [
      { id: "space_questions", label: "Questions", get: function (lo, hi) { return sum(activity(lo, hi), "questions"); }, better: "up" },
      { id: "space_askers", label: "People asking", get: function (lo, hi) { return field(people(lo, hi), "askers"); }, color: PALETTE[1], better: "up" },
      { id: "space_conversations", label: "Conversations", get: function (lo, hi) { return field(people(lo, hi), "conversations"); }, better: "up" },
      { id: "space_success_rate", label: "Success rate", get: function (lo, hi) { return successRate(activity(lo, hi)); }, fmt: fmt.pct, color: "#1f9d55", points: true, better: "up" },
      { id: "space_failed", label: "Failed answers", get: function (lo, hi) { return sum(activity(lo, hi), "failed"); }, color: "#d64545", better: "down" },
      { id: "space_negative", label: "Rated negative", get: function (lo, hi) { return sum(activity(lo, hi), "negative_feedback"); }, color: "#d64545", better: "down" },
      { id: "space_p50", label: "Median SQL time", get: p50, fmt: fmt.ms, color: PALETTE[2], better: "down" },
    ]);
    var versions = D.config_changes.filter(function (r) { return r.key === V.space; }).sort(function (a, b) { return a.version_number - b.version_number; });
    var marks = changeMarks(V.space);
    timeChart(card(grid, "w8", "Questions " + perWhat(ax), "By outcome; dashed lines: configuration changes"), ax,
              OUTCOMES.map(function (o) { return { name: o[1], color: o[2], values: perBucket(ax, act, o[0]) }; }), { label: "questions per day", marks: marks });
    donut(card(grid, "w4", "Outcomes", "Questions in the range"), OUTCOMES.map(function (o) { return { label: o[1], value: sum(act, o[0]), color: o[2] }; }), { centerLabel: "questions" });
    failureCharts(grid, ax, failuresIn(V.from, V.to));
    timeChart(card(grid, "w6", "Feedback " + perWhat(ax), "Ratings of the answers"), ax, [
      { name: "Positive", color: "#1f9d55", values: perBucket(ax, act, "positive_feedback") },
      { name: "Negative", color: "#d64545", values: perBucket(ax, act, "negative_feedback") },
      { name: "Review requested", color: "#e8a317", values: perBucket(ax, act, "review_requests") },
    ], { kind: "lines", label: "feedback" });
    askersTable(card(grid, "w6", "Top askers", "Click one to filter by them"), "space-askers", topUsers(V.from, V.to));
    accuracyCards(grid, V.space, marks);
    var sqlCard = card(grid, "w12", "SQL duration", allTime ? "All time, from query history" : "Over the range, from query history");
    var d = allTime && !covered(V.from) ? null : durations(V.from, V.to);
    var row = allTime && mart && !d ? mart : d ? { statements: sum(act, "sql_statements"), failed_statements: sum(act, "failed_statements"), duration_p50_ms: percentile(d, 0.5),
      duration_p90_ms: percentile(d, 0.9), duration_p95_ms: percentile(d, 0.95), duration_avg_ms: d.length ? d.reduce(function (a, x) { return a + x; }, 0) / d.length : null,
      duration_max_ms: d.length ? d[d.length - 1] : null } : null;
    table(sqlCard, { id: "space-sql", rows: row && row.statements ? [row] : [], empty: row ? null : "Durations are kept per message since " + fmt.date(META.messages && META.messages.first), cols: [
      { key: "statements", label: "Statements", num: true, fmt: fmt.int }, { key: "failed_statements", label: "Failed", num: true, fmt: fmt.int },
      { key: "duration_p50_ms", label: "p50", num: true, fmt: fmt.ms }, { key: "duration_p90_ms", label: "p90", num: true, fmt: fmt.ms },
      { key: "duration_p95_ms", label: "p95", num: true, fmt: fmt.ms }, { key: "duration_avg_ms", label: "Average", num: true, fmt: fmt.ms },
      { key: "duration_max_ms", label: "Max", num: true, fmt: fmt.ms }] });
    if (d && d.length) {
      columns(sqlCard, DURATION_BUCKETS.map(function (b) { return b[1]; }), DURATION_BUCKETS.map(function (b, i) {
        var lo = i ? DURATION_BUCKETS[i - 1][0] : -Infinity;
        return d.filter(function (x) { return x >= lo && x < b[0]; }).length;
      }), { color: PALETTE[2], label: "duration histogram", height: 170 });
    }
    // configuration changes: how the space did in the week before and after each, then every version's content
    table(card(grid, "w12", "Before and after configuration changes", IMPACT_NOTE + "; item by item in Configuration versions below. " + EVENTS_NOTE), {
      id: "space-changes", rows: eventsOf(D.config_change_impact, V.space), cols: impactCols(false),
      empty: D.config_change_impact.some(function (r) { return r.key === V.space; }) ? "No configuration change in this date range" : "No configuration change seen" });
    // configuration versions: what changed, and how the space did while each was current
    var changes = groupBy(D.config_item_changes.filter(function (r) { return r.key === V.space; }), function (r) { return r.version_number; });
    var all = BY_SPACE[V.space] || [];
    var vrows = versions.map(function (r, i) {
      var from = i ? dayNum(r.first_seen_at) : FIRST, to = i + 1 < versions.length ? dayNum(versions[i + 1].first_seen_at) - 1 : LAST;
      var rs = inRange(all, from, to);
      return Object.assign({}, r, { questions_while: sum(rs, "questions"), success_while: successRate(rs), negative_while: sum(rs, "negative_feedback") });
    }).reverse();
    table(card(grid, "w12", "Configuration versions", "Every version seen, newest first (whatever the date range), with what changed and how the space did while it was current (from the day it was first seen; version 1 from the first day with data)"), {
      id: "space-versions", rows: vrows, cols: [
        { key: "version_number", label: "Version", num: true }, { key: "first_seen_at", label: "First seen", fmt: fmt.time },
        { key: "update_time", label: "Updated (API)", fmt: fmt.time }, { key: "title", label: "Title" },
        { id: "changed", label: "What changed", value: function (r) { return changeText(changes.get(r.version_number)); }, cell: function (r) { return changeList(changes.get(r.version_number), r.version_number); } },
        { key: "sample_questions", label: "Samples", num: true }, { key: "tables", label: "Tables", num: true },
        { key: "text_instructions", label: "Instructions", num: true }, { key: "example_sqls", label: "Example SQL", num: true },
        { key: "benchmarks", label: "Benchmarks", num: true },
        { key: "questions_while", label: "Questions while current", num: true, fmt: fmt.int },
        { key: "success_while", label: "Success while current", num: true, fmt: fmt.pct },
        { key: "negative_while", label: "Rated negative", num: true, fmt: fmt.int },
      ] });
    var pc = card(grid, "w12", "Recent prompts", "Newest first; " + PAGE_SIZE + " per page");
    textCoverageNote(pc, V.from);
    var prompts = searchMatches(V.from, V.to, { q: "", status: "", space: V.space, fb: "" });
    messagesTable(pc, "space-prompts", prompts || [], []);
  } };

  // -- wiring -------------------------------------------------------------------------------------------------
  var firstRender = true;
  function chips() {
    var box = document.getElementById("chips");
    box.textContent = "";
    [["asker", "Asker"], ["error", "Error type"]].forEach(function (f) {
      if (state[f[0]]) {
        var x = {}; x[f[0]] = "";
        box.appendChild(el("span", { cls: "fchip", "data-filter": f[0] }, [f[1] + ": " + state[f[0]], link("✕", linkTo(x), { title: "Remove this filter", "aria-label": "Remove the " + f[1].toLowerCase() + " filter" })]));
      }
    });
    if (usesFacts() && !covered(V.from)) {
      box.appendChild(el("span", { cls: "note", "data-note": "messages", text: "With an asker or error-type filter, figures count the " +
        "messages the page carries one by one: since " + fmt.date(META.messages.first) + " (" + fmt.int(META.messages.count) + " of " +
        fmt.int(META.messages_total) + " messages; the Lakeview dashboard has them all)." }));
    }
    // a custom range reaching into the days kept per week: figures there count whole 7-day buckets
    var folded = LAST == null || state.range === "all" ? null : V.from < WS_DAILY_FROM && V.from > FIRST ? WS_DAILY_FROM :
      V.from < SPACE_DAILY_FROM && V.from > FIRST ? SPACE_DAILY_FROM : null;
    if (folded != null && (LAST - V.from + 1) % 7 !== 0) {
      box.appendChild(el("span", { cls: "note", "data-note": "weeks", text: "Before " + fmt.date(isoOf(folded)) + ", " +
        (folded === WS_DAILY_FROM ? "figures are" : "per-space figures are") + " kept per 7-day bucket ending on " +
        fmt.date(isoOf(LAST)) + " (or 7, 14, ... days before): the range is counted in whole buckets there." }));
    }
    box.hidden = !box.childNodes.length;
  }
  function syncControls() {
    document.getElementById("ws-filter").value = state.ws;
    document.getElementById("range-filter").value = state.range;
    var r = rangeOf(state), custom = document.getElementById("custom-range");
    custom.hidden = state.range !== "custom";
    document.getElementById("range-from").value = FIRST == null ? "" : isoOf(r.from);
    document.getElementById("range-to").value = FIRST == null ? "" : isoOf(r.to);
    var label = FIRST == null ? "No data" : fmt.date(isoOf(r.from)) + " – " + fmt.date(isoOf(r.to)) + " (" + r.len + (r.len === 1 ? " day)" : " days)");
    if (r.prev) { label += "; compared with " + fmt.date(isoOf(r.prev.from)) + " – " + fmt.date(isoOf(r.prev.to)); }
    document.getElementById("range-label").textContent = label;
  }

  /* Draw the visible page(s) only: charts are sized to their cards, which hidden pages do not have. */
  function render() {
    var focused = document.activeElement && document.activeElement.id ? { id: document.activeElement.id, at: document.activeElement.selectionStart } : null;
    pending = [];
    V = makeView();
    SORTS = parseSort(state.sort);
    drawnHash = location.hash;
    var main = document.getElementById("pages");
    main.textContent = "";
    document.body.classList.toggle("all-pages", state.tab === "all");
    (state.tab === "space" ? [SPACE_PAGE] : PAGES).forEach(function (p) {
      var grid = el("div", { cls: "grid" }), visible = state.tab === "all" || p.id === state.tab;
      var section = el("section", { cls: "page" + (visible ? " active" : ""), id: "page-" + p.id, "data-page": p.id },
                       [el("h2", { text: p.title }), el("p", { cls: "lead", text: p.lead }), grid]);
      main.appendChild(section);
      if (visible) { p.render(grid, section); }
    });
    Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) { b.classList.toggle("active", b.dataset.tab === state.tab); });
    chips();
    var root = document.documentElement;
    root.setAttribute("data-charts", String(document.querySelectorAll("svg.chart").length));
    root.setAttribute("data-workspace", state.ws);
    root.setAttribute("data-range", FIRST == null ? "" : isoOf(V.from) + "/" + isoOf(V.to));
    root.setAttribute("data-view", drawnHash);
    root.setAttribute("data-rendered", window.__errors.length ? "errors" : pending.length ? "loading" : "ok");
    if (focused) {
      var again = document.getElementById(focused.id);
      if (again) { again.focus(); if (focused.at != null && again.setSelectionRange) { again.setSelectionRange(focused.at, focused.at); } }
    }
    if (!pending.length && firstRender) {
      firstRender = false;
      performance.mark("dashboard-rendered");
      root.setAttribute("data-render-ms", performance.now().toFixed(1));
      setTimeout(function () { (META.lazy || []).forEach(inflate); }, 0);  // ready before another view needs them
    }
    if (pending.length) {
      Promise.all(pending.map(inflate)).then(render, function (e) { __reportError("could not decode the embedded data: " + e); });
    }
  }

  function init() {
    readHash();
    var select = document.getElementById("ws-filter");
    select.appendChild(el("option", { value: "all", text: "All workspaces" }));
    (D.workspaces || []).forEach(function (w) { select.appendChild(el("option", { value: w.workspace_id, text: w.workspace_name + " (" + w.workspace_id + ")" })); });
    if (!Array.prototype.some.call(select.options, function (o) { return o.value === state.ws; })) { state.ws = "all"; }
    select.addEventListener("change", function () { go({ ws: select.value, "in": "" }); });
    var range = document.getElementById("range-filter"), from = document.getElementById("range-from"), to = document.getElementById("range-to");
    range.addEventListener("change", function () {
      if (range.value === "custom") { var r = rangeOf(state); go({ range: "custom", from: isoOf(r.from), to: isoOf(r.to) }); }
      else { go({ range: range.value }); }
    });
    [from, to].forEach(function (input) {
      input.min = META.first || ""; input.max = META.last || "";
      input.addEventListener("change", function () { if (from.value && to.value) { go({ range: "custom", from: from.value, to: to.value }); } });
    });
    var tabs = document.getElementById("tabs");
    PAGES.forEach(function (p) {
      var b = el("button", { type: "button", role: "tab", "data-tab": p.id, text: p.title });
      b.addEventListener("click", function () { go({ tab: p.id, space: "" }, true); window.scrollTo(0, 0); });
      tabs.appendChild(b);
    });
    if (state.tab !== "all" && state.tab !== "space" && !PAGES.some(function (p) { return p.id === state.tab; })) { state.tab = "summary"; }
    document.getElementById("generated").textContent = "Generated " + fmt.time(DATA.generated_at) + " from the analytics marts";
    window.addEventListener("hashchange", onNavigate);
    window.addEventListener("popstate", onNavigate);
    syncControls();
    render();
  }

  /* The core tables are decoded before the first render (they are small); the others when a view needs them. */
  Promise.all((META.core || []).map(function (k) { return inflate(k); })).then(function () {
    Object.keys(D).forEach(function (k) { if (!inflating[k]) { prepare(k); } });
    ["workspaces", "daily_activity", "space_activity", "failures", "space_leaderboard", "adoption_daily", "top_askers", "people_by_period",
     "sql_performance", "sql_duration_histogram", "space_config", "config_changes", "config_item_changes", "config_change_impact",
     "pipeline_health", "fetch_errors"]
      .forEach(function (k) { if (!D[k]) { D[k] = []; prepare(k); } });
    setup();
    init();
  }, function (e) { __reportError("could not decode the embedded data: " + e); });
})();
