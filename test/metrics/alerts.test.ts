import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { promtool } from '../helpers/prometheus-server.js'

const ALERTS = fileURLToPath(new URL('../../dashboards/alerts.yml', import.meta.url))
const UNIT_TESTS = fileURLToPath(new URL('./alerts.promtool.yml', import.meta.url))

describe('alert rules (dashboards/alerts.yml)', () => {
  it('M31 promtool check rules accepts the alert rules file', async () => {
    const check = await promtool('check', 'rules', ALERTS)
    expect(check.output).toContain('SUCCESS: 7 rules found')
    expect(check.code).toBe(0)
  })

  it('M32 promtool test rules: each alert fires in its scripted series once its `for` has passed, with its labels and text', async () => {
    const run = await promtool('test', 'rules', UNIT_TESTS)
    expect(run.output).toContain('SUCCESS')
    expect(run.code).toBe(0)
  })
})
