// Playwright configuration for the portal's browser tests (run by scripts/test, which starts the
// portal and sets PORTAL_BASE_URL). It drives Debian's chromium (CHROMIUM_PATH, exported by
// scripts/lib.sh): Playwright's own browser download is never used (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
import { defineConfig, devices } from '@playwright/test';

const baseURL = process.env.PORTAL_BASE_URL ?? 'http://127.0.0.1:3000';
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export default defineConfig({
  testDir: '.', // tests/e2e (relative to this file)
  outputDir: 'artifacts', // screenshots and traces of failed tests: tests/e2e/artifacts (gitignored)
  reporter: 'list',
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // Tests that register their environment on the admin page first need more than the default 30 s.
  timeout: 60_000,
  use: {
    baseURL,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--no-first-run',
            '--disable-quic',
            '--disable-sync',
          ],
        },
      },
    },
  ],
});
