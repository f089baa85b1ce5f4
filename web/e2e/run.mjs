// End-to-end tests of the control panel in Debian's Chromium (playwright-core), against a running platform:
//   PLATFORM_WEB=http://127.0.0.1:3000 PLATFORM_GATEWAY=http://127.0.0.1:8080 PLATFORM_ADMIN_PASSWORD=… node e2e/run.mjs
// Elements are found by role and label, as a screen reader finds them. Screenshots of every page go to
// e2e/artifacts/ (E2E_ARTIFACTS); the measurements (first-load JavaScript per page, navigation to the first live
// dashboard update) are printed as `measure:` lines. Exits non-zero when a scenario fails.

import { mkdirSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const web = process.env.PLATFORM_WEB ?? "http://127.0.0.1:3000";
const gateway = process.env.PLATFORM_GATEWAY ?? "http://127.0.0.1:8080";
const adminPassword = process.env.PLATFORM_ADMIN_PASSWORD;
const artifacts = process.env.E2E_ARTIFACTS ?? new URL("./artifacts/", import.meta.url).pathname;
const only = process.env.E2E_ONLY;
if (!adminPassword) throw new Error("PLATFORM_ADMIN_PASSWORD is required");
mkdirSync(artifacts, { recursive: true });

const stamp = Date.now().toString(36);
const timeout = 90_000;

/** The gateway's REST API as a script would use it, to set up what a scenario needs. */
async function rest(method, path, body, token) {
  const response = await fetch(`${gateway}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
const login = async (username, password) => (await rest("POST", "/api/auth/login", { username, password })).accessToken;

/** The fixture runs with manual admission; a scenario run alone (E2E_ONLY) without the nodes scenario admits by REST. */
async function admitWaitingNodes(admin) {
  for (const node of (await rest("POST", "/api/actions/discover_nodes", {}, admin)).nodes ?? [])
    await rest("POST", `/api/compute/nodes/${node.nodeId}/admit`, {}, admin);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function signIn(page, username, password) {
  await page.goto(`${web}/login`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Pages" }).waitFor({ timeout });
}

async function shot(page, name) {
  await page.screenshot({ path: `${artifacts}/${name}.png`, fullPage: true });
}

const scenarios = [];
const scenario = (name, run, { admitsNodes = false } = {}) => scenarios.push({ name, run, admitsNodes });

scenario("an admin signs in and the dashboard updates live", async ({ page }) => {
  const headers = (await fetch(`${web}/login`)).headers;
  const policy = headers.get("content-security-policy") ?? "";
  if (!policy.includes(`connect-src 'self' ${gateway}`) || !policy.includes("frame-ancestors 'none'"))
    throw new Error(`the page's Content-Security-Policy does not name this gateway: ${policy}`);
  await signIn(page, "admin", adminPassword);
  const navigated = await page.evaluate(() => performance.now());
  await page.getByTestId("dashboard-updated").waitFor({ timeout });
  const first = await page.evaluate(() => window.platformFirstLiveUpdate);
  console.log(`measure: navigation to first live dashboard update ${(first - navigated).toFixed(0)} ms (sign-in to first /ws/metrics message)`);
  const before = await page.getByTestId("dashboard-updated").textContent();
  await page.waitForFunction((text) => document.querySelector('[data-testid="dashboard-updated"]')?.textContent !== text, before, { timeout: 10_000 });
  await shot(page, "dashboard");
});

scenario("an admin discovers the two waiting nodes, admits them, and sees them Ready", async ({ page }) => {
  await signIn(page, "admin", adminPassword);
  await page.getByRole("link", { name: "Nodes" }).click();
  const rows = page.getByRole("table", { name: "Nodes" }).locator("tbody tr");
  await page.getByRole("button", { name: "Discover nodes" }).click();
  const waiting = page.getByRole("region", { name: "Waiting for admission" });
  await waiting.waitFor({ timeout });
  await shot(page, "nodes-discover");
  // Both agents registered as pending (manual admission); the list follows node events, so admit until none waits.
  const deadline = Date.now() + timeout;
  const admitted = () => page.evaluate(() => [...document.querySelectorAll('table[aria-label="Nodes"] tbody td')].filter((td) => td.textContent === "schedulable").length);
  while ((await admitted()) < 2) {
    if (Date.now() > deadline) throw new Error("two nodes were not admitted");
    const admit = waiting.getByRole("button", { name: /^Admit / }).first();
    if ((await admit.count()) === 0) {
      await page.waitForTimeout(250);
      continue;
    }
    const label = await admit.textContent();
    await admit.click();
    await waiting.getByRole("button", { name: label, exact: true }).waitFor({ state: "detached", timeout });
  }
  await waiting.getByText("No node is waiting").waitFor({ timeout });
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Nodes"] tbody td.status-Ready').length >= 2, null, { timeout });
  if ((await rows.count()) < 2) throw new Error("fewer than two nodes listed");
  await shot(page, "nodes");
  await rows.first().getByRole("link").click();
  await page.getByRole("table", { name: "Processes" }).locator("tbody tr").first().waitFor({ timeout });
  await shot(page, "node-detail");
}, { admitsNodes: true });

scenario("a workload made with the form reaches active without a reload", async ({ page }) => {
  await signIn(page, "admin", adminPassword);
  await page.getByRole("link", { name: "Workloads" }).click();
  const form = page.getByRole("form", { name: "Create a workload" });
  // Bad input first: the form names the field.
  await form.getByLabel("Name").fill("Not A Name");
  await form.getByRole("button", { name: "Create workload" }).click();
  await form.getByText("lowercase letters").waitFor({ timeout: 5000 });
  const name = `e2e-${stamp}`;
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Command").fill("sleep");
  await form.getByLabel("Arguments").fill("600");
  await form.getByRole("button", { name: "Create workload" }).click();
  await page.waitForFunction((n) => document.querySelector(`[data-testid="state-${n}"]`)?.textContent === "active", name, { timeout });
  // Migrated to the other node, with its progress shown live from migration.* events.
  const row = page.getByRole("row", { name: `workload ${name}` });
  const from = await row.getByRole("cell").nth(2).textContent();
  await row.getByRole("button", { name: "Migrate" }).click();
  await row.getByLabel(`migration of ${name}`).getByText(/migration (migration\.)?completed/).waitFor({ timeout });
  await page.waitForFunction(([n, was]) => {
    const cells = document.querySelector(`tr[aria-label="workload ${n}"]`)?.querySelectorAll("td");
    return cells?.[2]?.textContent !== was && cells?.[1]?.querySelector("[data-testid]")?.textContent === "active";
  }, [name, from], { timeout });
  await shot(page, "workloads");
  await page.getByRole("row", { name: `workload ${name}` }).getByRole("button", { name: "Stop", exact: true }).click();
  await page.waitForFunction((n) => document.querySelector(`[data-testid="state-${n}"]`)?.textContent === "stopped", name, { timeout });
});

scenario("an operator adds an alert rule, sees it fire and acknowledges it", async ({ page }) => {
  const rule = `e2e-cpu-${stamp}`;
  await signIn(page, "admin", adminPassword);
  await page.getByRole("link", { name: "Monitoring" }).click();
  const form = page.getByRole("form", { name: "New alert rule" });
  await form.getByLabel("Rule name").fill(rule);
  await form.getByLabel("Rule metric").fill("node_cpu_usage_percent");
  await form.getByLabel("Rule aggregation").selectOption("max");
  await form.getByLabel("Comparator").selectOption(">=");
  await form.getByLabel("Threshold").fill("0");
  await form.getByLabel("For (seconds)").fill("0");
  await form.getByLabel("Summary").fill("always fires: an end-to-end test's alert");
  await form.getByRole("button", { name: "Add rule" }).click();
  await page.getByRole("table", { name: "Alert rules" }).getByRole("cell", { name: rule, exact: true }).waitFor({ timeout });
  const button = page.getByRole("button", { name: `Acknowledge ${rule}` });
  await button.waitFor({ timeout });
  page.once("dialog", (dialog) => dialog.accept("the e2e test is on it"));
  await button.click();
  await page.getByRole("row", { name: `alert ${rule}` }).getByText("by admin").waitFor({ timeout });
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: `Delete rule ${rule}` }).click();
  await page.getByRole("table", { name: "Alert rules" }).getByRole("cell", { name: rule, exact: true }).waitFor({ state: "detached", timeout });
  await page.getByRole("combobox", { name: "Metric" }).fill("node_cpu_usage_percent");
  await page.getByRole("button", { name: "Query" }).click();
  await page.getByRole("img", { name: /node_cpu_usage_percent/ }).waitFor({ timeout });
  await shot(page, "monitoring");
});

