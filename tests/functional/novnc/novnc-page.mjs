// SPDX-License-Identifier: MIT
//
// The noVNC test page's module: connects noVNC's RFB to a VNC server's
// WebSocket and exposes what it sees as window.harness, for novnc-shot.mjs
// (or a person at a browser) to drive.
//
// Query parameters of index.html:
//   port=N          the WebSocket port (required)
//   host=H          default 127.0.0.1
//   path=P          URL path after the port, default none ("ws://H:N")
//   viewOnly=1      RFB viewOnly (no input reaches the server)
//   shared=0        ask for an exclusive session (default shared)
//   quality=N       RFB qualityLevel 0-9 (noVNC's default 6)
//   compression=N   RFB compressionLevel 0-9 (noVNC's default 2)
//   password=S      answer a 'credentialsrequired' event with it
//   protocols=a,b   WebSocket subprotocols (default none)
//   log=LEVEL       noVNC log level: none, error, warn (default), info, debug

import RFB from './novnc/core/rfb.js';
import { encodings, encodingName } from './novnc/core/encodings.js';
import { initLogging } from './novnc/core/util/logging.js';

const params = new URLSearchParams(location.search);
const statusEl = document.getElementById('status');
const target = document.getElementById('screen');

// Everything novnc-shot.mjs reads is in here (plain data, so that
// page.evaluate can return it).
const state = {
    url: null,
    status: 'init',        // init, connecting, connected, disconnected
    connected: false,      // 'connect' seen
    disconnected: false,   // 'disconnect' seen
    clean: null,           // 'disconnect' detail.clean
    securityFailure: null, // 'securityfailure' detail
    credentialsRequired: null,
    error: null,           // an exception while setting up
    desktopName: null,
    capabilities: null,
    fbus: 0,               // FramebufferUpdates fully processed
    pixelFbus: 0,          // ... of which carried at least one pixel rect
    rects: {},             // pixel rects seen, by encoding name
    pseudo: {},            // pseudo-encoding rects seen, by name
    keysSent: 0,
};

function setStatus(s) {
    state.status = s;
    statusEl.textContent = s;
}

const pixelEncodings = new Set(
    Object.entries(encodings)
        .filter(([name]) => name.startsWith('encoding'))
        .map(([, num]) => num));

// noVNC has no event for a framebuffer update, so count them by wrapping
// two of RFB's internal methods (the version is pinned in package.json).
// Without them the shot falls back to the canvas size and its pixels.
function instrument(rfb) {
    let pixelRects = 0;
    const handleRect = rfb._handleRect;
    const fbu = rfb._framebufferUpdate;
    if (typeof handleRect !== 'function' || typeof fbu !== 'function') {
        state.instrumented = false;
        return;
    }
    state.instrumented = true;
    rfb._handleRect = function (...args) {
        const enc = this._FBU.encoding;
        const done = handleRect.apply(this, args);
        if (done) {
            const name = encodingName(enc);
            if (pixelEncodings.has(enc)) {
                pixelRects++;
                state.rects[name] = (state.rects[name] || 0) + 1;
            } else {
                state.pseudo[name] = (state.pseudo[name] || 0) + 1;
            }
        }
        return done;
    };
    rfb._framebufferUpdate = function (...args) {
        const done = fbu.apply(this, args);
        if (done) {
            state.fbus++;
            if (pixelRects > 0) {
                state.pixelFbus++;
            }
            pixelRects = 0;
        }
        return done;
    };
}

let rfb = null;

function canvas() {
    return target.querySelector('canvas');
}

// Resolves when noVNC has drawn everything it has received (its render
// queue is empty) and the browser has had a frame to show it.
async function settled() {
    const display = rfb && rfb._display;
    if (display && typeof display.flush === 'function') {
        await display.flush();
    }
    await new Promise((r) => requestAnimationFrame(() => r()));
}

