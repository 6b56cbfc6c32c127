// tap.mjs: what the browser tests share: their `ok - name` / `not ok - name`
// lines and `# ...` diagnostics, a watchdog, and starting Debian's Chromium
// through playwright-core ($CHROMIUM overrides /usr/bin/chromium).

import { existsSync } from "node:fs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

let passed = 0;
let failed = 0;

export function diag(text) {
	for (const line of String(text).split("\n")) {
		console.log("# " + line);
	}
}

export function check(name, cond, detail) {
	if (cond) {
		passed++;
		console.log("ok - " + name);
	} else {
		failed++;
		console.log("not ok - " + name);
		if (detail !== undefined && detail !== "") {
			diag(detail);
		}
	}
	return !!cond;
}

/* Prints the counts and exits, 1 if any check failed. */
export function finish() {
	diag(`${passed} passed, ${failed} failed`);
	process.exit(failed > 0 ? 1 : 0);
}

/* Fails the check `name` and finishes if the test still runs after ms. */
export function watchdog(ms, name) {
	const timer = setTimeout(() => {
		check(name, false, `still running after ${ms / 1000} s`);
		finish();
	}, ms);
	timer.unref();
}

/*
 * Starts headless Chromium, or fails a check saying what is missing and
 * finishes. launch() gives the browser a fresh, temporary user-data dir
 * of its own (removed on close); a persistent profile is never used.
 */
export async function launchChromium() {
	let chromium;
	try {
		({ chromium } = await import("playwright-core"));
	} catch (e) {
		check("playwright-core is installed", false,
			`${e.message}\nrun: (cd tests/browser && npm ci)`);
		finish();
	}
	if (!existsSync(CHROMIUM)) {
		check("chromium is installed", false,
			`${CHROMIUM} not found; apt-get install -y chromium`);
		finish();
	}
	try {
		return await chromium.launch({
			executablePath: CHROMIUM,
			headless: true,
			args: [
				"--no-sandbox",
				"--disable-gpu",
				"--disable-quic",
				"--no-first-run",
				"--disable-background-networking",
				"--disable-component-update",
				"--disable-sync",
			],
			timeout: 60000,
		});
	} catch (e) {
		check("chromium starts", false, e.message);
		finish();
	}
	return null;
}