scenario("a job too big for any node waits with its blockers, is made smaller while pending, and completes", async ({ page }) => {
  await signIn(page, "admin", adminPassword);
  await page.getByRole("link", { name: "Scheduler" }).click();
  const form = page.getByRole("form", { name: "Submit a job" });
  const name = `e2e-job-${stamp}`;
  await form.getByLabel("Job name").fill(name);
  await form.getByLabel("CPU cores needed").fill("512");
  await form.getByLabel("Job command").fill("true");
  await form.getByRole("button", { name: "Submit job" }).click();
  await page.getByRole("button", { name: `Details of ${name}` }).click();
  const detail = page.getByRole("region", { name: `Job ${name}` });
  await detail.getByText("Why it waits").waitFor({ timeout });
  const edit = detail.getByRole("form", { name: `Edit job ${name}` });
  await edit.getByLabel("CPU cores needed").fill("-1");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await edit.getByText("cores: a number from 0.001 to 1000").waitFor({ timeout: 5000 });
  await edit.getByLabel("CPU cores needed").fill("0.5");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await page.waitForFunction((n) => document.querySelector(`[data-testid="job-status-${n}"]`)?.textContent?.startsWith("completed"), name, { timeout });
  await detail.getByText("completed").first().waitFor({ timeout });
  await detail.getByText(/updated by/).waitFor({ timeout });
  await page.getByRole("table", { name: "Priority factors" }).getByRole("cell", { name: "tier", exact: true }).waitFor({ timeout });
  await shot(page, "scheduler");
});

