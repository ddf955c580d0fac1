import { test, expect } from '@playwright/test';
import { hydrated, registerEnvironment, requestIn, signIn } from './helpers';

test('an admin registers an environment and copies its trust policy; a lead requests by picking it', async ({ browser }, testInfo) => {
  const environment = `reg-${Date.now().toString(36)}`;
  const admin = await registerEnvironment(browser, environment, ['Development', 'Production Lite']);
  await admin.context().grantPermissions(['clipboard-read', 'clipboard-write']);

  // The ExternalId is shown once, inside the trust policy the deploy role needs.
  const externalId = (await admin.locator('code.external-id').textContent()) ?? '';
  expect(externalId).toMatch(/^concert-portal-[0-9a-f]{32}$/);
  await admin.getByRole('button', { name: 'Copy trust policy' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Copied to the clipboard' })).toBeVisible();
  const copied = JSON.parse(await admin.evaluate(() => navigator.clipboard.readText()));
  expect(copied.Statement[0].Condition.StringEquals['sts:ExternalId']).toBe(externalId);
  expect(copied.Statement[0].Action).toContain('sts:SetSourceIdentity');
  await expect(admin.getByRole('table', { name: 'Registered environments' }).getByRole('row', { name: new RegExp(environment) }))
    .toContainText('123456789012 / us-east-1');
  await admin.screenshot({ path: testInfo.outputPath('registered-environment.png'), fullPage: true });

  // Nobody sees the ExternalId again: not after a reload, not in the list.
  await admin.reload();
  await hydrated(admin);
  await expect(admin.getByText(externalId)).toHaveCount(0);
  await admin.context().close();

  const lead = await (await browser.newContext()).newPage();
  await signIn(lead, 'lead');
  await lead.goto('/tiers/production-lite');
  await hydrated(lead);
  const picker = lead.getByLabel('Environment', { exact: true });
  await expect(picker.locator('option', { hasText: environment })).toHaveText(`${environment} (123456789012 / us-east-1)`);
  await picker.selectOption(environment);
  await expect(lead.locator('#environment-details')).toHaveText(
    'Deploys into account 123456789012 in us-east-1 as arn:aws:iam::123456789012:role/portal-deploy.',
  );
  await requestIn(lead, environment, 'A staging copy for the ticketing team');
  await expect(lead).toHaveURL(/\/requests\/\d+$/);
  await expect(lead.getByText(environment).first()).toBeVisible();
});
