#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// novnc-shot.mjs: show what noVNC displays when connected to a VNC server's
// WebSocket, in headless Chromium, and write the framebuffer as a PNG.
//
//   node novnc-shot.mjs --port PORT [--out FILE.png] [--timeout S]
//        [--wait-nonblack] [--expect-size WxH] [--type TEXT] [options]
//
// Serves index.html, novnc-page.mjs and noVNC's modules (from node_modules)
// on 127.0.0.1 with Node's http module, opens the page in Debian's
// /usr/bin/chromium through playwright-core, waits for RFB's 'connect'
// event and a FramebufferUpdate with pixels in it (with --expect-size until
// the canvas has that size, with --wait-nonblack until some pixel is not
// black), types --type TEXT with RFB.sendKey, and reads the noVNC canvas
// with getImageData (exact pixels) into an 8-bit RGB PNG.  Prints one JSON
// line, {"width", "height", "connected": true, ...}, and exits 0; on
// failure prints "novnc-shot: error: ..." on stderr and exits 1 (2 for bad
// usage).  Needs `npm ci` in this folder first (scripts/install-node-deps);
// no network access.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NOVNC = path.join(HERE, 'node_modules', '@novnc', 'novnc');

const USAGE = `usage: novnc-shot.mjs --port PORT [--out FILE.png] [options]
  --port PORT          VNC server's WebSocket port (required)
  --host HOST          its address (default 127.0.0.1)
  --path PATH          URL path (default none: ws://HOST:PORT)
  --out FILE.png       write the noVNC canvas as an RGB PNG
  --timeout S          give up after S seconds in all (default 30)
  --wait-nonblack      wait until some canvas pixel is not black
  --expect-size WxH    wait until the canvas is W x H
  --type TEXT          send TEXT's keys with RFB.sendKey before the shot:
                       a-z A-Z 0-9, space, - = [ ] ; ' , . / \` and \\,
                       a newline or the two characters \\n for Return
  --keysym-only        send keysyms only (no KeyboardEvent.code, so noVNC
                       does not use QEMU's extended key events)
  --settle S           after typing, wait S seconds before the shot
  --view-only          RFB viewOnly (conflicts with --type)
  --quality N          RFB qualityLevel 0-9 (noVNC's default 6)
  --compression N      RFB compressionLevel 0-9 (noVNC's default 2)
  --password PW        answer the server's password request
  --protocols a,b      WebSocket subprotocols to offer (default none)
  --chromium PATH      browser binary (default $NOVNC_CHROMIUM or
                       /usr/bin/chromium)
  --verbose            page console and noVNC info log on stderr`;

class UsageError extends Error {}

function parseArgs(argv) {
    const o = {
        host: '127.0.0.1', path: '', timeout: 30, waitNonblack: false,
        expectSize: null, type: null, keysymOnly: false, settle: 0,
        viewOnly: false, quality: null, compression: null, password: null,
        protocols: null, verbose: false, out: null, port: null,
        chromium: process.env.NOVNC_CHROMIUM || '/usr/bin/chromium',
    };
    const flags = { '--wait-nonblack': 'waitNonblack',
                    '--keysym-only': 'keysymOnly',
                    '--view-only': 'viewOnly', '--verbose': 'verbose' };
    const values = { '--port': 'port', '--host': 'host', '--path': 'path',
                     '--out': 'out', '--timeout': 'timeout',
                     '--expect-size': 'expectSize', '--type': 'type',
                     '--settle': 'settle', '--quality': 'quality',
                     '--compression': 'compression',
                     '--password': 'password', '--protocols': 'protocols',
                     '--chromium': 'chromium' };
    for (let i = 0; i < argv.length; i++) {
        let a = argv[i];
        let v;
        const eq = a.indexOf('=');
        if (a.startsWith('--') && eq > 0) {
            v = a.slice(eq + 1);
            a = a.slice(0, eq);
        }
        if (a === '-h' || a === '--help') {
            console.log(USAGE);
            process.exit(0);
        } else if (flags[a] && v === undefined) {
            o[flags[a]] = true;
        } else if (values[a]) {
            if (v === undefined) {
                if (i + 1 >= argv.length) {
                    throw new UsageError(`${a} needs a value`);
                }
                v = argv[++i];
            }
            o[values[a]] = v;
        } else {
            throw new UsageError(`unknown argument ${argv[i]}`);
        }
    }
    const int = (name, v, lo, hi) => {
        if (!/^\d+$/.test(String(v)) || +v < lo || +v > hi) {
            throw new UsageError(`${name} must be an integer ${lo}-${hi}`);
        }
        return +v;
    };
    if (o.port === null) {
        throw new UsageError('--port is required');
    }
    o.port = int('--port', o.port, 1, 65535);
    for (const k of ['timeout', 'settle']) {
        o[k] = Number(o[k]);
        if (!Number.isFinite(o[k]) || o[k] < 0) {
            throw new UsageError(`--${k} must be a number of seconds`);
        }
    }
    if (o.quality !== null) {
        o.quality = int('--quality', o.quality, 0, 9);
    }
    if (o.compression !== null) {
        o.compression = int('--compression', o.compression, 0, 9);
    }
    if (o.expectSize !== null) {
        const m = /^(\d+)x(\d+)$/.exec(o.expectSize);
        if (!m) {
            throw new UsageError('--expect-size must be WxH, e.g. 1280x800');
        }
        o.expectSize = [+m[1], +m[2]];
    }
    if (o.type !== null && o.viewOnly) {
        throw new UsageError('--type and --view-only exclude each other');
    }
    if (o.type !== null) {
        o.keys = textToKeys(o.type, o.keysymOnly);
    }
    return o;
}

