#!/usr/bin/env node
// Browser test of the search for a string of digits: the form on the main
// page answers in place with the script, on a page of its own without it;
// a refused string is said beside the field, which keeps what was typed;
// the links to the occurrences before and after stay in place; the button
// opens a task page marking the place.
//
//   node tests/browser/search_test.mjs BASE_URL [OUT_DIR]
//
// BASE_URL is a stack with a worker (tests/integration/test_browser.py);
// the test asks for 20,000 decimals first, so that there is something to
// search. Prints `ok - name` / `not ok - name` per check and `# ...`
// diagnostics; exits 1 if any check failed.

import { resolve } from "node:path";
import { check, diag, finish, launchChromium, watchdog } from "./tap.mjs";

const BASE = (process.argv[2] || "").replace(/\/+$/, "");
const OUT_DIR = resolve(process.argv[3] || "tests/out/browser");
if (!BASE) {
	check("usage: search_test.mjs BASE_URL [OUT_DIR]", false);
	finish();
}
watchdog(120000, "the search test finished in time");

/* Asks for 20,000 decimals and waits until the search covers them. */
async function storeReady() {
	await fetch(BASE + "/api/tasks", {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify({ n: 20000 }),
	});
	for (let i = 0; i < 300; i++) {
		const res = await fetch(BASE + "/api/search?q=14159");
		if (res.status === 200 && (await res.json()).searched >= 20000) {
			return true;
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	return false;
}

const browser = await launchChromium();
const problems = [];
function watch(page) {
	page.setDefaultTimeout(20000);
	page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
	page.on("console", (msg) => {
		/* A refused string's 400 is expected. */
		if (msg.type() === "error" && !/status of 400/.test(msg.text())) {
			problems.push(`console: ${msg.text()}`);
		}
	});
}

try {
	check("the store covers 20,000 decimals and the search them",
		await storeReady());
	const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
	const page = await ctx.newPage();
	watch(page);
	await page.goto(BASE + "/");
	check("the main page has the search form beside the task form",
		(await page.$("form#search input#q")) !== null &&
		(await page.$("form#new-task")) !== null);

	await page.fill("#q", " 999999 ");
	await page.press("#q", "Enter");
	await page.waitForSelector("#search-result mark");
	const found = await page.evaluate(() => ({
		url: location.pathname,
		mark: document.querySelector("#search-result mark").textContent,
		position: document.querySelector("#search-result .search-position").textContent,
		error: document.getElementById("q-error").textContent,
	}));
	check("with script, 999999 is found in place at decimal 762",
		found.url === "/" && found.mark === "999999" && found.position === "762" &&
		found.error === "", JSON.stringify(found));
	await page.screenshot({ path: `${OUT_DIR}/search.png`, fullPage: false });

	await page.fill("#q", "999");
	await page.press("#q", "Enter");
	await page.waitForSelector("#search-result a[rel=next]");
	const first = Number(await page.textContent("#search-result .search-position"));
	await page.click("#search-result a[rel=next]");
	await page.waitForFunction((p) => {
		const el = document.querySelector("#search-result .search-position");
		return el && Number(el.textContent) > p;
	}, first);
	const next = await page.evaluate(() => ({
		url: location.pathname,
		position: Number(document.querySelector("#search-result .search-position").textContent),
		prev: document.querySelector("#search-result a[rel=prev]").getAttribute("href"),
	}));
	check("the link to the next occurrence answers in place, linking back",
		next.url === "/" && next.position > first &&
		next.prev === `/search?q=999&from=${first}`, JSON.stringify(next));

	await page.fill("#q", "12ab");
	await page.press("#q", "Enter");
	await page.waitForFunction(() => document.getElementById("q-error").textContent !== "");
	const bad = await page.evaluate(() => ({
		error: document.getElementById("q-error").textContent,
		invalid: document.getElementById("q").getAttribute("aria-invalid"),
		value: document.getElementById("q").value,
		result: document.getElementById("search-result").textContent.trim(),
	}));
	check("a refused string: a sentence beside the field, the text kept",
		/digits only/.test(bad.error) && bad.invalid === "true" &&
		bad.value === "12ab" && bad.result === "", JSON.stringify(bad));

	await page.fill("#q", "98765432109876543210");
	await page.press("#q", "Enter");
	await page.waitForSelector("#search-result .search-absent");
	const absent = await page.evaluate(() => ({
		text: document.querySelector("#search-result").textContent,
		invalid: document.getElementById("q").getAttribute("aria-invalid"),
	}));
	check("an absent string says so and how far the search went",
		/does not occur/.test(absent.text) && /\d{5}/.test(absent.text) &&
		absent.invalid === null, JSON.stringify(absent));

	await page.fill("#q", "999999");
	await page.press("#q", "Enter");
	await page.waitForSelector("#search-result .search-task button");
	await Promise.all([
		page.waitForURL(/\/tasks\/\d+\?decimal=762#sought$/),
		page.click("#search-result .search-task button"),
	]);
	await page.waitForSelector("#sought");
	check("the button opens a task page with decimal 762 marked",
		(await page.textContent("#sought")) === "9", page.url());
	await ctx.close();

	const plain = await browser.newContext({ javaScriptEnabled: false });
	const p2 = await plain.newPage();
	watch(p2);
	await p2.goto(BASE + "/");
	await p2.fill("#q", "14159");
	await Promise.all([p2.waitForURL(/\/search\?q=14159$/), p2.press("#q", "Enter")]);
	check("without script the form leads to a page of results",
		(await p2.textContent("#search-result mark")) === "14159" &&
		(await p2.textContent("#search-result .search-position")) === "1");
	await p2.fill("#q", "x");
	await Promise.all([p2.waitForURL(/\/search\?q=x$/), p2.press("#q", "Enter")]);
	check("without script a refused string keeps its text, the sentence beside it",
		(await p2.inputValue("#q")) === "x" &&
		/digits only/.test(await p2.textContent("#q-error")));
	await plain.close();
	check("no page errors, console errors or CSP reports", problems.length === 0,
		problems.join("\n"));
} catch (e) {
	check("the search test ran to the end", false, e.stack || String(e));
}
await browser.close();
diag(`screenshot in ${OUT_DIR}/search.png`);
finish();
