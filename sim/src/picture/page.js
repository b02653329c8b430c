// kubesim history picture. Data: the JSON block `history-data` (see picture/model.rs).
// Every string from the history reaches the DOM through textContent, option.text or
// setAttribute: never as HTML.
(function () {
  "use strict";
  const scriptStart = performance.now();
  const body = document.body;
  try {
    main();
  } catch (e) {
    window.kubesimReportError((e && e.message) || String(e));
  }

  function main() {
    const D = JSON.parse(document.getElementById("history-data").textContent);
    const ev = D.events;
    const N = ev.length;
    const C = { id: 0, t: 1, host: 2, peer: 3, partner: 4, res: 5, key: 6, type: 7, text: 8, fields: 9 };
    const LANE_H = 44, AXIS_H = 24, SLOT_H = 10, SLOT_TOP = 2;

    // Kinds of event: colour, and the slot (row) each is drawn in within a lane.
    const KINDS = [
      { id: "api", label: "requests", color: "#2f6fdb", slot: 0 },
      { id: "watch", label: "watches", color: "#8a4fd8", slot: 1 },
      { id: "storage", label: "storage", color: "#1a9a8a", slot: 2 },
      { id: "reconcile", label: "reconciles", color: "#e07b00", slot: 0 },
      { id: "queue", label: "workqueue", color: "#8d96a3", slot: 1 },
      { id: "lease", label: "leases", color: "#c2185b", slot: 2 },
      { id: "fault", label: "faults", color: "#d32f2f", slot: 3 },
      { id: "other", label: "other", color: "#4d5b6a", slot: 3 },
    ];
    const ERROR_COLOR = "#d32f2f";
    const KIND_OF_TYPE = {
      request: "api", response: "api", conn_open: "api", conn_close: "api", connect_failed: "api",
      watch_open: "watch", watch_send: "watch", watch_close: "watch",
      commit: "storage", compact: "storage", cache_sync: "storage",
      reconcile_begin: "reconcile", reconcile_end: "reconcile",
      queue_add: "queue", queue_get: "queue", queue_done: "queue",
      lease: "lease", fault: "fault", heal: "fault", crash: "fault", restart: "fault",
    };
    // Events that start a span to their partner; 2: also without one (to the end of the run).
    const SPAN_TYPES = { request: 2, watch_open: 2, reconcile_begin: 2, fault: 1, crash: 2 };

    // Columns as typed arrays.
    const time = new Float64Array(N);
    const laneOf = new Int32Array(N);
    const kindOf = new Uint8Array(N);
    const bad = new Uint8Array(N);
    const spanStart = new Uint8Array(N);
    const crashes = [];
    const kindIndex = {};
    KINDS.forEach((k, i) => { kindIndex[k.id] = i; });
    const typeKind = D.types.map((t) => kindIndex[KIND_OF_TYPE[t] || "other"]);
    for (let i = 0; i < N; i++) {
      const e = ev[i];
      time[i] = e[C.t];
      laneOf[i] = e[C.host] < D.lanes ? e[C.host] : -1;
      kindOf[i] = typeKind[e[C.type]] || 0;
      const type = D.types[e[C.type]];
      const f = e[C.fields] || {};
      bad[i] = isBad(type, f) ? 1 : 0;
      const span = SPAN_TYPES[type] || 0;
      spanStart[i] = (type === "request" && f.verb === "watch") || (span === 1 && e[C.partner] < 0) ? 0 : span;
      if (type === "crash") crashes.push(i);
    }
    const endUs = Math.max(D.end_us, 1);
    // When each lane's host crashed: a span left open (a request, a watch) ends there.
    const crashTimes = [];
    for (let l = 0; l < D.lanes; l++) crashTimes.push([]);
    crashes.forEach((i) => { const p = ev[i][C.peer]; if (p >= 0 && p < D.lanes) crashTimes[p].push(time[i]); });
    const idWidth = Math.max(6, N ? String(ev[N - 1][C.id]).length : 6);
    const hostWidth = D.hosts.reduce((w, h) => Math.max(w, h.length), 0);

    function isBad(type, f) {
      if (type === "response") return f.code >= 400;
      if (type === "reconcile_end") return typeof f.outcome === "string" && !/^(ok|requeue)/.test(f.outcome);
      if (type === "lease") return typeof f.text === "string" && /^(lost|renew-failed)/.test(f.text);
      return type === "connect_failed" || type === "crash";
    }

    // Violations: the first with an event in the history is selected.
    const violationAt = new Map();
    D.violations.forEach((v) => {
      if (v.row >= 0) {
        if (!violationAt.has(v.row)) violationAt.set(v.row, []);
        violationAt.get(v.row).push(v);
      }
    });
    const firstNamed = D.violations.find((v) => v.event_id !== null && v.event_id !== undefined);

    // ---- state ----
    const state = {
      selected: D.selected,
      laneShown: new Uint8Array(D.lanes).fill(1),
      kindShown: new Uint8Array(KINDS.length).fill(1),
      resource: -2,
      keyText: "",
      involving: -1,
      v0: 0,
      v1: endUs,
    };
    let shown = new Int32Array(0);
    let posInShown = new Int32Array(N).fill(-1);
    let laneEvents = [];
    let laneSpans = [];
    let visibleLanes = [];

    // ---- DOM ----
    const $ = (id) => document.getElementById(id);
    const canvas = $("canvas"), ctx = canvas.getContext("2d");
    const plot = $("plot"), tip = $("tip"), list = $("list");
    const listRows = $("list-rows"), spacer = $("list-spacer"), details = $("details");
    $("title").textContent = D.title;
    document.title = D.title + " - kubesim history";
    $("summary").textContent = N + " events, " + D.lanes + " hosts, " + fmtTime(D.end_us) +
      " simulated, " + (D.violations.length ? D.violations.length + " violation(s)" : "no violation");
    buildViolations();
    buildFilters();

    function el(tag, text, cls) {
      const node = document.createElement(tag);
      if (text !== undefined) node.textContent = text;
      if (cls) node.className = cls;
      return node;
    }

    function fmtTime(us) {
      const s = Math.floor(us / 1e6), rest = String(Math.round(us % 1e6)).padStart(6, "0");
      return s + "." + rest + "s";
    }

    function line(i) {
      const e = ev[i];
      return "#" + String(e[C.id]).padStart(idWidth, "0") + " " + fmtTime(e[C.t]) + " " +
        D.hosts[e[C.host]].padEnd(hostWidth) + " " + e[C.text];
    }

    function buildViolations() {
      const ol = $("violations");
      D.violations.forEach((v) => {
        const li = el("li", v.oracle + " at " + fmtTime(v.time_us) +
          (v.event_id !== null && v.event_id !== undefined ? " (event #" + v.event_id + ")" : "") + ": " + v.message);
        li.addEventListener("click", () => {
          if (v.row >= 0) select(v.row, true);
          else centreOn(v.time_us);
        });
        ol.appendChild(li);
      });
      if (!D.violations.length) ol.hidden = true;
    }

    function chip(labelText, color, checked, onChange) {
      const label = el("label", undefined, "chip");
      const box = el("input");
      box.type = "checkbox";
      box.checked = checked;
      box.addEventListener("change", () => onChange(box.checked));
      label.appendChild(box);
      if (color) {
        const sw = el("span", undefined, "swatch");
        sw.style.background = color;
        label.appendChild(sw);
      }
      label.appendChild(document.createTextNode(labelText));
      return label;
    }

    function buildFilters() {
      const kinds = $("kinds");
      KINDS.forEach((k, i) => {
        kinds.appendChild(chip(k.label, k.color, true, (on) => { state.kindShown[i] = on ? 1 : 0; refilter(); }));
      });
      const hosts = $("hosts");
      for (let h = 0; h < D.lanes; h++) {
        hosts.appendChild(chip(D.hosts[h], null, true, (on) => { state.laneShown[h] = on ? 1 : 0; refilter(); }));
      }
      const involving = el("select");
      involving.id = "involving";
      involving.appendChild(new Option("any host", "-1"));
      D.hosts.forEach((h, i) => involving.appendChild(new Option(h, String(i))));
      involving.addEventListener("change", () => { state.involving = Number(involving.value); refilter(); });
      const label = el("label", "Involving ");
      label.title = "Events on this host, or made for it (its requests, watches and writes on the API servers)";
      label.appendChild(involving);
      hosts.appendChild(label);
      const res = $("resource");
      D.resources.forEach((r, i) => res.appendChild(new Option(r, String(i))));
      res.addEventListener("change", () => { state.resource = Number(res.value); refilter(); });
      let timer = 0;
      $("key").addEventListener("input", (e) => {
        clearTimeout(timer);
        timer = setTimeout(() => { state.keyText = e.target.value.trim().toLowerCase(); refilter(); }, N > 5000 ? 150 : 0);
      });
      $("fit").addEventListener("click", fit);
      $("zoom-in").addEventListener("click", () => zoomAt(0.5, 0.5));
      $("zoom-out").addEventListener("click", () => zoomAt(2, 0.5));
      $("to-selected").addEventListener("click", () => { if (state.selected >= 0) centreOn(time[state.selected]); });
    }

    // ---- filtering ----
    function refilter() {
      const keyText = state.keyText;
      const keyMatch = new Uint8Array(D.keys.length);
      D.keys.forEach((k, i) => { keyMatch[i] = k.toLowerCase().indexOf(keyText) >= 0 ? 1 : 0; });
      const out = new Int32Array(N);
      let n = 0;
      posInShown = new Int32Array(N).fill(-1);
      laneEvents = [];
      laneSpans = [];
      for (let l = 0; l < D.lanes; l++) { laneEvents.push([]); laneSpans.push([]); }
      for (let i = 0; i < N; i++) {
        const e = ev[i], lane = laneOf[i];
        if (lane < 0 || !state.laneShown[lane] || !state.kindShown[kindOf[i]]) continue;
        if (state.resource !== -2 && e[C.res] !== state.resource) continue;
        if (keyText && (e[C.key] < 0 || !keyMatch[e[C.key]])) continue;
        if (state.involving >= 0 && e[C.host] !== state.involving && e[C.peer] !== state.involving) continue;
        posInShown[i] = n;
        out[n++] = i;
        laneEvents[lane].push(i);
        if (spanStart[i]) laneSpans[lane].push(i);
      }
      shown = out.subarray(0, n);
      laneEvents = laneEvents.map((a) => {
        const arr = Int32Array.from(a);
        for (let j = 1; j < arr.length; j++) {
          if (time[arr[j]] < time[arr[j - 1]]) { arr.sort((x, y) => time[x] - time[y]); break; }
        }
        return arr;
      });
      visibleLanes = [];
      for (let l = 0; l < D.lanes; l++) if (state.laneShown[l]) visibleLanes.push(l);
      buildLabels();
      sizeCanvas();
      draw();
      spacer.style.height = (shown.length * ROW_H) + "px";
      if (state.selected >= 0 && posInShown[state.selected] >= 0) scrollListTo(state.selected);
      else list.scrollTop = 0;
      renderList();
      body.setAttribute("data-shown", String(shown.length));
      body.setAttribute("data-lanes", String(visibleLanes.length));
    }

    function buildLabels() {
      const labels = $("labels");
      labels.replaceChildren();
      visibleLanes.forEach((l) => {
        const div = el("div", D.hosts[l], "lane-label");
        div.setAttribute("data-host", D.hosts[l]);
        div.appendChild(el("small", laneEvents[l].length + " events"));
        labels.appendChild(div);
      });
    }

    // ---- the lanes ----
    let cssW = 0, cssH = 0;
    function sizeCanvas() {
      const dpr = window.devicePixelRatio || 1;
      cssW = Math.max(plot.clientWidth, 200);
      cssH = AXIS_H + visibleLanes.length * LANE_H;
      canvas.style.width = cssW + "px";
      canvas.style.height = cssH + "px";
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    }

    const xOf = (t) => (t - state.v0) / (state.v1 - state.v0) * cssW;
    const tOf = (x) => state.v0 + x / cssW * (state.v1 - state.v0);

    function lowerBound(arr, t) {
      let lo = 0, hi = arr.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (time[arr[mid]] < t) lo = mid + 1; else hi = mid; }
      return lo;
    }

    let drawPending = false;
    function schedule() {
      if (drawPending) return;
      drawPending = true;
      requestAnimationFrame(() => { drawPending = false; guarded(draw); });
    }

    function guarded(f) {
      try { f(); } catch (e) { window.kubesimReportError((e && e.message) || String(e)); }
    }

    function draw() {
      const start = performance.now();
      ctx.clearRect(0, 0, cssW, cssH);
      drawAxis();
      const span = state.v1 - state.v0;
      const pad = span * 4 / Math.max(cssW, 1);
      visibleLanes.forEach((lane, row) => {
        const top = AXIS_H + row * LANE_H;
        ctx.fillStyle = row % 2 ? "#fafbfc" : "#ffffff";
        ctx.fillRect(0, top, cssW, LANE_H);
        drawCrashBands(lane, top);
        drawSpans(lane, top);
        drawMarks(lane, top, state.v0 - pad, state.v1 + pad);
        ctx.fillStyle = "#eef0f3";
        ctx.fillRect(0, top + LANE_H - 1, cssW, 1);
      });
      drawViolations();
      drawSelection();
      body.setAttribute("data-draw-ms", (performance.now() - start).toFixed(1));
    }

    function drawAxis() {
      const span = state.v1 - state.v0;
      const target = span / Math.max(cssW / 110, 1);
      const pow = Math.pow(10, Math.floor(Math.log10(Math.max(target, 1))));
      const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= target) || pow * 10;
      const decimals = Math.max(0, Math.min(6, 6 - Math.floor(Math.log10(step))));
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, cssW, AXIS_H);
      ctx.font = "11px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      for (let t = Math.ceil(state.v0 / step) * step; t <= state.v1; t += step) {
        const x = Math.round(xOf(t)) + 0.5;
        ctx.fillStyle = "#e4e7eb";
        ctx.fillRect(x, AXIS_H - 6, 1, cssH);
        ctx.fillStyle = "#67707c";
        ctx.fillText((t / 1e6).toFixed(decimals) + "s", x + 3, AXIS_H / 2);
      }
      ctx.fillStyle = "#d8dce2";
      ctx.fillRect(0, AXIS_H - 1, cssW, 1);
    }

    function slotY(top, i) { return top + SLOT_TOP + KINDS[kindOf[i]].slot * SLOT_H; }

    function drawMarks(lane, top, t0, t1) {
      const arr = laneEvents[lane];
      const paths = KINDS.map(() => new Path2D());
      const errors = new Path2D();
      const last = new Float64Array(KINDS.length + 1).fill(-1);
      for (let j = lowerBound(arr, t0); j < arr.length; j++) {
        const i = arr[j];
        if (time[i] > t1) break;
        const px = Math.floor(xOf(time[i]));
        const slot = bad[i] ? KINDS.length : kindOf[i];
        if (last[slot] === px) continue; // one mark per pixel and kind
        last[slot] = px;
        (bad[i] ? errors : paths[kindOf[i]]).rect(px, slotY(top, i) + 1, 2, SLOT_H - 2);
      }
      KINDS.forEach((k, m) => { ctx.fillStyle = k.color; ctx.fill(paths[m]); });
      ctx.fillStyle = ERROR_COLOR;
      ctx.fill(errors);
    }

    function spanEnd(i) {
      const p = ev[i][C.partner];
      if (p >= 0 && time[p] >= time[i]) return time[p];
      const lane = D.types[ev[i][C.type]] === "crash" ? -1 : laneOf[i];
      const crash = lane >= 0 ? crashTimes[lane].find((t) => t >= time[i]) : undefined;
      return crash === undefined ? endUs : crash;
    }

    function drawSpans(lane, top) {
      const spans = laneSpans[lane];
      ctx.globalAlpha = 0.28;
      for (let j = 0; j < spans.length; j++) {
        const i = spans[j];
        const end = spanEnd(i);
        if (end < state.v0 || time[i] > state.v1) continue;
        const x0 = Math.max(xOf(time[i]), -1), x1 = Math.min(xOf(end), cssW + 1);
        const hung = ev[i][C.partner] < 0 && D.types[ev[i][C.type]] !== "watch_open";
        ctx.fillStyle = hung ? ERROR_COLOR : KINDS[kindOf[i]].color;
        ctx.fillRect(x0, slotY(top, i) + 3, Math.max(x1 - x0, 1), SLOT_H - 6);
      }
      ctx.globalAlpha = 1;
    }

    function drawCrashBands(lane, top) {
      for (const i of crashes) {
        if (ev[i][C.peer] !== lane) continue;
        const end = spanEnd(i);
        if (end < state.v0 || time[i] > state.v1) continue;
        const x0 = Math.max(xOf(time[i]), 0), x1 = Math.min(xOf(end), cssW);
        ctx.fillStyle = "rgba(211, 47, 47, 0.10)";
        ctx.fillRect(x0, top, Math.max(x1 - x0, 2), LANE_H - 1);
      }
    }

    function laneRow(lane) { return visibleLanes.indexOf(lane); }

    function drawViolations() {
      // A red line at the violation's time, a red triangle over its event.
      D.violations.forEach((v) => {
        ctx.fillStyle = "#b3121b";
        const x = Math.round(xOf(v.time_us)) + 0.5;
        if (x >= -2 && x <= cssW + 2) ctx.fillRect(x - 0.5, AXIS_H, 2, cssH - AXIS_H);
        const row = v.row >= 0 ? laneRow(laneOf[v.row]) : -1;
        if (row >= 0) {
          const x = Math.round(xOf(time[v.row])) + 0.5;
          const y = AXIS_H + row * LANE_H;
          ctx.beginPath();
          ctx.moveTo(x - 7, y);
          ctx.lineTo(x + 8, y);
          ctx.lineTo(x + 0.5, y + 10);
          ctx.closePath();
          ctx.fill();
        }
      });
    }

    function drawSelection() {
      const i = state.selected;
      if (i < 0) return;
      const x = Math.round(xOf(time[i])) + 0.5;
      ctx.strokeStyle = "#1f5fd1";
      ctx.lineWidth = 1;
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(x, AXIS_H);
      ctx.lineTo(x, cssH);
      ctx.stroke();
      ctx.setLineDash([]);
      const row = laneRow(laneOf[i]);
      if (row >= 0) {
        const y = slotY(AXIS_H + row * LANE_H, i);
        ctx.lineWidth = 2;
        ctx.strokeRect(x - 4, y - 1, 9, SLOT_H + 2);
      }
      const p = ev[i][C.partner], peer = ev[i][C.peer];
      const peerRow = peer >= 0 && peer < D.lanes ? laneRow(peer) : -1;
      if (row >= 0 && peerRow >= 0 && peerRow !== row) {
        // A line to the other host: the request's client, the crash's target.
        ctx.strokeStyle = "rgba(31, 95, 209, 0.6)";
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(x, AXIS_H + row * LANE_H + LANE_H / 2);
        ctx.lineTo(x, AXIS_H + peerRow * LANE_H + LANE_H / 2);
        ctx.stroke();
        ctx.fillStyle = "#1f5fd1";
        ctx.fillRect(x - 3, AXIS_H + peerRow * LANE_H + LANE_H / 2 - 3, 6, 6);
      }
      if (p >= 0 && row >= 0) {
        const px = Math.round(xOf(time[p])) + 0.5;
        const prow = laneRow(laneOf[p]);
        if (prow >= 0) {
          ctx.strokeStyle = "#1f5fd1";
          ctx.lineWidth = 2;
          ctx.strokeRect(px - 4, slotY(AXIS_H + prow * LANE_H, p) - 1, 9, SLOT_H + 2);
        }
      }
    }

    // ---- zoom, pan, pick ----
    function setView(v0, v1) {
      const full = endUs * 1.1;
      let span = Math.min(Math.max(v1 - v0, 10), full);
      let a = v0 + (v1 - v0 - span) / 2;
      a = Math.min(Math.max(a, -endUs * 0.05), endUs * 1.05 - span);
      state.v0 = a;
      state.v1 = a + span;
      schedule();
    }
    function fit() { setView(-endUs * 0.01, endUs * 1.01); }
    function zoomAt(factor, frac) {
      const t = state.v0 + frac * (state.v1 - state.v0);
      setView(t - (t - state.v0) * factor, t + (state.v1 - t) * factor);
    }
    function centreOn(t) {
      const half = (state.v1 - state.v0) / 2;
      setView(t - half, t + half);
    }

    function pick(x, y) {
      const row = Math.floor((y - AXIS_H) / LANE_H);
      if (y < AXIS_H || row < 0 || row >= visibleLanes.length) return -1;
      const arr = laneEvents[visibleLanes[row]];
      const tol = 6 * (state.v1 - state.v0) / cssW;
      const t = tOf(x);
      const slot = Math.floor((y - AXIS_H - row * LANE_H - SLOT_TOP) / SLOT_H);
      let best = -1, bestScore = Infinity;
      for (let j = lowerBound(arr, t - tol), seen = 0; j < arr.length && seen < 4000; j++, seen++) {
        const i = arr[j];
        if (time[i] > t + tol) break;
        const score = Math.abs(time[i] - t) / tol + (KINDS[kindOf[i]].slot === slot ? 0 : 1);
        if (score < bestScore) { bestScore = score; best = i; }
      }
      return best;
    }

    let drag = null;
    canvas.addEventListener("mousedown", (e) => { drag = { x: e.clientX, v0: state.v0, v1: state.v1, moved: false }; });
    window.addEventListener("mouseup", (e) => {
      if (!drag) return;
      const wasClick = !drag.moved;
      drag = null;
      if (wasClick && e.target === canvas) {
        const i = pick(e.offsetX, e.offsetY);
        if (i >= 0) select(i, false);
      }
    });
    window.addEventListener("mousemove", (e) => {
      if (drag) {
        const dx = e.clientX - drag.x;
        if (Math.abs(dx) > 3) drag.moved = true;
        if (drag.moved) {
          const dt = dx / cssW * (drag.v1 - drag.v0);
          setView(drag.v0 - dt, drag.v1 - dt);
        }
        tip.hidden = true;
        return;
      }
      if (e.target !== canvas) { tip.hidden = true; return; }
      const i = pick(e.offsetX, e.offsetY);
      if (i < 0) { tip.hidden = true; return; }
      const peer = ev[i][C.peer];
      tip.textContent = line(i) + (peer >= 0 ? "\n" + peerLabel(i) + ": " + D.hosts[peer] : "");
      tip.hidden = false;
      tip.style.left = Math.min(e.offsetX + 12, Math.max(cssW - 420, 0)) + "px";
      tip.style.top = (e.offsetY + 14) + "px";
    });
    canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
    canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      const horizontal = e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY);
      if (horizontal) {
        const d = (e.shiftKey ? e.deltaY : e.deltaX) / cssW * (state.v1 - state.v0);
        setView(state.v0 + d, state.v1 + d);
      } else {
        zoomAt(Math.exp(e.deltaY * 0.0015), e.offsetX / cssW);
      }
    }, { passive: false });
    canvas.addEventListener("dblclick", (e) => zoomAt(0.5, e.offsetX / cssW));
    window.addEventListener("resize", () => guarded(() => { sizeCanvas(); draw(); renderList(); }));

    // ---- the event list (virtual: only the rows in view exist) ----
    const ROW_H = 20;
    list.addEventListener("scroll", () => requestAnimationFrame(() => guarded(renderList)));
    listRows.addEventListener("click", (e) => {
      const row = e.target.closest(".row");
      if (row) select(Number(row.getAttribute("data-row")), true);
    });

    function renderList() {
      const start = performance.now();
      const inView = Math.ceil((list.clientHeight || 400) / ROW_H) + 10;
      const first = Math.max(0, Math.min(Math.floor(list.scrollTop / ROW_H) - 5, shown.length - inView));
      const count = Math.max(0, Math.min(shown.length - first, inView));
      listRows.style.top = (first * ROW_H) + "px";
      while (listRows.children.length > Math.max(count, 0)) listRows.lastChild.remove();
      while (listRows.children.length < count) listRows.appendChild(el("div", undefined, "row"));
      for (let k = 0; k < count; k++) {
        const i = shown[first + k];
        const div = listRows.children[k];
        if (div.getAttribute("data-row") !== String(i)) {
          div.setAttribute("data-row", String(i));
          div.textContent = line(i);
        }
        div.className = "row" + (i === state.selected ? " selected" : "") + (violationAt.has(i) ? " violation" : "");
      }
      body.setAttribute("data-list-ms", (performance.now() - start).toFixed(1));
    }

    function scrollListTo(i) {
      const pos = posInShown[i];
      if (pos < 0) return;
      const top = pos * ROW_H;
      if (top < list.scrollTop || top + ROW_H > list.scrollTop + list.clientHeight) {
        list.scrollTop = Math.max(0, top - list.clientHeight / 2);
      }
    }

    // ---- selection and details ----
    function select(i, centre) {
      if (i < 0 || i >= N) return;
      state.selected = i;
      body.setAttribute("data-selected-event", String(ev[i][C.id]));
      if (centre) {
        const x = xOf(time[i]);
        if (x < 0 || x > cssW) centreOn(time[i]);
      }
      showDetails(i);
      scrollListTo(i);
      renderList();
      schedule();
    }

    function jumpButton(label, i) {
      const b = el("button", label);
      b.type = "button";
      b.addEventListener("click", () => select(i, true));
      return b;
    }

    function showDetails(i) {
      const e = ev[i];
      details.replaceChildren();
      details.appendChild(el("div", line(i), "line"));
      (violationAt.get(i) || []).forEach((v) => details.appendChild(el("p", "VIOLATION " + v.oracle + ": " + v.message, "bad")));
      const table = el("table");
      const add = (k, v) => {
        const tr = el("tr");
        tr.appendChild(el("th", k));
        tr.appendChild(el("td", v));
        table.appendChild(tr);
      };
      const type = D.types[e[C.type]];
      add("event", "#" + e[C.id] + " (" + type + ")");
      add("time", fmtTime(e[C.t]));
      add("host", D.hosts[e[C.host]]);
      if (e[C.peer] >= 0) add(peerLabel(i), D.hosts[e[C.peer]]);
      if (e[C.res] >= 0) add("resource", D.resources[e[C.res]]);
      if (e[C.key] >= 0) add("key", D.keys[e[C.key]]);
      const fields = e[C.fields] || {};
      Object.keys(fields).forEach((k) => {
        const v = fields[k];
        add(k, typeof v === "object" ? JSON.stringify(v) : String(v));
      });
      details.appendChild(table);
      const nav = el("div", undefined, "nav");
      const p = e[C.partner];
      if (p >= 0) {
        const dt = time[p] - time[i];
        nav.appendChild(jumpButton((p > i ? "to " : "from ") + D.types[ev[p][C.type]] + " #" + ev[p][C.id] +
          " (" + (dt >= 0 ? "+" : "-") + fmtTime(Math.abs(dt)) + ")", p));
      }
      if (e[C.key] >= 0) {
        const prev = findKey(i, -1), next = findKey(i, 1);
        if (prev >= 0) nav.appendChild(jumpButton("previous on this key", prev));
        if (next >= 0) nav.appendChild(jumpButton("next on this key", next));
        const filterKey = el("button", "filter this key");
        filterKey.type = "button";
        filterKey.addEventListener("click", () => {
          $("key").value = D.keys[e[C.key]];
          state.keyText = D.keys[e[C.key]].toLowerCase();
          refilter();
          scrollListTo(i);
          renderList();
        });
        nav.appendChild(filterKey);
      }
      details.appendChild(nav);
    }

    function peerLabel(i) {
      const type = D.types[ev[i][C.type]];
      if (type === "crash" || type === "restart") return "target";
      if (type === "connect_failed") return "to";
      if (type === "commit") return "writer";
      return "client";
    }

    function findKey(i, dir) {
      const key = ev[i][C.key];
      for (let j = i + dir; j >= 0 && j < N; j += dir) if (ev[j][C.key] === key) return j;
      return -1;
    }

    document.addEventListener("keydown", (e) => {
      const tag = e.target && e.target.tagName;
      if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
      const pos = state.selected >= 0 ? posInShown[state.selected] : -1;
      if ((e.key === "ArrowDown" || e.key === "j") && shown.length) {
        e.preventDefault();
        select(shown[Math.min(pos + 1, shown.length - 1)], true);
      } else if ((e.key === "ArrowUp" || e.key === "k") && shown.length) {
        e.preventDefault();
        select(shown[Math.max(pos - 1, 0)], true);
      } else if (e.key === "f") fit();
      else if (e.key === "+" || e.key === "=") zoomAt(0.5, 0.5);
      else if (e.key === "-") zoomAt(2, 0.5);
    });

    // ---- first render ----
    body.setAttribute("data-events", String(N));
    body.setAttribute("data-violation-event", firstNamed ? String(firstNamed.event_id) : "");
    body.setAttribute("data-selected-event", "");
    fit();
    refilter();
    if (state.selected >= 0) select(state.selected, false);
    draw();
    const now = performance.now();
    body.setAttribute("data-render-ms", now.toFixed(1));
    body.setAttribute("data-script-ms", (now - scriptStart).toFixed(1));
    body.setAttribute("data-ready", "1");
  }
})();
