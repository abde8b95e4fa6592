/* 亮晒总览: logs in at the gateway, reads GET /api/v1/overview, draws every chart as plain SVG.
   No library, no CDN: the page works on a county network without internet. */
"use strict";

const TOKEN = "kpp.overview.token";
const $ = (sel, root = document) => root.querySelector(sel);
const BANDS = { small: "3000万元以下", medium: "3000-5000万元", large: "5000万元以上" };
const CATEGORIES = { industrial: "产业类", infrastructure: "基础设施类", livelihood: "民生保障类" };
const LEVELS = { provincial: "省级", municipal: "市级", county: "县级" };
const ROLES = { admin: "管理员", key_office: "重点办", township: "乡镇", department: "部门", leader: "县领导" };
const SVGNS = "http://www.w3.org/2000/svg";
let state = { units: {}, viewer: null };

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function el(tag, attrs = {}, html = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.innerHTML = html;
  return node;
}
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
const yi = (wan) => (Number(wan) / 10000).toFixed(2);
const pct = (ratio, digits = 2) => (ratio === null || ratio === undefined ? "—" : (Number(ratio) * 100).toFixed(digits) + "%");
const unitName = (id) => (state.units[id] ? state.units[id].name : id || "（未指定）");
const mine = (id) => state.viewer && state.viewer.unit_id && id === state.viewer.unit_id;
const fig = (key, value, cls = "") => `<b data-figure="${key}" class="${cls}">${esc(value)}</b>`;

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN);
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  if (token) headers.Authorization = "Bearer " + token;
  const resp = await fetch(path, Object.assign({}, options, { headers }));
  const body = await resp.json().catch(() => null);
  if (resp.status === 401) { sessionStorage.removeItem(TOKEN); showLogin(); }
  if (!resp.ok) throw new Error((body && body.detail) || "请求失败（" + resp.status + "）");
  return body;
}

function showLogin(message = "") {
  $("#board").hidden = true; $("#who").hidden = true; $("#login").hidden = false;
  $("#loginError").textContent = message;
  $("#readAt").textContent = "登录后读取数据";
}

async function login(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const body = await api("/api/v1/auth/token", { method: "POST", body: new URLSearchParams(form) });
    sessionStorage.setItem(TOKEN, body.access_token);
    await load();
  } catch (err) { showLogin(err.message === "请求失败（401）" ? "用户名或密码错误" : err.message); }
}

function source(section) {
  return `<div class="source">数据来源：<code data-source="${esc(section.source)}">${esc(section.source)}</code>（${esc(section.service_name)}）</div>`;
}

function fill(card, section, draw) {
  const body = $(".body", card);
  if (section.status !== "ok") {
    body.innerHTML = `<div class="down" data-status="${esc(section.status)}">${esc(section.service_name)}：${esc(section.detail || "暂无数据")}。本块暂不可显示，其他数据不受影响。</div>` + source(section);
    return;
  }
  body.innerHTML = "";
  draw(body, section.data);
  body.insertAdjacentHTML("beforeend", source(section));
}

/* ---- charts (plain SVG) ------------------------------------------------------------------ */
function hbars(rows, { width = 420, max, color = "#2f5597", label = (v) => v } = {}) {
  const h = 24, top = 4, left = 16 + 12.5 * Math.max(4, ...rows.map((r) => String(r.name).length));
  const top_ = max || Math.max(1, ...rows.map((r) => r.value));
  const s = svg("svg", { viewBox: `0 0 ${width} ${rows.length * h + top * 2}`, width: "100%", role: "img" });
  rows.forEach((r, i) => {
    const y = top + i * h, w = ((width - left - 60) * r.value) / top_;
    s.append(svg("text", { x: left - 6, y: y + 16, "text-anchor": "end", "font-size": 12, "font-weight": r.mine ? 700 : 400 }, r.name));
    s.append(svg("rect", { x: left, y: y + 4, width: Math.max(0, w), height: h - 8, rx: 3, fill: r.mine ? "#e0a800" : r.color || color }));
    s.append(svg("text", { x: left + w + 4, y: y + 16, "font-size": 12 }, label(r.value)));
  });
  return s;
}

