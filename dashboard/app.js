// dashboard/app.js: the live dashboard. Reads this daemon's read-only views (GET /view/v0/...)
// and one Server-Sent Events stream; draws with uPlot (served by the daemon from its package).
// Never talks to anything but the daemon that served it.
'use strict'
;(() => {
  const WINDOW = 120 // points kept per chart: two minutes at one a second
  const $ = (id) => document.getElementById(id)

  /** An element with attributes and children (never HTML strings: the page's policy forbids inline styles). */
  function h (tag, attrs, ...children) {
    const el = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs ?? {})) {
      if (v == null || v === false) continue
      if (k === 'class') el.className = v
      else if (k === 'onclick') el.addEventListener('click', v)
      else el.setAttribute(k, v === true ? '' : String(v))
    }
    for (const c of children.flat()) if (c != null) el.append(c instanceof Node ? c : String(c))
    return el
  }

  /** A peer or job id as the CLI prints it: whole when short, else its first 12 and last 8 characters. */
  const short = (id) => id.length <= 24 ? id : `${id.slice(0, 12)}…${id.slice(-8)}`
  const idEl = (id) => h('span', { class: 'id', title: id }, short(id))
  function bytes (n) {
    if (n == null) return '–'
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
    let i = 0
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++ }
    return `${n < 10 && i > 0 ? n.toFixed(1) : Math.round(n)} ${u[i]}`
  }
  function duration (ms) {
    const s = Math.round(ms / 1000)
    if (s < 60) return `${s} s`
    if (s < 3600) return `${Math.floor(s / 60)} min`
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor(s % 3600 / 60)} min`
    return `${Math.floor(s / 86400)} d ${Math.floor(s % 86400 / 3600)} h`
  }
  function bar (fraction, cls) {
    const i = h('i')
    i.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`
    return h('div', { class: `bar ${cls ?? ''}` }, i)
  }
  const set = (id, text, title) => { const el = $(id); el.textContent = text; if (title != null) el.title = title }

  // ---------------------------------------------------------------- charts

  const css = getComputedStyle(document.documentElement)
  const color = (name) => css.getPropertyValue(name).trim()
  function chart (el, series, fmt) {
    const data = [[], ...series.map(() => [])]
    const opts = {
      width: el.clientWidth || 320,
      height: 150,
      legend: { show: true, live: false },
      cursor: { show: true, points: { show: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max * 1.15, 1)] } },
      axes: [
        { stroke: color('--faint'), grid: { stroke: color('--line'), width: 1 }, ticks: { show: false }, font: '11px system-ui', space: 80, values: (u, vals) => vals.map(clock) },
        { stroke: color('--faint'), grid: { stroke: color('--line'), width: 1 }, ticks: { show: false }, font: '11px system-ui', size: 52, values: (u, vals) => vals.map(fmt) }
      ],
      series: [{}, ...series.map(s => ({ label: s.label, stroke: s.color, width: 1.6, fill: s.fill, points: { show: false }, value: (u, v) => v == null ? '–' : fmt(v) }))]
    }
    const plot = new uPlot(opts, data, el)
    new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 150 })).observe(el)
    return {
      push (t, values) {
        data[0].push(t)
        values.forEach((v, i) => data[i + 1].push(v))
        if (data[0].length > WINDOW) for (const d of data) d.shift()
        plot.setData(data)
      }
    }
  }
  const clock = (t) => new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
  const rate = (v) => v >= 100 ? Math.round(v).toString() : v >= 10 ? v.toFixed(0) : v.toFixed(1)
  const tasksChart = chart($('ch-tasks'), [{ label: 'tasks/s', color: color('--ok'), fill: 'rgba(62,207,142,.12)' }], rate)
  const bytesChart = chart($('ch-bytes'), [
    { label: 'sent', color: color('--accent'), fill: 'rgba(79,179,255,.10)' },
    { label: 'received', color: color('--warn') }
  ], (v) => `${bytes(v)}`.replace(' ', '\u2009'))
  const fetchChart = chart($('ch-fetch'), [{ label: 'ms', color: color('--warn'), fill: 'rgba(245,165,36,.10)' }], (v) => v == null ? '–' : rate(v))
  let lossChart
  const ROUND_TICKS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000]

  // ---------------------------------------------------------------- this peer

  let me
  function showSelf (self) {
    me = self.id
    set('me-id', short(self.id), self.id)
    const health = $('health')
    health.textContent = self.health.status === 'ok' ? 'healthy' : 'unhealthy'
    health.className = `badge ${self.health.status === 'ok' ? 'ok' : 'bad'}`
    health.title = self.health.reasons.join('\n')
    set('c-conns', String(self.connections))
    set('c-conns-s', `${self.routingTable} in the routing table`)
    set('c-bw', `↑ ${bytes(self.bandwidth.sent)}`)
    set('c-bw-s', `↓ ${bytes(self.bandwidth.received)} since start`)
    set('c-blocks', String(self.blocks.held))
    set('c-blocks-s', `${bytes(self.blocks.bytes)}, ${bytes(self.blocks.bytesForOthers)} for others`)
    set('c-tasks', `${self.tasks.running}/${self.tasks.slots}`)
    set('c-tasks-s', `${self.tasks.queued} queued · ${self.tasks.run} ran · ${self.tasks.failed} failed`)
    set('c-loop', `${self.eventLoop.p99Ms} ms`)
    set('c-loop-s', `p50 ${self.eventLoop.p50Ms} · max ${self.eventLoop.maxMs} ms`)
    const facts = $('self-facts')
    const rows = [
      ['peer', idEl(self.id)],
      ['version', self.version],
      ['uptime', duration(self.uptimeMs)],
      ['health', self.health.status === 'ok' ? 'ok' : self.health.reasons.join('; ')],
      ['connections', `${self.connections} peers, ${self.routingTable} in the routing table`],
      ['bandwidth', `${bytes(self.bandwidth.sent)} sent, ${bytes(self.bandwidth.received)} received`],
      ['tasks', `${self.tasks.claimed} claimed, ${self.tasks.run} ran, ${self.tasks.failed} failed, ${self.tasks.duplicated} duplicated, ${self.tasks.leasesExpired} leases expired`],
      ['addresses', h('dd', { class: 'addrs' }, self.addresses.map(a => h('div', null, a)))]
    ]
    facts.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', null, k), v instanceof Node && v.tagName === 'DD' ? v : h('dd', null, v)]))
    const b = self.blocks
    const used = b.storageMax > 0 ? b.bytesForOthers / b.storageMax : 0
    const repair = b.lastRepair
    $('data-facts').replaceChildren(
      h('dt', null, 'blocks'), h('dd', null, `${b.held} held, ${bytes(b.bytes)}`),
      h('dt', null, 'for others'), h('dd', null, h('div', { class: 'progress' }, bar(used, used > 0.9 ? 'bad' : used > 0.7 ? 'warn' : 'ok'), h('span', null, `${bytes(b.bytesForOthers)} / ${bytes(b.storageMax)}`))),
      h('dt', null, 'replica health'), h('dd', null, b.underReplicated === 0 ? 'every block at its replica count' : `${b.underReplicated} blocks under-replicated`),
      h('dt', null, 'repair'), h('dd', null, repair == null ? 'no pass yet' : `last pass ${duration(Date.now() - repair.at)} ago: ${repair.checked} checked, ${repair.copies} copies, took ${repair.durationMs < 1000 ? `${repair.durationMs} ms` : duration(repair.durationMs)} · ${b.repairCopies} copies in all`),
      h('dt', null, 'announcements'), h('dd', null, `${b.providesQueued} queued`)
    )
  }

  // ---------------------------------------------------------------- swarm

  let swarm = []
  // the event-loop delay past which a peer is unhealthy, as the daemon judges it (sent with the table)
  let loopStallMs = Infinity
  const loopClass = (ms) => ms > loopStallMs ? 'n bad-text' : ms > loopStallMs / 10 ? 'n warn-text' : 'n'
  let sortKey = 'state'
  let sortAsc = true
  const stateOf = (p) => p.self ? 'self' : p.stale ? 'stale' : 'live'
  const STATE_ORDER = { self: 0, live: 1, stale: 2 }
  for (const th of document.querySelectorAll('#swarm-table th[data-sort]')) {
    th.addEventListener('click', () => {
      const key = th.dataset.sort
      if (sortKey === key) sortAsc = !sortAsc
      else { sortKey = key; sortAsc = key === 'id' || key === 'state' }
      showSwarm()
    })
  }
  $('swarm-filter').addEventListener('input', () => showSwarm())
  function showSwarm () {
    const q = $('swarm-filter').value.trim().toLowerCase()
    const rows = swarm.filter(p => q === '' || p.id.toLowerCase().includes(q) || p.labels.some(l => l.toLowerCase().includes(q)) || p.functions.some(f => f.toLowerCase().includes(q)))
    const key = (p) => sortKey === 'state' ? STATE_ORDER[stateOf(p)] : p[sortKey]
    rows.sort((a, b) => {
      const x = key(a)
      const y = key(b)
      const c = typeof x === 'string' ? x.localeCompare(y) : x - y
      return (sortAsc ? c : -c) || a.id.localeCompare(b.id)
    })
    for (const th of document.querySelectorAll('#swarm-table th[data-sort]')) {
      th.classList.toggle('sorted', th.dataset.sort === sortKey)
      th.classList.toggle('asc', th.dataset.sort === sortKey && sortAsc)
    }
    const stale = swarm.filter(p => p.stale).length
    const stalled = swarm.filter(p => !p.stale && p.loopDelayMs > loopStallMs).length
    set('swarm-count', `${swarm.length} peers${stale > 0 ? `, ${stale} stale` : ''}${stalled > 0 ? `, ${stalled} with a stalled event loop` : ''}${rows.length !== swarm.length ? ` · ${rows.length} shown` : ''}`)
    set('c-swarm', String(swarm.length))
    set('c-swarm-s', `${swarm.length - stale} live${stale > 0 ? `, ${stale} stale` : ''} · ${swarm.reduce((n, p) => n + p.running, 0)} tasks running`)
    const body = $('swarm-table').tBodies[0]
    if (rows.length === 0) { body.replaceChildren(h('tr', null, h('td', { colspan: 12, class: 'empty' }, swarm.length === 0 ? 'no status heard yet' : 'no peer matches'))); return }
    body.replaceChildren(...rows.map(p => {
      const state = stateOf(p)
      const used = p.storageMax > 0 ? p.storageUsed / p.storageMax : 0
      return h('tr', { class: state === 'live' ? '' : state, title: `${p.id}\nv${p.version} · up ${duration(p.uptimeMs)} · heard ${duration(p.ageMs)} ago\nfunctions: ${p.functions.join(', ')}\n${p.cpus} CPUs, ${p.memoryMB} MB free${p.gpu ? ', GPU' : ''}` },
        h('td', null, idEl(p.id)),
        h('td', null, h('span', { class: `pill ${state}` }, state === 'stale' ? `stale ${duration(p.ageMs)}` : state)),
        h('td', { class: 'n' }, p.connections),
        h('td', { class: 'n' }, p.routingTable),
        h('td', { class: 'n' }, p.blocks),
        h('td', { class: 'n' }, bytes(p.bytes)),
        h('td', null, h('div', { class: 'progress', title: `${bytes(p.storageUsed)} of ${bytes(p.storageMax)} for other peers` }, bar(used, used > 0.9 ? 'bad' : used > 0.7 ? 'warn' : 'ok'), h('span', null, bytes(p.storageUsed)))),
        h('td', { class: 'n' }, `${p.running}/${p.slots}${p.queued > 0 ? ` +${p.queued}` : ''}`),
        h('td', { class: 'n' }, p.executed),
        h('td', { class: 'n' }, p.load.toFixed(2)),
        h('td', { class: loopClass(p.loopDelayMs) }, `${p.loopDelayMs} ms`),
        h('td', null, p.labels.length === 0 ? h('span', { class: 'faint' }, '–') : p.labels.map(l => h('span', { class: 'tag' }, l)))
      )
    }))
  }

  // ---------------------------------------------------------------- jobs

  let jobs = []
  let selected
  function showJobs () {
    set('jobs-count', jobs.length === 0 ? '' : `${jobs.length} known · ${jobs.filter(j => j.status === 'running').length} running`)
    const body = $('jobs-table').tBodies[0]
    if (jobs.length === 0) { body.replaceChildren(h('tr', null, h('td', { colspan: 7, class: 'empty' }, 'no jobs yet: edgeswarm submit FN --input CID'))); return }
    body.replaceChildren(...jobs.map(j => h('tr', { class: `clickable${j.id === selected ? ' selected' : ''}`, onclick: () => select(j.id), title: j.reason ?? j.id },
      h('td', null, idEl(j.id)),
      h('td', null, j.fn),
      h('td', null, h('span', { class: `pill ${j.status}` }, j.status)),
      h('td', null, h('div', { class: 'progress' }, bar(j.total > 0 ? j.done / j.total : 0, j.status === 'failed' ? 'bad' : j.status === 'done' ? 'ok' : ''), h('span', null, `${j.done}/${j.total}${j.running > 0 ? ` · ${j.running} running` : ''}`))),
      h('td', { class: 'n' }, j.retried),
      h('td', { class: 'n' }, j.duplicates),
      h('td', { class: 'n' }, duration(Date.now() - j.createdAt))
    )))
  }

  async function select (id) {
    selected = id
    showJobs()
    await refreshJob()
  }

  const OUTCOME = { result: '--ok', running: '--run', lapsed: '--warn', failed: '--bad' }
  async function refreshJob () {
    if (selected == null) return
    const res = await fetch(`/view/v0/job?id=${encodeURIComponent(selected)}`)
    if (!res.ok) return
    const job = await res.json()
    $('job-detail').classList.remove('hidden')
    set('jd-id', short(job.id), job.id)
    set('jd-summary', `${job.fn} · ${job.status} · ${job.done}/${job.total} tasks · ${job.retried} retried · ${job.duplicates} duplicates · ${job.peers.length} peers${job.truncated ? ' · timeline truncated' : ''}${job.reason != null ? ` · ${job.reason}` : ''}`)
    drawTimeline(job)
    const rounds = (job.rounds ?? []).filter(r => typeof r.loss === 'number')
    $('jd-loss').classList.toggle('hidden', rounds.length === 0)
    if (rounds.length > 0) {
      lossChart ??= new uPlot({
        width: $('ch-loss').clientWidth || 600,
        height: 180,
        scales: { x: { time: false } },
        // rounds are whole numbers: ticks never fall between two
        axes: [{ stroke: color('--faint'), grid: { stroke: color('--line') }, label: 'round', incrs: ROUND_TICKS }, { stroke: color('--faint'), grid: { stroke: color('--line') }, size: 60 }],
        series: [{ label: 'round' }, { label: 'loss', stroke: color('--accent'), width: 2, points: { show: true, size: 5 } }]
      }, [[], []], $('ch-loss'))
      lossChart.setData([rounds.map(r => r.round), rounds.map(r => r.loss)])
    }
  }

  function drawTimeline (job) {
    const canvas = $('timeline')
    const wrap = canvas.parentElement
    const order = job.peers.map((p, i) => i).sort((a, b) => job.peers[a].localeCompare(job.peers[b]))
    const rowOf = new Map(order.map((p, r) => [p, r]))
    const rowH = Math.max(6, Math.min(18, Math.floor(360 / Math.max(1, job.peers.length))))
    const labelW = rowH >= 11 ? 190 : 0
    const width = Math.max(400, wrap.clientWidth - 2)
    const height = Math.max(rowH * job.peers.length, 20) + 22
    const dpr = window.devicePixelRatio || 1
    canvas.width = width * dpr
    canvas.height = height * dpr
    canvas.style.width = `${width}px`
    canvas.style.height = `${height}px`
    const g = canvas.getContext('2d')
    g.scale(dpr, dpr)
    g.clearRect(0, 0, width, height)
    if (job.spans.length === 0) { g.fillStyle = color('--faint'); g.font = '12px system-ui'; g.fillText('no task claimed yet', 10, 16); return }
    const t0 = Math.min(job.createdAt, ...job.spans.map(s => s[2]))
    const t1 = Math.max(t0 + 1, ...job.spans.map(s => s[3]))
    const x = (t) => labelW + (t - t0) / (t1 - t0) * (width - labelW - 8)
    g.font = `${Math.min(11, rowH - 2)}px ui-monospace, monospace`
    for (const [p, r] of rowOf) {
      if (r % 2 === 0) { g.fillStyle = 'rgba(255,255,255,.025)'; g.fillRect(0, r * rowH, width, rowH) }
      if (labelW > 0) { g.fillStyle = job.peers[p] === me ? color('--accent') : color('--dim'); g.fillText(short(job.peers[p]), 6, r * rowH + rowH - 3) }
    }
    for (const [, peer, start, end, outcome] of job.spans) {
      g.fillStyle = color(OUTCOME[outcome])
      const x0 = x(start)
      g.fillRect(x0, rowOf.get(peer) * rowH + 1, Math.max(1.5, x(end) - x0), rowH - 2)
    }
    g.fillStyle = color('--faint')
    g.font = '11px system-ui'
    const axisY = height - 6
    g.fillText('0 s', labelW, axisY)
    const total = `${((t1 - t0) / 1000).toFixed(1)} s`
    g.fillText(total, width - 8 - g.measureText(total).width, axisY)
  }

  // ---------------------------------------------------------------- data

  async function refreshData () {
    const res = await fetch('/view/v0/data')
    if (!res.ok) return
    const data = await res.json()
    set('data-count', data.roots.length === 0 ? '' : `${data.roots.length} roots put here`)
    const body = $('data-table').tBodies[0]
    if (data.roots.length === 0) { body.replaceChildren(h('tr', null, h('td', { colspan: 4, class: 'empty' }, 'nothing put from this peer'))); return }
    body.replaceChildren(...data.roots.slice().reverse().map(r => h('tr', null,
      h('td', null, idEl(r.cid)), h('td', { class: 'n' }, bytes(r.size)), h('td', { class: 'n' }, r.shards), h('td', { class: 'n' }, `${duration(Date.now() - r.createdAt)} ago`)
    )))
  }

  // ---------------------------------------------------------------- the stream

  function connect () {
    const events = new EventSource('/view/v0/events')
    events.addEventListener('open', () => { set('conn', 'live') })
    events.addEventListener('error', () => { set('conn', 'reconnecting…') })
    events.addEventListener('tick', (e) => {
      const tick = JSON.parse(e.data)
      showSelf(tick.self)
      jobs = tick.jobs
      showJobs()
      const t = tick.at / 1000
      tasksChart.push(t, [tick.rates.tasksPerSecond])
      bytesChart.push(t, [tick.rates.sentPerSecond, tick.rates.receivedPerSecond])
      fetchChart.push(t, [tick.rates.fetchMs])
      set('conn', `live · ${new Date(tick.at).toLocaleTimeString()}`)
    })
    events.addEventListener('swarm', (e) => {
      const view = JSON.parse(e.data)
      swarm = view.peers
      loopStallMs = view.loopStallMs ?? Infinity
      showSwarm()
    })
  }
  connect()
  refreshData()
  setInterval(refreshData, 10_000)
  // the selected job's timeline follows it while it changes, and once more when it ends
  let shownStatus
  setInterval(() => {
    const job = jobs.find(j => j.id === selected)
    if (job == null) return
    if (job.status === 'running' || job.status === 'queued' || job.status !== shownStatus) refreshJob()
    shownStatus = job.status
  }, 2_000)
})()
