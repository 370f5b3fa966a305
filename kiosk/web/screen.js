"use strict";
// The kiosk screen: mirrors the voice session (server-sent events from /events) and sends presses
// back to /command as the same commands the voice understands, so screen and voice are one session.
//
// Presses are built for hands with dystonia or tremor: a button fires on release, only if the
// pointer went down and came up on it without sliding off; a second finger cancels the press; and
// after a press that counted, every press for DEBOUNCE_MS is ignored, so a spasm cannot fire twice
// or hit the neighbouring button. Keyboard activation (Enter/Space, which the browser turns into a
// click with detail 0) goes through the same debounce.
(() => {
  const body = document.body;
  const DEBOUNCE_MS = Number(body.dataset.debounceMs) || 800;
  const HOLD_SCROLL_MS = 8000;  // after the visitor scrolls, leave the view where they put it
  const WORDS = { idle: "Ready", listening: "Listening", thinking: "Thinking", speaking: "Speaking" };
  const $ = (id) => document.getElementById(id);
  const stage = $("stage"), captions = $("captions"), topics = $("topics"), topicList = $("topic-list");
  const topicsButton = $("btn-topics"), heard = $("heard"), offline = $("offline"), moreBelow = $("more-below");
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const hint = $("hint").cloneNode(true);

  let spans = [];          // the sentences of the answer on screen
  let press = null;        // {button, pointerId} while a press is held
  let lastActivation = -Infinity;
  let userScrolledAt = -Infinity;

  const now = () => performance.timeOrigin + performance.now();

  // Latency record for tests and the bench: event time (from the kiosk) and when the DOM showed it.
  const log = (window.kioskLog = []);
  function record(event) {
    const entry = { kind: event.kind, index: event.index, at: event.at * 1000, dom: now(), frame: null };
    log.push(entry);
    if (log.length > 500) log.shift();
    if (event.kind === "say" || event.kind === "sentence") {
      captions.dataset.eventAt = String(entry.at);
      captions.dataset.domAt = String(entry.dom);
    }
    requestAnimationFrame(() => { entry.frame = now(); });
  }

  // ---- what the kiosk is doing ----
  function setState(name) {
    if (!(name in WORDS)) return;
    body.dataset.state = name;
    $("state-word").textContent = WORDS[name];
    if (name === "idle" || name === "listening") mark(-1);  // nothing is being spoken any more
  }

  function setHeard(text) {
    $("heard-text").textContent = text;
    heard.hidden = !text;
  }

  function showAnswer(event) {
    const sentences = event.items.length ? event.items : [event.text];
    const p = document.createElement("p");
    spans = sentences.map((text, i) => {
      const span = document.createElement("span");
      span.className = "sentence";
      span.dataset.index = String(i);
      span.textContent = text;
      p.append(span, " ");
      return span;
    });
    captions.replaceChildren(p);
    showTopics(false);
    stage.scrollTop = 0;
    userScrolledAt = -Infinity;
  }

  // Highlight sentence `index` (-1: none). Spoken ones dim a little but stay well above 7:1.
  function mark(index) {
    spans.forEach((span, i) => {
      span.classList.toggle("current", i === index);
      span.classList.toggle("spoken", index >= 0 && i < index);
    });
    captions.dataset.current = String(index);
    if (index >= 0 && index < spans.length) keepInView(spans[index]);
  }

  // Bring the sentence being read into view, never scroll away from it, and not while the visitor
  // has just scrolled by hand (they are reading something else). Scrolling goes by whole lines, and
  // the caption area is a whole number of lines high, so no line is ever cut in half.
  function keepInView(span) {
    if (now() - userScrolledAt < HOLD_SCROLL_MS) return;
    const box = stage.getBoundingClientRect(), r = span.getBoundingClientRect();
    const bottom = box.bottom - (moreBelow.hidden ? 0 : moreBelow.offsetHeight);  // not under the cue
    if (r.top >= box.top && r.bottom <= bottom) return;
    const lh = lineHeight();
    const line = Math.floor((r.top - captions.getBoundingClientRect().top + 0.25 * lh) / lh);
    stage.scrollTo({ top: captions.offsetTop + line * lh, behavior: reducedMotion.matches ? "auto" : "smooth" });
  }

  const lineHeight = () => parseFloat(getComputedStyle(captions).lineHeight);

  function fitLines() {
    stage.style.maxHeight = "";
    if (captions.hidden) return;
    const lh = lineHeight();
    stage.style.maxHeight = `${Math.max(1, Math.floor(stage.parentElement.clientHeight / lh)) * lh}px`;
  }

  // Say so when text runs past the bottom, rather than cutting it off without a word.
  function updateCue() {
    moreBelow.hidden = stage.scrollHeight - stage.scrollTop - stage.clientHeight <= 4;
    stage.tabIndex = stage.scrollHeight > stage.clientHeight + 4 ? 0 : -1;  // a keyboard can scroll it then
  }

  function setMenu(items) {
    topicList.replaceChildren(...items.map((title, i) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.command = "select";
      button.dataset.number = String(i + 1);
      const num = document.createElement("span");
      num.className = "num";
      num.textContent = String(i + 1);
      button.append(num, title);
      li.append(button);
      return li;
    }));
  }

  function showTopics(open, focusFirst = false) {
    topics.hidden = !open;
    captions.hidden = open;
    topicsButton.setAttribute("aria-expanded", String(open));
    if (open) stage.scrollTop = 0;
    if (open && focusFirst) topicList.querySelector("button")?.focus();
    fitLines();
    updateCue();
  }

  function clearAll() {
    spans = [];
    captions.replaceChildren(hint.cloneNode(true));
    captions.dataset.current = "-1";
    setHeard("");
    showTopics(false);
  }

  // Switch scanning: outline the button or topic whose label is being offered.
  function markScan(label) {
    const wanted = label.trim().toLowerCase();
    document.querySelectorAll("button").forEach((b) => {
      const text = b.textContent.replace(/^\s*\d+/, "").trim().toLowerCase();
      b.classList.toggle("scanned", wanted !== "" && text === wanted);
    });
  }

  function apply(event) {
    switch (event.kind) {
      case "state": setState(event.text); break;
      case "heard": setHeard(event.text); break;
      case "say": showAnswer(event); break;
      case "sentence": mark(event.index); break;
      case "stopped": mark(-1); break;
      case "menu":
        setMenu(event.items);
        if (event.at > 0) showTopics(true);  // at 0: the screen's own list, known but not offered
        break;
      case "scan": markScan(event.text); break;
      case "reset": clearAll(); break;
    }
  }

  function connect() {
    const source = new EventSource("/events");
    source.onopen = () => { body.dataset.connected = "true"; offline.hidden = true; };
    source.onerror = () => { body.dataset.connected = "false"; offline.hidden = false; };  // it retries by itself
    source.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      apply(event);
      updateCue();
      record(event);
    };
  }

  // ---- presses ----
  function send(name, number) {
    fetch("/command", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name, number }),
    }).catch(() => { offline.hidden = false; });
  }

  function activate(button, fromKeyboard) {
    const t = now();
    if (t - lastActivation < DEBOUNCE_MS) return;
    lastActivation = t;
    body.dataset.lastCommand = button.dataset.command || button.dataset.action || "";
    if (button.dataset.action === "topics") {
      showTopics(topics.hidden, fromKeyboard);
      return;
    }
    send(button.dataset.command, Number(button.dataset.number || 0));
    if (button.dataset.command === "select") showTopics(false);
  }

  function inside(button, e) {
    const r = button.getBoundingClientRect();
    return e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
  }

  function endPress() {
    if (press) press.button.classList.remove("pressed");
    press = null;
  }

  document.addEventListener("pointerdown", (e) => {
    if (press) { endPress(); return; }  // a second finger or the palm: this press counts for nothing
    const button = e.target.closest("button");
    if (!button || !e.isPrimary || e.button !== 0) return;
    press = { button, pointerId: e.pointerId };
    button.classList.add("pressed");
  });
  document.addEventListener("pointermove", (e) => {
    if (press && e.pointerId === press.pointerId && !inside(press.button, e)) endPress();  // slid off
  });
  document.addEventListener("pointerup", (e) => {
    if (!press || e.pointerId !== press.pointerId) return;
    const button = press.button, onIt = inside(button, e);
    endPress();
    if (onIt) activate(button, false);
  });
  document.addEventListener("pointercancel", endPress);
  document.addEventListener("click", (e) => {
    const button = e.target.closest("button");
    if (!button) return;
    e.preventDefault();
    if (e.detail === 0) activate(button, true);  // Enter/Space; pointer presses were taken on release
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !topics.hidden) { showTopics(false); topicsButton.focus(); }
  });
  for (const type of ["wheel", "touchmove"]) {
    stage.addEventListener(type, () => { userScrolledAt = now(); }, { passive: true });
  }
  stage.addEventListener("keydown", () => { userScrolledAt = now(); });
  stage.addEventListener("scroll", updateCue, { passive: true });
  window.addEventListener("resize", () => { fitLines(); updateCue(); });
  fitLines();

  connect();
})();
