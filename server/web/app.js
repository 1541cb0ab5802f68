// The dashboard's shell: log in, the menu, and the router (#/page/...). Each page is a function that
// fills <main> from the API; see pages_work.js and pages_office.js.
import { language, setLanguage, t } from './i18n.js';
import { forget, get, h, login, token } from './api.js';
import { conflictPage, conflictsPage, overviewPage, recordPage, recordsPage, reviewsPage } from './pages_work.js';
import { adminPage, devicesPage, reportsPage } from './pages_office.js';

const main = document.getElementById('main');
let me = null;  // GET /api/me: who is logged in, their units and the forms

const pages = [
  { path: 'overview', title: 'overview', show: overviewPage },
  { path: 'conflicts', title: 'conflicts', show: conflictsPage },
  { path: 'reviews', title: 'reviews', show: reviewsPage },
  { path: 'records', title: 'records', show: recordsPage },
  { path: 'reports', title: 'reports', show: reportsPage },
  { path: 'devices', title: 'devices', show: devicesPage },
  { path: 'admin', title: 'admin', show: adminPage, adminOnly: true },
];

function renderHeader() {
  document.getElementById('lang').textContent = language() === 'vi' ? 'English' : 'Tiếng Việt';
  const logout = document.getElementById('logout');
  logout.hidden = !me;
  logout.textContent = t('logout');
  document.getElementById('who').textContent = me ? me.user : '';
  const nav = document.getElementById('nav');
  nav.replaceChildren();
  if (!me) return;
  const current = (location.hash.slice(2) || 'overview').split('/')[0];
  for (const p of pages) {
    if (p.adminOnly && !me.admin) continue;
    nav.append(h('a', { href: `#/${p.path}`, class: current === p.path ? 'active' : undefined, dataset: { page: p.path } },
      t(p.title)));
  }
}

// What a failed login says, in the page's language where the server's refusal is a known one.
function loginError(err) {
  if (err.status === 401) return t('login_wrong');
  if (err.status === 429) return t('login_wait', { s: err.retryAfter ?? '…' });
  return err.message;
}

function loginPage(message) {
  me = null;
  renderHeader();
  const user = h('input', { name: 'user', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('div', { role: 'alert' });
  if (message) error.append(h('p.error-box', {}, message));
  const button = h('button', { type: 'submit' }, t('login'));
  const form = h('form.card.login', {
    onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      error.replaceChildren();
      try {
        await login(user.value.trim(), password.value);
        await route();
      } catch (err) {
        error.append(h('p.error-box', {}, loginError(err)));
      } finally {
        button.disabled = false;
      }
    },
  }, h('h1', {}, 'communesync'), h('label', {}, t('user'), user), h('label', {}, t('password'), password), error, button);
  main.replaceChildren(form);
  user.focus();
}

async function route() {
  if (!token()) return loginPage();
  try {
    if (!me) me = await get('/api/me');
  } catch (e) {
    return loginPage(e.message);
  }
  renderHeader();
  const parts = location.hash.slice(2).split('/').map(decodeURIComponent);
  const name = parts[0] || 'overview';
  // Each route draws into its own view, attached at once: a slower earlier route (a click on the
  // language button, then a menu entry) finishes into a detached view and cannot overwrite this one.
  const view = h('div.view', {}, h('p.muted', {}, t('loading')));
  main.replaceChildren(view);
  const ctx = { me, main: view, args: parts.slice(1), params: new URLSearchParams(location.hash.split('?')[1] || '') };
  try {
    if (name === 'conflicts' && ctx.args[0]) return await conflictPage(ctx, ctx.args[0].split('?')[0]);
    if (name === 'records' && ctx.args[1]) return await recordPage(ctx, ctx.args[0], ctx.args[1].split('?')[0]);
    const page = pages.find((p) => p.path === name.split('?')[0]);
    if (!page) return view.replaceChildren(h('p.error-box', {}, t('not_found_page')));
    await page.show(ctx);
  } catch (e) {
    view.replaceChildren(h('p.error-box', { role: 'alert' }, `${t('failed')}: ${e.message}`));
  }
}

document.getElementById('lang').addEventListener('click', () => {
  setLanguage(language() === 'vi' ? 'en' : 'vi');
  route();
});
document.getElementById('logout').addEventListener('click', () => {
  forget();
  loginPage();
});
window.addEventListener('cs-logged-out', () => loginPage(t('session_over')));
window.addEventListener('hashchange', route);
setLanguage(language());
route();
