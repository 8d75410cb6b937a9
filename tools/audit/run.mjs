// `just audit`: Lighthouse's accessibility and best-practices categories on Hearth's
// pages, in Debian's chromium, against the real binary on 127.0.0.1 with a fresh
// SQLite database. Prints a markdown table of the scores and, for every page under
// 100, the audits that failed; exits 1 if any score is under the threshold.
//
// Settings (all optional):
//   HEARTH_BIN        the binary to run (default: <cargo target dir>/debug/hearth)
//   CHROME_PATH       the browser (default: /usr/bin/chromium)
//   AUDIT_MIN_SCORE   the lowest passing score, 0–100 (default: 95)
//   AUDIT_OUT         where the JSON reports go (default: tools/audit/reports/)
//   AUDIT_KEEP=1      keep the server's folder (database and log) for a look after

import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { startHearth } from "../../e2e/hearth.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = resolve(process.env.AUDIT_OUT ?? join(HERE, "reports"));
const MIN_SCORE = Number(process.env.AUDIT_MIN_SCORE ?? 95);
const CHROME_PATH = process.env.CHROME_PATH ?? "/usr/bin/chromium";
const CHROME_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Even with the flags above, Chromium looks up Google's hosts (accounts, update,
  // clients2) at start; resolve every name but 127.0.0.1 to "not found" so that
  // nothing leaves this machine, not even a DNS query.
  "--host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'",
].join(" ");
const CATEGORIES = ["accessibility", "best-practices"];
const LIGHTHOUSE = join(HERE, "node_modules", "lighthouse", "cli", "index.js");

/** The pages to audit: a label, a path, and whether to send the session cookie. */
const PAGES = [
  { name: "Landing", path: "/", signedIn: false },
  { name: "Sign in", path: "/login", signedIn: false },
  { name: "Sign up", path: "/signup", signedIn: false },
  { name: "Dashboard", path: "/dashboard", signedIn: true },
  { name: "Chat", path: "/chat", signedIn: true },
];

/** One HTTP request to 127.0.0.1, redirects not followed. */
function http(url, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () =>
        resolvePromise({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timed out: ${method} ${url}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Creates the first account (the administrator) and returns its session cookie. */
async function signUp(url) {
  const form = new URLSearchParams({
    name: "Ada Lovelace",
    email: "ada@example.org",
    password: "a long audit passphrase",
  }).toString();
  const res = await http(`${url}/signup`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      "Content-Length": Buffer.byteLength(form),
      "Sec-Fetch-Site": "same-origin",
    },
    body: form,
  });
  const cookie = (res.headers["set-cookie"] ?? [])
    .map((line) => line.split(";")[0])
    .find((pair) => pair.startsWith("id=") && pair.length > 3);
  if (res.status !== 303 || !cookie) {
    throw new Error(`sign-up answered ${res.status} without a session cookie:\n${res.body.slice(0, 500)}`);
  }
  // A message in the general room, so the chat page is audited with one in it.
  const message = new URLSearchParams({ body: "Hello, **Hearth**: the audit was here." }).toString();
  const sent = await http(`${url}/chat/general/messages`, {
    method: "POST",
    headers: {
      Cookie: cookie,
      "Content-Type": "application/x-www-form-urlencoded",
      "Content-Length": Buffer.byteLength(message),
      "Sec-Fetch-Site": "same-origin",
    },
    body: message,
  });
  if (sent.status >= 400) throw new Error(`posting a chat message answered ${sent.status}`);
  return cookie;
}

/** Runs the Lighthouse CLI on one page and returns its parsed JSON report. */
async function lighthouse(url, file, cookie) {
  const args = [
    LIGHTHOUSE,
    url,
    `--only-categories=${CATEGORIES.join(",")}`,
    "--preset=desktop",
    `--chrome-flags=${CHROME_FLAGS}`,
    "--output=json",
    `--output-path=${file}`,
    "--no-enable-error-reporting",
    "--quiet",
  ];
  if (cookie) args.push(`--extra-headers=${JSON.stringify({ Cookie: cookie })}`);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, CHROME_PATH },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`lighthouse exited ${code} on ${url}`);
  return JSON.parse(readFileSync(file, "utf8"));
}

/** The audits of a category that did not pass, with what Lighthouse says about them. */
function failures(report, category) {
  return report.categories[category].auditRefs
    .filter((ref) => ref.weight > 0 || report.audits[ref.id].scoreDisplayMode === "binary")
    .map((ref) => report.audits[ref.id])
    .filter((audit) => audit.score !== null && audit.score < 1)
    .map((audit) => {
      const items = audit.details?.items ?? [];
      const where = items
        .slice(0, 5)
        .map((item) => item.node?.snippet ?? item.source?.url ?? item.description ?? item.url ?? JSON.stringify(item))
        .map((text) => `      - ${String(text).replace(/\s+/g, " ").slice(0, 200)}`);
      return [`    - ${audit.id} (${audit.title}): score ${audit.score}`, ...where].join("\n");
    });
}

const score = (report, category) => Math.round(report.categories[category].score * 100);

async function main() {
  if (!existsSync(LIGHTHOUSE)) throw new Error("lighthouse is not installed: run `npm ci --prefix tools/audit`");
  mkdirSync(OUT, { recursive: true });
  const hearth = await startHearth({ prefix: "hearth-audit-", keep: process.env.AUDIT_KEEP === "1" });
  const rows = [];
  const notes = [];
  try {
    const cookie = await signUp(hearth.url);
    for (const page of PAGES) {
      const slug = page.name.toLowerCase().replace(/\W+/g, "-");
      const file = join(OUT, `${slug}.json`);
      console.error(`auditing ${page.name} (${page.path}${page.signedIn ? ", signed in" : ""})…`);
      const report = await lighthouse(`${hearth.url}${page.path}`, file, page.signedIn ? cookie : null);
      const finalUrl = new URL(report.finalDisplayedUrl ?? report.finalUrl);
      if (finalUrl.pathname !== page.path) {
        throw new Error(`${page.name}: ended at ${finalUrl.pathname}, not ${page.path} (not signed in?)`);
      }
      const scores = CATEGORIES.map((category) => score(report, category));
      rows.push({ page, scores });
      for (const category of CATEGORIES) {
        const failed = failures(report, category);
        if (failed.length) notes.push(`- ${page.name}, ${category}:\n${failed.join("\n")}`);
      }
    }
  } finally {
    await hearth.dispose();
  }

  console.log(`| page | path | accessibility | best practices |`);
  console.log(`|---|---|---:|---:|`);
  for (const { page, scores } of rows) {
    const path = page.signedIn ? `${page.path} (signed in)` : page.path;
    console.log(`| ${page.name} | \`${path}\` | ${scores[0]} | ${scores[1]} |`);
  }
  if (notes.length) {
    console.log(`\nAudits that did not pass:\n${notes.join("\n")}`);
  }
  console.log(`\nReports: ${OUT}/*.json`);
  const low = rows.filter(({ scores }) => scores.some((s) => s < MIN_SCORE));
  if (low.length) {
    console.log(`\nUnder ${MIN_SCORE}: ${low.map(({ page }) => page.name).join(", ")}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
