import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { approveAs, registerEnvironment, requestIn, signIn } from './helpers';

// The sandbox behind the portal answers with 100 ms latency, so a rollout lasts a few seconds.
test('a lead watches all six phases complete live while an approver approves elsewhere', async ({ browser }, testInfo) => {
  const environment = `live-${Date.now().toString(36)}`;
  await (await registerEnvironment(browser, environment, ['Development'])).context().close();
  const lead = await (await browser.newContext()).newPage();
  await signIn(lead, 'lead');
  await lead.goto('/tiers/development');
  await expect(lead.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await requestIn(lead, environment, 'A development environment for the box office team');
  await expect(lead).toHaveURL(/\/requests\/\d+$/);
  const requestPath = new URL(lead.url()).pathname;
  await expect(lead.locator('body')).toHaveAttribute('data-hydrated', 'true');

  // A marker that a reload would wipe, and a record of every progress line the page announces.
  await lead.evaluate(() => {
    const w = window as any;
    w.__sameDocument = true;
    w.__announced = [];
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('.rollout-summary')) {
        const text = el.textContent ?? '';
        if (w.__announced[w.__announced.length - 1] !== text) w.__announced.push(text);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });

  await approveAs(browser, 'alice', requestPath, 'Go ahead', 'Development');

  const rollout = lead.getByRole('region', { name: /^Rollout #\d+: deployment of live-/ });
  await expect(rollout).toBeVisible({ timeout: 30_000 });
  await expect(rollout.getByRole('status')).toHaveText('Succeeded: all 6 phases done.', { timeout: 90_000 });
  for (let n = 1; n <= 6; n++) {
    await expect(rollout.getByRole('listitem', { name: new RegExp(`^Phase ${n}: .+ — done$`) })).toBeVisible();
  }
  await expect(rollout.getByRole('progressbar')).toHaveAttribute('value', '6');
  // Each card says when its phase starts: after the phases it imports from.
  await expect(rollout.getByRole('listitem', { name: /^Phase 1: / })).toContainText('Starts first');
  await expect(rollout.getByRole('listitem', { name: /^Phase 3: / })).toContainText('Starts when phases 1, 2 are done');
  await expect(rollout.getByRole('listitem', { name: /^Phase 6: / })).toContainText('Starts when phases 1, 2, 4 are done');

  const sameDocument = await lead.evaluate(() => (window as any).__sameDocument === true);
  expect(sameDocument, 'the page was never reloaded').toBe(true);
  const announced: string[] = await lead.evaluate(() => (window as any).__announced);
  const running = new Set(announced.filter((t) => /^Phase \d of 6 running/.test(t)).map((t) => t.slice(0, 7)));
  expect(running.size, `phases seen running live: ${announced.join(' | ')}`).toBeGreaterThanOrEqual(3);

  // The diagram colours each deployed resource as complete.
  const database = rollout.locator('g.resource[data-resource="Database"] rect').first();
  await expect(database).toHaveCSS('fill', 'rgb(220, 252, 231)');
  await lead.screenshot({ path: testInfo.outputPath('rollout-done.png'), fullPage: true });

  // The rollout's own page shows the same state after a reload, outputs included.
  await rollout.getByRole('link', { name: /^Rollout #\d+/ }).click();
  await expect(lead).toHaveURL(/\/rollouts\/\d+$/);
  await expect(lead.getByRole('status')).toHaveText('Succeeded: all 6 phases done.');
  await lead.getByRole('listitem', { name: /^Phase 1: / }).getByText(/^Outputs \(\d+\)$/).click();
  await expect(lead.getByText('VpcId')).toBeVisible();

  // Accessible, and usable at phone width without sideways scrolling of the page.
  const results = await new AxeBuilder({ page: lead }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`)).toEqual([]);
  await lead.setViewportSize({ width: 375, height: 800 });
  const overflow = await lead.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, 'no sideways scroll at 375 px').toBeLessThanOrEqual(0);

  // From here the lead can ask for the environment's teardown: a request of its own.
  await expect(lead.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await lead.getByText(`Tear down ${environment}`).click();
  await lead.getByLabel('Why tear it down').fill('The box office moved to the new environment');
  await lead.getByRole('button', { name: 'Request teardown' }).click();
  await expect(lead).toHaveURL(/\/requests\/\d+$/);
  await expect(lead.getByText('A teardown: approving it deletes every stack of this environment')).toBeVisible();
});

test('the settings page shows the account deployments go to', async ({ browser }) => {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, 'lead');
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Where deployments go' })).toBeVisible();
  await expect(page.getByText('123456789012', { exact: true })).toBeVisible();
  await expect(page.getByText('sandbox (local moto server, not AWS)')).toBeVisible();
});
