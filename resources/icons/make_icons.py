#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Draws the console's icons (simple shapes, no downloads) into PNG files.

Each icon is a list of shapes in a 0..1 square, rasterised with 4x4 supersampling and
written with a minimal PNG encoder (zlib only), so nothing beyond Python is needed:
    python3 resources/icons/make_icons.py
"""
import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy or 1e-9)
    t = max(0.0, min(1.0, t))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def rrect_dist(px, py, x0, y0, x1, y1, r):
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hx, hy = (x1 - x0) / 2 - r, (y1 - y0) / 2 - r
    qx, qy = abs(px - cx) - hx, abs(py - cy) - hy
    return math.hypot(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - r


# Shapes: (kind, colour, params). A shape covers a point when its distance is <= 0.
def covers(shape, x, y):
    kind, _, p = shape
    if kind == "circle":
        cx, cy, r = p
        return math.hypot(x - cx, y - cy) <= r
    if kind == "ring":
        cx, cy, r, w = p
        return abs(math.hypot(x - cx, y - cy) - r) <= w / 2
    if kind == "rect":
        return rrect_dist(x, y, *p) <= 0
    if kind == "line":
        pts, w = p
        return any(seg_dist(x, y, *pts[i], *pts[i + 1]) <= w / 2 for i in range(len(pts) - 1))
    raise ValueError(kind)


def render(shapes, size):
    ss = 4
    rows = []
    for j in range(size):
        row = bytearray()
        for i in range(size):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sj in range(ss):
                for si in range(ss):
                    x = (i + (si + 0.5) / ss) / size
                    y = (j + (sj + 0.5) / ss) / size
                    colour = None
                    for s in shapes:  # later shapes paint over earlier ones
                        if covers(s, x, y):
                            colour = s[1]
                    if colour:
                        a = colour[3] / 255
                        acc[0] += colour[0] * a
                        acc[1] += colour[1] * a
                        acc[2] += colour[2] * a
                        acc[3] += a
            n = ss * ss
            alpha = acc[3] / n
            if alpha > 0:
                row += bytes([round(acc[0] / acc[3]), round(acc[1] / acc[3]),
                              round(acc[2] / acc[3]), round(alpha * 255)])
            else:
                row += b"\0\0\0\0"
        rows.append(bytes(row))
    return rows


def write_png(path, rows, size):
    raw = b"".join(b"\0" + r for r in rows)

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data +
                struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff))

    png = (b"\x89PNG\r\n\x1a\n" +
           chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


GREY = (96, 104, 116, 255)
DARK = (55, 62, 72, 255)
WHITE = (255, 255, 255, 255)
GREEN = (46, 157, 79, 255)
AMBER = (224, 160, 16, 255)
RED = (200, 42, 42, 255)
BLUE = (45, 110, 190, 255)
PURPLE = (120, 70, 170, 255)

ICONS = {
    # The application: a grey gate on a rounded tile.
    "greygate": [
        ("rect", GREY, (0.04, 0.04, 0.96, 0.96, 0.18)),
        ("line", WHITE, ([(0.25, 0.22), (0.25, 0.80)], 0.07)),
        ("line", WHITE, ([(0.75, 0.22), (0.75, 0.80)], 0.07)),
        ("line", WHITE, ([(0.25, 0.36), (0.75, 0.36)], 0.06)),
        ("line", WHITE, ([(0.25, 0.64), (0.75, 0.64)], 0.06)),
        ("line", WHITE, ([(0.42, 0.36), (0.42, 0.64)], 0.05)),
        ("line", WHITE, ([(0.58, 0.36), (0.58, 0.64)], 0.05)),
        ("circle", AMBER, (0.78, 0.78, 0.13)),
    ],
    "dashboard": [
        ("rect", BLUE, (0.12, 0.55, 0.30, 0.88, 0.03)),
        ("rect", BLUE, (0.41, 0.30, 0.59, 0.88, 0.03)),
        ("rect", BLUE, (0.70, 0.42, 0.88, 0.88, 0.03)),
        ("line", DARK, ([(0.06, 0.92), (0.94, 0.92)], 0.05)),
    ],
    "live": [
        ("line", GREEN, ([(0.05, 0.55), (0.28, 0.55), (0.38, 0.20), (0.52, 0.85),
                          (0.62, 0.45), (0.70, 0.55), (0.95, 0.55)], 0.08)),
    ],
    "queue": [
        ("rect", GREY, (0.08, 0.15, 0.62, 0.29, 0.04)),
        ("rect", GREY, (0.08, 0.43, 0.62, 0.57, 0.04)),
        ("rect", GREY, (0.08, 0.71, 0.62, 0.85, 0.04)),
        ("circle", WHITE, (0.74, 0.66, 0.22)),
        ("ring", AMBER, (0.74, 0.66, 0.19, 0.07)),
        ("line", AMBER, ([(0.74, 0.55), (0.74, 0.67), (0.82, 0.72)], 0.05)),
    ],
    "policies": [
        ("rect", BLUE, (0.15, 0.06, 0.85, 0.94, 0.06)),
        ("rect", WHITE, (0.21, 0.12, 0.79, 0.88, 0.04)),
        ("line", GREEN, ([(0.28, 0.30), (0.34, 0.36), (0.44, 0.24)], 0.05)),
        ("line", DARK, ([(0.52, 0.30), (0.72, 0.30)], 0.05)),
        ("line", GREEN, ([(0.28, 0.52), (0.34, 0.58), (0.44, 0.46)], 0.05)),
        ("line", DARK, ([(0.52, 0.52), (0.72, 0.52)], 0.05)),
        ("line", RED, ([(0.29, 0.69), (0.41, 0.81)], 0.05)),
        ("line", RED, ([(0.41, 0.69), (0.29, 0.81)], 0.05)),
        ("line", DARK, ([(0.52, 0.75), (0.72, 0.75)], 0.05)),
    ],
    "groups": [
        ("circle", PURPLE, (0.27, 0.38, 0.12)),
        ("rect", PURPLE, (0.10, 0.55, 0.44, 0.85, 0.12)),
        ("circle", PURPLE, (0.73, 0.38, 0.12)),
        ("rect", PURPLE, (0.56, 0.55, 0.90, 0.85, 0.12)),
        ("circle", WHITE, (0.50, 0.34, 0.16)),
        ("circle", BLUE, (0.50, 0.34, 0.13)),
        ("rect", WHITE, (0.27, 0.52, 0.73, 0.92, 0.15)),
        ("rect", BLUE, (0.30, 0.55, 0.70, 0.89, 0.13)),
    ],
    "autoallow": [
        ("circle", GREEN, (0.5, 0.5, 0.44)),
        ("line", WHITE, ([(0.28, 0.52), (0.44, 0.68), (0.73, 0.35)], 0.10)),
    ],
    "rejections": [
        ("circle", RED, (0.5, 0.5, 0.44)),
        ("line", WHITE, ([(0.33, 0.33), (0.67, 0.67)], 0.10)),
        ("line", WHITE, ([(0.67, 0.33), (0.33, 0.67)], 0.10)),
    ],
    "reports": [
        ("rect", DARK, (0.18, 0.06, 0.82, 0.94, 0.06)),
        ("rect", WHITE, (0.23, 0.11, 0.77, 0.89, 0.04)),
        ("line", GREY, ([(0.31, 0.25), (0.69, 0.25)], 0.05)),
        ("line", GREY, ([(0.31, 0.37), (0.69, 0.37)], 0.05)),
        ("rect", BLUE, (0.31, 0.60, 0.39, 0.80, 0.01)),
        ("rect", BLUE, (0.46, 0.50, 0.54, 0.80, 0.01)),
        ("rect", BLUE, (0.61, 0.56, 0.69, 0.80, 0.01)),
    ],
    "proxies": [
        ("rect", DARK, (0.06, 0.10, 0.42, 0.40, 0.05)),
        ("rect", DARK, (0.58, 0.60, 0.94, 0.90, 0.05)),
        ("line", GREEN, ([(0.24, 0.40), (0.24, 0.75), (0.58, 0.75)], 0.06)),
        ("circle", GREEN, (0.76, 0.25, 0.14)),
    ],
    "add": [
        ("circle", GREEN, (0.5, 0.5, 0.42)),
        ("line", WHITE, ([(0.5, 0.28), (0.5, 0.72)], 0.11)),
        ("line", WHITE, ([(0.28, 0.5), (0.72, 0.5)], 0.11)),
    ],
}

if __name__ == "__main__":
    for name, shapes in ICONS.items():
        size = 256 if name == "greygate" else 64
        write_png(os.path.join(HERE, name + ".png"), render(shapes, size), size)
        print(name)
