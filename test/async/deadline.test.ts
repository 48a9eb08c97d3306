/**
 * deadline: a time limit that fires with a TimeoutError, and one cleared in time that never fires.
 */
import { describe, expect, it } from 'vitest'
import { deadline } from '../../src/async/index.ts'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('deadline', () => {
  it('aborts its signal with a TimeoutError once the time is up', async () => {
    const limit = deadline(20)
    expect(limit.signal.aborted).toBe(false)
    const aborted = new Promise<unknown>(resolve => { limit.signal.addEventListener('abort', () => { resolve(limit.signal.reason) }, { once: true }) })
    const reason = await aborted
    expect(limit.signal.aborted).toBe(true)
    expect(reason).toBeInstanceOf(DOMException)
    expect((reason as DOMException).name).toBe('TimeoutError')
    expect((reason as DOMException).message).toContain('20 ms')
  })

  it('never fires once cleared, and clearing twice or after firing is harmless', async () => {
    const limit = deadline(20)
    let fired = 0
    limit.signal.addEventListener('abort', () => { fired++ })
    limit.clear()
    limit.clear()
    await sleep(60)
    expect(limit.signal.aborted).toBe(false)
    expect(fired).toBe(0)

    const late = deadline(5)
    await sleep(30)
    expect(late.signal.aborted).toBe(true)
    late.clear()
    expect(late.signal.aborted).toBe(true)
  })

  it('does not keep the process alive (its timer is unref\'d)', async () => {
    const { spawnSync } = await import('node:child_process')
    const script = "import('./src/async/deadline.ts').then(m => { m.deadline(60000); console.log('started') })"
    const t = Date.now()
    const r = spawnSync(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 })
    expect(r.stdout.trim()).toBe('started')
    expect(r.status).toBe(0)
    expect(Date.now() - t).toBeLessThan(15_000)
  })
})
