import { test, expect } from '@playwright/test';
import { hydrated, signIn } from './helpers';

test('a lead makes an API token on the settings page, uses it once, and revokes it', async ({ browser }) => {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, 'lead');
  await page.goto('/settings');
  await hydrated(page);
  const name = `ci-${Date.now().toString(36)}`;
  await page.getByLabel('Token name').fill(name);
  await page.getByLabel('Days until it expires (1 to 366)').fill('7');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.getByRole('region', { name: 'New token' }).locator('code').textContent()) ?? '';
  expect(secret).toMatch(/^cpp_[0-9a-f]{64}$/);
  const row = page.getByRole('table', { name: 'Tokens' }).getByRole('row', { name: new RegExp(name) });
  await expect(row).toContainText(secret.slice(0, 12));

  const bearer = { Authorization: `Bearer ${secret}` };
  expect((await page.request.get('/api/requests', { headers: bearer })).status()).toBe(200);
  await row.getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(row).toContainText('revoked');
  expect((await page.request.get('/api/requests', { headers: bearer })).status()).toBe(401);
});
