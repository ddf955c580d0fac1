import { test, expect, Browser, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { execFileSync } from 'node:child_process';
import { hydrated, signIn } from './helpers';

// Day two in the browser: three environments deployed through the API (the rollout pages have
// their own tests), then one left running, one changed outside the portal through the sandbox's
// AWS API and found drifted by a check asked for on its page, one given a sleep schedule on its
// page by an admin and put to sleep by the portal's sweep (every 2 s under scripts/test).

const origin = process.env.PORTAL_BASE_URL ?? 'http://127.0.0.1:3000';

async function signedIn(browser: Browser, name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, name);
  return page;
}

// A JSON API call with the page's session (from the portal's own origin, as its pages call it).
async function api(page: Page, method: 'GET' | 'POST' | 'PUT', path: string, data?: unknown) {
  const response = await page.request.fetch(path, { method, data, headers: { origin } });
  const body = await response.json().catch(() => ({}));
  expect(response.status(), `${method} ${path}: ${JSON.stringify(body)}`).toBeLessThan(300);
  return body;
}

// A script run with boto3 against the sandbox, as someone changing a resource outside the portal.
function outsideThePortal(script: string): string {
  const python = process.env.PORTAL_PYTHON;
  const endpoint = process.env.PORTAL_SANDBOX_ENDPOINT;
  expect(python && endpoint, 'scripts/test sets PORTAL_PYTHON and PORTAL_SANDBOX_ENDPOINT').toBeTruthy();
  const prelude = `import boto3, json\ndef client(n):\n    return boto3.client(n, endpoint_url='${endpoint}', region_name='us-east-1', aws_access_key_id='t', aws_secret_access_key='t')\n`;
  return execFileSync(python as string, ['-c', prelude + script], { encoding: 'utf8' }).trim();
}

async function statusOf(page: Page, environment: string): Promise<string> {
  return (await api(page, 'GET', `/api/environments/${environment}/status`)).status;
}