// X11 keysyms and KeyboardEvent.code values (US layout), as a browser
// would hand them to noVNC.
const XK_Return = 0xff0d;
const XK_Shift_L = 0xffe1;
const PUNCT = {
    ' ': 'Space', '-': 'Minus', '=': 'Equal', '[': 'BracketLeft',
    ']': 'BracketRight', ';': 'Semicolon', "'": 'Quote', ',': 'Comma',
    '.': 'Period', '/': 'Slash', '`': 'Backquote', '\\': 'Backslash',
};

function textToKeys(text, keysymOnly) {
    const keys = [];
    const press = (keysym, code) => {
        code = keysymOnly ? null : code;
        keys.push([keysym, code, true], [keysym, code, false]);
    };
    for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (ch === '\\' && text[i + 1] === 'n') {
            press(XK_Return, 'Enter');
            i++;
        } else if (ch === '\n' || ch === '\r') {
            press(XK_Return, 'Enter');
        } else if (ch >= 'a' && ch <= 'z') {
            press(ch.charCodeAt(0), 'Key' + ch.toUpperCase());
        } else if (ch >= 'A' && ch <= 'Z') {
            const shift = keysymOnly ? null : 'ShiftLeft';
            keys.push([XK_Shift_L, shift, true]);
            press(ch.charCodeAt(0), 'Key' + ch);
            keys.push([XK_Shift_L, shift, false]);
        } else if (ch >= '0' && ch <= '9') {
            press(ch.charCodeAt(0), 'Digit' + ch);
        } else if (PUNCT[ch]) {
            press(ch.charCodeAt(0), PUNCT[ch]);
        } else {
            throw new UsageError(`--type: no key for ${JSON.stringify(ch)}`);
        }
    }
    return keys;
}

// ---- a PNG writer (8-bit RGB, filter 0) ----

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) {
        c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    return c >>> 0;
});

function crc32(buf) {
    let c = 0xffffffff;
    for (let i = 0; i < buf.length; i++) {
        c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
    }
    return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, body) {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, crc]);
}

function encodePng(w, h, rgba) {
    const stride = w * 3;
    const raw = Buffer.alloc(h * (stride + 1));
    for (let y = 0; y < h; y++) {
        let o = y * (stride + 1) + 1;
        let i = y * w * 4;
        for (let x = 0; x < w; x++, i += 4) {
            raw[o++] = rgba[i];
            raw[o++] = rgba[i + 1];
            raw[o++] = rgba[i + 2];
        }
    }
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(w, 0);
    ihdr.writeUInt32BE(h, 4);
    ihdr[8] = 8;   // bit depth
    ihdr[9] = 2;   // RGB
    return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        pngChunk('IHDR', ihdr),
        pngChunk('IDAT', zlib.deflateSync(raw, { level: 6 })),
        pngChunk('IEND', Buffer.alloc(0)),
    ]);
}

