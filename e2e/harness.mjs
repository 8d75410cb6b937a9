// The browser suite's harness: the real Hearth binary on 127.0.0.1 with a fresh
// SQLite database, Debian's chromium driven by playwright-core, and the few steps
// every journey shares (sign up, sign in, open a chat, screenshots, axe).
//
// Settings (all optional):
//   HEARTH_BIN          the binary to run (default: <cargo target dir>/debug/hearth)
//   CHROMIUM            the browser (default: /usr/bin/chromium)
//   HEARTH_E2E_KEEP=1   keep each server's folder (database and log) for a look after

import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Screenshots and the axe summary land here on every run (`target/` is gitignored). */
export const OUT = join(REPO, "target", "e2e");

let binary;
/** The debug binary `cargo build` made, wherever cargo's target directory is. */
export function hearthBinary() {
  if (binary) return binary;
  if (process.env.HEARTH_BIN) {
    binary = process.env.HEARTH_BIN;
  } else {
    const meta = JSON.parse(
      execFileSync("cargo", ["metadata", "--format-version", "1", "--no-deps"], {
        cwd: REPO,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      }),
    );
    binary = join(meta.target_directory, "debug", "hearth");
  }
  if (!existsSync(binary)) {
    throw new Error(`no Hearth binary at ${binary}: run \`cargo build\` first (or set HEARTH_BIN)`);
  }
  return binary;
}

/** A port nobody is listening on right now. */
export async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

/**
 * One Hearth process with its own database folder. `restart()` starts it again on
 * the same database and port, as a deploy or a crash would.
 */
export class Hearth {
  constructor(dir, port) {
    this.dir = dir;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.log = join(dir, "hearth.log");
    this.child = null;
    this.exited = null;
  }

  /** Starts the binary and waits until `/healthz` says it is ready. */
  async start() {
    const out = openSync(this.log, "a");
    const child = spawn(hearthBinary(), ["serve"], {
      cwd: this.dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: `sqlite://${join(this.dir, "db", "hearth.db")}`,
        BIND: `127.0.0.1:${this.port}`,
        BASE_URL: this.url,
        BCRYPT_COST: "4",
        // Every browser in the suite comes from 127.0.0.1.
        RATE_LIMIT_PER_ADDRESS: "10000",
        RATE_LIMIT_PER_ACCOUNT: "10000",
        RUST_LOG: "warn",
        // Anyone may sign up: the journeys need several people without invites.
        SIGNUP: "open",
      },
      stdio: ["ignore", out, out],
    });
    closeSync(out);
    // If this test process dies without stopping it, the server goes with it.
    const orphan = () => child.kill("SIGKILL");
    process.once("exit", orphan);
    child.once("exit", () => process.off("exit", orphan));
    this.child = child;
    this.exited = new Promise((done) => child.once("exit", (code, signal) => done({ code, signal })));
    let gone = null;
    this.exited.then((how) => (gone = how));

    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (gone) {
        throw new Error(`Hearth exited on start (${JSON.stringify(gone)}):\n${this.logTail()}`);
      }
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return this;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    child.kill("SIGKILL");
    throw new Error(`Hearth did not answer /healthz within 30 s:\n${this.logTail()}`);
  }

  /** SIGTERM: the graceful stop (sockets closed with 1012), as Fly does on deploy. */
  async stop() {
    await this.#end("SIGTERM", 15_000);
  }

  /** SIGKILL: the process is gone at once, sockets and all, as in a crash. */
  async kill() {
    await this.#end("SIGKILL", 5_000);
  }

  /** Stops the process (`how`: "SIGKILL" or "SIGTERM") and starts it again, same db and port. */
  async restart(how = "SIGKILL") {
    await this.#end(how, 15_000);
    await this.start();
  }

  async #end(signal, wait) {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    let timer;
    const late = new Promise((done) => (timer = setTimeout(() => done("timeout"), wait)));
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      child.kill("SIGKILL");
      await this.exited;
      throw new Error(`Hearth did not stop within ${wait} ms of ${signal}:\n${this.logTail()}`);
    }
  }

  logTail(lines = 40) {
    try {
      return readFileSync(this.log, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Stops it and, unless HEARTH_E2E_KEEP is set, removes its folder. */
  async dispose() {
    await this.stop();
    if (process.env.HEARTH_E2E_KEEP) {
      console.log(`# kept ${this.dir}`);
    } else {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** A fresh Hearth: new folder, new database, free port, ready to use. */
export async function startHearth() {
  const dir = mkdtempSync(join(tmpdir(), "hearth-e2e-"));
  return new Hearth(dir, await freePort()).start();
}

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Debian's chromium with a fresh profile. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
}

let people = 0;
/** Someone new, with an email no other test uses. */
export function person(name) {
  people += 1;
  const tag = `${process.pid}-${people}`;
  return {
    name,
    email: `${name.toLowerCase().replace(/\W+/g, ".")}.${tag}@example.test`,
    password: `ember lantern ${tag} kettle`,
  };
}

/** Waits for the page to be at `pathname` (and, if given, that exact search). */
export async function waitForPath(page, pathname, search) {
  await page.waitForURL((url) => url.pathname === pathname && (search === undefined || url.search === search), {
    timeout: 10_000,
  });
}

/** Fills in /signup and sends it; ends on the dashboard. */
export async function signUp(page, app, who) {
  await page.goto(`${app.url}/signup`);
  await page.fill("#field-name", who.name);
  await page.fill("#field-email", who.email);
  await page.fill("#field-password", who.password);
  await page.click('form[action="/signup"] button[type="submit"]');
  await waitForPath(page, "/dashboard");
}

/** Signs in from wherever the page is (the login form must be on screen). */
export async function fillSignIn(page, who) {
  await page.fill("#field-email", who.email);
  await page.fill("#field-password", who.password);
  await page.click('form[action="/login"] button[type="submit"]');
}

/** Presses "Sign out" in the header; ends on /login. */
export async function signOut(page) {
  await page.click('form[action="/logout"] button[type="submit"]');
  await waitForPath(page, "/login");
}

/** A context (its own cookie jar) with a signed-up person in it. */
export async function newPersonContext(browser, app, who, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await signUp(page, app, who);
  const me = await (await page.request.get(`${app.url}/api/me`)).json();
  return { context, page, who, id: me.id };
}

/**
 * Resolves with the next chat socket `page` opens that goes live: the server has
 * answered its resume frame (the reply ends with the cleared #connection-status).
 * Attempts that fail on the way (server down, offline) are skipped. Call before
 * the navigation or reconnection.
 */
export function nextLiveSocket(page, timeout = 30_000) {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      page.off("websocket", onSocket);
      fail(new Error(`no live chat socket within ${timeout} ms`));
    }, timeout);
    function onSocket(ws) {
      if (!new URL(ws.url()).pathname.endsWith("/ws")) return;
      ws.on("framereceived", function ready({ payload }) {
        if (String(payload).includes('id="connection-status"')) {
          ws.off("framereceived", ready);
          page.off("websocket", onSocket);
          clearTimeout(timer);
          done(ws);
        }
      });
    }
    page.on("websocket", onSocket);
  });
}