function stacked(rows, parts) {
  const width = 420, h = 24, top = 4, left = 16 + 12.5 * Math.max(4, ...rows.map((r) => String(r.name).length));
  const max = Math.max(1, ...rows.map((r) => parts.reduce((a, p) => a + r[p.key], 0)));
  const s = svg("svg", { viewBox: `0 0 ${width} ${rows.length * h + top * 2}`, width: "100%", role: "img" });
  rows.forEach((r, i) => {
    const y = top + i * h;
    let x = left;
    s.append(svg("text", { x: left - 6, y: y + 16, "text-anchor": "end", "font-size": 12, "font-weight": r.mine ? 700 : 400 }, r.name));
    for (const p of parts) {
      const w = ((width - left - 40) * r[p.key]) / max;
      if (w > 0) s.append(svg("rect", { x, y: y + 4, width: w, height: h - 8, fill: p.color }));
      x += w;
    }
    s.append(svg("text", { x: x + 4, y: y + 16, "font-size": 12 }, parts.map((p) => r[p.key]).join("/")));
  });
  return s;
}

function gauge(value, target, caption) {
  const s = svg("svg", { viewBox: "-30 -12 300 142", width: "300", role: "img" });
  const arc = (from, to, color) => {
    const a0 = Math.PI * (1 - from), a1 = Math.PI * (1 - to), r = 80, cx = 110, cy = 105;
    const p = (a) => `${cx + r * Math.cos(a)} ${cy - r * Math.sin(a)}`;
    s.append(svg("path", { d: `M ${p(a0)} A ${r} ${r} 0 0 1 ${p(a1)}`, stroke: color, "stroke-width": 22, fill: "none" }));
  };
  arc(0, 1, "#d9d9d9");
  const v = value === null ? 0 : Math.min(1, Number(value));
  if (v > 0) arc(0, v, Number(value) >= Number(target) ? "#3a7d2c" : "#c00000");
  const t = Math.PI * (1 - Number(target));
  s.append(svg("line", { x1: 110 + 62 * Math.cos(t), y1: 105 - 62 * Math.sin(t), x2: 110 + 98 * Math.cos(t), y2: 105 - 98 * Math.sin(t), stroke: "#111", "stroke-width": 3 }));
  s.append(svg("text", { x: 110 + 112 * Math.cos(t), y: 105 - 112 * Math.sin(t), "font-size": 11, "text-anchor": Math.cos(t) > 0.2 ? "start" : "middle" }, "目标 " + pct(target, 0)));
  s.append(svg("text", { x: 110, y: 98, "font-size": 22, "font-weight": 700, "text-anchor": "middle" }, pct(value)));
  s.append(svg("text", { x: 110, y: 122, "font-size": 12, "text-anchor": "middle", fill: "#6b7280" }, caption));
  return s;
}

function line(points) {
  const width = 440, height = 200, left = 48, bottom = 26, top = 14;
  const max = Math.max(1, ...points.map((p) => p.value)) * 1.15;
  const top_ = top + 6;
  const x = (i) => left + ((width - left - 12) * i) / Math.max(1, points.length - 1);
  const y = (v) => top_ + (height - top_ - bottom) * (1 - v / max);
  const s = svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img" });
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    s.append(svg("line", { x1: left, x2: width - 8, y1: y(v), y2: y(v), stroke: "#eceff4" }));
    s.append(svg("text", { x: left - 4, y: y(v) + 4, "font-size": 10, "text-anchor": "end", fill: "#6b7280" }, yi(v)));
  }
  s.append(svg("polyline", { points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(" "), fill: "none", stroke: "#2f5597", "stroke-width": 2 }));
  points.forEach((p, i) => {
    s.append(svg("circle", { cx: x(i), cy: y(p.value), r: 3, fill: "#2f5597" }));
    s.append(svg("text", { x: x(i), y: height - 8, "font-size": 10, "text-anchor": "middle" }, p.label));
  });
  s.append(svg("text", { x: left + 4, y: 9, "font-size": 10, fill: "#6b7280" }, "单位：亿元"));
  return s;
}

