// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace greygate {

// "jemalloc 5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c" or "libc malloc": which
// allocator this binary runs on, asked of the allocator itself, for --version and the
// start-up log (the build picks it: cmake/GreygateAllocator.cmake).
QByteArray allocatorName();

} // namespace greygate
