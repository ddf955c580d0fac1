import { test, expect, Page } from '@playwright/test';
import { hydrated } from './helpers';

function dollars(text: string | null): number {
  return Number((text ?? '').replace(/[$,]/g, ''));
}

// "$1,234.56 – $2,345.67" → [1234.56, 2345.67]
function range(text: string | null): [number, number] {
  const [low, high] = (text ?? '').split('–').map((part) => dollars(part.trim()));
  return [low, high];
}

async function cardPrices(page: Page): Promise<number[]> {
  const cards = page.getByRole('list', { name: 'Tiers' }).getByRole('listitem').filter({ has: page.locator('h2') });
  const prices = [];
  for (const card of await cards.all()) {
    prices.push(dollars(await card.locator('.price strong').textContent()));
  }
  return prices;
}

test('the catalog prices every tier with the one model picked, and says what a commitment means', async ({ page }) => {
  await page.goto('/');
  const switcher = page.getByRole('navigation', { name: 'Pricing model' });
  await expect(switcher.getByRole('link', { name: 'On-demand' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('pricing-note')).toHaveText('All three tiers priced with on-demand, at typical usage.');
  const onDemand = await cardPrices(page);
  expect(onDemand).toHaveLength(3);

  await switcher.getByRole('link', { name: '1-year reserved instances' }).click();
  await expect(page).toHaveURL(/\?pricing=reserved$/);
  await expect(switcher.getByRole('link', { name: '1-year reserved instances' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('pricing-note')).toContainText('All three tiers priced with 1-year reserved instances');
  await expect(page.getByTestId('pricing-note')).toContainText('bill all 12 months of their term');
  await expect(page.getByRole('table', { name: 'Side by side, 1-year reserved instances' })).toBeVisible();
  const reserved = await cardPrices(page);
  reserved.forEach((price, i) => expect(price, `tier ${i}`).toBeLessThan(onDemand[i]));
  // The comparison's savings row and the every-model table agree with the cards.
  const everyModel = page.getByRole('table', { name: 'Every pricing model, monthly at typical usage' });
  const lite = everyModel.getByRole('row', { name: /^Production Lite/ });
  await expect(lite.getByRole('cell').nth(0)).toHaveText(`$${onDemand[1].toFixed(2)}`);
  await expect(lite.getByRole('cell').nth(1)).toContainText(`$${reserved[1].toFixed(2)} (saves`);
  const side = page.getByRole('table', { name: 'Side by side, 1-year reserved instances' });
  await expect(side.getByRole('row', { name: /^Committed/ })).toContainText('over 12 months (EC2 and RDS instances)');

  // A tier reviewed from there keeps the model.
  await page.getByRole('link', { name: 'Review Production Lite' }).click();
  await expect(page).toHaveURL(/\/tiers\/production-lite\?pricing=reserved$/);
  await hydrated(page);
  await expect(page.getByRole('radio', { name: '1-year reserved instances' })).toBeChecked();
  expect(dollars(await page.getByTestId('monthly-total').textContent())).toBeCloseTo(reserved[1], 2);
});

test('a tier shows its range, and the CPU credit risk moves it', async ({ page }) => {
  await page.goto('/tiers/production-lite');
  await hydrated(page);
  const total = page.getByTestId('monthly-total');
  const shown = page.getByTestId('monthly-range');
  const typical = dollars(await total.textContent());
  const [low, high] = range(await shown.textContent());
  expect(low).toBeLessThan(typical);
  expect(high).toBeGreaterThan(typical);
  // Every usage field says its range.
  await expect(page.locator('#usage-viewer_transfer_gb-range')).toHaveText('range 512 – 3,072');

  // 60% average CPU on two t3.small (baseline 20%, 2 vCPU): (60% − 20%) × 2 vCPU × 730 h × $0.05, twice.
  await page.getByLabel("App servers' average CPU (%)").fill('60');
  await expect.poll(async () => dollars(await total.textContent())).toBeCloseTo(typical + 2 * 0.4 * 2 * 730 * 0.05, 1);
  const credits = page.locator('tr.line', { hasText: 'CPU credits' });
  await expect(credits.getByTestId('line-monthly')).toHaveText('$58.40');

  // The pricing model: the same lines at reserved rates, with the caveat.
  await page.getByRole('radio', { name: '1-year reserved instances' }).check();
  await expect(page.locator('.totals .commitment')).toContainText('bill all 12 months');
  await expect.poll(async () => dollars(await total.textContent())).toBeLessThan(typical + 58.4);
  await expect(page.getByRole('table', { name: 'Pricing models, monthly at typical usage' })).toContainText('billed after teardown too');
});

test('at 375 px every cost line shows its monthly figure without scrolling sideways', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  for (const path of ['/tiers/development', '/tiers/full-production']) {
    await page.goto(path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path}: no sideways scroll`).toBeLessThanOrEqual(0);
    const figures = page.getByTestId('line-monthly');
    const count = await figures.count();
    expect(count).toBeGreaterThan(30);
    for (let i = 0; i < count; i++) {
      const box = await figures.nth(i).boundingBox();
      expect(box, `${path} line ${i}`).not.toBeNull();
      expect(box!.x, `${path} line ${i}`).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, `${path} line ${i}: inside the viewport`).toBeLessThanOrEqual(375);
    }
    // The resource and its figure share the line's first row; the rest folds below.
    const first = page.locator('tr.line').first();
    const resource = await first.locator('.resource').boundingBox();
    const monthly = await first.locator('.monthly').boundingBox();
    const what = await first.locator('.what').boundingBox();
    expect(Math.abs(resource!.y - monthly!.y)).toBeLessThan(4);
    expect(what!.y).toBeGreaterThan(resource!.y);
  }
  await context.close();
});
