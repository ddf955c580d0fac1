// A page served from another local port (the same *site* as the portal, so the SameSite=Strict
// session cookie rides along) submits forms to the portal's server functions while an admin is
// signed in. The portal must refuse them: no user is created.
import { test, expect } from '@playwright/test';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { hydrated, signIn } from './helpers';

const portal = process.env.PORTAL_BASE_URL ?? 'http://127.0.0.1:3000';

// The attacker's page: a text/plain form whose body reads as JSON (the classic trick against
// JSON endpoints), and a plain urlencoded one; each submits itself.
function attackerPage(kind: 'text' | 'form'): string {
  const form =
    kind === 'text'
      ? `<form method="POST" action="${portal}/rpc/create_user" enctype="text/plain">
           <input name='{"name":"mallory","roles":["admin"],"password":"mallory-password-long","x":"' value='"}'>
         </form>`
      : `<form method="POST" action="${portal}/rpc/create_user">
           <input name="name" value="mallory2"><input name="roles" value="admin">
           <input name="password" value="mallory-password-long">
         </form>`;
  return `<!doctype html><html lang="en"><head><title>Free concert tickets</title></head>
    <body>${form}<script>document.forms[0].submit()</script></body></html>`;
}

let server: Server;
let attacker: string;

test.beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(attackerPage(req.url === '/form' ? 'form' : 'text'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  attacker = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('a page on another local port cannot create a user with the admin session', async ({ page }) => {
  await signIn(page, 'root');
  for (const path of ['/text', '/form']) {
    const refused = page.waitForResponse((r) => r.url().endsWith('/rpc/create_user'));
    await page.goto(attacker + path);
    const response = await refused;
    expect(response.status()).toBe(403);
    expect(await response.text()).toContain("not from the portal's own pages");
  }
  // Still signed in (nothing else happened), and nobody new on the Users page.
  await page.goto('/admin');
  await expect(page.getByRole('heading', { name: 'Users and roles' })).toBeVisible();
  await expect(page.getByRole('rowheader', { name: 'root' })).toBeVisible();
  await expect(page.getByText('mallory')).toHaveCount(0);
});

test('an admin disables a user, who can then no longer sign in, and enables them again', async ({ browser }) => {
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, 'root');
  await admin.goto('/admin');
  await hydrated(admin);
  const name = `vince${Date.now().toString(36)}`;
  await admin.getByLabel('User name').fill(name);
  await admin.getByLabel('Initial password (12 characters or more)').fill('vince-password-long');
  await admin.getByRole('group', { name: 'Roles' }).getByLabel('viewer').check();
  await admin.getByRole('button', { name: 'Add user' }).click();
  await admin.getByRole('button', { name: `Disable ${name}` }).click();
  await expect(admin.getByRole('button', { name: `Enable ${name}` })).toBeVisible();

  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto('/signin');
  await hydrated(visitor);
  await visitor.getByLabel('User name').fill(name);
  await visitor.getByLabel('Password').fill('vince-password-long');
  await visitor.getByRole('button', { name: 'Sign in' }).click();
  await expect(visitor.getByText(`the account \`${name}\` is disabled`)).toBeVisible();

  await admin.getByRole('button', { name: `Enable ${name}` }).click();
  await expect(admin.getByRole('button', { name: `Disable ${name}` })).toBeVisible();
  await visitor.getByRole('button', { name: 'Sign in' }).click();
  await expect(visitor.getByText(`Signed in as ${name}`)).toBeVisible();
});
