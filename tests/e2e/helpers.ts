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

export async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
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
