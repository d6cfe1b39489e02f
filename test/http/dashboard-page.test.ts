import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dashboardPage } from '../../src/http/dashboard/page.js';
import { DASHBOARD_JS } from '../../src/http/dashboard/script.js';
import { ConfigError } from '../../src/errors.js';

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

describe('dashboard page', () => {
  it('is self-contained: no external scripts, styles, images or fonts', () => {
    const { html } = dashboardPage();
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+rel="stylesheet"/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).not.toMatch(/@import|url\(/);
  });

  it('allows exactly its own inline script and style by hash in a strict CSP', () => {
    const { html, headers } = dashboardPage();
    const csp = headers['content-security-policy']!;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('never writes server data as HTML and never uses cookies', () => {
    expect(DASHBOARD_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    expect(DASHBOARD_JS).toContain("credentials: 'omit'");
    expect(DASHBOARD_JS).not.toMatch(/document\.cookie/);
    expect(DASHBOARD_JS).not.toContain('</script');
  });

  it('escapes the title and carries the poll interval and history size', () => {
    const { html } = dashboardPage({ title: '<b>ops</b> & "co"', pollMs: 2000, historySize: 60 });
    expect(html).toContain('<h1>&#60;b&#62;ops&#60;/b&#62; &#38; &#34;co&#34;</h1>');
    expect(html).toContain('data-poll-ms="2000"');
    expect(html).toContain('data-history="60"');
  });

  it('rejects bad options naming the field', () => {
    expect(() => dashboardPage({ pollMs: 10 })).toThrow(ConfigError);
    expect(() => dashboardPage({ pollMs: 10 })).toThrow(/pollMs/);
    expect(() => dashboardPage({ colour: 'red' } as never)).toThrow(/colour/);
    expect(() => dashboardPage({ colour: 'red' } as never)).toThrow(ConfigError);
  });
});
