// A Hearth process for the browser suite and for `just audit`: the real binary on
// 127.0.0.1 with a fresh SQLite database in a folder of its own. Node's standard
// library only, so tools/audit can use it without e2e's packages.
//
// Settings (all optional):
//   HEARTH_BIN   the binary to run (default: <cargo target dir>/debug/hearth)

import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");

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
  /** `keep`: leave the folder (database and log) behind on `dispose()`, for a look after. */
  /** `host`: the name in its public address (BASE_URL); it listens on 127.0.0.1 either way. */
  constructor(dir, port, { keep = false, host = "127.0.0.1" } = {}) {
    this.dir = dir;
    this.port = port;
    this.keep = keep;
    this.url = `http://${host}:${port}`;
    // Asked by address: `localhost` may resolve to ::1 first, where nothing listens.
    this.health = `http://127.0.0.1:${port}/healthz`;
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
        const res = await fetch(this.health, { signal: AbortSignal.timeout(1000) });
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

  /** Stops it and, unless it is to be kept, removes its folder. */
  async dispose() {
    await this.stop();
    if (this.keep) {
      console.log(`# kept ${this.dir}`);
    } else {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** A fresh Hearth: new folder (named `prefix…`), new database, free port, ready to use. */
export async function startHearth({ prefix = "hearth-e2e-", keep = false, host } = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return new Hearth(dir, await freePort(), { keep, host }).start();
}
