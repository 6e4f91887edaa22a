// Package browsertest drives the web app (pkg/webapp) in a real headless Chromium: log in through the tenant's
// login page, call the API with and without the token, log out. The test runs in-process against the stand-in
// tenant, the API and the app on loopback ports, or against a running stack when E2E_APP_URL names the app
// (scripts/e2e.sh does that for docker compose).
//
// Environment: E2E_APP_URL (test that app instead of starting one), CHROMIUM_PATH (the browser binary; default
// the first of chromium, chromium-browser, google-chrome, google-chrome-stable, chrome, headless-shell on PATH),
// TOKENCHECK_REQUIRE_BROWSER=1 (a missing browser fails instead of skipping, as in CI), ARTIFACTS_DIR (where the
// screenshot app.png goes; default a new directory under the system temp dir, printed).
package browsertest
