import { expect, Page, Browser } from '@playwright/test';

// Users made by scripts/test before the portal starts: <name> with password e2e-password-<name>.
export async function signIn(page: Page, name: string) {
  await page.goto('/signin');
  await hydrated(page);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(`e2e-password-${name}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText(`Signed in as ${name}`)).toBeVisible();
}

// The debug wasm bundle is large: on a busy two-core machine it can take more than the default 5 s.
export async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 15_000 });
}

// Approves a request as `name` in a browser context of their own, from their approvals queue,
// after seeing the requested tier's diagram.
export async function approveAs(browser: Browser, name: string, requestPath: string, comment: string, tierName: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, name);
  await page.goto('/approvals');
  await page.getByRole('link', { name: requestPath.replace('/requests/', '#') }).click();
  await hydrated(page);
  await expect(page.getByRole('group', { name: `${tierName} architecture` })).toBeVisible();
  await page.getByLabel('Comment').fill(comment);
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('button', { name: 'Approve' })).toHaveCount(0);
  await context.close();
}

// Registers an environment in the sandbox account on the admin page, as root; returns the page
// (still showing the ExternalId and trust policy, shown this once).
export async function registerEnvironment(browser: Browser, name: string, tiers: string[], domain?: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'root');
  await page.goto('/admin');
  await hydrated(page);
  const form = page.locator('form.register-environment');
  await form.getByLabel('Environment name').fill(name);
  await form.getByLabel('AWS account id').fill('123456789012');
  await form.getByLabel('Region').selectOption('us-east-1');
  await form.getByLabel('Deploy role ARN').fill('arn:aws:iam::123456789012:role/portal-deploy');
  if (domain) {
    await form.getByLabel('Domain (optional)').fill(domain);
  }
  for (const tier of tiers) {
    await form.getByLabel(tier, { exact: true }).check();
  }
  await form.getByRole('button', { name: 'Register environment' }).click();
  await expect(page.getByRole('heading', { name: `Registered ${name}` })).toBeVisible();
  return page;
}

// Picks a registered environment in a tier page's request form and asks for the deployment.
export async function requestIn(page: Page, environment: string, justification: string) {
  await page.getByLabel('Environment', { exact: true }).selectOption(environment);
  await page.getByLabel('Justification').fill(justification);
  await page.getByRole('button', { name: 'Request deployment' }).click();
}
