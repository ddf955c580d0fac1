import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { hydrated } from './helpers';

function dollars(text: string | null): number {
  return Number((text ?? '').replace(/[$,]/g, ''));
}

test('catalog → Full Production → change viewer traffic → total follows', async ({ page }, testInfo) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Choose a tier' })).toBeVisible();
  // scripts/test serves the portal against the local moto sandbox, and the page says so.
  await expect(page.getByText('Sandbox', { exact: true })).toBeVisible();
  for (const name of ['Development', 'Production Lite', 'Full Production']) {
    await expect(page.getByRole('heading', { level: 2, name })).toBeVisible();
  }
  await page.getByRole('link', { name: 'Review Full Production' }).click();
  await expect(page).toHaveURL(/\/tiers\/full-production$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Full Production' })).toBeVisible();
  await hydrated(page); // a full page load (the catalog has no router): input waits for the tier bundle

  const diagram = page.getByRole('group', { name: 'Full Production architecture' });
  await expect(diagram).toBeVisible();
  await expect(diagram.locator('[data-type="NAT gateway"]')).toHaveCount(2);
  await expect(diagram.locator('[data-type="RDS read replica"]')).toHaveCount(1);

  const total = page.getByTestId('monthly-total');
  const before = dollars(await total.textContent());
  expect(before).toBeGreaterThan(0);

  const transfer = page.getByLabel('Served to viewers (pages, assets, media) (GB/month)');
  await expect(transfer).toHaveValue('1024');
  await transfer.fill('5120');
  // 4 TB beyond CloudFront's always-free 1 TB at $0.085/GB, and the origin's 10% of it through
  // the load balancer (1 GB an hour per capacity unit, $0.008 per LCU-hour).
  await expect.poll(async () => dollars(await total.textContent())).toBeCloseTo(before + 4096 * 0.085 + 4096 * 0.1 * 0.008, 1);
  await expect(page).toHaveURL(/\/tiers\/full-production$/); // no page load happened

  await page.screenshot({ path: testInfo.outputPath('full-production.png'), fullPage: true });
});

test('a wrong usage value is reported next to its field', async ({ page }) => {
  await page.goto('/tiers/development');
  await hydrated(page);
  const field = page.getByLabel('Viewer requests (HTTPS) (requests/month)');
  await field.fill('-3');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('Enter a number of zero or more.')).toBeVisible();
});

test('switching an option on adds its cost without a reload', async ({ page }) => {
  await page.goto('/tiers/development');
  await hydrated(page);
  const total = page.getByTestId('monthly-total');
  const before = dollars(await total.textContent());
  await page.getByRole('checkbox', { name: 'ElastiCache Redis' }).check();
  // One cache.t3.micro node, 730 h at $0.017.
  await expect.poll(async () => dollars(await total.textContent())).toBeCloseTo(before + 730 * 0.017, 1);
  await expect(page.getByRole('group', { name: 'Development architecture' }).locator('[data-type="Redis"]')).toHaveCount(1);
});

test('the pages have no serious accessibility violations', async ({ page }) => {
  for (const path of ['/', '/tiers/production-lite']) {
    await page.goto(path);
    if (path !== '/') await hydrated(page); // the catalog loads no wasm (weight.spec.ts)
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.help}`), path).toEqual([]);
  }
});

test('hydration does not move the layout', async ({ browser }) => {
  const boxes = async (javaScriptEnabled: boolean) => {
    const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto('/tiers/full-production');
    if (javaScriptEnabled) await hydrated(page);
    const result = [];
    for (const locator of [
      page.getByRole('heading', { level: 1 }),
      page.getByTestId('monthly-total'),
      page.getByRole('group', { name: 'Full Production architecture' }),
      page.getByRole('heading', { name: 'Rollout plan' }),
    ]) {
      result.push(await locator.boundingBox());
    }
    await context.close();
    return result;
  };
  expect(await boxes(true)).toEqual(await boxes(false));
});

test('usable at phone width: nothing but tables and the diagram scrolls sideways', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  for (const path of ['/', '/tiers/full-production']) {
    await page.goto(path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
  await context.close();
});

test('every control is reachable by keyboard', async ({ page }) => {
  await page.goto('/tiers/development');
  await hydrated(page);
  const reached = new Set<string>();
  for (let i = 0; i < 100; i++) {
    await page.keyboard.press('Tab');
    const label = await page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement | null;
      return el ? `${el.tagName}:${el.getAttribute('name') ?? el.textContent?.trim() ?? ''}` : '';
    });
    reached.add(label);
  }
  for (const name of ['viewer_transfer_gb', 'sqs', 'elasticache_redis', 'pricing']) {
    expect([...reached].some((l) => l.endsWith(`:${name}`)), name).toBe(true);
  }
});

test('the rollout plan says which phases start together', async ({ page }) => {
  await page.goto('/tiers/production-lite');
  const plan = page.getByRole('region', { name: 'Rollout plan' });
  await expect(plan.locator('#phase-1')).toContainText('Starts first');
  await expect(plan.locator('#phase-2')).toContainText('Starts when phase 1 is done');
  await expect(plan.locator('#phase-4')).toContainText('Starts when phase 1 is done');
  await expect(plan.locator('#phase-3')).toContainText('Starts when phases 1, 2 are done');
  await expect(plan.locator('#phase-6')).toContainText('Starts when phases 1, 2, 4 are done');
});