scenario("an admin sees every user's quota and changes one", async ({ page, admin }) => {
  const user = `quota${stamp}`;
  await rest("POST", "/api/auth/users", { username: user, password: "a long enough password", role: "operator" }, admin);
  await signIn(page, "admin", adminPassword);
  await page.getByRole("link", { name: "Sessions" }).click();
  const quotas = page.getByRole("table", { name: "Quotas of every user" });
  await quotas.getByRole("row", { name: `quota of ${user}` }).waitFor({ timeout });
  await page.getByRole("button", { name: `Change quota of ${user}` }).click();
  const form = page.getByRole("form", { name: `Quota of ${user}` });
  await form.getByLabel("Open sessions at once").fill("7");
  await form.getByLabel("Cores in all").fill("3");
  await form.getByRole("button", { name: "Save quota" }).click();
  await quotas.getByRole("row", { name: `quota of ${user}` }).getByRole("cell", { name: "0 of 7", exact: true }).waitFor({ timeout });
  const stored = await rest("GET", `/api/compute/quotas/${user}`, undefined, admin);
  if (stored.sessions !== 7 || stored.cpuCores !== 3) throw new Error(`the quota stored is ${JSON.stringify(stored)}`);
  await shot(page, "sessions");
});

scenario("a staker votes on an active proposal", async ({ page, admin }) => {
  const nodes = await rest("GET", "/api/compute/nodes", undefined, admin);
  const node = nodes.nodes[0].name;
  await rest("POST", "/api/tokenomics/validators", { node, commissionRate: "0.1" }, admin).catch(() => undefined);
  await rest("POST", "/api/tokenomics/mint", { idempotencyKey: `e2e-mint-${stamp}`, amount: "1000000" }, admin);
  await rest("POST", "/api/tokenomics/transfers", { idempotencyKey: `e2e-grant-${stamp}`, debitAccountId: "treasury", creditAccountId: "user:admin", amount: "1000000" }, admin);
  await signIn(page, "admin", adminPassword);
  await page.getByRole("link", { name: "Tokenomics" }).click();
  const stake = page.getByRole("form", { name: "Stake" });
  await stake.getByLabel("Validator").selectOption(node);
  await stake.getByLabel("Amount").fill("500000");
  await stake.getByRole("button", { name: "Stake" }).click();
  await page.getByRole("table", { name: "Delegations" }).getByRole("cell", { name: node, exact: true }).waitFor({ timeout });
  const proposal = page.getByRole("form", { name: "New proposal" });
  const title = `Raise the CPU reward ${stamp}`;
  await proposal.getByLabel("Title").fill(title);
  await proposal.getByLabel("Description").fill("An end-to-end test's proposal");
  await proposal.getByLabel("Parameter").selectOption("reward_per_cpu_second");
  await proposal.getByLabel("New value").fill("1200");
  await proposal.getByRole("button", { name: "Propose" }).click();
  const region = page.getByRole("region", { name: `Proposal ${title}` });
  await region.getByRole("button", { name: "Vote for" }).click({ timeout });
  await region.getByText(/For [1-9]/).waitFor({ timeout });
  const payee = `payee${stamp}`;
  await rest("POST", "/api/auth/users", { username: payee, password: "a long enough password", role: "viewer" }, admin);
  const send = page.getByRole("form", { name: "Send tokens" });
  await send.getByLabel("To user").fill(payee);
  await send.getByLabel("Amount to send").fill("250");
  await send.getByRole("button", { name: "Send" }).click();
  await page.getByRole("table", { name: "Transfers" }).getByRole("cell", { name: `user:${payee}` }).first().waitFor({ timeout });
  await shot(page, "tokenomics");
});

