/**
 * The dashboard in a real browser: Chromium (Debian's, driven by
 * playwright-core) loads the dashboard of a 3-peer swarm, sees every peer and
 * a job's progress to done and a training's loss per round, with no page error, and every request it makes
 * goes to the daemon that served it. Without Chromium the test is skipped
 * with a notice, except under CI=true, where it fails.
 */
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { HEALTH_EVENT_LOOP_STALL_MS } from '../../src/api/constants.ts'
import { chromium, type Browser } from 'playwright-core'
import { createApiServer } from '../../src/api/routes.ts'
import { useCleanup, waitFor } from '../helpers.ts'
import { enc, swarm } from '../jobs/swarm.ts'

/** The page's document, as the predicates below see it in the browser (tests compile without the DOM library). */
interface PageElement { textContent: string | null, getAttribute: (name: string) => string | null, classList: { contains: (c: string) => boolean } }
declare const document: {
  querySelector: (selector: string) => PageElement | null
  querySelectorAll: (selector: string) => ArrayLike<PageElement> & Iterable<PageElement>
  getElementById: (id: string) => PageElement | null
}

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync']
const available = existsSync(CHROMIUM)
if (!available && process.env.CI !== 'true') process.stderr.write(`dashboard browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n`)

describe('dashboard in a browser', () => {
  const t = useCleanup()

  it.runIf(available || process.env.CI === 'true')('shows the peers of a 3-peer swarm, a job to done and a training\'s loss per round, with no page error and no request elsewhere', async () => {
    expect(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (apt-get install -y chromium)`).toBe(true)
    const nodes = await swarm(t.node, 3, { swarm: { intervalMs: 500 }, scheduler: { slots: 1 } })
    const api = createApiServer(nodes[0])
    const address = await api.listen('127.0.0.1:0')
    t.defer(async () => { await api.close() })
    const origin = `http://${address}`

    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    t.defer(async () => { await browser.close() })
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
    const errors: string[] = []
    const requests: string[] = []
    page.on('pageerror', err => { errors.push(err.message) })
    page.on('console', msg => { if (msg.type() === 'error') errors.push(msg.text()) })
    page.on('request', req => { requests.push(req.url()) })
    await page.goto(`${origin}/`)

    // every peer appears, this one marked
    const ids = nodes.map(n => n.peerId.toString())
    await page.waitForFunction((n) => document.querySelectorAll('#swarm-table tbody tr').length === n && document.querySelector('#swarm-table .pill.self') != null, ids.length, { timeout: 20_000 })
    const shown = await page.$$eval('#swarm-table tbody .id', els => els.map(e => e.getAttribute('title')))
    expect(shown.sort()).toEqual([...ids].sort())
    expect(await page.textContent('#me-id')).toBe(`${ids[0].slice(0, 12)}…${ids[0].slice(-8)}`)
    // the table comes with the delay past which the page marks a peer's event loop as stalled
    const view = await (await fetch(`${origin}/view/v0/swarm`)).json() as { loopStallMs: number }
    expect(view.loopStallMs).toBe(HEALTH_EVENT_LOOP_STALL_MS)

    // a job, seen from start to done
    const text = Array.from({ length: 600 }, (_, i) => `${i}`).join('\n') + '\n'
    const cid = await nodes[1].data.put(enc(text), { chunkSize: 1024 })
    const job = await nodes[1].jobs.submit({ fn: 'square', inputs: [cid.toString()] })
    const total = job.status().total
    await page.waitForFunction((id) => [...document.querySelectorAll('#jobs-table .id')].some(e => e.getAttribute('title') === id), job.id, { timeout: 20_000 })
    await job.result({ signal: AbortSignal.timeout(30_000) })
    await page.waitForFunction((expected) => document.querySelector('#jobs-table tbody tr .progress span')?.textContent?.startsWith(expected) === true &&
      document.querySelector('#jobs-table tbody .pill')?.textContent === 'done', `${total}/${total}`, { timeout: 20_000 })
    // its timeline by peer
    await page.click('#jobs-table tbody tr')
    await page.waitForFunction(() => document.getElementById('job-detail')?.classList.contains('hidden') === false && (document.getElementById('jd-summary')?.textContent ?? '').includes('done'), undefined, { timeout: 10_000 })
    const canvasHeight = await page.$eval('#timeline', el => (el as unknown as { height: number }).height)
    expect(canvasHeight).toBeGreaterThan(0)
    // a job without rounds shows no loss chart
    expect(await page.$eval('#jd-loss', el => el.classList.contains('hidden'))).toBe(true)

    // a training: its detail charts the loss of every round, the values the job's view gives
    const rows = Array.from({ length: 200 }, (_, i) => `${Math.sin(i).toFixed(4)},${Math.cos(i * 0.7).toFixed(4)},${(2 * Math.sin(i) - Math.cos(i * 0.7)).toFixed(4)}`)
    const csv = enc(`x0,x1,y\n${rows.join('\n')}\n`)
    const input = await nodes[2].data.put(csv, { chunkSize: 1024 })
    const training = await nodes[2].jobs.train({ kind: 'linear', inputs: [input.toString()], label: 'y', rounds: 8, lr: 0.3 })
    await training.result({ signal: AbortSignal.timeout(60_000) })
    // the page is served by nodes[0], which may hear of the last round a moment after the submitter
    const roundsHere = (): number[] => (nodes[0].jobs.service.view(training.id).rounds ?? []).map(r => r.loss)
    expect(await waitFor(() => roundsHere().length === 8, 10_000)).toBe(true)
    const losses = roundsHere()
    await page.waitForFunction((id) => [...document.querySelectorAll('#jobs-table .id')].some(e => e.getAttribute('title') === id), training.id, { timeout: 20_000 })
    await page.click(`#jobs-table tbody tr:has(.id[title="${training.id}"])`)
    await page.waitForFunction(() => document.getElementById('jd-loss')?.classList.contains('hidden') === false && document.querySelector('#ch-loss canvas') != null, undefined, { timeout: 10_000 })
    const chart = await page.$eval('#ch-loss canvas', el => { const c = el as unknown as { width: number, height: number }; return { width: c.width, height: c.height } })
    expect(chart.width).toBeGreaterThan(100)
    expect(chart.height).toBeGreaterThan(50)
    // the chart's legend follows the cursor: hovering the last round shows its loss
    const box = await page.$('#ch-loss .u-over')
    const bounds = await box?.boundingBox()
    expect(bounds).not.toBeNull()
    if (bounds != null) await page.mouse.move(bounds.x + bounds.width - 1, bounds.y + bounds.height / 2)
    const shownLoss = Number(await page.$eval('#ch-loss .u-legend .u-series:nth-child(2) .u-value', el => el.textContent ?? ''))
    expect(shownLoss).toBeCloseTo(losses[losses.length - 1], 2)

    expect(errors).toEqual([])
    expect(requests.length).toBeGreaterThan(5)
    expect(requests.filter(u => !u.startsWith(`${origin}/`))).toEqual([])
  })
})