/* ---- sections ------------------------------------------------------------------------------ */
function drawPlan(body, d) {
  const dec = d.declared || {};
  const kpi = (key, value, label, cls) => `<div class="kpi">${fig(key, value, cls)}<span>${label}</span></div>`;
  const rr = d.reserve_ratio;
  body.insertAdjacentHTML("beforeend", `<div class="kpis">
    ${kpi("plan.declared_yi", dec.total_investment ? yi(dec.total_investment) : "—", "申报计划总投资（亿元）")}
    ${kpi("plan.recorded_yi", Number(d.key.total_yi).toFixed(2), "项目记录合计（亿元）")}
    ${kpi("plan.count", `${d.key.count} / ${dec.count ?? "—"}`, "重点项目 实有/计划（个）")}
    ${kpi("plan.reserve_ratio", rr.value === null ? "—" : Number(rr.value).toFixed(2) + "倍", `储备/年度投资，目标 ≥ ${Number(rr.target)} 倍`, rr.met ? "good" : "bad")}
  </div>`);
  const table = (title, names, actual, declared) => {
    let rows = "";
    for (const [k, name] of Object.entries(names)) {
      const a = actual[k] || { count: 0, total_investment: "0" }, p = (declared || {})[k] || {};
      const cBad = p.count !== undefined && p.count !== null && p.count !== a.count;
      const iBad = p.total_investment !== undefined && p.total_investment !== null && Number(p.total_investment) !== Number(a.total_investment);
      rows += `<tr><td>${name}</td><td>${p.count ?? "—"}</td><td class="${cBad ? "bad" : ""}">${a.count}</td>
        <td>${p.total_investment ? yi(p.total_investment) : "—"}</td><td class="${iBad ? "bad" : ""}">${yi(a.total_investment)}</td></tr>`;
    }
    return `<table><thead><tr><th>${title}</th><th>计划个数</th><th>实有个数</th><th>计划投资（亿元）</th><th>实有投资（亿元）</th></tr></thead><tbody>${rows}</tbody></table>`;
  };
  body.insertAdjacentHTML("beforeend", `<div class="cols"><div>${table("规模档", BANDS, d.by_band, dec.by_band)}</div>
    <div>${table("类别", CATEGORIES, d.by_category, dec.by_category)}</div></div>`);
  const mm = d.mismatches || [];
  body.insertAdjacentHTML("beforeend", mm.length
    ? `<p><b class="bad" data-figure="plan.mismatches">${mm.length}</b> 处申报与记录不符（均如实列出，不以任一方为准）：</p><ul class="mismatch">${mm.map((m) => `<li data-mismatch="${esc(m.kind)}:${esc(m.field)}">${esc(m.detail)}</li>`).join("")}</ul>`
    : `<p class="good" data-figure="plan.mismatches">0</p><p>申报计划与项目记录一致。</p>`);
}

function drawStarts(body, d) {
  const r = d.county_start_rate;
  const wrap = el("div", { class: "stack" });
  const left = el("div", {}, `<p>县级重点项目开工率 ${fig("starts.rate", pct(r.value), r.met ? "good" : "bad")}（${r.numerator}/${r.denominator} 个，目标 ≥ ${pct(r.target, 0)}）</p>`);
  left.append(gauge(r.value, r.target, `已开工 ${r.numerator} / ${r.denominator} 个`));
  const status = { met: ["已完成", "good"], pending: ["推进中", "warn"], missed: ["未完成", "bad"] };
  const mt = d.municipal_targets;
  const row = (name, t) => `<tr><td>${name}</td><td>${t.numerator}/${t.denominator}</td><td class="${status[t.status][1]}">${status[t.status][0]}</td></tr>`;
  const nt = d.named_target_counts || {};
  const right = el("div", {}, `<table><thead><tr><th>市级重点项目目标</th><th>完成</th><th>状态</th></tr></thead><tbody>
    ${row("续建项目基本建成", mt.continued_completed)}${row("新建项目开工", mt.new_started)}</tbody></table>
    <p>点名目标：<span class="good">达成 ${nt.met || 0}</span> · <span class="warn">推进中 ${nt.pending || 0}</span> · <span class="bad">未达成 ${nt.missed || 0}</span></p>
    <p>年末完成目标（R9）：<span class="good">达标 ${d.completion_counts.met}</span> · <span class="warn">落后 ${d.completion_counts.behind}</span> · <span class="bad">未完成 ${d.completion_counts.missed}</span></p>`);
  wrap.append(left, right);
  body.append(wrap);
}