// ---- the page server ----

const TYPES = { '.html': 'text/html; charset=utf-8',
                '.js': 'text/javascript; charset=utf-8',
                '.mjs': 'text/javascript; charset=utf-8' };

function servePage() {
    const roots = [['/novnc/', NOVNC], ['/', HERE]];
    const server = http.createServer((req, res) => {
        const url = new URL(req.url, 'http://127.0.0.1');
        let file = null;
        let p = decodeURIComponent(url.pathname);
        if (p === '/') {
            p = '/index.html';
        }
        for (const [prefix, dir] of roots) {
            if (p.startsWith(prefix)) {
                const f = path.resolve(dir, '.' + p.slice(prefix.length - 1));
                // Only files below dir, and from HERE only the page.
                if (f.startsWith(dir + path.sep) &&
                    (dir !== HERE || /^\/(index\.html|novnc-page\.mjs)$/.test(p))) {
                    file = f;
                }
                break;
            }
        }
        const type = file && TYPES[path.extname(file)];
        if (req.method !== 'GET' || !type) {
            res.writeHead(404, { 'Content-Type': 'text/plain' });
            res.end('not found\n');
            return;
        }
        fs.readFile(file, (err, data) => {
            if (err) {
                res.writeHead(404, { 'Content-Type': 'text/plain' });
                res.end('not found\n');
                return;
            }
            res.writeHead(200, { 'Content-Type': type,
                                 'Cache-Control': 'no-store' });
            res.end(data);
        });
    });
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
    });
}

// ---- the run ----

function log(o, ...args) {
    if (o.verbose) {
        console.error('novnc-shot:', ...args);
    }
}