scenario("a VPN peer's WireGuard config downloads", async ({ page }) => {
  await signIn(page, "admin", adminPassword);
  await page.getByRole("link", { name: "Privacy" }).click();
  const name = `laptop-${stamp}`;
  const form = page.getByRole("form", { name: "Add a VPN peer" });
  await form.getByLabel("Peer name").fill(name);
  await form.getByRole("button", { name: "Add peer" }).click();
  const download = page.waitForEvent("download", { timeout });
  await page.getByRole("button", { name: `Download config of ${name}` }).click();
  const file = await download;
  const text = await (await file.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString());
  if (!text.includes("[Interface]") || !text.includes("PrivateKey")) throw new Error(`not a WireGuard config: ${text.slice(0, 200)}`);
  if (file.suggestedFilename() !== `${name}.conf`) throw new Error(`saved as ${file.suggestedFilename()}`);
  await shot(page, "privacy");
});

scenario("an admin sees the audit log; a viewer sees no action it cannot take", async ({ page, admin, context }) => {
  await signIn(page, "admin", adminPassword);
  await page.getByRole("link", { name: "Administration" }).click();
  await page.getByRole("table", { name: "Audit log" }).locator("tbody tr").first().waitFor({ timeout });
  const tokenForm = page.getByRole("form", { name: "Make a token" });
  await tokenForm.getByLabel("Token name").fill(`script-${stamp}`);
  await tokenForm.getByRole("button", { name: "Make token" }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="new-token"]')?.textContent?.startsWith("fogp_"), null, { timeout });
  await page.getByRole("table", { name: "Tokens" }).getByRole("cell", { name: `script-${stamp}`, exact: true }).waitFor({ timeout });
  await shot(page, "admin");
  const viewer = `viewer${stamp}`;
  await rest("POST", "/api/auth/users", { username: viewer, password: "a long enough password", role: "viewer" }, admin);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Username").waitFor({ timeout });
  await signIn(page, viewer, "a long enough password");
  await page.getByRole("link", { name: "Workloads" }).click();
  await page.getByRole("table", { name: "Workloads" }).waitFor({ timeout });
  for (const [what, locator] of [
    ["the create form", page.getByRole("button", { name: "Create workload" })],
    ["a lifecycle button", page.getByRole("button", { name: "Stop", exact: true })],
    ["the administration page", page.getByRole("link", { name: "Administration" })],
  ])
    if ((await locator.count()) > 0) throw new Error(`a viewer sees ${what}`);
  await page.getByRole("link", { name: "Nodes" }).click();
  await page.getByRole("table", { name: "Nodes" }).waitFor({ timeout });
  if ((await page.getByRole("button", { name: /^Cordon/ }).count()) > 0) throw new Error("a viewer sees Cordon");
  await shot(page, "viewer-workloads");
  await context.close();
});

