// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "config/DaemonOptions.h"

#include <QStringList>

namespace greygate {

// The options a running daemon cannot take without a restart (sockets, store, engine
// timings and texts fixed at construction), named as in the config file, when they differ.
// SIGHUP reloads everything else and names these in its log line.
QStringList restartNeeded(const DaemonOptions &running, const DaemonOptions &next);

} // namespace greygate
