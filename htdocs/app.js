/*
 * nthpi page script: live updates for the main page and the task page.
 *
 * The server renders everything, and every form works without this script
 * (docs/design.md). Each long-poll answer carries, for every task that
 * changed, the row the main page shows for it ("row", cgi-bin/taskview.c);
 * the script only puts the server's markup where it belongs. On the main
 * page it:
 *   - long-polls GET /api/tasks?since=V and swaps in, adds and removes rows
 *     so that the table stays what a reload would show: of the page's
 *     status only, 50 rows a page, with the same paging links;
 *   - loads the page itself again where only the server knows what the
 *     table then holds (a row left a page that has older tasks; a paging
 *     link must appear), and takes its rows and links;
 *   - retries with backoff after errors, showing a notice, and pauses while
 *     the tab is hidden;
 *   - sends the new-task form and the row actions through the JSON API, so
 *     that the page never reloads.
 * On a task's page (section#task) it follows the task with
 * GET /api/tasks/ID?since=V: progress moves the status and "ran for" from
 * the task's row; any other change (status, a cancel asked for, a delete)
 * loads the page again, which the server renders.
 *
 * The Content-Security-Policy allows no inline script or style. Markup
 * comes only from the server, parsed with <template> or DOMParser; the
 * script builds no markup from data, and changes the look by classes only.
 */
