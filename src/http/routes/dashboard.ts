import { dashboardPage, type DashboardPage } from '../dashboard/page.js';
import { HttpError } from '../errors.js';
import type { ResolvedHttpOptions } from '../options.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { fleetWindowsOf } from '../../fleet/snapshot.js';

// One page per mount: it is static (its CSP hashes with it), so it is built once.
const pages = new WeakMap<ResolvedHttpOptions, DashboardPage>();

/**
 * `GET /stats/controls` (read role): every control with its state, for the
 * dashboard's controls panel.
 *
 * `GET /dashboard` (public): the operator page. It is public on purpose: the
 * page is static and holds no data; it asks the operator for a token and
 * sends it as a bearer header on every call, so the data routes it polls
 * (`/stats/*`, `/admin/*`) keep their read and operator roles. A browser
 * cannot attach a bearer header to a plain navigation, so a page behind the
 * read role could not be opened at all. `dashboard: false` in the options
 * turns it off (404).
 */
export const dashboardRoutes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/stats/controls',
    access: 'read',
    summary: 'Every control by kind and name (features, caches, rate limiters, fallbacks, canaries) with its state',
    handler: ({ monitor }) => ({ json: monitor.controls.stats() }),
  }),
  defineRoute({
    method: 'GET',
    path: '/dashboard',
    access: 'public',
    summary: 'Operator dashboard: static HTML that asks for a token and calls the routes above with it',
    handler: ({ monitor, options, request }) => {
      const config = options.dashboard;
      if (config === false) throw new HttpError('ROUTE_NOT_FOUND', `No firebreak route GET ${request.path}`, { method: 'GET', path: request.path });
      let page = pages.get(options);
      if (page === undefined) {
        page = dashboardPage(config === true ? {} : config);
        pages.set(options, page);
      }
      // The attribute is outside the hashed script and style, so the CSP still holds. It spares a page
      // without a fleet a 404 on every poll; one attached later shows on the next load.
      const html = fleetWindowsOf(monitor) === undefined ? page.html : page.html.replace('<body ', '<body data-fleet="on" ');
      return { text: html, contentType: page.headers['content-type']!, headers: page.headers };
    },
  }),
];