async function noSeriousAxeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`)).toEqual([]);
}

async function noSidewaysScroll(page: Page) {
  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, 'no sideways scroll at 375 px').toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1280, height: 800 });
}

test('the environments page shows one running, one drifted and one sleeping environment', async ({ browser }, testInfo) => {
  test.setTimeout(240_000);
  const stamp = Date.now().toString(36).slice(-5);
  const [steady, drifty, sleepy] = ['steady', 'drifty', 'sleepy'].map((n) => `${n}-${stamp}`);
  const root = await signedIn(browser, 'root');
  const lead = await signedIn(browser, 'lead');
  const alice = await signedIn(browser, 'alice');
  for (const name of [steady, drifty, sleepy]) {
    await api(root, 'POST', '/api/environments', {
      name, account_id: '123456789012', region: 'us-east-1',
      role_arn: 'arn:aws:iam::123456789012:role/portal-deploy', tiers: ['development'],
    });
    const request = await api(lead, 'POST', '/api/requests', {
      environment: name, tier: 'development', justification: 'Day two in the browser',
    });
    await api(alice, 'POST', `/api/requests/${request.id}/approve`, { comment: 'fine' });
  }
  for (const name of [steady, drifty, sleepy]) {
    await expect.poll(() => statusOf(lead, name), { timeout: 90_000 }).toBe('running');
  }

  // An admin gives `sleepy` awake hours that do not include now; the sweep puts it to sleep.
  const hour = new Date().getUTCHours();
  const from = (hour + 2) % 23;
  const at = (h: number) => `${String(h).padStart(2, '0')}:00`;
  await root.goto(`/environments/${sleepy}`);
  await hydrated(root);
  await root.getByText('Change its policy').click();
  await root.getByLabel('Sleeps outside its awake hours').check();
  const awake = root.getByRole('group', { name: 'Awake hours', exact: true });
  await awake.getByLabel('Time zone').fill('UTC');
  for (const day of ['Saturday', 'Sunday']) {
    await awake.getByRole('group', { name: 'Awake hours: days' }).getByLabel(day).check();
  }
  await awake.getByLabel('From').fill(at(from));
  await awake.getByLabel('Until').fill(at(from + 1));
  await root.getByRole('button', { name: 'Save policy' }).click();
  await expect(root.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await expect.poll(() => statusOf(lead, sleepy), { timeout: 90_000 }).toBe('sleeping');

  // The portal checks a new deployment for drift by itself (its policy: daily, and at once when
  // never checked): that check is over before anything is changed by hand.
  await expect.poll(async () => (await api(lead, 'GET', `/api/environments/${drifty}/status`)).drift?.status, { timeout: 60_000 }).toBe('in_sync');
  // Someone scales `drifty`'s auto scaling group by hand; a check asked for on its page finds it.
  outsideThePortal(
    `r = client('cloudformation').describe_stack_resources(StackName='${drifty}-compute')['StackResources']\n` +
      `g = [x['PhysicalResourceId'] for x in r if x['ResourceType'] == 'AWS::AutoScaling::AutoScalingGroup'][0]\n` +
      `client('autoscaling').set_desired_capacity(AutoScalingGroupName=g, DesiredCapacity=2)\nprint(g)`,
  );
  await lead.goto(`/environments/${drifty}`);
  await hydrated(lead);
  await lead.getByRole('button', { name: 'Check for drift now' }).click();
  await expect(lead.getByRole('status').filter({ hasText: 'changed or deleted outside the portal' })).toBeVisible({ timeout: 60_000 });
  await expect(lead.getByRole('heading', { level: 1 })).toContainText('drifted');
  // Drawn: the backend's box is marked changed, and says so in its title.
  const group = lead.locator('.environment-diagram g.resource[data-resource="AutoScalingGroup"]').first();
  await expect(group).toHaveAttribute('data-drift', 'modified');
  await expect(group.locator('rect').first()).toHaveCSS('fill', 'rgb(254, 226, 226)');
  await expect(group.locator('title').first()).toContainText('changed outside the portal');
  const changed = lead.getByRole('table', { name: 'Changed or deleted outside the portal' });
  await expect(changed.getByRole('row', { name: /AutoScalingGroup/ })).toContainText('/DesiredCapacity');
  await expect(lead.getByRole('button', { name: 'Request a repair (revert the drift)' })).toBeVisible();
  await noSeriousAxeViolations(lead);
  await noSidewaysScroll(lead);
  await lead.screenshot({ path: testInfo.outputPath('environment-drifted.png'), fullPage: true });

  // The list: each environment where it stands, read at a glance.
  await lead.goto('/environments');
  const table = lead.getByRole('table', { name: 'Registered environments' });
  for (const [name, status] of [[steady, 'running'], [drifty, 'drifted'], [sleepy, 'sleeping']]) {
    const row = table.getByRole('row', { name: new RegExp(`^${name}`) });
    await expect(row.locator('.env-status')).toHaveText(status);
  }
  await expect(table.getByRole('row', { name: new RegExp(`^${sleepy}`) })).toContainText('wakes');
  await expect(table.getByRole('row', { name: new RegExp(`^${drifty}`) })).toContainText('1 drifted');
  await noSeriousAxeViolations(lead);
  await noSidewaysScroll(lead);
  await lead.setViewportSize({ width: 375, height: 800 });
  // On a phone every row is a card: its status is in view without scrolling sideways.
  const card = table.getByRole('row', { name: new RegExp(`^${drifty}`) });
  await card.scrollIntoViewIfNeeded();
  await expect(card.locator('.env-status')).toBeInViewport({ ratio: 1 });
  await lead.screenshot({ path: testInfo.outputPath('environments-phone.png'), fullPage: true });

  // The sleeping one says what its schedule saves, and what keeps running.
  await lead.setViewportSize({ width: 1280, height: 800 });
  await lead.goto(`/environments/${sleepy}`);
  await expect(lead.getByRole('heading', { name: 'Sleep schedule' })).toBeVisible();
  await expect(lead.getByRole('table', { name: 'What keeps running (and billing)' })).toContainText('NatGatewayA');
  await noSeriousAxeViolations(lead);
  // The catalog links to where each tier runs.
  await lead.goto('/');
  await expect(lead.getByRole('link', { name: steady })).toHaveAttribute('href', `/environments/${steady}`);
});

test('a request with a lifetime says what it costs for that lifetime', async ({ browser }) => {
  test.setTimeout(120_000);
  const name = `brief-${Date.now().toString(36).slice(-5)}`;
  const root = await signedIn(browser, 'root');
  await api(root, 'POST', '/api/environments', {
    name, account_id: '123456789012', region: 'us-east-1',
    role_arn: 'arn:aws:iam::123456789012:role/portal-deploy', tiers: ['development'],
  });
  const lead = await signedIn(browser, 'lead');
  await lead.goto('/tiers/development');
  await hydrated(lead);
  await lead.getByLabel('Environment', { exact: true }).selectOption(name);
  await expect(lead.locator('#lifetime-hint')).toContainText('Empty: 14d. At most 30d.');
  await expect(lead.locator('.lifetime-cost')).toContainText('For 14d:');
  await lead.getByLabel('Lifetime', { exact: true }).fill('2d');
  await expect(lead.locator('.lifetime-cost')).toHaveText(/^For 2d: \$\d+\.\d\d \(at \$\d+\.\d\d a month\)\.$/);
  await lead.getByLabel('Justification').fill('A two-day trial of the box office');
  await lead.getByRole('button', { name: 'Request deployment' }).click();
  await expect(lead).toHaveURL(/\/requests\/\d+$/);
  await expect(lead.getByText(/It lives 2d from its approval, then is torn down unless extended: \$\d+\.\d\d for its lifetime\./)).toBeVisible();
  await lead.goto('/tiers/development');
  await hydrated(lead);
  await lead.getByLabel('Environment', { exact: true }).selectOption(name);
  await lead.getByLabel('Lifetime', { exact: true }).fill('40d');
  await lead.getByLabel('Justification').fill('Longer than this environment allows');
  await lead.getByRole('button', { name: 'Request deployment' }).click();
  await expect(lead.locator('#lifetime-error')).toContainText('beyond the maximum lifetime');
});
