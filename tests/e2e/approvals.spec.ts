import { test, expect } from '@playwright/test';
import { approveAs, registerEnvironment, requestIn, signIn } from './helpers';

test('a lead requests Full Production, two approvers sign off, the history shows it in order', async ({ browser }, testInfo) => {
  const environment = `e2e-${Date.now().toString(36)}`;
  await (await registerEnvironment(browser, environment, ['Full Production'])).context().close();
  const lead = await (await browser.newContext()).newPage();
  await signIn(lead, 'lead');
  await lead.goto('/tiers/full-production');
  await expect(lead.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await requestIn(lead, environment, 'Spring season launch needs the full setup');
  await expect(lead).toHaveURL(/\/requests\/\d+$/);
  const requestPath = new URL(lead.url()).pathname;
  await expect(lead.getByText('0 of 2 approvals', { exact: false })).toBeVisible();

  await approveAs(browser, 'alice', requestPath, 'Costs match the plan', 'Full Production');
  await approveAs(browser, 'bob', requestPath, 'Agreed', 'Full Production');

  await lead.reload();
  await expect(lead.getByText('2 of 2 approvals', { exact: false })).toBeVisible();
  const timeline = lead.getByRole('list').filter({ hasText: 'request.created' });
  await expect(timeline.getByRole('listitem')).toHaveText([
    /lead request\.created/,
    /alice request\.approval: Costs match the plan/,
    /bob request\.approval: Agreed/,
    /portal request\.approved/,
  ]);
  await lead.screenshot({ path: testInfo.outputPath('approved-request.png'), fullPage: true });

  await lead.goto(`/requests?environment=${environment}`);
  const row = lead.getByRole('row').filter({ hasText: environment });
  await expect(row).toContainText('approved');
  await expect(row).toContainText('2 of 2');
});

test('an environment that does not allow the tier says so before and after asking', async ({ browser }) => {
  const environment = `lite-${Date.now().toString(36)}`;
  await (await registerEnvironment(browser, environment, ['Production Lite'])).context().close();
  const page = await (await browser.newContext()).newPage();
  await signIn(page, 'lead');
  await page.goto('/tiers/development');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Environment', { exact: true }).selectOption(environment);
  await expect(page.locator('#environment-details')).toContainText('It does not allow this tier');
  await requestIn(page, environment, 'Testing the error path here');
  await expect(page.getByRole('alert').filter({ hasText: 'allows production-lite, not development' })).toBeVisible();
  await expect(page).toHaveURL(/\/tiers\/development$/);
});

test('a wrong password is refused without saying which part was wrong', async ({ page }) => {
  await page.goto('/signin');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('User name').fill('lead');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'wrong user name or password' })).toBeVisible();
});

test('an admin adds a user with a role, and nobody else sees the admin page', async ({ browser }) => {
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, 'root');
  await admin.getByRole('link', { name: 'Users' }).click();
  await expect(admin.getByRole('heading', { level: 1, name: 'Users and roles' })).toBeVisible();
  await expect(admin.getByRole('checkbox', { name: 'approver role for alice' })).toBeChecked();
  await expect(admin.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const name = `erin${Date.now().toString(36)}`;
  await admin.getByLabel('User name').fill(name);
  await admin.getByLabel('Initial password (12 characters or more)').fill('erin-password-long');
  await admin.getByRole('group', { name: 'Roles' }).getByLabel('approver').check();
  await admin.getByRole('button', { name: 'Add user' }).click();
  await expect(admin.getByRole('checkbox', { name: `approver role for ${name}` })).toBeChecked();
  await expect(admin.getByRole('checkbox', { name: `viewer role for ${name}` })).not.toBeChecked();

  const lead = await (await browser.newContext()).newPage();
  await signIn(lead, 'lead');
  await expect(lead.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await lead.goto('/admin');
  await expect(lead.getByRole('alert')).toContainText('may not manage users');
});
