import { test, expect } from '@playwright/test';

// scripts/test runs oidc-provider-mock (PORTAL_OIDC_ISSUER) and configures the portal with it:
// group portal-approvers → approver, portal-leads → requester.
const issuer = process.env.PORTAL_OIDC_ISSUER ?? '';

test('single sign-on: through the provider and back, with roles from the groups', async ({ page, request }) => {
  expect(issuer, 'scripts/test sets PORTAL_OIDC_ISSUER').not.toBe('');
  const sub = `sso-${Date.now().toString(36)}`;
  const put = await request.put(`${issuer}/users/${sub}`, {
    data: { preferred_username: `grace-${sub}`, groups: ['portal-approvers', 'unrelated'] },
  });
  expect(put.status()).toBe(204);

  await page.goto('/signin');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('link', { name: 'Sign in with Test SSO' }).click();
  // The provider's own page: who to sign in as.
  await expect(page).toHaveURL(new RegExp(`^${issuer}/oauth2/authorize`));
  await page.locator('input[name="sub"]').fill(sub);
  await page.getByRole('button', { name: 'Authorize' }).click();

  // Back at the portal, signed in (the SameSite=Strict cookie is sent after the hop back).
  await expect(page.getByText(`Signed in as grace-${sub}`)).toBeVisible();
  await expect(page.getByRole('link', { name: 'Approvals' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
});

test('single sign-on refuses someone whose groups grant no role, and says why', async ({ page, request }) => {
  const sub = `nobody-${Date.now().toString(36)}`;
  await request.put(`${issuer}/users/${sub}`, { data: { preferred_username: sub, groups: ['marketing'] } });
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in with Test SSO' }).click();
  await page.locator('input[name="sub"]').fill(sub);
  await page.getByRole('button', { name: 'Authorize' }).click();
  await expect(page.getByRole('alert')).toContainText('none of your groups (marketing) grants a role');
  await expect(page.getByRole('link', { name: 'Back to sign-in' })).toBeVisible();
});
