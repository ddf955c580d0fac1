import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { hydrated, registerEnvironment, requestIn, signIn } from './helpers';

test('a tier page shows its security posture, and the diagram marks the unencrypted hop until a domain is given', async ({ page }, testInfo) => {
  await page.goto('/tiers/development');
  await hydrated(page);
  const posture = page.getByRole('region', { name: 'Security posture' });
  await expect(posture).toBeVisible();
  // Without a domain: said in words, in the list of principles, and drawn on the diagram.
  await expect(page.getByTestId('unencrypted-warning')).toContainText('Internet → Load balancer');
  await expect(posture.locator('[data-control="viewer-tls"]')).toContainText('Missing');
  await expect(posture.locator('[data-control="least-privilege"]')).toContainText('Kept');
  const diagram = page.getByRole('group', { name: 'Development architecture' });
  const risky = diagram.locator('.hop[data-risk="true"]');
  await expect(risky).toHaveCount(1);
  await expect(risky.locator('title')).toHaveText('Internet → Load balancer: HTTP, unencrypted');
  await expect(posture.getByRole('list', { name: 'Request path' })).toContainText('Internet → Load balancer: HTTP (unencrypted)');

  // The accepted risks: each waived check with its reason.
  await posture.getByText(/^Accepted risks/).click();
  const waivers = posture.getByRole('table', { name: /Checks \(checkov IDs\)/ });
  await expect(waivers.getByRole('row', { name: /CKV_AWS_260/ })).toContainText('public entry');
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations).toEqual([]);
  await page.screenshot({ path: testInfo.outputPath('posture-development.png'), fullPage: true });

  // With a domain: HTTPS, no warning, nothing dashed.
  await page.getByLabel('Preview with a domain (optional)').fill('concerts.example.com');
  await page.getByLabel('Preview with a domain (optional)').press('Tab');
  await expect(page.getByTestId('unencrypted-warning')).toHaveCount(0);
  await expect(posture.locator('[data-control="viewer-tls"]')).toContainText('Kept');
  await expect(diagram.locator('.hop[data-risk="true"]')).toHaveCount(0);
  await expect(diagram.locator('.hop[data-protocol="https"]')).toHaveCount(1);

  // A wrong domain is said next to its field, and changes nothing.
  const domain = page.getByLabel('Preview with a domain (optional)');
  await domain.fill('not a domain');
  await domain.press('Tab');
  await expect(domain).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('Enter a host name such as concerts.example.com.')).toBeVisible();
});

test('behind CloudFront the closed origin is kept and the CDN-to-origin hop is marked', async ({ page }) => {
  await page.goto('/tiers/production-lite');
  await hydrated(page);
  const posture = page.getByRole('region', { name: 'Security posture' });
  await expect(posture.locator('[data-control="closed-origin"]')).toContainText('Kept');
  await expect(posture.locator('[data-control="closed-origin"]')).toContainText('X-Origin-Verify');
  const diagram = page.getByRole('group', { name: 'Production Lite architecture' });
  await expect(diagram.locator('.hop[data-risk="true"] title')).toHaveText('CloudFront → Load balancer: HTTP, unencrypted');
  await expect(diagram.locator('.hop[data-protocol="https"] title')).toHaveText('Internet → CloudFront: HTTPS');
});

test('the approver sees the posture of what was requested: the environment domain decides', async ({ browser }) => {
  const stamp = Date.now().toString(36);
  const plain = `plain-${stamp}`;
  const secure = `tls-${stamp}`;
  await (await registerEnvironment(browser, plain, ['Development'])).context().close();
  await (await registerEnvironment(browser, secure, ['Development'], 'concerts.example.com')).context().close();

  const lead = await (await browser.newContext()).newPage();
  await signIn(lead, 'lead');
  await lead.goto('/tiers/development');
  await hydrated(lead);
  await requestIn(lead, plain, 'Posture check without a domain');
  await expect(lead).toHaveURL(/\/requests\/\d+$/);
  const plainRequest = new URL(lead.url()).pathname;
  await lead.goto('/tiers/development');
  await hydrated(lead);
  await requestIn(lead, secure, 'Posture check with a domain');
  await expect(lead).toHaveURL(/\/requests\/\d+$/);
  const secureRequest = new URL(lead.url()).pathname;
  await lead.context().close();

  const approver = await (await browser.newContext()).newPage();
  await signIn(approver, 'alice');
  await approver.goto(plainRequest);
  await hydrated(approver);
  // Said before the decision form, which follows it on the page.
  await expect(approver.getByTestId('unencrypted-warning')).toBeVisible();
  await expect(approver.getByRole('button', { name: 'Approve' })).toBeVisible();
  await approver.goto(secureRequest);
  await hydrated(approver);
  await expect(approver.getByRole('region', { name: 'Security posture' })).toContainText('served at concerts.example.com');
  await expect(approver.getByTestId('unencrypted-warning')).toHaveCount(0);
  const axe = await new AxeBuilder({ page: approver }).analyze();
  expect(axe.violations).toEqual([]);
});
