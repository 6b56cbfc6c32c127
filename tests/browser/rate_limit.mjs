#!/usr/bin/env node
// Browser test of the main page against nginx's rate limit on changes: a
// 429 is the form's (or the row's) trouble, said as such, not a wrong n.
//
//   node tests/browser/rate_limit.mjs BASE_URL
//
// BASE_URL is a stack without a worker whose nginx takes one change a
// minute per address with a burst of one (made by tests/integration/
// test_browser.py), so that the third POST or DELETE from here is refused
// 429, as it would be for a client sending more than 10 a second.
//
// Prints `ok - name` / `not ok - name` per check and `# ...` diagnostics;
// exits 1 if any check failed. $CHROMIUM overrides /usr/bin/chromium.

import { check, diag, finish, launchChromium, watchdog } from "./tap.mjs";

const BASE = (process.argv[2] || "").replace(/\/+$/, "");
if (!BASE) {
	check("usage: rate_limit.mjs BASE_URL", false);
	finish();
}
watchdog(60000, "the rate limit test finished in time");

const browser = await launchChromium();
const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
const page = await ctx.newPage();
page.setDefaultTimeout(20000);
const problems = [];
page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
page.on("console", (msg) => {
	/* The refused requests themselves are expected. */
	if (msg.type() === "error" && !/^Failed to load resource/.test(msg.text())) {
		problems.push(`console: ${msg.text()}`);
	}
});

try {
	await page.goto(BASE + "/");
	/* The changes this minute allows: another client's. */
	const made = [];
	for (const n of [5, 6]) {
		const res = await fetch(BASE + "/api/tasks", {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ n }),
		});
		made.push({ status: res.status, id: (await res.json()).id });
	}
	check("the first two changes of the minute are taken",
		made.every((m) => m.status === 201), JSON.stringify(made));
	const id = made[1].id;
	await page.waitForSelector(`#task-${id}`, { timeout: 10000 });

	const field = () => page.evaluate(() => {
		const n = document.getElementById("n");
		const m = document.getElementById("new-task-message");
		return {
			invalid: n.getAttribute("aria-invalid"),
			fieldError: document.getElementById("n-error").textContent.trim(),
			message: m && !m.hidden ? m.textContent.trim() : null,
			role: m ? m.getAttribute("role") : null,
			border: getComputedStyle(n).borderTopColor,
			value: n.value,
		};
	});
	await page.evaluate(() => document.getElementById("n").blur());
	await page.waitForTimeout(500);
	const calm = (await field()).border;
	const refused = page.waitForResponse((r) => r.url().endsWith("/api/tasks") &&
		r.request().method() === "POST");
	await page.fill("#n", "7");
	await page.locator("form#new-task button").click();
	const answer = await refused;
	check("the third is refused 429 with Retry-After",
		answer.status() === 429 && Number(answer.headers()["retry-after"]) > 0,
		JSON.stringify({ status: answer.status(), headers: answer.headers() }));
	await page.waitForFunction(() => {
		const m = document.getElementById("new-task-message");
		return m && !m.hidden && m.textContent.trim() !== "";
	}, null, { timeout: 10000 });
	await page.evaluate(() => document.getElementById("n").blur());
	await page.waitForTimeout(500); /* the border's colour fades in 0.15 s */
	const st = await field();
	diag(`form message: ${st.message}`);
	check("a 429 on the form is said for the whole form, as an alert",
		/too many changes/i.test(st.message || "") && st.role === "alert", JSON.stringify(st));
	check("and the field is not marked invalid: no aria-invalid, no error beside it",
		st.invalid === null && st.fieldError === "", JSON.stringify(st));
	check("and its border is not red", st.border === calm, `${st.border} (calm: ${calm})`);
	check("the field keeps what was typed", st.value === "7", st.value);
	check("no row is added", (await page.$$("#tasks tbody tr[data-id]")).length === 2);

	/* A row action refused the same way. */
	await page.locator(`#task-${id} form[action$="/delete"] button`).click();
	const flash = await page.waitForFunction(() => {
		const f = document.getElementById("flash");
		return f && !f.hidden && /too many changes/i.test(f.textContent) ? f.textContent : null;
	}, null, { timeout: 10000 }).then((h) => h.jsonValue(), () => null);
	diag(`row message: ${flash}`);
	check("a row action refused 429 says so above the table, and the row stays",
		flash !== null && (await page.$(`#task-${id}`)) !== null);
	check("no page errors", problems.length === 0, problems.join("\n"));
} catch (e) {
	check("the rate limit test ran to the end", false, e.stack || String(e));
}
await browser.close();
finish();