/** `promise`, or a rejection naming `what` if it has not settled within `ms`. */
export function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Opens a chat room and waits until its socket is live; returns the socket. */
export async function openChat(page, app, path = "/chat") {
  const live = nextLiveSocket(page);
  await page.goto(`${app.url}${path}`);
  return live;
}

/** Types a message in the composer and sends it with Enter, as people do. */
export async function say(page, text) {
  await page.fill("#composer-body", text);
  await page.press("#composer-body", "Enter");
}

/** The texts of the messages on screen, in order. */
export function messageTexts(page) {
  return page.locator("#messages article.message .body").allTextContents();
}

/** Waits until a message with exactly this text is on screen. */
export async function waitForMessage(page, text, timeout = 5_000) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll("#messages article.message .body")].some((el) => el.textContent === t),
    text,
    { timeout },
  );
}

/** Collects console errors and uncaught exceptions of a page. */
export function watchConsole(page) {
  const errors = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`exception: ${err.message}`));
  return errors;
}

export const WIDTHS = [
  { width: 1280, height: 800 },
  { width: 375, height: 812 },
];

/** Screenshots of the page at every width, as target/e2e/<name>-<width>.png. */
export async function screenshots(page, name) {
  mkdirSync(OUT, { recursive: true });
  const before = page.viewportSize();
  for (const size of WIDTHS) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(OUT, `${name}-${size.width}.png`), fullPage: true });
  }
  if (before) await page.setViewportSize(before);
}

/** axe's violations on the page as it is now, one readable line each. */
export async function axeViolations(page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help}\n` +
      v.nodes.map((n) => `    ${n.target.join(" ")}: ${n.failureSummary?.replace(/\n\s*/g, " ")}`).join("\n"),
  );
}
