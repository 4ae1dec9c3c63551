/* Wallboard (运营大屏), loaded on every page but active only on /wallboard paths:
 * - marks <html> `wallboard-mode` before the first paint (wallboard.css hides the shell);
 * - scales the 1920×1080 design canvas to the window (letterboxed): --wb-scale;
 * - rotates the playlist's pages on a 1-second timer (the root's data-rotation: pages,
 *   seconds, titles) by switching classes, no reload and no Dash callback (each callback
 *   makes the renderer walk every component on the screen);
 * - tracks the callbacks' fetches: the last successful update, failures (network, server,
 *   revoked token) → a visible stale marker "连接中断 · 数据截至 HH:MM" while the last data
 *   stays on screen; requests time out after 45 s so a dropped network cannot hang them;
 * - animates numbers (span.wb-num[data-value]) from the value they showed before a refresh
 *   to the new one, whether the refresh rebuilt the panel or changed the number in place.
 * Nothing here keeps references to DOM nodes beyond an animation (WeakMap), and the values
 * shown are kept per stable key, so the heap of a screen that runs for months stays flat. */
(function () {
  "use strict";
  var onWall = /^\/wallboard(\/|$)/.test(window.location.pathname);
  var t0 = Date.now();
  var lastIdx = -1;
  var state = {ok: null, lastOk: 0, reason: "", refreshMs: 60000, tz: "Asia/Shanghai",
               fails: 0, oks: 0};

  if (!onWall) { return; }

  var html = document.documentElement;
  html.classList.add("wallboard-mode");
  window.__wallboard = state;  // read by the browser tests and the soak benchmark

  function fit() {
    var s = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
    html.style.setProperty("--wb-scale", String(s));
  }
  fit();
  window.addEventListener("resize", fit);

  // -- connection state -------------------------------------------------------------------
  var realFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    if (url.indexOf("_dash-update-component") < 0) { return realFetch(input, init); }
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, 45000);
    var opts = Object.assign({}, init || {}, {signal: ctrl.signal});
    return realFetch(input, opts).then(function (r) {
      clearTimeout(timer);
      if (r.ok) {
        state.ok = true; state.lastOk = Date.now(); state.reason = ""; state.oks++;
      } else {
        state.ok = false; state.fails++;
        state.reason = (r.status === 401 || r.status === 403) ? "token" : "server";
      }
      paint();
      return r;
    }, function (e) {
      clearTimeout(timer);
      state.ok = false; state.reason = "network"; state.fails++;
      paint();
      throw e;
    });
  };

  var clockFmt = null, clockTz = null;
  function clockText() {
    if (clockTz !== state.tz) {
      clockTz = state.tz;
      try {
        clockFmt = new Intl.DateTimeFormat("zh-CN", {timeZone: clockTz, year: "numeric",
          month: "2-digit", day: "2-digit", weekday: "short", hour: "2-digit",
          minute: "2-digit", second: "2-digit", hour12: false});
      } catch (e) { clockFmt = new Intl.DateTimeFormat("zh-CN", {hour12: false}); }
    }
    return clockFmt.format(new Date());
  }

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  function paint() {
    var root = document.getElementById("wallboard-root");
    if (!root) { return; }
    var asofEl = document.getElementById("wallboard-asof");
    var asof = (asofEl && asofEl.textContent) || "—";
    var late = state.lastOk && (Date.now() - state.lastOk > Math.max(3 * state.refreshMs, 15000));
    var text, down = false;
    if (state.ok === null) {
      text = "连接中…";
    } else if (state.ok === false || late) {
      down = true;
      text = (state.reason === "token" ? "访问令牌已失效" : state.reason === "server" ?
              "服务异常" : "连接中断") + " · 数据截至 " + asof;
    } else {
      text = "实时 · 数据截至 " + asof;
    }
    setText("wallboard-status-text", text);
    if (root.classList.contains("wb-disconnected") !== down) {
      root.classList.toggle("wb-disconnected", down);
    }
    html.setAttribute("data-wb-connected", down ? "false" : "true");
  }

  // -- rotation ----------------------------------------------------------------------------
  var rotation = null;
  function rotate() {
    var root = document.getElementById("wallboard-root");
    if (!root) { return; }
    if (!rotation) {
      try { rotation = JSON.parse(root.getAttribute("data-rotation") || "null"); }
      catch (e) { rotation = null; }
      if (!rotation || !rotation.pages || !rotation.pages.length) { return; }
      state.refreshMs = (rotation.refresh || 60) * 1000;
      state.tz = rotation.tz || state.tz;
    }
    var pages = rotation.pages, total = 0, i;
    for (i = 0; i < pages.length; i++) { total += pages[i].seconds; }
    var t = ((Date.now() - t0) / 1000) % total, idx = 0, acc = 0;
    for (i = 0; i < pages.length; i++) {
      acc += pages[i].seconds;
      if (t < acc) { idx = i; break; }
    }
    var els = root.querySelectorAll(".wb-pages > .wb-page");
    if (idx === lastIdx && els.length && els[idx].classList.contains("active")) { return; }
    lastIdx = idx;
    var dots = root.querySelectorAll(".wb-dots > .wb-dot");
    for (i = 0; i < els.length; i++) { els[i].classList.toggle("active", i === idx); }
    for (i = 0; i < dots.length; i++) { dots[i].classList.toggle("active", i === idx); }
    setText("wallboard-pagetitle", pages[idx].title);
    html.setAttribute("data-wb-page", pages[idx].page);
    html.setAttribute("data-wb-index", String(idx));
  }

  setInterval(function () {
    setText("wallboard-clock", clockText());
    rotate();
    paint();
  }, 1000);

  // -- numbers animate to their new values -------------------------------------------------
  var anims = new WeakMap();
  var NUM = /-?[\d,]*\.?\d+/;

  function group(s) {
    var parts = s.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return parts.join(".");
  }

  function animate(el, from, to) {
    var node = el.firstChild;
    if (!node || node.nodeType !== 3) { return; }
    var finalText = node.nodeValue, m = NUM.exec(finalText);
    if (!m) { return; }
    var shown = parseFloat(m[0].replace(/,/g, ""));
    if (!isFinite(shown) || shown === 0 || !isFinite(from) || !isFinite(to) || to === 0) {
      return;
    }
    var ratio = to / shown;
    var decimals = (m[0].split(".")[1] || "").length;
    var grouped = m[0].indexOf(",") >= 0;
    var prefix = finalText.slice(0, m.index), suffix = finalText.slice(m.index + m[0].length);
    var prev = anims.get(el);
    if (prev) { cancelAnimationFrame(prev.raf); }
    var rec = {raf: 0}, start = performance.now(), dur = 1200;
    function step(now) {
      if (el.firstChild !== node || !el.isConnected) { anims.delete(el); return; }
      var k = Math.min(1, (now - start) / dur);
      if (k >= 1) { node.nodeValue = finalText; anims.delete(el); return; }
      k = 1 - Math.pow(1 - k, 3);
      var v = ((from + (to - from) * k) / ratio).toFixed(decimals);
      node.nodeValue = prefix + (grouped ? group(v) : v) + suffix;
      rec.raf = requestAnimationFrame(step);
    }
    rec.raf = requestAnimationFrame(step);
    anims.set(el, rec);
  }

  // Dash replaces a panel's nodes on every refresh, so a number's value on screen before the
  // refresh is kept by a stable key: `data-key`, else the nearest element with an id and the
  // number's place among that element's numbers. The map holds one value per number on
  // screen (keys are stable), so it does not grow.
  var shown = new Map();
  window.__wallboard.animations = 0;  // counted for the browser tests

  function keyOf(el) {
    if (el.dataset.key) { return el.dataset.key; }
    var host = el.parentElement && el.parentElement.closest("[id]");
    if (!host) { return null; }
    var nums = host.querySelectorAll(".wb-num");
    for (var i = 0; i < nums.length; i++) {
      if (nums[i] === el) { return host.id + "#" + i; }
    }
    return null;
  }

  function update(el, from) {
    var to = parseFloat(el.getAttribute("data-value"));
    var key = keyOf(el);
    if (key !== null) {
      if (from === undefined) { from = shown.get(key); }
      if (isFinite(to)) { shown.set(key, to); } else { shown.delete(key); }
    }
    if (isFinite(to) && isFinite(from) && from !== to) {
      window.__wallboard.animations++;
      animate(el, from, to);
    }
  }

  var observer = new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      var r = records[i];
      if (r.type === "attributes") {  // a number updated in place
        if (r.target.classList && r.target.classList.contains("wb-num")) {
          update(r.target, parseFloat(r.oldValue));
        }
        continue;
      }
      for (var j = 0; j < r.addedNodes.length; j++) {  // a panel rebuilt
        var node = r.addedNodes[j];
        if (node.nodeType !== 1) { continue; }
        if (node.classList.contains("wb-num")) { update(node); }
        var inner = node.querySelectorAll(".wb-num[data-value]");
        for (var k = 0; k < inner.length; k++) { update(inner[k]); }
      }
    }
  });
  observer.observe(html, {subtree: true, childList: true, attributes: true,
                          attributeOldValue: true, attributeFilter: ["data-value"]});
})();