// Size and a summary of the canvas pixels, without moving them out.
function stats() {
    const c = canvas();
    if (!c || c.width === 0 || c.height === 0) {
        return { width: c ? c.width : 0, height: c ? c.height : 0,
                 nonblack: false, opaque: true };
    }
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let nonblack = false;
    let opaque = true;
    for (let i = 0; i < d.length; i += 4) {
        if (d[i] | d[i + 1] | d[i + 2]) {
            nonblack = true;
        }
        if (d[i + 3] !== 255) {
            opaque = false;
        }
        if (nonblack && !opaque) {
            break;
        }
    }
    return { width: c.width, height: c.height, nonblack, opaque };
}

// The canvas as RGBA bytes in base64 (exact pixels: getImageData, no
// screenshot scaling).
function readPixels() {
    const c = canvas();
    const w = c.width;
    const h = c.height;
    const d = c.getContext('2d').getImageData(0, 0, w, h).data;
    let bin = '';
    const chunk = 0x8000;
    for (let i = 0; i < d.length; i += chunk) {
        bin += String.fromCharCode.apply(null, d.subarray(i, i + chunk));
    }
    return { width: w, height: h, rgba: btoa(bin) };
}

// keys: [[keysym, code or null, down], ...] sent with RFB.sendKey.  Resolves
// once the WebSocket has handed every byte to the network.
async function sendKeys(keys) {
    if (!state.connected || state.disconnected) {
        throw new Error('not connected');
    }
    if (rfb.viewOnly) {
        throw new Error('viewOnly is on: sendKey would drop the keys');
    }
    for (const [keysym, code, down] of keys) {
        rfb.sendKey(keysym, code, down);
        state.keysSent++;
    }
    const ws = rfb._sock && rfb._sock._websocket;
    for (let i = 0; ws && ws.bufferedAmount > 0 && i < 500; i++) {
        await new Promise((r) => setTimeout(r, 10));
    }
}

function disconnect() {
    if (rfb && state.connected && !state.disconnected) {
        rfb.disconnect();
    }
}

window.harness = { state, canvas, settled, stats, readPixels, sendKeys,
                   disconnect, get rfb() { return rfb; } };

try {
    initLogging(params.get('log') || 'warn');
    const port = params.get('port');
    if (!port) {
        throw new Error('no port= in the page URL');
    }
    const host = params.get('host') || '127.0.0.1';
    const path = params.get('path') || '';
    state.url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}` +
        (path && !path.startsWith('/') ? '/' : '') + path;
    const options = {};
    if (params.get('shared') === '0') {
        options.shared = false;
    }
    if (params.get('protocols')) {
        options.wsProtocols = params.get('protocols').split(',');
    }
    setStatus('connecting');
    rfb = new RFB(target, state.url, options);
    instrument(rfb);
    rfb.scaleViewport = false;
    rfb.resizeSession = false;
    rfb.clipViewport = false;
    rfb.viewOnly = params.get('viewOnly') === '1';
    if (params.has('quality')) {
        rfb.qualityLevel = Number(params.get('quality'));
    }
    if (params.has('compression')) {
        rfb.compressionLevel = Number(params.get('compression'));
    }
    rfb.addEventListener('connect', () => {
        state.connected = true;
        setStatus('connected');
    });
    rfb.addEventListener('disconnect', (e) => {
        state.disconnected = true;
        state.clean = e.detail.clean;
        setStatus(e.detail.clean ? 'disconnected' : 'disconnected (unclean)');
    });
    rfb.addEventListener('securityfailure', (e) => {
        state.securityFailure = { status: e.detail.status,
                                  reason: e.detail.reason || null };
    });
    rfb.addEventListener('credentialsrequired', (e) => {
        state.credentialsRequired = e.detail.types;
        const password = params.get('password');
        if (password !== null) {
            rfb.sendCredentials({ password });
        }
    });
    rfb.addEventListener('desktopname', (e) => {
        state.desktopName = e.detail.name;
    });
    rfb.addEventListener('capabilities', (e) => {
        state.capabilities = { ...e.detail.capabilities };
    });
} catch (e) {
    state.error = String(e && e.stack || e);
    setStatus('error: ' + e);
}