scenario("every page renders at a phone's width, and first-load JavaScript is measured", async ({ page }) => {
  await signIn(page, "admin", adminPassword);
  for (const path of ["/", "/nodes", "/workloads", "/sessions", "/monitoring", "/scheduler", "/tokenomics", "/privacy", "/admin"]) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(([key, value]) => localStorage.setItem(key, value), ["platform.session", await page.evaluate(() => localStorage.getItem("platform.session"))]);
    const fresh = await context.newPage();
    // The page's own <script> chunks, not what Next prefetches for the links it shows.
    const sizes = new Map();
    fresh.on("response", async (response) => {
      if (response.request().resourceType() === "script") sizes.set(response.url(), await response.body().catch(() => Buffer.alloc(0)));
    });
    await fresh.goto(`${web}${path}`);
    await fresh.getByRole("heading", { level: 1 }).waitFor({ timeout });
    await fresh.waitForLoadState("load");
    const own = await fresh.evaluate(() => [...document.scripts].map((s) => s.src).filter(Boolean));
    const bodies = own.map((url) => sizes.get(url) ?? Buffer.alloc(0));
    const raw = bodies.reduce((sum, body) => sum + body.length, 0);
    const gzipped = bodies.reduce((sum, body) => sum + gzipSync(body).length, 0);
    console.log(`measure: first-load JavaScript ${path} ${(gzipped / 1024).toFixed(1)} KiB gzipped (${(raw / 1024).toFixed(1)} KiB raw, ${own.length} scripts)`);
    await fresh.setViewportSize({ width: 390, height: 844 });
    await shot(fresh, `phone${path === "/" ? "-dashboard" : path.replaceAll("/", "-")}`);
    await context.close();
  }
});

let failed = 0;
const chosen = scenarios.filter(({ name }) => !only || name.includes(only));
for (const { name, run } of chosen) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  const started = Date.now();
  try {
    const admin = await login("admin", adminPassword);
    if (only && !chosen.some((s) => s.admitsNodes)) await admitWaitingNodes(admin);
    await run({ page, context, admin });
    console.log(`ok: ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed++;
    if (name === chosen[0]?.name && !only) console.log("FAIL: signing in failed, so the other scenarios are not tried");
    console.log(`FAIL: ${name}: ${error instanceof Error ? error.stack : error}`);
    await page.screenshot({ path: `${artifacts}/failed-${name.replace(/[^a-z0-9]+/gi, "-")}.png`, fullPage: true }).catch(() => undefined);
    writeFileSync(`${artifacts}/failed-${name.replace(/[^a-z0-9]+/gi, "-")}.html`, await page.content().catch(() => ""));
  } finally {
    await context.close().catch(() => undefined);
  }
  if (failed && name === chosen[0]?.name && !only) break;
}
await browser.close();
console.log(failed ? `${failed} of ${chosen.length} scenarios failed` : `all ${chosen.length} scenarios passed`);
process.exit(failed ? 1 : 0);