(function () {
	"use strict";

	var STATUSES = ["queued", "running", "done", "error", "cancelled"];
	var BACKOFF_FIRST_MS = 1000;
	var BACKOFF_MAX_MS = 30000;
	/* The server holds a long poll for up to 25 s; give up on it well after. */
	var POLL_TIMEOUT_MS = 65000;
	/* An answer without news sooner than this was not held: no busy loop. */
	var MIN_EMPTY_POLL_MS = 1000;
	/* After news the next request waits a random part of this, so that the
	 * thousands of pages one change wakes do not all ask at the same moment. */
	var SPREAD_MS = 300;
	/* A page of tasks asked for again. */
	var PAGE_TIMEOUT_MS = 15000;
	/* The row of a task we just changed: the server has it at once. */
	var OWN_ROW_TIMEOUT_MS = 3000;
	var FLASH_MS = 10000;
	var NEW_ROW_MS = 1700;

	var table = document.getElementById("tasks");
	var taskSection = table ? null : document.getElementById("task");
	if (!table && (!taskSection || !taskSection.hasAttribute("data-id"))) {
		return; /* error pages need nothing */
	}

	/* ---- Small helpers ------------------------------------------------ */

	function intAttr(el, name) {
		var v = el ? parseInt(el.getAttribute(name), 10) : NaN;
		return isNaN(v) ? null : v;
	}

	function spread() {
		return Math.floor(Math.random() * SPREAD_MS);
	}

	function backoffDelay(n) {
		var base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, n - 1));
		/* ±25% jitter, never above the cap. */
		var d = base * (0.75 + Math.random() * 0.5);
		return Math.round(Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_FIRST_MS / 2, d)));
	}

	/* Retry-After (seconds) in ms, or 0. */
	function retryAfterMs(res) {
		var s = parseInt(res.headers.get("Retry-After") || "", 10);
		return s > 0 ? s * 1000 : 0;
	}

	function validTask(task) {
		return task !== null && typeof task === "object" &&
			typeof task.id === "number" && isFinite(task.id);
	}

	/* The sentence from a JSON error answer, or a fallback. */
	function errorText(res, body) {
		if (body && typeof body.error === "string" && body.error !== "") {
			return body.error;
		}
		if (res.status === 403) {
			return "The server refused the request (403). Reload the page and try again.";
		}
		if (res.status >= 500) {
			return "The server had a problem (" + res.status + "). Try again in a moment.";
		}
		return "The request failed (" + res.status + ").";
	}

	function readJson(res) {
		return res.text().then(function (text) {
			try {
				return text === "" ? null : JSON.parse(text);
			} catch (e) {
				return null;
			}
		});
	}

	/* fetch + JSON; resolves {res, body}, rejects only on network errors
	 * and, given timeoutMs, on an answer that takes longer. extraHeaders,
	 * if given, are sent too. */
	function api(method, url, payload, timeoutMs, extraHeaders) {
		var opts = {
			method: method,
			credentials: "same-origin",
			cache: "no-store",
			headers: { Accept: "application/json" }
		};
		var timer = null;
		Object.keys(extraHeaders || {}).forEach(function (name) {
			opts.headers[name] = extraHeaders[name];
		});
		if (payload !== undefined) {
			opts.headers["Content-Type"] = "application/json";
			opts.body = typeof payload === "string" ? payload : JSON.stringify(payload);
		}
		if (timeoutMs) {
			var ctrl = new AbortController();
			opts.signal = ctrl.signal;
			timer = setTimeout(function () {
				ctrl.abort();
			}, timeoutMs);
		}
		return fetch(url, opts).then(function (res) {
			return readJson(res).then(function (body) {
				clearTimeout(timer);
				return { res: res, body: body };
			});
		}, function (err) {
			clearTimeout(timer);
			throw err;
		});
	}

	/* The <tr> of a row as the server wrote it, or null. A <template>
	 * parses it inert, as a table would. */
	function parseRow(html) {
		if (typeof html !== "string") {
			return null;
		}
		var t = document.createElement("template");
		t.innerHTML = html;
		var tr = t.content.firstElementChild;
		return tr && tr.tagName === "TR" && intAttr(tr, "data-id") !== null ? tr : null;
	}

	/* ---- Offline notice ---------------------------------------------- */

	var notice = null;
	var noticeText = null;

	/* status: the HTTP status that failed, or 0 for no answer at all. */
	function showOffline(delayMs, status) {
		if (!notice) {
			notice = document.createElement("div");
			notice.className = "offline-notice";
			notice.id = "offline-notice";
			notice.setAttribute("role", "status");
			notice.setAttribute("aria-live", "polite");
			noticeText = document.createElement("span");
			notice.appendChild(noticeText);
			var b = document.createElement("button");
			b.type = "button";
			b.textContent = "Retry now";
			b.addEventListener("click", function () {
				pollNow();
			});
			notice.appendChild(b);
			document.body.appendChild(notice);
		}
		var secs = Math.max(1, Math.round(delayMs / 1000));
		noticeText.textContent = (status ? "No live updates (the server answered " +
			status + ")" : "Offline") + " \u2014 retrying in " + secs + " s\u2026";
	}

	function hideOffline() {
		if (notice) {
			notice.parentNode.removeChild(notice);
			notice = null;
			noticeText = null;
		}
	}

	/* ---- The long poll, on both pages --------------------------------- */

	/* The main page's queue version; on a task page, its row's version. */
	var version = intAttr(table || taskSection, "data-version") || 0;
	var taskId = taskSection ? intAttr(taskSection, "data-id") : null;
	var inflight = null; /* AbortController of the pending request */
	var pollTimer = null;
	var failures = 0;
	var reloading = false;

	function reload() {
		reloading = true;
		clearTimeout(pollTimer);
		window.location.reload();
	}

	function schedule(ms) {
		clearTimeout(pollTimer);
		pollTimer = setTimeout(function () {
			pollTimer = null;
			pollOnce();
		}, ms);
	}

	function pollNow() {
		if (!inflight) {
			schedule(0);
		}
	}

	function hasNews(data) {
		return data !== null && ((Array.isArray(data.tasks) && data.tasks.length > 0) ||
			(Array.isArray(data.deleted) && data.deleted.length > 0));
	}

	function pollOnce() {
		if (document.hidden || inflight || reloading) {
			return;
		}
		var ctrl = new AbortController();
		var started = Date.now();
		var timer = setTimeout(function () {
			ctrl.abort();
		}, POLL_TIMEOUT_MS);
		inflight = ctrl;
		fetch(table ? "/api/tasks?since=" + version
			: "/api/tasks/" + taskId + "?since=" + version, {
			credentials: "same-origin",
			cache: "no-store",
			headers: { Accept: "application/json" },
			signal: ctrl.signal
		}).then(function (res) {
			if (res.status === 408) {
				return null; /* nginx's backstop ended the hold: ask again */
			}
			if (res.status === 404 && !table) {
				return "gone";
			}
			if (!res.ok) {
				var e = new Error("HTTP " + res.status);
				e.status = res.status;
				e.wait = retryAfterMs(res);
				throw e;
			}
			return res.json();
		}).then(function (data) {
			return { data: data };
		}, function (err) {
			return { err: err };
		}).then(function (r) {
			clearTimeout(timer);
			if (inflight !== ctrl) {
				return; /* paused: the tab was hidden */
			}
			inflight = null;
			if (r.data === "gone") {
				reload();
				return;
			}
			var next = 0;
			if (!r.err && r.data !== null) {
				if (typeof r.data !== "object" || typeof r.data.version !== "number") {
					r.err = new Error("not a long-poll answer");
				} else {
					try {
						next = table ? onListAnswer(r.data) : onTaskAnswer(r.data);
					} catch (e) {
						schedule(backoffDelay(++failures));
						throw e;
					}
				}
			}
			if (r.err) {
				failures++;
				var d = Math.max(backoffDelay(failures), r.err.wait || 0);
				showOffline(d, r.err.status || 0);
				schedule(d);
				return;
			}
			if (next < 0) {
				return; /* the page is being loaded again */
			}
			failures = 0;
			hideOffline();
			if (next === 0 && !hasNews(r.data) && Date.now() - started < MIN_EMPTY_POLL_MS) {
				next = MIN_EMPTY_POLL_MS;
			}
			schedule(next);
		});
	}

	document.addEventListener("visibilitychange", function () {
		if (document.hidden) {
			clearTimeout(pollTimer);
			pollTimer = null;
			if (inflight) {
				var c = inflight;
				inflight = null;
				c.abort();
			}
		} else {
			pollNow(); /* with the last version we had */
		}
	});

	window.addEventListener("online", function () {
		if (!document.hidden && failures > 0) {
			pollNow();
		}
	});

	/* ---- The task page ------------------------------------------------ */

	/*
	 * Follows this task in an answer. Returns the ms until the next poll,
	 * or -1 when the page is being loaded again: the task was deleted, or
	 * changed more than its progress (status, a cancel asked for).
	 */
	function onTaskAnswer(data) {
		var gone = Array.isArray(data.deleted) && data.deleted.some(function (d) {
			return Number(d) === taskId;
		});
		if (gone) {
			reload();
			return -1;
		}
		var fresh = null;
		if (Array.isArray(data.tasks)) {
			data.tasks.forEach(function (t) {
				if (validTask(t) && t.id === taskId) {
					fresh = parseRow(t.row) || fresh;
				}
			});
		}
		/* A tick (the queue's version, not the row's): ask again from ours. */
		if (!fresh || intAttr(fresh, "data-version") <= version) {
			return 0;
		}
		var stopping = taskSection.querySelector(".status .note") !== null;
		if (fresh.getAttribute("data-status") !== taskSection.getAttribute("data-status") ||
		    (fresh.querySelector("td.status .note") !== null) !== stopping) {
			reload();
			return -1;
		}
		var pairs = [["dd.status", "td.status"], ["dd.ran", "td.ran"]];
		pairs.forEach(function (p) {
			var dd = taskSection.querySelector(p[0]);
			var td = fresh.querySelector(p[1]);
			if (!dd || !td || !td.firstChild) {
				return; /* not started: the page's dash stays */
			}
			while (dd.firstChild) {
				dd.removeChild(dd.firstChild);
			}
			while (td.firstChild) {
				dd.appendChild(td.firstChild);
			}
		});
		version = intAttr(fresh, "data-version");
		taskSection.setAttribute("data-version", String(version));
		return spread();
	}

	if (!table) {
		pollOnce();
		return;
	}

	/* ---- The main page: which rows it holds --------------------------- */

	var tbody = table.tBodies[0];
	if (!tbody) {
		tbody = document.createElement("tbody");
		table.appendChild(tbody);
	}
	/* As the server marks table#tasks: tasks of one status only
	 * (data-filter), data-page-size of them, newest first, below
	 * data-before on an older page. */
	var filter = table.getAttribute("data-filter");
	var newest = table.getAttribute("data-page") !== "older";
	var bound = newest ? null : intAttr(table, "data-before");
	var pageSize = intAttr(table, "data-page-size") || 50;
	var form = document.getElementById("new-task");
	var input = document.getElementById("n");
	var fieldError = document.getElementById("n-error");

	/* Ids deleted while this page is open: never bring them back. */
	var deletedIds = new Set();
	/* The last status seen of each task, to tell whether a change moved it
	 * into or out of the page's status. */
	var statusOf = new Map();
	/* Tasks with an action of ours on its way. */
	var busy = new Set();
	/* Set when the page may differ from a reload in what only the server
	 * knows (which older task fills a gap, whether a paging link shows). */
	var unsure = false;
	/* The version of the page last loaded again (resync). */
	var syncVersion = 0;

	function dataRows() {
		return tbody.querySelectorAll("tr[data-id]");
	}

	function rowFor(id) {
		var tr = document.getElementById("task-" + id);
		return tr && tr.parentNode === tbody ? tr : null;
	}

	function matches(status) {
		return !filter || status === filter;
	}

	function olderLink() {
		return document.querySelector("nav.pages a[rel=next]");
	}

	function hasNewerLinks() {
		return document.querySelector("nav.pages a:not([rel=next])") !== null;
	}

	Array.prototype.forEach.call(dataRows(), function (tr) {
		statusOf.set(intAttr(tr, "data-id"), tr.getAttribute("data-status"));
	});

	/* ---- Keeping the keyboard's place --------------------------------- */

	/* Where the keyboard is in row tr: the action of the form it is in, ""
	 * elsewhere in the row, null if not in the row. */
	function focusIn(tr) {
		var a = document.activeElement;
		if (!a || a === document.body || !tr.contains(a)) {
			return null;
		}
		var f = a.closest("form");
		return f ? f.getAttribute("action") || "" : "";
	}

	/* The keyboard to the same action in row tr, or to the row's link. */
	function focusSame(tr, action) {
		var el = null;
		Array.prototype.forEach.call(tr.querySelectorAll("form"), function (f) {
			if (action && f.getAttribute("action") === action) {
				el = f.querySelector("button:not([disabled])");
			}
		});
		el = el || tr.querySelector("td.id a");
		if (el) {
			el.focus();
		}
	}

	/* The keyboard to row tr's first action, or its link while it offers
	 * none (a cancel on its way). */
	function focusFirst(tr) {
		var el = tr.querySelector("td.actions button:not([disabled])") ||
			tr.querySelector("td.id a");
		if (el) {
			el.focus();
		}
	}

	function swapRow(old, fresh) {
		var at = focusIn(old);
		if (busy.has(intAttr(fresh, "data-id"))) {
			fresh.classList.add("is-busy");
		}
		tbody.replaceChild(fresh, old);
		if (at !== null) {
			focusSame(fresh, at);
		}
	}

	/* Takes a row out; the keyboard, if it was there, goes to a neighbour. */
	function removeRow(tr) {
		var had = focusIn(tr) !== null;
		var next = tr.nextElementSibling || tr.previousElementSibling;
		tbody.removeChild(tr);
		if (had && next) {
			focusFirst(next);
		} else if (had && input) {
			input.focus();
		}
	}

	/* Puts a row in id order (newest first). */
	function insertRow(tr) {
		var id = intAttr(tr, "data-id");
		var rows = dataRows();
		var before = null;
		for (var i = 0; i < rows.length; i++) {
			if (intAttr(rows[i], "data-id") < id) {
				before = rows[i];
				break;
			}
		}
		tbody.insertBefore(tr, before);
		tr.classList.add("is-new");
		setTimeout(function () {
			tr.classList.remove("is-new");
		}, NEW_ROW_MS);
	}

	/* ---- Applying changes --------------------------------------------- */

	/* Points the older link after the row with id, keeping the rest of the
	 * address the server wrote. */
	function setOlderBefore(a, id) {
		a.setAttribute("href", (a.getAttribute("href") || "").replace(/([?&]before=)\d+/, "$1" + id));
	}

	function dropOlderLink() {
		var a = olderLink();
		if (!a) {
			return;
		}
		var nav = a.parentNode;
		if (document.activeElement === a && input) {
			input.focus();
		}
		nav.removeChild(a);
		if (!nav.querySelector("a") && nav.parentNode) {
			nav.parentNode.removeChild(nav);
		}
	}

	/* A page holds pageSize rows: those past it belong to the next page,
	 * which then starts after the new last row. */
	function trim() {
		var rows = dataRows();
		if (rows.length <= pageSize) {
			return;
		}
		for (var i = rows.length - 1; i >= pageSize; i--) {
			removeRow(rows[i]);
		}
		var a = olderLink();
		if (a) {
			setOlderBefore(a, intAttr(rows[pageSize - 1], "data-id"));
		} else {
			unsure = true; /* the link appears: the server writes it */
		}
	}

	/* A row leaves: the newest page counts what it then misses (settle);
	 * an older page asks the server what fills it. */
	function leave(tr) {
		removeRow(tr);
		if (!newest) {
			unsure = true;
		}
	}

	/*
	 * A task not on the page that changed (fresh, its row) or was deleted
	 * (fresh null): adds it where a reload would show it, or notes that
	 * the page may have to change in ways only the server knows. wasIn:
	 * whether it was of the page's status (null: not known); isIn: whether
	 * it is now.
	 */
	function placeOther(id, fresh, wasIn, isIn) {
		var rows = dataRows();
		var first = rows.length ? intAttr(rows[0], "data-id") : null;
		var last = rows.length ? intAttr(rows[rows.length - 1], "data-id") : null;
		var older = olderLink() !== null;

		if (bound !== null && id >= bound) {
			/* Above an older page: whether it links to newer tasks. */
			if (isIn ? !hasNewerLinks() : wasIn !== false && hasNewerLinks()) {
				unsure = true;
			}
			return;
		}
		if (last === null || id > last) {
			/* Among the page's rows or above them: it shows, if it is of
			 * the page's status (if it were before, it would show). */
			if (isIn) {
				insertRow(fresh);
				trim();
				if (!newest && (first === null || id > first)) {
					unsure = true; /* the link to newer tasks follows the first row */
				}
			}
			return;
		}
		/* Below the last row. On the newest page the counts of the next
		 * answer tell what changes (settle); an older page asks. */
		if (isIn && !older) {
			insertRow(fresh); /* the page shows all there are */
			trim();
		} else if (!newest && older && (isIn ? rows.length < pageSize : wasIn !== false)) {
			unsure = true;
		}
	}

	/* Applies one task of an answer (the list's, or our own action's). */
	function applyTask(task) {
		if (!validTask(task) || deletedIds.has(task.id)) {
			return;
		}
		var fresh = parseRow(task.row);
		if (!fresh) {
			return;
		}
		var id = task.id;
		var cur = rowFor(id);
		var status = fresh.getAttribute("data-status");
		var was = statusOf.has(id) ? matches(statusOf.get(id)) : null;
		statusOf.set(id, status);
		if (cur) {
			if (intAttr(fresh, "data-version") <= intAttr(cur, "data-version")) {
				return; /* we have this one, or a newer one */
			}
			if (matches(status)) {
				swapRow(cur, fresh);
			} else {
				leave(cur);
			}
			return;
		}
		if (intAttr(fresh, "data-version") <= syncVersion) {
			return; /* the page loaded since had it where it belongs */
		}
		placeOther(id, fresh, was, matches(status));
	}

	function removeTask(id) {
		if (!isFinite(id) || deletedIds.has(id)) {
			return;
		}
		deletedIds.add(id);
		var was = statusOf.has(id) ? matches(statusOf.get(id)) : null;
		statusOf.delete(id);
		var tr = rowFor(id);
		if (tr) {
			leave(tr);
		} else {
			placeOther(id, null, was, false);
		}
	}

	/* The header's counts by status, and the two "no tasks" sentences. */
	function showCounts(counts) {
		var total = 0;
		STATUSES.forEach(function (st) {
			var el = document.getElementById("count-" + st);
			var v = counts[st];
			if (typeof v === "number") {
				total += v;
				if (el) {
					el.textContent = String(v);
				}
			}
		});
		var noTasks = document.getElementById("no-tasks");
		if (noTasks) {
			noTasks.hidden = total > 0;
		}
		var noPage = document.getElementById("no-page-tasks");
		if (noPage) {
			noPage.hidden = total === 0 || dataRows().length > 0;
		}
	}

	/* The version the table shows, once it shows all of it. */
	function markVersion() {
		if (!resyncing && resyncTimer === null) {
			table.setAttribute("data-version", String(Math.max(version, syncVersion)));
		}
	}

	/*
	 * After an answer: the counts (when it has them) show, and tell the
	 * newest page what it should hold: min(count, pageSize) rows and the
	 * older link while there are more. Anything that only the server can
	 * fill in loads the page again.
	 */
	function settle(counts) {
		var known = counts !== null && typeof counts === "object" && version >= syncVersion;
		if (known) {
			showCounts(counts);
		}
		/* A page being loaded again shows all up to its own version,
		 * and is loaded once more if this answer is newer (resync). */
		var pending = resyncing || resyncTimer !== null;
		if (newest && known && !pending) {
			var n = 0;
			STATUSES.forEach(function (st) {
				if (matches(st) && typeof counts[st] === "number") {
					n += counts[st];
				}
			});
			var shown = dataRows().length;
			var a = olderLink();
			if (shown !== Math.min(n, pageSize) || (n > shown && !a)) {
				unsure = true;
			} else if (n <= shown && a) {
				dropOlderLink();
			}
		}
		var noPage = document.getElementById("no-page-tasks");
		if (noPage && dataRows().length > 0) {
			noPage.hidden = true;
		}
		if (unsure && !pending) {
			resyncSoon();
		}
		unsure = false;
		markVersion();
	}

	/* The server's banner for a worker not seen: shown and hidden as an
	 * answer's "worker" says; its sentence is the server's. */
	function showWorker(state) {
		var banner = document.getElementById("worker-banner");
		if (banner && (state === "stalled" || state === "ok")) {
			banner.hidden = state === "ok";
		}
	}

	/* Applies a list answer. Returns the ms until the next poll, or -1 if
	 * the page is being loaded again. */
	function onListAnswer(data) {
		var from = typeof data.from === "number" ? data.from : version;
		if (from > version) {
			return 0; /* changes after ours were missed: the database has them */
		}
		if (data.version < version) {
			if (from === version) {
				reload(); /* the database is older than this page: made anew */
				return -1;
			}
			return 0; /* an answer older than what we have */
		}
		var deleted = Array.isArray(data.deleted) ? data.deleted : [];
		var tasks = Array.isArray(data.tasks) ? data.tasks : [];
		deleted.forEach(function (id) {
			removeTask(Number(id));
		});
		tasks.forEach(applyTask);
		version = data.version;
		settle(data.counts === undefined ? null : data.counts);
		showWorker(data.worker);
		if (data.more === true || !hasNews(data)) {
			return 0;
		}
		return spread();
	}

	/* ---- Loading the page again (resync) ------------------------------- */

	var resyncTimer = null;
	var resyncing = false;
	var resyncAgain = false;
	var resyncFailures = 0;

	/* This page's address as the server resolves it (?after= is a before). */
	function pageUrl() {
		var q = [];
		if (filter) {
			q.push("status=" + encodeURIComponent(filter));
		}
		if (bound !== null) {
			q.push("before=" + bound);
		}
		return "/" + (q.length ? "?" + q.join("&") : "");
	}

	function resyncSoon() {
		if (resyncing) {
			resyncAgain = true;
		} else if (resyncTimer === null) {
			resyncTimer = setTimeout(resync, spread());
		}
	}

	function resync() {
		var ctrl = new AbortController();
		var timer = setTimeout(function () {
			ctrl.abort();
		}, PAGE_TIMEOUT_MS);
		resyncTimer = null;
		resyncing = true;
		fetch(pageUrl(), {
			credentials: "same-origin",
			cache: "no-store",
			headers: { Accept: "text/html" },
			signal: ctrl.signal
		}).then(function (res) {
			if (!res.ok) {
				throw new Error("HTTP " + res.status);
			}
			return res.text();
		}).then(function (text) {
			var doc = new DOMParser().parseFromString(text, "text/html");
			var fresh = doc.getElementById("tasks");
			var v = intAttr(fresh, "data-version");
			if (!fresh || v === null || !fresh.tBodies[0]) {
				throw new Error("not the page of tasks");
			}
			resyncFailures = 0;
			if (v < version) {
				resyncAgain = true; /* older than what this page has seen */
			} else {
				adopt(doc, fresh, v);
			}
		}).catch(function () {
			resyncFailures++;
			resyncTimer = setTimeout(resync, backoffDelay(resyncFailures));
		}).then(function () {
			clearTimeout(timer);
			resyncing = false;
			if (resyncAgain) {
				resyncAgain = false;
				resyncSoon();
			}
			markVersion();
		});
	}

	/*
	 * Takes the rows, the paging links and the "no tasks" sentences of the
	 * page loaded again at version v. A row this page has at the same or a
	 * later version stays as it is (and the keyboard in it).
	 */
	function adopt(doc, fresh, v) {
		var old = Array.prototype.slice.call(dataRows());
		var want = [];
		var focusAt = null;
		var focusId = null;
		var focusIndex = -1;
		old.forEach(function (tr, i) {
			var at = focusIn(tr);
			if (at !== null) {
				focusAt = at;
				focusId = intAttr(tr, "data-id");
				focusIndex = i;
			}
		});
		Array.prototype.forEach.call(fresh.tBodies[0].querySelectorAll("tr[data-id]"), function (tr) {
			var id = intAttr(tr, "data-id");
			var cur = rowFor(id);
			if (deletedIds.has(id)) {
				return;
			}
			if (cur && intAttr(cur, "data-version") >= intAttr(tr, "data-version")) {
				want.push(cur);
			} else {
				want.push(document.adoptNode(tr));
				statusOf.set(id, tr.getAttribute("data-status"));
			}
		});
		/* Out first, then in: the rows that stay keep their order, so
		 * none of them moves (which would lose the keyboard's place). */
		old.forEach(function (tr) {
			if (want.indexOf(tr) < 0) {
				tbody.removeChild(tr);
			}
		});
		want.forEach(function (tr, i) {
			var here = tbody.rows[i] || null;
			if (here !== tr) {
				tbody.insertBefore(tr, here);
			}
		});
		if (focusId !== null && !tbody.contains(document.activeElement)) {
			var same = rowFor(focusId);
			if (same) {
				focusSame(same, focusAt);
			} else if (want.length) {
				focusFirst(want[Math.min(focusIndex, want.length - 1)]);
			} else if (input) {
				input.focus();
			}
		}
		var nav = document.querySelector("nav.pages");
		var freshNav = doc.querySelector("nav.pages");
		if ((nav ? nav.outerHTML : "") !== (freshNav ? freshNav.outerHTML : "")) {
			var focusRel = nav && nav.contains(document.activeElement)
				? document.activeElement.getAttribute("rel") : null;
			var anchor = document.getElementById("no-page-tasks") || table;
			if (nav) {
				nav.parentNode.removeChild(nav);
			}
			if (freshNav) {
				freshNav = document.adoptNode(freshNav);
				anchor.parentNode.insertBefore(freshNav, anchor.nextSibling);
				var link = focusRel ? freshNav.querySelector('a[rel="' + focusRel + '"]') : null;
				if (link) {
					link.focus();
				}
			}
		}
		["no-tasks", "no-page-tasks"].forEach(function (id) {
			var mine = document.getElementById(id);
			var theirs = doc.getElementById(id);
			if (mine && theirs) {
				mine.hidden = theirs.hidden;
			}
		});
		syncVersion = v;
	}

	/* ---- Messages about row actions ---------------------------------- */

	var flash = null;
	var flashTimer = null;

	function showFlash(text) {
		if (!flash) {
			flash = document.createElement("p");
			flash.id = "flash";
			flash.className = "notice notice-error";
			flash.setAttribute("role", "alert");
			table.parentNode.insertBefore(flash, table);
		}
		flash.hidden = false;
		flash.textContent = text;
		clearTimeout(flashTimer);
		flashTimer = setTimeout(function () {
			flash.hidden = true;
			flash.textContent = "";
		}, FLASH_MS);
	}

	/* ---- Our own changes ---------------------------------------------- */

	/* Shows a task we just changed at once, from its row as the server
	 * has it now (its version moved past since, so the answer comes at
	 * once), without waiting for the list's long poll. */
	function showOwn(id, since) {
		return api("GET", "/api/tasks/" + id + "?since=" + since, undefined,
			OWN_ROW_TIMEOUT_MS).then(function (r) {
			if (r.res.status === 404) {
				removeTask(id);
			} else if (r.res.ok && r.body) {
				(Array.isArray(r.body.deleted) ? r.body.deleted : []).forEach(function (d) {
					removeTask(Number(d));
				});
				(Array.isArray(r.body.tasks) ? r.body.tasks : []).forEach(applyTask);
			}
			settle(null);
		}, function () { /* the long poll brings it */ });
	}

	function onRowSubmit(ev) {
		var f = ev.target;
		if (!f || f.tagName !== "FORM") {
			return;
		}
		var m = /^\/tasks\/([0-9]+)\/(cancel|retry|delete)$/.exec(f.getAttribute("action") || "");
		if (!m) {
			return; /* not ours: let it post */
		}
		/* The published rows carry no CSRF token: the JSON API it is. */
		ev.preventDefault();
		var id = Number(m[1]);
		var action = m[2];
		if (busy.has(id)) {
			return;
		}
		var tr = rowFor(id);
		var since = intAttr(tr, "data-version") || 0;
		var buttons = f.querySelectorAll("button");
		/* Disabling the button drops the keyboard's place: put it back
		 * once the action is done (see refocusAfter). */
		var hadFocus = f.contains(document.activeElement);
		var neighbour = tr ? tr.nextElementSibling || tr.previousElementSibling : null;
		var neighbourId = neighbour ? intAttr(neighbour, "data-id") : null;
		busy.add(id);
		if (tr) {
			tr.classList.add("is-busy");
		}
		Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });

		var req = action === "delete"
			? api("DELETE", "/api/tasks/" + id)
			: api("POST", "/api/tasks/" + id + "/" + action, {});
		req.then(function (r) {
			if (r.res.ok && action !== "delete") {
				return showOwn(id, since);
			}
			if (r.res.ok || r.res.status === 404) {
				removeTask(id);
				settle(null);
			}
			if (!r.res.ok) {
				showFlash("Task " + id + ": " + errorText(r.res, r.body));
			}
		}, function () {
			showFlash("Task " + id + ": could not reach the server. Try again.");
		}).then(function () {
			busy.delete(id);
			var now = rowFor(id);
			if (now) {
				now.classList.remove("is-busy");
			}
			Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
			if (hadFocus) {
				refocusAfter(id, neighbourId);
			}
		});
	}

	/* After a row action begun from the keyboard, unless it went elsewhere
	 * meanwhile: the row's first action (its actions may have changed) or,
	 * while it has none (a cancel on its way), its link; a neighbouring
	 * row's once it is gone; else the form. */
	function refocusAfter(id, neighbourId) {
		var tr = rowFor(id);
		var active = document.activeElement;
		if (active && active !== document.body && document.contains(active) &&
		    !(tr && tr.contains(active))) {
			return;
		}
		var next = neighbourId !== null ? rowFor(neighbourId) : null;
		if (tr || next) {
			focusFirst(tr || next);
		} else if (input) {
			input.focus();
		}
	}

	tbody.addEventListener("submit", onRowSubmit);

	/* ---- The new-task form ------------------------------------------- */

	/* A refused n: said beside the field, which is marked invalid. */
	function setFieldError(text) {
		if (fieldError) {
			fieldError.textContent = text;
		}
		if (text) {
			input.setAttribute("aria-invalid", "true");
		} else {
			input.removeAttribute("aria-invalid");
		}
	}

	/* Anything else (too many requests, a full queue, no answer): said for
	 * the form as a whole; the field was not wrong. */
	var formMessage = null;
	function setFormMessage(text) {
		if (!formMessage && text) {
			formMessage = document.createElement("p");
			formMessage.id = "new-task-message";
			formMessage.className = "form-message";
			formMessage.setAttribute("role", "alert");
			form.appendChild(formMessage);
		}
		if (formMessage) {
			formMessage.textContent = text;
			formMessage.hidden = text === "";
		}
	}

	/* A new Idempotency-Key: 128 random bits in hex. */
	function newKey() {
		var bytes = new Uint8Array(16);
		crypto.getRandomValues(bytes);
		return Array.prototype.map.call(bytes, function (b) {
			return (b < 16 ? "0" : "") + b.toString(16);
		}).join("");
	}

	if (form && input) {
		var submitting = false;
		/* The last submission that got no clear answer (no answer, a 5xx,
		 * a 429) and its key: sent again as it was, it carries the same
		 * key, so that the server makes one task however many times. */
		var pending = null;
		form.addEventListener("submit", function (ev) {
			ev.preventDefault();
			if (submitting) {
				return;
			}
			/* A number pasted with spaces around it is that number, as the
			 * form without script takes it (ASCII white space only, as the
			 * server trims; the JSON API itself stays strict). */
			var text = input.value.replace(/^[ \t\n\f\r]+|[ \t\n\f\r]+$/g, "");
			/* Plain digits go as a JSON number, written out digit for digit
			 * (no rounding of big values); anything else goes as typed, and
			 * the server's 400 says what is wrong with it. */
			var body;
			if (/^[0-9]+$/.test(text)) {
				body = '{"n":' + text.replace(/^0+(?=[0-9])/, "") + "}";
			} else {
				body = JSON.stringify({ n: text });
			}
			var buttons = form.querySelectorAll('button, input[type="submit"]');
			submitting = true;
			Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
			form.setAttribute("aria-busy", "true");
			setFormMessage("");

			var key = pending && pending.body === body ? pending.key : newKey();
			pending = { body: body, key: key };
			api("POST", "/api/tasks", body, 0, { "Idempotency-Key": key }).then(function (r) {
				if (r.res.status < 500 && r.res.status !== 429) {
					pending = null; /* answered: the next one is new */
				}
				/* 200: a resend of a submission the server had made. */
				if ((r.res.status === 201 || r.res.status === 200) && validTask(r.body)) {
					input.value = "";
					setFieldError("");
					return showOwn(r.body.id, 0);
				}
				if (r.res.status === 400) {
					setFieldError(errorText(r.res, r.body));
				} else {
					setFieldError("");
					setFormMessage(errorText(r.res, r.body));
				}
			}, function () {
				setFieldError("");
				setFormMessage("Could not reach the server. Check the connection and try again.");
			}).then(function () {
				submitting = false;
				Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
				form.removeAttribute("aria-busy");
				input.focus();
			});
		});
	}

	/* ---- Start ------------------------------------------------------- */

	markVersion();
	pollOnce();
})();