async function run(o) {
    if (!fs.existsSync(path.join(NOVNC, 'core', 'rfb.js'))) {
        throw new Error(`${NOVNC} missing: run scripts/install-node-deps`);
    }
    if (!fs.existsSync(o.chromium)) {
        throw new Error(`no browser at ${o.chromium} (Debian package ` +
                        'chromium; scripts/install-deps installs it)');
    }
    const { chromium } = await import('playwright-core');
    const t0 = Date.now();
    const deadline = t0 + o.timeout * 1000;
    const left = () => Math.max(1, deadline - Date.now());

    const server = await servePage();
    let browser = null;
    try {
        browser = await chromium.launch({
            executablePath: o.chromium,
            args: ['--no-sandbox', '--disable-gpu',
                   '--force-color-profile=srgb',
                   '--disable-background-networking', '--disable-sync',
                   '--disable-component-update', '--no-first-run',
                   '--disable-quic'],
            timeout: left(),
        });
        const page = await browser.newPage({
            viewport: o.expectSize ?
                { width: Math.max(o.expectSize[0], 800),
                  height: Math.max(o.expectSize[1], 600) } :
                { width: 1920, height: 1200 },
            deviceScaleFactor: 1,
        });
        const pageErrors = [];
        page.on('pageerror', (e) => {
            pageErrors.push(String(e));
            log(o, 'page error:', String(e));
        });
        page.on('console', (m) => log(o, `console.${m.type()}:`, m.text()));

        const q = new URLSearchParams({ port: String(o.port), host: o.host });
        if (o.path) q.set('path', o.path);
        if (o.viewOnly) q.set('viewOnly', '1');
        if (o.quality !== null) q.set('quality', String(o.quality));
        if (o.compression !== null) q.set('compression', String(o.compression));
        if (o.password !== null) q.set('password', o.password);
        if (o.protocols) q.set('protocols', o.protocols);
        q.set('log', o.verbose ? 'info' : 'warn');
        const pageUrl = `http://127.0.0.1:${server.address().port}/index.html?${q}`;
        log(o, 'page', pageUrl);
        await page.goto(pageUrl, { timeout: left() });

        const state = () => page.evaluate(() => window.harness &&
                                          window.harness.state);
        const fail = async (what) => {
            const s = (await state().catch(() => null)) || {};
            let why = '';
            if (s.error) why += `; page error: ${s.error}`;
            if (pageErrors.length) why += `; ${pageErrors.join('; ')}`;
            if (s.securityFailure) {
                why += `; securityfailure ${JSON.stringify(s.securityFailure)}`;
            }
            if (s.credentialsRequired && o.password === null) {
                why += '; the server asks for credentials ' +
                    `${JSON.stringify(s.credentialsRequired)} (--password)`;
            }
            if (s.disconnected) {
                why += `; disconnected (clean: ${s.clean})`;
            }
            return new Error(`${what} (status ${s.status || 'no page'}, ` +
                             `${s.url || ''}${why})`);
        };
        // Wait for fn(harness) in the page, failing early when noVNC has
        // disconnected or the page broke.
        const waitFor = async (what, fn, arg) => {
            try {
                await page.waitForFunction(([src, a]) => {
                    const h = window.harness;
                    if (!h) return false;
                    if (h.state.error || h.state.disconnected) return true;
                    return new Function('h', 'a', `return (${src})(h, a)`)(h, a);
                }, [fn.toString(), arg], { timeout: left(), polling: 50 });
            } catch (e) {
                if (e.name === 'TimeoutError') {
                    throw await fail(`timed out after ${o.timeout}s waiting ` +
                                     `for ${what}`);
                }
                throw e;
            }
            const s = await state();
            if (s.error || s.disconnected) {
                throw await fail(`no ${what}`);
            }
        };

        await waitFor("RFB 'connect'", (h) => h.state.connected);
        log(o, `connected after ${Date.now() - t0} ms`);
        await waitFor('a FramebufferUpdate with pixels',
                      (h) => (h.state.instrumented === false ||
                              h.state.pixelFbus > 0) &&
                          h.canvas() && h.canvas().width > 0);
        if (o.expectSize) {
            await waitFor(`a ${o.expectSize[0]}x${o.expectSize[1]} canvas`,
                          (h, a) => h.canvas().width === a[0] &&
                              h.canvas().height === a[1], o.expectSize);
        }
        if (o.waitNonblack) {
            await waitFor('a non-black pixel', (h) => h.stats().nonblack);
        }
        if (o.keys) {
            await page.evaluate((k) => window.harness.sendKeys(k), o.keys);
            log(o, `sent ${o.keys.length} key events`);
            if (o.settle > 0) {
                await page.waitForTimeout(Math.min(o.settle * 1000, left()));
            }
        }
        await page.evaluate(() => window.harness.settled());
        const st = await state();
        if (st.disconnected) {
            throw await fail('disconnected before the shot');
        }
        const stats = await page.evaluate(() => window.harness.stats());
        const out = { width: stats.width, height: stats.height,
                      connected: true };
        if (o.out) {
            const px = await page.evaluate(() => window.harness.readPixels());
            const rgba = Buffer.from(px.rgba, 'base64');
            if (rgba.length !== px.width * px.height * 4) {
                throw new Error(`read ${rgba.length} bytes of pixels for ` +
                                `${px.width}x${px.height}`);
            }
            fs.writeFileSync(o.out, encodePng(px.width, px.height, rgba));
            out.width = px.width;
            out.height = px.height;
            out.out = o.out;
        }
        Object.assign(out, {
            nonblack: stats.nonblack, opaque: stats.opaque,
            desktop_name: st.desktopName, fbus: st.fbus,
            pixel_fbus: st.pixelFbus, rects: st.rects,
            keys_sent: st.keysSent, elapsed_ms: Date.now() - t0,
        });
        // A clean close, so the server sees the client go.
        await page.evaluate(() => window.harness.disconnect()).catch(() => {});
        return out;
    } finally {
        if (browser) {
            await browser.close().catch(() => {});
        }
        server.close();
    }
}

async function main() {
    let o;
    try {
        o = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.error(`novnc-shot: ${e.message}`);
        console.error(USAGE);
        return 2;
    }
    // A watchdog, should the browser or a socket hang past the timeout.
    setTimeout(() => {
        console.error('novnc-shot: error: still running 20s after --timeout');
        process.exit(1);
    }, (o.timeout + 20) * 1000).unref();
    try {
        const out = await run(o);
        console.log(JSON.stringify(out));
        return 0;
    } catch (e) {
        const msg = String(e && e.message || e).split('\n')[0];
        console.error(`novnc-shot: error: ${msg}`);
        if (o.verbose && e && e.stack) {
            console.error(e.stack);
        }
        return 1;
    }
}

process.exit(await main());
