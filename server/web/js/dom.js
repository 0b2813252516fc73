// Tiny DOM helpers. The page's CSP forbids inline script and style, and user
// data (titles, names) must never be parsed as HTML, so every element is
// built with createElement and every piece of text goes in as a text node.

// h('a', {href: '#/x', class: 'btn', dataset: {seq: 3}, onclick: fn}, 'text', child)
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'readOnly' || k === 'disabled') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A labelled form control with a slot for the API's message about its field.
export function field(label, control, hint) {
  const id = control.id || (control.id = 'f-' + Math.random().toString(36).slice(2, 9));
  const err = h('p', { class: 'field-error', id: id + '-err', dataset: { errorFor: control.name }, 'aria-live': 'polite' });
  control.setAttribute('aria-describedby', (hint ? id + '-hint ' : '') + id + '-err');
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: id + '-hint' }, hint) : null,
    control, err);
}

export function select(name, options, value, attrs = {}) {
  return h('select', { name, ...attrs },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

// Shows an API error on a form: the message next to its field when the API
// named one we have, otherwise in the form's alert.
export function showFormError(form, err) {
  clearFormErrors(form);
  const slot = err.field && form.querySelector(`[data-error-for="${CSS.escape(err.field)}"]`);
  if (slot) {
    slot.textContent = err.message;
    const input = form.elements.namedItem(err.field);
    if (input && input.setAttribute) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
  } else {
    const alert = form.querySelector('[role=alert]');
    if (alert) alert.textContent = err.message;
  }
}

export function clearFormErrors(form) {
  for (const el of form.querySelectorAll('[data-error-for]')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const alert = form.querySelector('[role=alert]');
  if (alert) alert.textContent = '';
}

// "2 minutes ago". Refreshed for every <time class="ago"> by tickClock().
export function ago(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.round((now - t) / 1000);
  if (s < 45) return 'just now';
  const units = [['minute', 60], ['hour', 3600], ['day', 86400], ['week', 604800], ['month', 2629800], ['year', 31557600]];
  let name = 'minute', size = 60;
  for (const [n, sz] of units) if (s >= sz * 0.95) { name = n; size = sz; }
  const n = Math.max(1, Math.round(s / size));
  return `${n} ${name}${n === 1 ? '' : 's'} ago`;
}

export function timeAgo(iso) {
  const d = new Date(iso);
  return h('time', { class: 'ago', datetime: iso, title: Number.isNaN(d.getTime()) ? '' : d.toLocaleString() }, ago(iso));
}

export function tickClock() {
  const now = Date.now();
  for (const t of document.querySelectorAll('time.ago')) {
    const text = ago(t.getAttribute('datetime'), now);
    if (t.textContent !== text) t.textContent = text;
  }
}

// Screen-reader and visible announcements for actions without a better place.
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const item = h('p', { class: 'toast ' + kind }, message);
  box.append(item);
  while (box.children.length > 3) box.firstChild.remove();
  setTimeout(() => item.remove(), 6000);
}