function drawTrend(body, d) {
  const months = d.months.filter((m) => m.reports > 0);
  body.insertAdjacentHTML("beforeend", `<p>全年已完成投资 ${fig("trend.total_yi", Number(d.total_yi).toFixed(2))} 亿元（${d.months.reduce((a, m) => a + m.reports, 0)} 份月报）</p>`);
  if (!months.length) { body.append(el("p", { class: "empty" }, "本年尚无月报。")); return; }
  body.append(line(d.months.slice(0, Math.max(...d.months.map((m, i) => (m.reports ? i : 0))) + 1)
    .map((m) => ({ label: Number(m.month.slice(5)) + "月", value: Number(m.investment_month) }))));
}

function drawApprovals(body, d) {
  const t = d.by_standing;
  body.insertAdjacentHTML("beforeend", `<div class="kpis">
    <div class="kpi">${fig("approvals.total", d.total)}<span>本年案件</span></div>
    <div class="kpi">${fig("approvals.on_time", t.on_time, "good")}<span>按时</span></div>
    <div class="kpi">${fig("approvals.warning", t.warning, "warn")}<span>预警</span></div>
    <div class="kpi">${fig("approvals.overdue", t.overdue, "bad")}<span>超期</span></div></div>`);
  if (d.by_agency.length) {
    body.insertAdjacentHTML("beforeend", `<div class="legend"><span><i style="background:#3a7d2c"></i>按时</span><span><i style="background:#c77c02"></i>预警</span><span><i style="background:#c00000"></i>超期</span></div>`);
    body.append(stacked(d.by_agency.map((a) => Object.assign({ name: unitName(a.agency_unit_id), mine: mine(a.agency_unit_id) }, a)),
      [{ key: "on_time", color: "#3a7d2c" }, { key: "warning", color: "#c77c02" }, { key: "overdue", color: "#c00000" }]));
  } else body.append(el("p", { class: "empty" }, "本年暂无审批案件。"));
  const chains = d.low_risk_chains;
  body.insertAdjacentHTML("beforeend", `<p>低风险小型项目全链条（限 ${d.low_risk_limit_days} 个工作日，只计审批部门用时）：${chains.length ? "" : "本年暂无。"}</p>`);
  if (chains.length) body.append(hbars(chains.map((c) => ({ name: (c.project_name || "").slice(0, 9), value: c.counted_days, color: c.within_limit ? "#3a7d2c" : "#c00000", mine: mine(c.unit_id) })), { max: Math.max(d.low_risk_limit_days, ...chains.map((c) => c.counted_days)), label: (v) => v + " 天" }));
}

function drawIssues(body, d) {
  const v = d.visits;
  body.insertAdjacentHTML("beforeend", `<div class="kpis">
    <div class="kpi">${fig("issues.open", d.open)}<span>未销号（共 ${d.total}）</span></div>
    <div class="kpi">${fig("issues.overdue", d.overdue, d.overdue ? "bad" : "good")}<span>超期（紧盯督办）</span></div>
    <div class="kpi">${fig("issues.redo", d.redo_total, d.redo_total ? "warn" : "")}<span>返工次数（${d.issues_redone} 件）</span></div>
    <div class="kpi">${fig("issues.satisfied", v.satisfied + "/" + (v.satisfied + v.dissatisfied))}<span>回访满意</span></div></div>`);
  body.append(hbars(d.by_step.map((s) => ({ name: s.step_name, value: s.count, color: s.step === "closed" ? "#3a7d2c" : "#2f5597" })), { label: (x) => x + " 件" }));
}

function drawSupervision(body, d) {
  const rows = d.supervision;
  if (!rows.length) { body.append(el("p", { class: "empty", "data-figure": "supervision.units" }, "本年暂无通报和约谈。")); return; }
  body.insertAdjacentHTML("beforeend", `<table><thead><tr><th>单位</th><th>通报</th><th>分管领导约谈</th><th>主要领导约谈</th><th>已约谈</th></tr></thead><tbody>
    ${rows.map((r) => `<tr data-unit="${esc(r.unit_id)}" class="${mine(r.unit_id) ? "mine" : ""}"><td>${esc(unitName(r.unit_id))}</td><td>${r.notices}</td><td>${r.deputy_summons}</td><td class="${r.principal_summons ? "bad" : ""}">${r.principal_summons}</td><td>${r.summons_held}</td></tr>`).join("")}</tbody></table>`);
}

