/*
 * nthpi page script: live updates for the main page and the task page.
 *
 * The server renders everything and every form works without this script
 * (docs/design.md). When it runs, on the main page it:
 *   - long-polls GET /api/tasks?since=V and updates table#tasks in place;
 *   - retries with exponential backoff after errors, showing a notice;
 *   - pauses while the tab is hidden;
 *   - sends the new-task form and the row action forms through the JSON API
 *     so the page never reloads.
 * On the page of a queued or running task (section#task) it follows the
 * task the same way: progress and "ran for" move, and the page is loaded
 * again when the task's status changes (so the digits appear when done).
 *
 * The Content-Security-Policy allows no inline script or style, so the DOM is
 * built with createElement/textContent (never innerHTML with data) and the
 * look is changed through classes only.
 */
(function () {
	"use strict";

	var STATUSES = ["queued", "running", "done", "error", "cancelled"];
	var BACKOFF_FIRST_MS = 1000;
	var BACKOFF_MAX_MS = 30000;
	/* The server holds a long-poll for up to 25 s; give up on it well after. */
	var POLL_TIMEOUT_MS = 65000;
	/* An empty answer sooner than this means the server did not hold it. */
	var MIN_EMPTY_POLL_MS = 1000;
	var TICK_MS = 250;
	var FLASH_MS = 10000;
	/* The header's counts are asked for at most this often. */
	var COUNTS_MIN_MS = 2000;

	var table = document.getElementById("tasks");
	/* The task page, while its task may still change by itself. */
	var taskSection = null;
	if (!table) {
		taskSection = document.getElementById("task");
		if (!taskSection || !taskSection.hasAttribute("data-id") ||
		    !/^(queued|running)$/.test(taskSection.getAttribute("data-status") || "")) {
			return; /* error pages and finished tasks need nothing */
		}
	}
	var tbody = null;
	if (table) {
		tbody = table.tBodies[0];
		if (!tbody) {
			tbody = document.createElement("tbody");
			table.appendChild(tbody);
		}
	}

	var form = document.getElementById("new-task");
	var input = document.getElementById("n");
	var fieldError = document.getElementById("n-error");

	/* The double-submit token of the server-rendered forms (the cookie is
	 * HttpOnly); rows built here carry it too, like the server's. */
	var csrfToken = "";
	var csrfInput = document.querySelector('input[type="hidden"][name="csrf"]');
	if (csrfInput) {
		csrfToken = csrfInput.value;
	}

	/* ---- Small helpers ------------------------------------------------ */

	function parseTime(iso) {
		if (typeof iso !== "string" || iso === "") {
			return null;
		}
		var t = Date.parse(iso);
		return isNaN(t) ? null : t;
	}

	function pad2(x) {
		return (x < 10 ? "0" : "") + x;
	}

	/* Same form as the server (common/timefmt.c time_duration). */
	function formatDuration(ms) {
		if (!(ms > 0)) {
			ms = 0;
		}
		if (ms < 10000) {
			return (ms / 1000).toFixed(2) + " s";
		}
		if (ms < 60000) {
			return (ms / 1000).toFixed(1) + " s";
		}
		if (ms < 3600000) {
			return Math.floor(ms / 60000) + " min " +
				pad2(Math.floor(ms / 1000) % 60) + " s";
		}
		return Math.floor(ms / 3600000) + " h " +
			pad2(Math.floor(ms / 60000) % 60) + " min";
	}

	/* "2026-11-24T10:55:26.123Z" -> "2026-11-24 10:55:26", as the server shows. */
	function formatCreated(iso) {
		return String(iso).slice(0, 19).replace("T", " ");
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
			if (text === "") {
				return null;
			}
			try {
				return JSON.parse(text);
			} catch (e) {
				return null;
			}
		});
	}

	/* fetch + JSON; resolves {res, body}, rejects only on network errors
	 * and, given timeoutMs, on an answer that takes longer. */
	function api(method, url, payload, timeoutMs) {
		var opts = {
			method: method,
			credentials: "same-origin",
			cache: "no-store",
			headers: { Accept: "application/json" }
		};
		var timer = null;
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
			noteServerClock(res);
			return readJson(res).then(function (body) {
				clearTimeout(timer);
				return { res: res, body: body };
			});
		}, function (err) {
			clearTimeout(timer);
			throw err;
		});
	}

	/* Server time minus our time, when the two clocks clearly disagree, so
	 * the "ran for" of running tasks does not start negative or far off. */
	var clockOffset = 0;
	function noteServerClock(res) {
		var d = res.headers.get("Date");
		var t = d ? Date.parse(d) : NaN;
		if (isNaN(t)) {
			return;
		}
		var off = t - Date.now();
		/* Date has a resolution of one second. */
		clockOffset = Math.abs(off) > 2000 ? off : 0;
	}

	/* ---- Rows ----------------------------------------------------------- */

	/* What we know of each task beyond its markup: id -> {started, finished}. */
	var times = new Map();
	/* Ids deleted while this page is open: never bring them back. */
	var deletedIds = new Set();
	/* Running tasks whose cancel was asked for (the API's task has no
	 * cancel_requested; the server-rendered row shows span.note). */
	var stoppingIds = new Set();
	/* Bumped on every update from the long-poll, stamped on the row. */
	var pollSeq = 0;
	var rowSeq = new WeakMap();

	function rowFor(id) {
		return document.getElementById("task-" + id);
	}

	function rowId(tr) {
		var id = parseInt(tr.getAttribute("data-id"), 10);
		return isNaN(id) ? null : id;
	}

	/* Removes el and the " " the server puts before it. */
	function removeWithSpace(el) {
		var prev = el.previousSibling;
		if (prev && prev.nodeType === 3 && /^\s*$/.test(prev.nodeValue)) {
			prev.parentNode.removeChild(prev);
		}
		el.parentNode.removeChild(el);
	}

	/* Sets a bar and the percentage shown after it (made if missing). */
	function showProgress(prog, p) {
		var text = Math.floor(p * 100) + "%";
		var pct = prog.parentNode.querySelector(".pct");
		prog.value = p;
		prog.textContent = text;
		if (!pct) {
			pct = document.createElement("span");
			pct.className = "pct";
			prog.parentNode.insertBefore(pct, prog.nextSibling);
			prog.parentNode.insertBefore(document.createTextNode(" "), pct);
		}
		pct.textContent = text;
	}

	function cell(tr, cls) {
		var td = tr.querySelector("td." + cls);
		if (!td) {
			td = document.createElement("td");
			td.className = cls;
			tr.appendChild(td);
		}
		return td;
	}

	/* As the server offers them (cgi-bin/task.c task_action_applies;
	 * no second cancel while one is on its way). */
	function actionsFor(status, stopping) {
		switch (status) {
		case "queued":
			return ["cancel", "delete"];
		case "running":
			return stopping ? [] : ["cancel"];
		case "error":
		case "cancelled":
			return ["retry", "delete"];
		case "done":
			return ["delete"];
		default:
			return [];
		}
	}

	var ACTION_LABELS = { cancel: "Cancel", retry: "Retry", "delete": "Delete" };

	function actionForm(id, action) {
		var f = document.createElement("form");
		f.method = "post";
		f.setAttribute("action", "/tasks/" + id + "/" + action);
		f.className = "action action-" + action;
		var h = document.createElement("input");
		h.type = "hidden";
		h.name = "csrf";
		h.value = csrfToken;
		f.appendChild(h);
		var b = document.createElement("button");
		b.type = "submit";
		b.textContent = ACTION_LABELS[action];
		b.setAttribute("aria-label", ACTION_LABELS[action] + " task " + id);
		f.appendChild(b);
		return f;
	}

	/* The actions a row offers now, read from its forms. */
	function currentActions(td) {
		var out = [];
		var forms = td.querySelectorAll("form");
		for (var i = 0; i < forms.length; i++) {
			var m = /\/(cancel|retry|delete)$/.exec(forms[i].getAttribute("action") || "");
			if (m) {
				out.push(m[1]);
			}
		}
		return out.join(" ");
	}

	function renderRan(tr, id, status) {
		var t = times.get(id);
		var td = cell(tr, "ran");
		if (!t || t.started === null) {
			if (t) {
				td.textContent = "";
			}
			return;
		}
		var end;
		if (t.finished !== null) {
			end = t.finished;
		} else if (status === "running") {
			end = Date.now() + clockOffset;
		} else {
			return; /* keep what the server showed */
		}
		td.textContent = formatDuration(end - t.started);
	}

	/* Brings a row (new or not) in line with a task from the API. */
	function fillRow(tr, task) {
		var id = task.id;
		var status = STATUSES.indexOf(task.status) >= 0 ? task.status : "queued";

		tr.id = "task-" + id;
		tr.setAttribute("data-id", String(id));
		tr.setAttribute("data-status", status);
		if (typeof task.version === "number") {
			tr.setAttribute("data-version", String(task.version));
		}

		/* id */
		var tdId = cell(tr, "id");
		var a = tdId.querySelector("a");
		if (!a) {
			tdId.textContent = "";
			a = document.createElement("a");
			tdId.appendChild(a);
		}
		a.setAttribute("href", typeof task.url === "string" ? task.url : "/tasks/" + id);
		a.textContent = String(id);

		/* n */
		cell(tr, "n").textContent = String(task.n);

		/* status: badge, progress while running, error text */
		var tdStatus = cell(tr, "status");
		var badge = tdStatus.querySelector(".badge");
		if (!badge) {
			badge = document.createElement("span");
			tdStatus.insertBefore(badge, tdStatus.firstChild);
		}
		badge.className = "badge badge-" + status;
		badge.textContent = status;

		var prog = tdStatus.querySelector("progress");
		var note = tdStatus.querySelector(".note");
		var stopping = false;
		if (status === "running") {
			if (task.cancel_requested === true || note) {
				stoppingIds.add(id);
			} else if (task.cancel_requested === false) {
				stoppingIds.delete(id);
			}
			stopping = stoppingIds.has(id);
		} else {
			stoppingIds.delete(id);
		}
		if (status === "running") {
			var p = typeof task.progress === "number" ? task.progress : 0;
			p = Math.min(1, Math.max(0, p));
			if (!prog) {
				prog = document.createElement("progress");
				prog.max = 1;
				tdStatus.appendChild(document.createTextNode(" "));
				tdStatus.appendChild(prog);
			}
			showProgress(prog, p);
		} else if (prog) {
			removeWithSpace(prog);
			var pct = tdStatus.querySelector(".pct");
			if (pct) removeWithSpace(pct);
		}
		if (stopping && !note) {
			note = document.createElement("span");
			note.className = "note";
			note.textContent = "stopping\u2026";
			tdStatus.appendChild(document.createTextNode(" "));
			tdStatus.appendChild(note);
		} else if (!stopping && note) {
			removeWithSpace(note);
		}

		var errEl = tdStatus.querySelector(".task-error");
		if (status === "error" && typeof task.error === "string" && task.error !== "") {
			if (!errEl) {
				errEl = document.createElement("span");
				errEl.className = "task-error";
				tdStatus.appendChild(document.createTextNode(" "));
				tdStatus.appendChild(errEl);
			}
			errEl.textContent = task.error;
		} else if (errEl) {
			removeWithSpace(errEl);
		}

		/* digit */
		cell(tr, "digit").textContent =
			status === "done" && task.digit !== null && task.digit !== undefined
				? String(task.digit) : "";

		/* created */
		var tdCreated = cell(tr, "created");
		if (typeof task.created_at === "string") {
			var tm = tdCreated.querySelector("time");
			if (!tm) {
				tdCreated.textContent = "";
				tm = document.createElement("time");
				tdCreated.appendChild(tm);
			}
			tm.setAttribute("datetime", task.created_at);
			tm.textContent = formatCreated(task.created_at);
		}

		/* ran for */
		times.set(id, {
			started: parseTime(task.started_at),
			finished: parseTime(task.finished_at)
		});
		renderRan(tr, id, status);

		/* actions: rebuilt only when they change, so focus is not lost */
		var tdActions = cell(tr, "actions");
		var want = actionsFor(status, stopping);
		if (currentActions(tdActions) !== want.join(" ")) {
			var hadFocus = tdActions.contains(document.activeElement);
			tdActions.textContent = "";
			want.forEach(function (act) {
				tdActions.appendChild(actionForm(id, act));
			});
			if (hadFocus) {
				var b = tdActions.querySelector("button");
				if (b) {
					b.focus();
				}
			}
		}
	}

	var CELL_ORDER = ["id", "n", "status", "digit", "created", "ran", "actions"];

	function newRow(task) {
		var tr = document.createElement("tr");
		CELL_ORDER.forEach(function (cls) {
			var td = document.createElement("td");
			td.className = cls;
			tr.appendChild(td);
		});
		fillRow(tr, task);
		return tr;
	}

	/* Which rows belong on this page, as the server marks table#tasks: a
	 * page of one status only (data-filter), the newest page or an older
	 * one (data-page), of data-page-size rows. */
	var pageFilter = table ? table.getAttribute("data-filter") : null;
	var olderPage = table ? table.getAttribute("data-page") === "older" : false;
	var pageSize = table ? parseInt(table.getAttribute("data-page-size"), 10) || 0 : 0;

	/* "No tasks yet" shows while the queue is empty: only the unfiltered
	 * newest page can tell. */
	var noTasks = document.getElementById("no-tasks");
	function updateEmpty() {
		if (noTasks && !pageFilter && !olderPage) {
			noTasks.hidden = tbody.querySelector("tr[data-id]") !== null;
		}
	}

	/* Whether a task not shown yet belongs on this page: of the page's
	 * status, and newer than its last row only on the newest page; older
	 * than the last row only while the newest page is not full. */
	function belongsHere(task) {
		if (pageFilter && task.status !== pageFilter) {
			return false;
		}
		var rows = tbody.querySelectorAll("tr[data-id]");
		if (rows.length === 0) {
			return !olderPage;
		}
		var newest = rowId(rows[0]);
		var oldest = rowId(rows[rows.length - 1]);
		if (newest === null || oldest === null) {
			return !olderPage;
		}
		if (task.id > newest) {
			return !olderPage;
		}
		/* With older tasks left (the Older link), a short page is one
		 * that lost a row: only refillPage knows what comes next. */
		if (task.id < oldest) {
			return !olderPage && pageSize > 0 && rows.length < pageSize &&
				!olderLink();
		}
		return true;
	}

	/* Puts a new row where it belongs: newest (highest id) first. */
	function insertRow(tr, id) {
		/* A "no tasks yet" row, if any, goes away with the first task. */
		var rows = Array.prototype.slice.call(tbody.rows);
		rows.forEach(function (r) {
			if (!r.hasAttribute("data-id")) {
				tbody.removeChild(r);
			}
		});
		var before = null;
		for (var i = 0; i < tbody.rows.length; i++) {
			var other = rowId(tbody.rows[i]);
			if (other !== null && other < id) {
				before = tbody.rows[i];
				break;
			}
		}
		tbody.insertBefore(tr, before);
		updateEmpty();
		tr.classList.add("is-new");
		setTimeout(function () {
			tr.classList.remove("is-new");
		}, 1700);
	}

	/* Points the page's "Older tasks" link (made if missing) at the tasks
	 * older than lastId, as the server would. */
	function setOlderLink(lastId) {
		var a = olderLink();
		if (!a) {
			var nav = document.querySelector("nav.pages");
			if (!nav) {
				nav = document.createElement("nav");
				nav.className = "pages";
				nav.setAttribute("aria-label", "Pages of tasks");
				table.parentNode.insertBefore(nav, table.nextSibling);
			}
			a = document.createElement("a");
			a.setAttribute("rel", "next");
			a.textContent = "Older tasks \u203a";
			nav.appendChild(a);
		}
		a.setAttribute("href", "/?" + (pageFilter ?
			"status=" + encodeURIComponent(pageFilter) + "&" : "") + "before=" + lastId);
	}

	/* The newest page keeps its size as new rows come in at the top: the
	 * rows pushed off its end belong to the next page, which then starts
	 * after the new last row. */
	function trimToPage() {
		if (olderPage || pageSize <= 0) {
			return;
		}
		var rows = tbody.querySelectorAll("tr[data-id]");
		if (rows.length <= pageSize) {
			return;
		}
		for (var i = rows.length - 1; i >= pageSize; i--) {
			var id = rowId(rows[i]);
			times.delete(id);
			stoppingIds.delete(id);
			tbody.removeChild(rows[i]);
		}
		setOlderLink(rowId(rows[pageSize - 1]));
	}

	/* The page's "Older tasks" link, or null. */
	function olderLink() {
		return document.querySelector("nav.pages a[rel=next]");
	}

	/* Removes the "Older tasks" link: there are no older tasks left. */
	function dropOlderLink() {
		var a = olderLink();
		if (a) {
			var nav = a.parentNode;
			nav.removeChild(a);
			if (!nav.querySelector("a") && nav.parentNode) {
				nav.parentNode.removeChild(nav);
			}
		}
	}

	/* The id in the "Older tasks" link's before=, or null. */
	function olderBefore() {
		var a = olderLink();
		var m = a ? /[?&]before=(\d+)/.exec(a.getAttribute("href") || "") : null;
		return m ? Number(m[1]) : null;
	}

	/* A row deleted from a full page leaves a gap that the next page's
	 * first rows fill, as a reload would show them: the tasks older than
	 * the last row are asked for and appended, and the Older link moves
	 * after them, or goes once none are left. One request at a time. An
	 * answer the page has moved past (its last row changed, or the
	 * long-poll has seen a later version) is asked for again; a failed
	 * one is retried with backoff. */
	var REFILL_TIMEOUT_MS = 15000;
	var refilling = false;
	var refillTimer = null;
	var refillFailures = 0;

	function lastShownId() {
		var rows = tbody.querySelectorAll("tr[data-id]");
		return rows.length ? rowId(rows[rows.length - 1]) : olderBefore();
	}

	function refillLater() {
		refillFailures++;
		refillTimer = setTimeout(function () {
			refillTimer = null;
			refillPage();
		}, backoffDelay(refillFailures));
	}

	function refillPage() {
		if (refilling || refillTimer !== null || !table || pageSize <= 0 ||
		    !olderLink()) {
			return;
		}
		var need = pageSize - tbody.querySelectorAll("tr[data-id]").length;
		var last = lastShownId();
		if (need <= 0 || last === null) {
			return;
		}
		var limit = need + 1;
		refilling = true;
		api("GET", "/api/tasks?limit=" + limit + "&before=" + last +
			(pageFilter ? "&status=" + encodeURIComponent(pageFilter) : ""),
			undefined, REFILL_TIMEOUT_MS).then(function (r) {
			refilling = false;
			var body = r.body;
			if (!r.res.ok || !body || !Array.isArray(body.tasks)) {
				refillLater();
				return;
			}
			refillFailures = 0;
			if (lastShownId() !== last || Number(body.version) < Number(version)) {
				refillPage();
				return;
			}
			var fresh = body.tasks.filter(function (t) {
				return validTask(t) && t.id < last && !deletedIds.has(t.id) &&
					!rowFor(t.id);
			});
			var room = pageSize - tbody.querySelectorAll("tr[data-id]").length;
			var take = fresh.slice(0, Math.max(0, room));
			take.forEach(function (t) {
				tbody.appendChild(newRow(t));
			});
			if (body.tasks.length < limit && take.length === fresh.length &&
			    fresh.length === body.tasks.length) {
				dropOlderLink();
			} else if (take.length > 0) {
				setOlderLink(take[take.length - 1].id);
			}
			if (take.length > 0) {
				updateEmpty();
				startTicking();
			}
			/* Still short: more to bring, or some of the answer was
			 * deleted meanwhile (a new answer no longer has them). */
			if (take.length > 0 || fresh.length < body.tasks.length) {
				refillPage();
			}
		}, function () {
			refilling = false;
			refillLater();
		});
	}

	function validTask(task) {
		return task && typeof task === "object" && typeof task.id === "number" &&
			isFinite(task.id);
	}

	/* Applies a task; returns its row (or null if it was deleted). */
	function applyTask(task) {
		if (!validTask(task) || deletedIds.has(task.id)) {
			return null;
		}
		var tr = rowFor(task.id);
		if (tr) {
			var was = tr.getAttribute("data-status");
			fillRow(tr, task);
			if (was !== tr.getAttribute("data-status")) {
				countsChanged();
			}
		} else {
			if (!belongsHere(task)) {
				return null;
			}
			tr = newRow(task);
			insertRow(tr, task.id);
			trimToPage();
			countsChanged();
		}
		return tr;
	}

	function removeTask(id) {
		id = Number(id);
		if (!isFinite(id)) {
			return;
		}
		deletedIds.add(id);
		times.delete(id);
		stoppingIds.delete(id);
		var tr = rowFor(id);
		if (tr && tr.parentNode) {
			tr.parentNode.removeChild(tr);
			updateEmpty();
			refillPage();
		}
		countsChanged();
	}

	/* The header's counts by status (#count-STATUS): asked for again,
	 * at most every so often, after a status changed. */
	var countsTimer = null;
	var countsLast = 0;
	var hasCounts = document.getElementById("counts") !== null;

	function countsChanged() {
		if (!hasCounts || countsTimer !== null) {
			return;
		}
		var wait = Math.max(300, countsLast + COUNTS_MIN_MS - Date.now());
		countsTimer = setTimeout(refreshCounts, wait);
	}

	function refreshCounts() {
		countsLast = Date.now();
		api("GET", "/api/tasks?limit=1").then(function (r) {
			countsTimer = null;
			if (!r.res.ok || !r.body || typeof r.body.counts !== "object" ||
			    r.body.counts === null) {
				return;
			}
			STATUSES.forEach(function (st) {
				var el = document.getElementById("count-" + st);
				var v = r.body.counts[st];
				if (el && typeof v === "number") {
					el.textContent = String(v);
				}
			});
		}, function () {
			countsTimer = null;
		});
	}

	/* A task from an answer to our own POST (not the long-poll): apply it
	 * unless the long-poll already brought this row something since we
	 * asked, which is then at least as new. */
	function applyOwnAnswer(task, seqBefore) {
		if (!validTask(task)) {
			return;
		}
		var tr = rowFor(task.id);
		if (tr && typeof task.version === "number") {
			var v = parseInt(tr.getAttribute("data-version"), 10);
			if (!isNaN(v) && v > task.version) {
				return;
			}
		} else if (tr && seqBefore !== undefined && rowSeq.get(tr) !== seqBefore) {
			return;
		}
		applyTask(task);
	}

	/* ---- Ticking "ran for" ------------------------------------------- */

	var tickTimer = null;

	function tick() {
		if (!table) {
			tickTaskPage();
			return;
		}
		var running = tbody.querySelectorAll('tr[data-status="running"]');
		for (var i = 0; i < running.length; i++) {
			var id = rowId(running[i]);
			if (id !== null) {
				renderRan(running[i], id, "running");
			}
		}
		if (running.length === 0) {
			stopTicking();
		}
	}

	function startTicking() {
		var any = table
			? tbody.querySelector('tr[data-status="running"]') !== null
			: taskSection.getAttribute("data-status") === "running";
		if (tickTimer === null && !document.hidden && any) {
			tickTimer = setInterval(tick, TICK_MS);
		}
	}

	function stopTicking() {
		if (tickTimer !== null) {
			clearInterval(tickTimer);
			tickTimer = null;
		}
	}

	/* The server-rendered running rows carry no start time: ask once. */
	function loadRunningTimes() {
		if (!tbody.querySelector('tr[data-status="running"]')) {
			return;
		}
		api("GET", "/api/tasks?status=running&limit=1000").then(function (r) {
			if (!r.res.ok || !r.body || !Array.isArray(r.body.tasks)) {
				return;
			}
			r.body.tasks.forEach(function (task) {
				if (!validTask(task) || times.has(task.id)) {
					return; /* the long-poll knows better */
				}
				var tr = rowFor(task.id);
				if (tr && tr.getAttribute("data-status") === "running") {
					times.set(task.id, {
						started: parseTime(task.started_at),
						finished: parseTime(task.finished_at)
					});
				}
			});
			startTicking();
		}, function () { /* the long-poll will bring them */ });
	}

	/* ---- Offline notice ---------------------------------------------- */

	var notice = null;
	var noticeText = null;

	function showOffline(delayMs) {
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
		noticeText.textContent = "Offline \u2014 retrying in " + secs + " s\u2026";
	}

	function hideOffline() {
		if (notice) {
			notice.parentNode.removeChild(notice);
			notice = null;
			noticeText = null;
		}
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
			var anchor = table.parentNode === document.body || !table.parentNode.classList.contains("table-wrap")
				? table : table.parentNode;
			anchor.parentNode.insertBefore(flash, anchor);
		}
		flash.hidden = false;
		flash.textContent = text;
		clearTimeout(flashTimer);
		flashTimer = setTimeout(function () {
			flash.hidden = true;
			flash.textContent = "";
		}, FLASH_MS);
	}

	/* ---- The long-poll ----------------------------------------------- */

	/* On the task page the task's own version: the first answer brings
	 * whatever changed since, this task's change among it. */
	var version = (table || taskSection).getAttribute("data-version") || "0";
	var inflight = null; /* AbortController of the pending request */
	var pollTimer = null;
	var failures = 0;

	function backoffDelay(n) {
		var base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, n - 1));
		/* ±25% jitter, never above the cap. */
		var d = base * (0.75 + Math.random() * 0.5);
		return Math.round(Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_FIRST_MS / 2, d)));
	}

	function schedule(ms) {
		clearTimeout(pollTimer);
		pollTimer = setTimeout(function () {
			pollTimer = null;
			pollOnce();
		}, ms);
	}

	function pollNow() {
		if (inflight) {
			return;
		}
		schedule(0);
	}

	function applyAnswer(data) {
		pollSeq++;
		if (Array.isArray(data.deleted)) {
			data.deleted.forEach(removeTask);
		}
		if (Array.isArray(data.tasks)) {
			data.tasks.forEach(function (task) {
				var tr = applyTask(task);
				if (tr) {
					rowSeq.set(tr, pollSeq);
				}
			});
		}
		startTicking();
	}

	function pollOnce() {
		if (document.hidden || inflight) {
			return;
		}
		var ctrl = new AbortController();
		inflight = ctrl;
		var started = Date.now();
		var timedOut = false;
		var timeout = setTimeout(function () {
			timedOut = true;
			ctrl.abort();
		}, POLL_TIMEOUT_MS);

		fetch("/api/tasks?since=" + encodeURIComponent(version), {
			credentials: "same-origin",
			cache: "no-store",
			headers: { Accept: "application/json" },
			signal: ctrl.signal
		}).then(function (res) {
			noteServerClock(res);
			if (!res.ok) {
				throw new Error("HTTP " + res.status);
			}
			return res.json();
		}).then(function (data) {
			clearTimeout(timeout);
			if (inflight === ctrl) {
				inflight = null;
			}
			if (!data || typeof data !== "object" ||
			    (typeof data.version !== "number" && typeof data.version !== "string")) {
				throw new Error("bad answer");
			}
			if (table) {
				applyAnswer(data);
			} else if (applyTaskPageAnswer(data)) {
				return; /* the page is being loaded again */
			}
			version = String(data.version);
			if (table) {
				table.setAttribute("data-version", version);
			}
			failures = 0;
			hideOffline();
			var empty = !(data.tasks && data.tasks.length) && !(data.deleted && data.deleted.length);
			if (data.more === true) {
				schedule(0);
			} else if (empty && Date.now() - started < MIN_EMPTY_POLL_MS) {
				schedule(MIN_EMPTY_POLL_MS); /* the server did not hold it: no busy loop */
			} else {
				schedule(0);
			}
		}).catch(function () {
			clearTimeout(timeout);
			if (inflight === ctrl) {
				inflight = null;
			}
			if (ctrl.signal.aborted && !timedOut) {
				return; /* paused: the tab was hidden */
			}
			failures++;
			var d = backoffDelay(failures);
			showOffline(d);
			schedule(d);
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
			stopTicking();
		} else {
			startTicking();
			tick();
			pollNow(); /* with the last version we had */
		}
	});

	window.addEventListener("online", function () {
		if (!document.hidden && failures > 0) {
			pollNow();
		}
	});

	/* ---- The new-task form ------------------------------------------- */

	function setFieldError(text) {
		if (fieldError) {
			fieldError.textContent = text;
		}
		if (input) {
			if (text) {
				input.setAttribute("aria-invalid", "true");
				if (fieldError) {
					input.setAttribute("aria-describedby", fieldError.id);
				}
			} else {
				input.removeAttribute("aria-invalid");
			}
		}
	}

	if (form && input) {
		var submitting = false;
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

			api("POST", "/api/tasks", body).then(function (r) {
				if (r.res.status === 201 && r.body && validTask(r.body)) {
					input.value = "";
					setFieldError("");
					if (!rowFor(r.body.id)) {
						applyTask(r.body);
						startTicking();
					}
				} else {
					setFieldError(errorText(r.res, r.body));
				}
			}, function () {
				setFieldError("Could not reach the server. Check the connection and try again.");
			}).then(function () {
				submitting = false;
				Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
				form.removeAttribute("aria-busy");
				input.focus();
			});
		});
	}

	/* ---- The task page ------------------------------------------------ */

	var taskId = taskSection ? Number(taskSection.getAttribute("data-id")) : null;
	var reloading = false;

	/* Follows this task in a long-poll answer. Returns true when the page
	 * is being loaded again (the status changed, or the task is gone). */
	function applyTaskPageAnswer(data) {
		var gone = Array.isArray(data.deleted) && data.deleted.some(function (d) {
			return Number(d) === taskId;
		});
		var mine = null;
		if (Array.isArray(data.tasks)) {
			data.tasks.forEach(function (t) {
				if (validTask(t) && t.id === taskId) {
					mine = t; /* the last change is the newest */
				}
			});
		}
		if (gone || (mine && mine.status !== taskSection.getAttribute("data-status"))) {
			reloading = true;
			stopTicking();
			window.location.reload();
			return true;
		}
		if (mine) {
			times.set(taskId, {
				started: parseTime(mine.started_at),
				finished: parseTime(mine.finished_at)
			});
			var prog = taskSection.querySelector(".status progress");
			if (prog && typeof mine.progress === "number") {
				showProgress(prog, Math.min(1, Math.max(0, mine.progress)));
			}
			startTicking();
		}
		return false;
	}

	function tickTaskPage() {
		var t = times.get(taskId);
		var dd = taskSection.querySelector(".ran");
		if (!t || t.started === null || !dd || reloading) {
			return;
		}
		dd.textContent = formatDuration(Date.now() + clockOffset - t.started);
	}

	/* ---- Row actions ------------------------------------------------- */

	function onRowSubmit(ev) {
		var f = ev.target;
		if (!f || f.tagName !== "FORM") {
			return;
		}
		var m = /\/tasks\/([0-9]+)\/(cancel|retry|delete)$/.exec(f.getAttribute("action") || "");
		if (!m) {
			return; /* not ours: let it post */
		}
		ev.preventDefault();
		var id = Number(m[1]);
		var action = m[2];
		var tr = f.closest("tr");
		var seqBefore = tr ? rowSeq.get(tr) : undefined;
		var buttons = f.querySelectorAll("button");
		/* Disabling the button drops the keyboard's place: put it back
		 * once the action is done (see refocusAfter). */
		var hadFocus = f.contains(document.activeElement);
		var neighbour = tr ? (tr.nextElementSibling || tr.previousElementSibling) : null;
		if (tr) {
			tr.classList.add("is-busy");
		}
		Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });

		var req = action === "delete"
			? api("DELETE", "/api/tasks/" + id)
			: api("POST", "/api/tasks/" + id + "/" + action, {});

		req.then(function (r) {
			if (r.res.ok) {
				if (action === "delete") {
					removeTask(id);
				} else {
					if (action === "cancel" && r.body && r.body.status === "running") {
						stoppingIds.add(id);
					}
					applyOwnAnswer(r.body, seqBefore);
					startTicking();
				}
			} else if (r.res.status === 404) {
				removeTask(id);
				showFlash("Task " + id + ": " + errorText(r.res, r.body));
			} else {
				showFlash("Task " + id + ": " + errorText(r.res, r.body));
			}
		}, function () {
			showFlash("Task " + id + ": could not reach the server. Try again.");
		}).then(function () {
			if (tr) {
				tr.classList.remove("is-busy");
			}
			Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
			if (hadFocus) {
				refocusAfter(tr, neighbour);
			}
		});
	}

	/* After a row action begun from the keyboard, unless focus went
	 * elsewhere meanwhile: the row's first action (its actions may have
	 * changed) or, while it has none (a cancel on its way), its link; a
	 * neighbouring row's if it was deleted; else the form. */
	function refocusAfter(tr, neighbour) {
		var active = document.activeElement;
		if (active && active !== document.body && document.contains(active)) {
			return;
		}
		var rows = [tr, neighbour];
		for (var i = 0; i < rows.length; i++) {
			var el = rows[i] && document.contains(rows[i])
				? rows[i].querySelector("td.actions button:not([disabled])") ||
					rows[i].querySelector("td.id a")
				: null;
			if (el) {
				el.focus();
				return;
			}
		}
		if (input) {
			input.focus();
		}
	}

	if (tbody) {
		tbody.addEventListener("submit", onRowSubmit);
	}

	/* ---- Start ------------------------------------------------------- */

	if (table) {
		updateEmpty();
		loadRunningTimes();
	}
	pollOnce();
})();
