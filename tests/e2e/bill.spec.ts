import { test, expect, Browser, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { hydrated, signIn } from './helpers';

// An environment's estimate against its bill, in the browser: moto's Cost Explorer is told what to
// answer (its documented `/moto-api/static/ce/cost-and-usage-results`) before the environment is
// deployed; the portal's sweep (every 2 s under scripts/test) reads the bill once it runs.

const origin = process.env.PORTAL_BASE_URL ?? 'http://127.0.0.1:3000';

async function signedIn(browser: Browser, name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, name);
  return page;
}

async function api(page: Page, method: 'GET' | 'POST', path: string, data?: unknown) {
  const response = await page.request.fetch(path, { method, data, headers: { origin } });
  const body = await response.json().catch(() => ({}));
  expect(response.status(), `${method} ${path}: ${JSON.stringify(body)}`).toBeLessThan(300);
  return body;
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function group(service: string, usageType: string, usd: number, quantity: number, unit: string) {
  return {
    Keys: [service, usageType],
    Metrics: { UnblendedCost: { Amount: String(usd), Unit: 'USD' }, UsageQuantity: { Amount: String(quantity), Unit: unit } },
  };
}

test("an environment's page shows its bill beside its estimate, service by service", async ({ browser }, testInfo) => {
  test.setTimeout(180_000);
  const endpoint = process.env.PORTAL_SANDBOX_ENDPOINT;
  expect(endpoint, 'scripts/test sets PORTAL_SANDBOX_ENDPOINT').toBeTruthy();
  const name = `billed-${Date.now().toString(36).slice(-5)}`;
  const root = await signedIn(browser, 'root');
  const lead = await signedIn(browser, 'lead');
  const alice = await signedIn(browser, 'alice');
  await api(root, 'POST', '/api/environments', {
    name, account_id: '123456789012', region: 'us-east-1',
    role_arn: 'arn:aws:iam::123456789012:role/portal-deploy', tiers: ['development'],
  });

  // Last month and this month so far, as Cost Explorer would answer for the environment's tag.
  const now = new Date();
  const thisMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const seeded = await root.request.post(`${endpoint}/moto-api/static/ce/cost-and-usage-results`, {
    data: {
      account_id: '123456789012',
      results: [{
        ResultsByTime: [
          {
            TimePeriod: { Start: day(lastMonth), End: day(thisMonth) }, Estimated: false, Total: {},
            Groups: [
              group('Amazon Elastic Compute Cloud - Compute', 'BoxUsage:t3.micro', 7.59, 730, 'Hrs'),
              group('EC2 - Other', 'USE1-NatGateway-Hours', 32.85, 730, 'Hrs'),
              group('EC2 - Other', 'DataTransfer-Out-Bytes', 351, 4000, 'GB'),
              group('Amazon OpenSearch Service', 'USE1-ESInstance:t3.small', 26.28, 730, 'Hrs'),
            ],
          },
          {
            TimePeriod: { Start: day(thisMonth), End: day(now) }, Estimated: true, Total: {},
            Groups: [group('EC2 - Other', 'USE1-NatGateway-Hours', 1.08, 24, 'Hrs')],
          },
        ],
        DimensionValueAttributes: [],
      }],
    },
  });
  expect(seeded.status()).toBe(201);

  const request = await api(lead, 'POST', '/api/requests', {
    environment: name, tier: 'development', justification: 'Estimate against the bill',
  });
  await api(alice, 'POST', `/api/requests/${request.id}/approve`, { comment: 'fine' });
  await expect.poll(async () => (await api(lead, 'GET', `/api/environments/${name}/status`)).status, { timeout: 90_000 }).toBe('running');
  // The sweep reads the new environment's bill by itself.
  await expect.poll(async () => (await api(lead, 'GET', `/api/environments/${name}/bill`)).status, { timeout: 30_000 }).toBe('read');

  await lead.goto(`/environments/${name}`);
  await hydrated(lead);
  const section = lead.getByRole('region', { name: 'Cost: estimate and bill' });
  await expect(section).toContainText('Bill read');
  const month = lastMonth.toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const table = section.getByRole('table', { name: new RegExp(`^${month}: billed \\$417\\.72`) });
  await expect(table).toBeVisible();
  const transfer = table.getByRole('row', { name: /^Data Transfer/ });
  await expect(transfer.getByRole('cell').nth(1)).toHaveText('$351.00');
  await expect(transfer).toContainText('above range');
  await expect(transfer).toContainText('DataTransfer-Out-Bytes (4000 GB');
  await expect(table.getByRole('row', { name: /^Amazon OpenSearch Service/ })).toContainText('not estimated');
  // This month so far (projected once the environment has run some of it: the integration tests).
  await expect(section.getByRole('table', { name: /so far \(\d+ days\): billed \$1\.08/ })).toBeVisible();
  // The environment came up this month: last month's bill stands against a zero estimate, said so.
  await expect(section).toContainText('did not run in this period by the portal');

  // Read again now: each read costs $0.01, so not twice in ten minutes; said where it was asked.
  await section.getByRole('button', { name: 'Read the bill now' }).click();
  await expect(section.getByRole('alert')).toContainText('each read costs $0.01');

  // The usage the month's bill measured, used for the estimates on request.
  const usage = section.getByRole('table', { name: `Usage from the bill of ${month}` });
  await expect(usage.getByRole('row', { name: /^Served to viewers/ })).toBeVisible();
  await section.getByRole('button', { name: "Use the bill's usage for this environment's estimates" }).click();
  await expect(section).toContainText(`Usage assumptions set from the bill of ${month} by lead`);

  const results = await new AxeBuilder({ page: lead }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`)).toEqual([]);
  await lead.setViewportSize({ width: 375, height: 800 });
  const overflow = await lead.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, 'no sideways scroll at 375 px').toBeLessThanOrEqual(0);
  await lead.screenshot({ path: testInfo.outputPath('environment-bill.png'), fullPage: true });
});