function drawRanking(body, d) {
  const r = d.ranking;
  if (!r) { body.append(el("p", { class: "empty", "data-figure": "ranking.month" }, "本年尚无已发布的月度考核。")); return; }
  body.insertAdjacentHTML("beforeend", `<p>最近一期已发布：${fig("ranking.month", r.month)}（${r.published_on || ""} 发布，第 ${r.revision} 版）${r.previous_month ? "，名次变化对比 " + r.previous_month : "，上月未发布，无名次变化"}</p>`);
  const short = { planning: "晒前期", contracts: "晒签约", starts: "晒进度", production: "晒成效", service: "晒质量" };
  const keys = Object.keys(short).filter((k) => r.comparisons.some((c) => c.key === k));
  const change = (c) => (c === null ? "—" : c > 0 ? `<span class="up">↑${c}</span>` : c < 0 ? `<span class="down-rank">↓${-c}</span>` : "→");
  const cols = el("div", { class: "cols" });
  for (const kind of ["township", "department"]) {
    const units = r.units.filter((u) => u.kind === kind).sort((a, b) => a.rank - b.rank);
    const box = el("div", {}, `<h3>${kind === "township" ? "乡镇" : "部门"}</h3>`);
    box.append(hbars(units.map((u) => ({ name: `${u.rank}. ${u.unit_name}`, value: Number(u.score), mine: mine(u.unit_id) })), { width: 600, label: (v) => v.toFixed(2) }));
    box.insertAdjacentHTML("beforeend", `<table><thead><tr><th>单位</th><th>名次</th><th>得分</th><th>变化</th>${keys.map((k) => `<th>${short[k] || k}</th>`).join("")}</tr></thead><tbody>
      ${units.map((u) => `<tr data-unit="${esc(u.unit_id)}" data-rank="${u.rank}" class="${mine(u.unit_id) ? "mine" : ""}"><td>${esc(u.unit_name)}</td><td>${u.rank}</td><td>${esc(u.score)}</td><td>${change(u.rank_change)}</td>${keys.map((k) => `<td>${u.comparison_ranks[k] ?? "—"}</td>`).join("")}</tr>`).join("")}</tbody></table>`);
    cols.append(box);
  }
  body.append(cols);
}

async function load() {
  const params = new URLSearchParams(location.search);
  const year = $("#year").value || params.get("year") || "";
  const data = await api("/api/v1/overview" + (year ? "?year=" + encodeURIComponent(year) : ""));
  state.units = Object.fromEntries(data.units.map((u) => [u.id, u]));
  state.viewer = data.viewer;
  $("#login").hidden = true; $("#who").hidden = false; $("#board").hidden = false;
  $("#year").value = data.year;
  const unit = data.viewer.unit_id ? unitName(data.viewer.unit_id) : "";
  $("#viewer").textContent = `${data.viewer.name}（${ROLES[data.viewer.role] || data.viewer.role}${unit ? " · " + unit : ""}）`;
  const read = new Date(data.read_at);
  $("#readAt").innerHTML = `${data.year} 年度 · 数据读取于 <time data-figure="read_at" datetime="${esc(data.read_at)}">${esc(read.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false }))}</time>（北京时间）`;
  const s = data.sections;
  fill($("#plan"), s.plan, drawPlan);
  fill($("#starts"), s.plan, drawStarts);
  fill($("#trend"), s.trend, drawTrend);
  fill($("#approvals"), s.approvals, drawApprovals);
  fill($("#issues"), s.issues, drawIssues);
  fill($("#supervision"), s.scoring, drawSupervision);
  fill($("#ranking"), s.scoring, drawRanking);
  document.body.dataset.loaded = "true";
}

$("#login").addEventListener("submit", login);
$("#reload").addEventListener("click", () => load().catch((e) => alert(e.message)));
$("#year").addEventListener("change", () => load().catch((e) => alert(e.message)));
$("#logout").addEventListener("click", () => { sessionStorage.removeItem(TOKEN); delete document.body.dataset.loaded; showLogin(); });
if (sessionStorage.getItem(TOKEN)) load().catch((e) => showLogin(e.message)); else showLogin();
