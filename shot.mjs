import { chromium } from '@playwright/test';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-background-networking'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto('http://127.0.0.1:3000/signin');
await page.waitForSelector('body[data-hydrated=true]');
await page.getByLabel('User name').fill('eve');
await page.getByLabel('Password').fill('screenshot-password');
await page.getByRole('button', { name: 'Sign in' }).click();
await page.getByText('Signed in as eve').waitFor();
const shots = JSON.parse(process.argv[2]);
for (const [path, file, w, h] of shots) {
  await page.setViewportSize({ width: w, height: h });
  await page.goto('http://127.0.0.1:3000' + path);
  await page.waitForSelector('body[data-hydrated=true]').catch(() => {});
  await page.waitForTimeout(800);
  await page.screenshot({ path: `/tmp/${file}.png`, fullPage: false });
}
await browser.close();
