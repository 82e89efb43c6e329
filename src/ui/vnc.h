/* SPDX-License-Identifier: MIT */
/*
 * The VNC backend (design.md "Display"): an RFB 3.8 server (RFC 6143)
 * built on libvncserver that shows the first console (head 0 of the first
 * display device) and feeds keyboard and pointer events back through the
 * input router. WebSocket clients (noVNC) are served on the VNC port and,
 * with websocket=, on a port of their own. It runs inside swede's main
 * loop: no thread of its own, no polling.
 *
 * The -vnc argument follows QEMU's syntax, a subset of it:
 *
 *   none                       no VNC server (vnc_start does nothing)
 *   [HOST]:DISPLAY             listen on HOST (all addresses when empty,
 *                              [ADDR] for IPv6) port 5900 + DISPLAY
 *   ,websocket=on|off|PORT|HOST:PORT
 *                              WebSockets also on 5700 + DISPLAY (on) or
 *                              on PORT (HOST defaults to the VNC host)
 *   ,password=off              no authentication (the only mode)
 *   ,to=L                      if a port of DISPLAY is taken (5900 + it,
 *                              and 5700 + it with websocket=on), try the
 *                              next displays up to L
 *
 * Every other option (password=on, tls-creds, sasl, share, lossy, ...)
 * and unix: sockets are refused with a one-line error naming the option.
 *
 * Not here: the consoles and their surfaces (console.h), where the input
 * goes (the sinks registered with the router), the command line (main.c).
 */
#ifndef SWEDE_UI_VNC_H
#define SWEDE_UI_VNC_H

struct error;

/* Parse spec (the -vnc argument) without opening anything. optname
 * ("-vnc") names the option in errors. 0, or -EINVAL with err set.
 * Any thread. */
int vnc_check_spec(const char *spec, const char *optname, struct error *err);

/* Parse spec and start serving: bind the listening sockets, register
 * them with the main loop and register a ui backend. "none" starts
 * nothing and returns 0. Main-loop thread, after loop_init() and after
 * the consoles were created (the first console is the one shown; while
 * it is disabled, or without any, clients see a black 640x480 screen; QEMU
 * shows a text console there). At most one server: a second call fails
 * with -EBUSY. 0 or a negative errno with err set (a port in use, a host
 * that does not resolve). */
int vnc_start(const char *spec, const char *optname, struct error *err);

/* Disconnect every client, close the sockets and free everything. The ui
 * backend stays registered but does nothing (ui_add_backend has no
 * removal), so vnc_stop is for the end of the process, before
 * ui_shutdown(). Main-loop thread; a no-op when not started. */
void vnc_stop(void);

/* The TCP port the server listens on for VNC (after to= was applied), or
 * -1 when not started; the WebSocket port likewise (-1 without
 * websocket=). Main-loop thread. For tests and `info vnc`. */
int vnc_port(void);
int vnc_websocket_port(void);

#endif
